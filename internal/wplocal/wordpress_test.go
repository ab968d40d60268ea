//go:build wordpress

package wplocal_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/internal/wplocal"
)

// requireDebianPackages skips the test where WordPress, Apache with PHP
// and MariaDB are not installed (scripts/wordpress.sh installs them).
func requireDebianPackages(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(wplocal.DebianWordPress + "/wp-settings.php"); err != nil {
		t.Skip("Debian's wordpress package is not installed; `make wordpress` installs it (apt-get install wordpress mariadb-server apache2 libapache2-mod-php php-mysql)")
	}
	for _, bin := range []string{"apache2", "mariadbd", "mariadb-install-db", "php"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat("/usr/sbin/" + bin); err != nil {
				t.Skipf("%s is not installed; `make wordpress` installs it", bin)
			}
		}
	}
}

// logWriter sends the run's progress to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestEveryKeyAndSaltMustBeSharedForLoginsToHold runs a stack's WordPress
// tier with its task definition as the plan has it, and then with each
// key or salt removed in turn: with one missing, every task draws its own
// (as the image's entrypoint does), and what one task signed fails on the
// others. Each of the eight is removed on a stack whose logins read it:
// over dev's plain HTTP WordPress signs the login cookie with AUTH_KEY and
// AUTH_SALT and never reads SECURE_AUTH_KEY and SECURE_AUTH_SALT; over
// prod's HTTPS it is the other way round; both read the LOGGED_IN and
// NONCE pairs.
func TestEveryKeyAndSaltMustBeSharedForLoginsToHold(t *testing.T) {
	requireDebianPackages(t)
	for _, c := range keyRemovals {
		t.Run(c.stack, func(t *testing.T) { removeEachKey(t, c.stack, c.keys) })
	}
}

func removeEachKey(t *testing.T, stack string, keys []string) {
	raw := stacktest.RawConfig(t, stack)
	c := map[string]any{}
	if err := json.Unmarshal([]byte(raw["wordpress:compute"]), &c); err != nil {
		t.Fatal(err)
	}
	// The README's first run: an admin range to install from.
	c["adminCidrs"] = []string{"203.0.113.7/32"}
	b, _ := json.Marshal(c)
	raw["wordpress:compute"] = string(b)
	p, _ := stacktest.Record(t, stack, raw)
	spec, err := wplocal.NewSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range keys {
		if len(spec.Container.Without(v).Secrets) == len(spec.Container.Secrets) {
			t.Fatalf("%s's container has no secret %s to remove", stack, v)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// Not t.TempDir: Apache's user must be able to reach the tasks'
	// files, and TempDir's parent is private to this user.
	work, err := os.MkdirTemp("", "wordpress-keys-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	site, err := wplocal.Start(ctx, spec, wplocal.Options{Work: work, Log: logWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	if err := site.RunTasks(ctx, spec.Container, spec.DesiredCount); err != nil {
		t.Fatal(err)
	}
	if install, err := site.Install(ctx); err != nil || install != "protected" {
		t.Fatalf("install = %q, %v", install, err)
	}
	use := func(c wplocal.Container) wplocal.Usage {
		t.Helper()
		if err := site.RunTasks(ctx, c, spec.DesiredCount); err != nil {
			t.Fatal(err)
		}
		b, err := site.Login(ctx)
		if err != nil {
			t.Fatal(err)
		}
		u, err := site.Use(ctx, b, wplocal.RequestsPerRun)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	if u := use(spec.Container); u.Authenticated != u.Requests || len(u.Tasks) != spec.DesiredCount {
		t.Fatalf("%s with all eight: %d of %d authenticated over %d tasks: %v", stack, u.Authenticated, u.Requests, len(u.Tasks), u.Refused)
	}
	for _, v := range keys {
		u := use(spec.Container.Without(v))
		t.Logf("%s without %s: authenticated=%d/%d", stack, v, u.Authenticated, u.Requests)
		if u.Authenticated == u.Requests {
			t.Errorf("%s without %s: every request is still authenticated", stack, v)
		}
	}
}
