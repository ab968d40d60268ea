package policy_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

func setSection(t *testing.T, raw map[string]string, key string, settings map[string]any) {
	t.Helper()
	d := map[string]any{}
	if s := raw[key]; s != "" {
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			t.Fatal(err)
		}
	}
	maps.Copy(d, settings)
	b, _ := json.Marshal(d)
	raw[key] = string(b)
}

// TestWeakeningAWordPressSettingFailsItsCheck weakens one setting of the
// dev stack per row: exactly that check fails, and its detail names the
// setting that fixes it. (Production refuses the file editor outright, so
// its row is dev's.)
func TestWeakeningAWordPressSettingFailsItsCheck(t *testing.T) {
	cases := []struct {
		id      string
		compute map[string]any
		network map[string]any
		fix     string
	}{
		{"WP.APP.2", map[string]any{"adminCidrs": []string{"203.0.113.7/32", "100.0.0.0/8"}}, nil, "compute.adminCidrs"},
		{"WP.APP.4", map[string]any{"wordpress": map[string]any{"disallowFileEdit": false, "uploadMaxMb": 64}}, nil, "compute.wordpress.disallowFileEdit"},
		// Without a NAT the tasks cannot reach the load balancer's public
		// address, so WP-Cron never runs (the image must then come from
		// private ECR, through the interface endpoints).
		{"WP.APP.5", map[string]any{"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/wordpress"}, map[string]any{"natStrategy": "none", "interfaceEndpoints": true}, "network.natStrategy"},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			raw := stacktest.RawConfig(t, "dev")
			setSection(t, raw, "wordpress:compute", c.compute)
			if c.network != nil {
				stacktest.SetNetwork(t, raw, c.network)
			}
			p, cfg := stacktest.Record(t, "dev", raw)
			results, err := policy.Evaluate(p, policy.Options{Waivers: cfg.Policy.Waivers})
			if err != nil {
				t.Fatal(err)
			}
			failed := false
			for _, r := range results {
				switch {
				case r.Status == policy.Fail && r.ID == c.id:
					failed = true
					if !strings.Contains(r.Detail, c.fix) {
						t.Errorf("%s's detail does not name %s: %s", c.id, c.fix, r.Detail)
					}
				case r.Status == policy.Fail:
					t.Errorf("%v also fails %s: %s", c.compute, r.ID, r.Detail)
				}
			}
			if !failed {
				t.Errorf("%s passes with compute %v and network %v", c.id, c.compute, c.network)
			}
		})
	}
}

// withContainer is dev's plan with its WordPress container changed.
func withContainer(t *testing.T, change func(c map[string]any)) *plan.Plan {
	t.Helper()
	p := stacktest.Stack(t, "dev")
	for i, r := range p.Resources {
		if r.Type != "aws:ecs/taskDefinition:TaskDefinition" {
			continue
		}
		var cs []map[string]any
		if err := json.Unmarshal([]byte(r.String("containerDefinitions")), &cs); err != nil {
			t.Fatal(err)
		}
		change(cs[0])
		b, _ := json.Marshal(cs)
		inputs := maps.Clone(r.Inputs)
		inputs["containerDefinitions"] = string(b)
		p.Resources[i].Inputs = inputs
	}
	return p
}

func dropSecret(name string) func(c map[string]any) {
	return func(c map[string]any) {
		var kept []any
		for _, s := range c["secrets"].([]any) {
			if s.(map[string]any)["name"] != name {
				kept = append(kept, s)
			}
		}
		c["secrets"] = kept
	}
}

func editExtra(edit func(string) string) func(c map[string]any) {
	return func(c map[string]any) {
		for _, e := range c["environment"].([]any) {
			m := e.(map[string]any)
			if m["name"] == "WORDPRESS_CONFIG_EXTRA" {
				m["value"] = edit(m["value"].(string))
			}
		}
	}
}

