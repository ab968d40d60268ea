package wplocal

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/compute"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
)

func devSpec(t *testing.T, adminCidrs ...string) *Spec {
	t.Helper()
	raw := stacktest.RawConfig(t, "dev")
	if adminCidrs != nil {
		var c map[string]any
		if err := json.Unmarshal([]byte(raw["wordpress:compute"]), &c); err != nil {
			t.Fatal(err)
		}
		c["adminCidrs"] = adminCidrs
		b, _ := json.Marshal(c)
		raw["wordpress:compute"] = string(b)
	}
	p, _ := stacktest.Record(t, "dev", raw)
	s, err := NewSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTheSpecIsTheServicesTaskDefinitionDatabaseAndLoadBalancer(t *testing.T) {
	s := devSpec(t)
	if s.Container.Name != "wordpress" || s.DesiredCount != 3 {
		t.Errorf("container %q, %d tasks; want wordpress, 3", s.Container.Name, s.DesiredCount)
	}
	if s.Database.Port != 3306 || s.Database.User != "wpmaster" || s.Database.Name != "wordpress" {
		t.Errorf("database = %+v", s.Database)
	}
	tls := false
	for _, p := range s.Database.Parameters {
		tls = tls || p.Name == "require_secure_transport" && p.Value == "1"
	}
	if !tls {
		t.Errorf("the parameter group does not reach MariaDB: %v", s.Database.Parameters)
	}
	if tg := s.TargetGroup; tg.Path != "/" || tg.Matcher != "200-399" || tg.HealthyThreshold != 2 {
		t.Errorf("health check = %+v", tg)
	}
	if len(s.Listeners) != 1 || !s.Listeners[0].Forward || len(s.Listeners[0].Rules) != 1 {
		t.Errorf("listeners = %+v, want dev's HTTP listener with its install rule", s.Listeners)
	}
}

func TestEveryTaskReadsOneValuePerParameter(t *testing.T) {
	s := devSpec(t)
	v := newValues(s)
	a, err := v.environment(s.Container)
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.environment(s.Container)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range compute.AuthKeyVariables {
		if a[k] == "" || a[k] != b[k] {
			t.Errorf("%s: %q then %q; two tasks must read one parameter's one value", k, a[k], b[k])
		}
	}
	if a["WORDPRESS_AUTH_KEY"] == a["WORDPRESS_AUTH_SALT"] {
		t.Error("two parameters hold the same test value")
	}
	if a["WORDPRESS_DB_HOST"] != localDBHost || a["WORDPRESS_DB_PORT"] != "3306" || a["WORDPRESS_DB_USER"] != "wpmaster" {
		t.Errorf("database settings = %s %s %s, want the local MariaDB as the RDS instance's", a["WORDPRESS_DB_HOST"], a["WORDPRESS_DB_PORT"], a["WORDPRESS_DB_USER"])
	}
}

func TestASecretFromNowhereStopsTheTaskAsECSWould(t *testing.T) {
	s := devSpec(t)
	c := s.Container
	c.Secrets = append(c.Secrets, Secret{Name: "WORDPRESS_EXTRA", ValueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/elsewhere"})
	if _, err := newValues(s).environment(c); err == nil || !strings.Contains(err.Error(), "WORDPRESS_EXTRA") {
		t.Errorf("err = %v, want one naming the secret", err)
	}
}

func TestEachTasksWPConfigHasRandomKeysOfItsOwnWhereTheEnvironmentHasNone(t *testing.T) {
	a, b := wpConfig(), wpConfig()
	if a == b {
		t.Fatal("two tasks wrote the same wp-config.php: a key not given would be shared")
	}
	for _, k := range []string{"AUTH_KEY", "NONCE_SALT"} {
		if !strings.Contains(a, "define('"+k+"', getenv_docker('WORDPRESS_"+k+"', '") {
			t.Errorf("wp-config.php does not read %s from WORDPRESS_%s", k, k)
		}
	}
	for _, want := range []string{"getenv_docker('WORDPRESS_DB_HOST', 'mysql')", "eval($extra)", "HTTP_X_FORWARDED_PROTO", "require_once ABSPATH . 'wp-settings.php';"} {
		if !strings.Contains(a, want) {
			t.Errorf("wp-config.php lacks %s", want)
		}
	}
}

func TestHealthCheckMatchers(t *testing.T) {
	for m, codes := range map[string]map[int]bool{
		"200-399": {200: true, 302: true, 399: true, 404: false, 199: false},
		"200,302": {200: true, 302: true, 301: false},
		"200":     {200: true, 302: false},
	} {
		match, err := matcher(m)
		if err != nil {
			t.Fatal(err)
		}
		for code, want := range codes {
			if match(code) != want {
				t.Errorf("matcher %s on %d = %v", m, code, !want)
			}
		}
	}
	if _, err := matcher("2xx"); err == nil {
		t.Error(`matcher "2xx" accepted`)
	}
}

// TestTheLoadBalancerAnswersTheInstallPagesByThePlansRules needs no task:
// the rules answer before a target is picked, and a forwarded request
// with no target gets the load balancer's 503.
func TestTheLoadBalancerAnswersTheInstallPagesByThePlansRules(t *testing.T) {
	for _, a := range []netip.Addr{adminLocal, strangerLocal} {
		l, err := net.Listen("tcp", net.JoinHostPort(a.String(), "0"))
		if err != nil {
			t.Skipf("this system does not route %s to the loopback interface (Linux does): %v", a, err)
		}
		l.Close()
	}
	s := devSpec(t, "203.0.113.7/32")
	ca, err := newAuthority(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	admin, stranger := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("192.0.2.1")
	lb, err := newBalancer(s, ca.Server, map[netip.Addr]netip.Addr{adminLocal: admin, strangerLocal: stranger}, netip.MustParseAddr("198.51.100.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer lb.close()
	get := func(from netip.Addr, path string) int {
		t.Helper()
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from.AsSlice()}}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, lb.SiteURL()+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		from netip.Addr
		path string
		want int
	}{
		{strangerLocal, "/wp-admin/install.php", http.StatusForbidden},
		{strangerLocal, "/wp-admin//setup-config.php", http.StatusForbidden},
		{strangerLocal, "/", http.StatusServiceUnavailable},
		{adminLocal, "/wp-admin/install.php", http.StatusServiceUnavailable},
	} {
		if got := get(c.from, c.path); got != c.want {
			t.Errorf("%s from %s: %d, want %d", c.path, lb.standIns[c.from], got, c.want)
		}
	}
}
