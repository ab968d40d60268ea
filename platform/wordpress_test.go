package platform_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/compute"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

// containerEntry is what these tests read of the WordPress container
// beyond containerDef.
type containerEntry struct {
	EntryPoint []string
	Command    []string
}

func TestEveryTaskReadsTheSameEightKeysAndSaltsFromTheirOwnParameters(t *testing.T) {
	for name, p := range stacks(t) {
		c := wordpressContainer(t, p)
		from := map[string]string{}
		for _, s := range c.Secrets {
			from[s.Name] = s.ValueFrom
		}
		sources := map[string]bool{}
		for _, v := range compute.AuthKeyVariables {
			prm, ok := p.ByARN(from[v])
			switch {
			case !ok || prm.Type != typeParameter:
				t.Errorf("%s: %s comes from %q, not one of the stack's SSM parameters", name, v, from[v])
				continue
			case prm.String("type") != "SecureString" || prm.String("value") != plan.SecretPlaceholder:
				t.Errorf("%s: %s's parameter is a %s with value %q, want a SecureString holding a secret", name, v, prm.String("type"), prm.String("value"))
			case !strings.HasPrefix(prm.String("name"), "/wordpress/"+name+"/wordpress/"):
				t.Errorf("%s: %s lives at %s, outside the stack's WordPress path", name, v, prm.String("name"))
			case sources[from[v]]:
				t.Errorf("%s: %s shares its parameter with another key", name, v)
			}
			sources[from[v]] = true
		}
		for _, e := range c.Environment {
			if strings.HasSuffix(e.Name, "_KEY") || strings.HasSuffix(e.Name, "_SALT") {
				t.Errorf("%s: %s is in the plain environment", name, e.Name)
			}
		}
	}
}