func TestWordPressChecksFailWhatTheProgramNeverDeclares(t *testing.T) {
	cases := []struct {
		name, id string
		plan     func(t *testing.T) *plan.Plan
		detail   string
	}{
		{"a key the tasks are not given", "WP.APP.1", func(t *testing.T) *plan.Plan {
			return withContainer(t, dropSecret("WORDPRESS_NONCE_SALT"))
		}, "WORDPRESS_NONCE_SALT is missing"},
		{"a key in the plain environment", "WP.APP.1", func(t *testing.T) *plan.Plan {
			return withContainer(t, func(c map[string]any) {
				dropSecret("WORDPRESS_AUTH_KEY")(c)
				c["environment"] = append(c["environment"].([]any), map[string]any{"name": "WORDPRESS_AUTH_KEY", "value": "same-everywhere"})
			})
		}, "WORDPRESS_AUTH_KEY is a plain environment variable"},
		{"two keys from one parameter", "WP.APP.1", func(t *testing.T) *plan.Plan {
			return withContainer(t, func(c map[string]any) {
				var from any
				for _, s := range c["secrets"].([]any) {
					m := s.(map[string]any)
					if m["name"] == "WORDPRESS_AUTH_KEY" {
						from = m["valueFrom"]
					}
				}
				for _, s := range c["secrets"].([]any) {
					if m := s.(map[string]any); m["name"] == "WORDPRESS_AUTH_SALT" {
						m["valueFrom"] = from
					}
				}
			})
		}, "share parameter"},
		{"the install rule removed", "WP.APP.2", func(t *testing.T) *plan.Plan {
			p := stacktest.Stack(t, "dev")
			var kept []plan.Resource
			for _, r := range p.Resources {
				if r.Type != "aws:lb/listenerRule:ListenerRule" {
					kept = append(kept, r)
				}
			}
			p.Resources = kept
			return p
		}, "nothing answers 403 to /wp-admin/install.php"},
		{"an exact path a double slash walks past", "WP.APP.2", func(t *testing.T) *plan.Plan {
			p := stacktest.Stack(t, "dev")
			for i, r := range p.Resources {
				if r.Type == "aws:lb/listenerRule:ListenerRule" {
					inputs := maps.Clone(r.Inputs)
					inputs["conditions"] = []any{map[string]any{"pathPattern": map[string]any{"values": []any{"/wp-admin/install.php", "/wp-admin/setup-config.php"}}}}
					p.Resources[i].Inputs = inputs
				}
			}
			return p
		}, "nothing answers 403 to /wp-admin//install.php"},
		{"core updates itself", "WP.APP.3", func(t *testing.T) *plan.Plan {
			return withContainer(t, editExtra(func(s string) string { return strings.ReplaceAll(s, "define('WP_AUTO_UPDATE_CORE', false);", "") }))
		}, "WP_AUTO_UPDATE_CORE"},
		{"core updated from the dashboard", "WP.APP.3", func(t *testing.T) *plan.Plan {
			return withContainer(t, editExtra(func(s string) string {
				var kept []string
				for _, l := range strings.Split(s, "\n") {
					if !strings.Contains(l, "map_meta_cap") {
						kept = append(kept, l)
					}
				}
				return strings.Join(kept, "\n")
			}))
		}, "update core from the dashboard"},
		{"WP-Cron turned off", "WP.APP.5", func(t *testing.T) *plan.Plan {
			return withContainer(t, editExtra(func(s string) string { return s + "\ndefine('DISABLE_WP_CRON', true);" }))
		}, "DISABLE_WP_CRON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.plan(t)
			results, err := policy.Evaluate(p, policy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			failed := false
			for _, r := range results {
				if r.ID == c.id && r.Status == policy.Fail {
					failed = true
					if !strings.Contains(r.Detail, c.detail) {
						t.Errorf("%s detail = %q, want it to say %q", c.id, r.Detail, c.detail)
					}
				}
			}
			if !failed {
				t.Errorf("%s passes %s", c.id, c.name)
			}
		})
	}
}

func TestWordPressChecksWithNothingToCheckSaySo(t *testing.T) {
	results, err := policy.Evaluate(&plan.Plan{Stack: "t"}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"WP.APP.1", "WP.APP.2", "WP.APP.3", "WP.APP.4", "WP.APP.5"} {
		if s := statuses(results, id); s[policy.NotApplicable] != 1 || s[policy.Pass]+s[policy.Fail] != 0 {
			t.Errorf("%s on an empty stack: %v, want one n/a", id, s)
		}
	}
}