func TestTheInstallPagesAnswer403UntilAnAdminRangeIsGiven(t *testing.T) {
	raw := stacktest.RawConfig(t, "dev")
	var c map[string]any
	if err := json.Unmarshal([]byte(raw["wordpress:compute"]), &c); err != nil {
		t.Fatal(err)
	}
	c["adminCidrs"] = []string{"203.0.113.7/32", "198.51.100.0/24", "192.0.2.0/28", "203.0.113.128/25"}
	b, _ := json.Marshal(c)
	raw["wordpress:compute"] = string(b)
	withAdmins, _ := stacktest.Record(t, "dev", raw)

	for _, tc := range []struct {
		name       string
		p          *plan.Plan
		listener   string
		admitRules [][]string
	}{
		{"dev without admin ranges", stacktest.Stack(t, "dev"), "wordpress-dev-http", nil},
		{"prod, on the HTTPS listener", stacktest.Stack(t, "prod"), "wordpress-prod-https", nil},
		// Three ranges a rule: five condition values, two of them paths.
		{"dev with four admin ranges", withAdmins, "wordpress-dev-http", [][]string{{"203.0.113.7/32", "198.51.100.0/24", "192.0.2.0/28"}, {"203.0.113.128/25"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, ok := tc.p.Named(typeListener, tc.listener)
			if !ok {
				t.Fatalf("no listener %s", tc.listener)
			}
			rules := tc.p.ListenerRules(l.ARN)
			if len(rules) != len(tc.admitRules)+1 {
				t.Fatalf("%d rules on %s, want %d to admit and one to close", len(rules), tc.listener, len(tc.admitRules))
			}
			for i, want := range tc.admitRules {
				if r := rules[i]; r.Action != "forward" || !slices.Equal(r.SourceIP, want) || !r.MatchesPath("/wp-admin/install.php") {
					t.Errorf("rule %d: %s from %v, want forward from %v", i, r.Action, r.SourceIP, want)
				}
			}
			closed := rules[len(rules)-1]
			for _, path := range []string{"/wp-admin/install.php", "/wp-admin/setup-config.php", "/wp-admin//install.php", "/wp-admin/install.php/step"} {
				if !closed.MatchesPath(path) || closed.Action != "fixed-response" || closed.StatusCode != "403" || closed.SourceIP != nil {
					t.Errorf("%s is not answered 403 from everywhere: %+v", path, closed)
				}
			}
			for _, path := range []string{"/", "/wp-admin/", "/wp-login.php", "/wp-admin/options-general.php"} {
				if closed.MatchesPath(path) {
					t.Errorf("the install rule also closes %s", path)
				}
			}
			svc := tc.p.OfType(typeService)[0]
			if !slices.Contains(svc.DependsOn, closed.Resource.URN) {
				t.Errorf("the service does not wait for the install rule: its first task could be installed by anyone")
			}
		})
	}
}

func TestWordPressSettingsReachTheContainer(t *testing.T) {
	for name, p := range stacks(t) {
		c := wordpressContainer(t, p)
		extra := ""
		for _, e := range c.Environment {
			if e.Name == "WORDPRESS_CONFIG_EXTRA" {
				extra = e.Value
			}
		}
		for _, want := range []string{"define('WP_AUTO_UPDATE_CORE', false);", "'update_core' ? array('do_not_allow')", "define('DISALLOW_FILE_EDIT', true);", "define('MYSQL_CLIENT_FLAGS', MYSQLI_CLIENT_SSL);"} {
			if !strings.Contains(extra, want) {
				t.Errorf("%s: WORDPRESS_CONFIG_EXTRA lacks %s:\n%s", name, want, extra)
			}
		}
		if strings.Contains(extra, "DISALLOW_FILE_MODS") {
			t.Errorf("%s: DISALLOW_FILE_MODS is on by default; plugins come from the dashboard unless compute.wordpress.disallowFileMods", name)
		}
		td := p.OfType(typeTaskDef)[0]
		var entries []containerEntry
		if err := json.Unmarshal([]byte(td.String("containerDefinitions")), &entries); err != nil {
			t.Fatal(err)
		}
		e := entries[0]
		if len(e.EntryPoint) != 4 || e.EntryPoint[0] != "sh" || !strings.Contains(e.EntryPoint[2], "upload_max_filesize = 64M") ||
			!strings.Contains(e.EntryPoint[2], "exec docker-entrypoint.sh \"$@\"") || !slices.Equal(e.Command, []string{"apache2-foreground"}) {
			t.Errorf("%s: the upload limit does not reach PHP through the image's entrypoint: entryPoint %q command %q", name, e.EntryPoint, e.Command)
		}
	}
	raw := stacktest.RawConfig(t, "dev")
	raw["wordpress:compute"] = `{"wordpress":{"disallowFileEdit":false,"disallowFileMods":true,"uploadMaxMb":8}}`
	p, _ := stacktest.Record(t, "dev", raw)
	td := p.OfType(typeTaskDef)[0].String("containerDefinitions")
	for _, want := range []string{"DISALLOW_FILE_MODS', true", "upload_max_filesize = 8M", "post_max_size = 9M"} {
		if !strings.Contains(td, want) {
			t.Errorf("dev with mods off and 8 MB uploads: the task definition lacks %s", want)
		}
	}
	if strings.Contains(td, "DISALLOW_FILE_EDIT") {
		t.Error("dev with the file editor allowed still defines DISALLOW_FILE_EDIT")
	}
}

func TestTasksReachTheirOwnSiteOnItsScheme(t *testing.T) {
	for name, p := range stacks(t) {
		tasks, _ := p.Named("aws:ec2/securityGroup:SecurityGroup", "wordpress-"+name+"-tasks")
		ports := map[float64]bool{}
		for _, r := range p.OfType(typeEgressRule) {
			if r.String("securityGroupId") == tasks.ID && r.String("cidrIpv4") == "0.0.0.0/0" {
				ports[r.Inputs["fromPort"].(float64)] = true
			}
		}
		// dev's site is http://<alb>: WP-Cron needs 80 out; prod's is
		// https, on the 443 the tasks already have.
		want := map[string]map[float64]bool{"dev": {80: true, 443: true}, "prod": {443: true}}[name]
		if len(ports) != len(want) || !ports[443] || ports[80] != want[80] {
			t.Errorf("%s: the tasks may leave for the internet on %v, want %v", name, ports, want)
		}
	}
}
