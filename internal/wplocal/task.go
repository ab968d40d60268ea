package wplocal

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DebianWordPress is where Debian's wordpress package installs WordPress:
// what the image keeps in /usr/src/wordpress.
const DebianWordPress = "/usr/share/wordpress"

// imageDefaults are the official image's ENTRYPOINT and CMD, which a
// container definition without entryPoint or command runs.
var (
	imageEntryPoint = []string{"docker-entrypoint.sh"}
	imageCommand    = []string{"apache2-foreground"}
)

// task is one running container: an Apache with mod_php serving its own
// copy of WordPress, with the container's environment.
type task struct {
	Name string
	Addr string
	dir  string
	proc *process
}

// image prepares, once per run, what every task copies: Debian's
// WordPress with the image's .htaccess instead of Debian's wp-config.php
// and .htaccess links, owned by the user Apache runs PHP as (the image's
// files belong to www-data too).
func (s *Site) image() (string, error) {
	dir := filepath.Join(s.work, "image", "wordpress")
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if _, err := os.Stat(filepath.Join(DebianWordPress, "wp-settings.php")); err != nil {
		return "", fmt.Errorf("WordPress is not installed at %s (apt-get install wordpress): %w", DebianWordPress, err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command("cp", "-a", DebianWordPress, dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("copy %s: %w: %s", DebianWordPress, err, out)
	}
	for _, f := range []string{"wp-config.php", ".htaccess"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			return "", err
		}
	}
	// WordPress's own rewrite rules (WordPress.org, "htaccess"), which
	// the image writes into /usr/src/wordpress/.htaccess.
	const htaccess = "# BEGIN WordPress\nRewriteEngine On\nRewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\nRewriteBase /\nRewriteRule ^index\\.php$ - [L]\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule . /index.php [L]\n# END WordPress\n"
	if err := os.WriteFile(filepath.Join(dir, ".htaccess"), []byte(htaccess), 0o644); err != nil {
		return "", err
	}
	if err := s.chown(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// startTask starts a container of c: it does what the image's entrypoint
// does (copy WordPress into the web root, the pluggable wp-content into
// the shared volume where absent, and write wp-config.php), then runs the
// container's entryPoint and command with the container's environment and
// the image's PATH and PHP_INI_DIR, where docker-entrypoint.sh and
// apache2-foreground are the image's programs' local stand-ins.
func (s *Site) startTask(ctx context.Context, name string, c Container) (*task, error) {
	img, err := s.image()
	if err != nil {
		return nil, err
	}
	env, err := s.values.environment(c)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.work, "tasks", name)
	html := filepath.Join(dir, "html")
	for _, d := range []string{filepath.Join(dir, "bin"), filepath.Join(dir, "php", "conf.d"), filepath.Join(dir, "logs"), filepath.Join(dir, "run")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// Hard links: the same files as a copy, without copying 60 MB per
	// task; core cannot change under WordPress (WP.APP.3), and the files
	// WordPress writes, wp-config.php and .htaccess, are this task's own.
	if out, err := exec.Command("cp", "-al", img, html).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("task %s: copy WordPress: %w: %s", name, err, out)
	}
	// WordPress rewrites .htaccess in place when permalinks change: each
	// task's is its own file, not a link to the image's.
	htaccess := filepath.Join(html, ".htaccess")
	b, err := os.ReadFile(htaccess)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(htaccess); err != nil {
		return nil, err
	}
	if err := os.WriteFile(htaccess, b, 0o644); err != nil {
		return nil, err
	}
	if err := s.chown(htaccess); err != nil {
		return nil, err
	}
	if err := s.shareWPContent(filepath.Join(html, "wp-content")); err != nil {
		return nil, fmt.Errorf("task %s: %w", name, err)
	}
	if _, given := anyWordPressVariable(env); given {
		if err := os.WriteFile(filepath.Join(html, "wp-config.php"), []byte(wpConfig()), 0o644); err != nil {
			return nil, err
		}
		if err := s.chown(filepath.Join(html, "wp-config.php")); err != nil {
			return nil, err
		}
	}

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conf := filepath.Join(dir, "apache2.conf")
	if err := os.WriteFile(conf, []byte(s.apacheConfig(dir, html, addr)), 0o644); err != nil {
		return nil, err
	}
	shims := map[string]string{
		"docker-entrypoint.sh": "#!/bin/sh\n# The image's entrypoint copies WordPress into the web root and writes\n# wp-config.php; the local run did both before starting this task.\nexec \"$@\"\n",
		"apache2-foreground":   fmt.Sprintf("#!/bin/sh\nexec /usr/sbin/apache2 -f %s -DFOREGROUND\n", conf),
	}
	for f, body := range shims {
		if err := os.WriteFile(filepath.Join(dir, "bin", f), []byte(body), 0o755); err != nil {
			return nil, err
		}
	}

	// The image's ENV, then the container's: ECS puts the task
	// definition's variables over the image's.
	full := map[string]string{
		"PATH":        filepath.Join(dir, "bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"PHP_INI_DIR": filepath.Join(dir, "php"),
		// Debian's PHP reads its own conf.d (the extensions) and, after
		// the leading ":", the task's $PHP_INI_DIR/conf.d, which the
		// image's PHP reads as its own.
		"PHP_INI_SCAN_DIR": ":" + filepath.Join(dir, "php", "conf.d"),
		"HOME":             "/root",
	}
	for k, v := range env {
		full[k] = v
	}
	var environ []string
	for k, v := range full {
		environ = append(environ, k+"="+v)
	}
	sort.Strings(environ)
	argv := append(append([]string{}, orSlice(c.EntryPoint, imageEntryPoint)...), orSlice(c.Command, imageCommand)...)
	if c.EntryPoint != nil && c.Command == nil {
		argv = c.EntryPoint
	}
	bin, err := lookPath(argv[0], full["PATH"])
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", name, err)
	}
	proc, err := startProcess(filepath.Join(dir, "logs", "container.log"), environ, bin, argv[1:]...)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", name, err)
	}
	t := &task{Name: name, Addr: addr, dir: dir, proc: proc}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if proc.exited() || time.Now().After(deadline) {
			t.stop()
			out, _ := os.ReadFile(filepath.Join(dir, "logs", "container.log"))
			errs, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
			return nil, fmt.Errorf("task %s did not start listening on %s:\n%s\n%s", name, addr, lastLines(string(out), 10), lastLines(string(errs), 10))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return t, nil
}

func (t *task) stop() { t.proc.stop(30 * time.Second) }

func orSlice(v, def []string) []string {
	if v == nil {
		return def
	}
	return v
}

func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("the container's command %q is not on the image's PATH", name)
}

// anyWordPressVariable is the entrypoint's test for writing wp-config.php:
// some WORDPRESS_ variable is set.
func anyWordPressVariable(env map[string]string) (string, bool) {
	for k := range env {
		if strings.HasPrefix(k, "WORDPRESS_") {
			return k, true
		}
	}
	return "", false
}

// shareWPContent makes the task's wp-content the shared directory (EFS in
// the stack) and, as the image's entrypoint does on every start, copies
// the image's plugins and themes into it where they are not there yet.
func (s *Site) shareWPContent(path string) error {
	shared := filepath.Join(s.work, "wp-content")
	if err := os.MkdirAll(shared, 0o755); err != nil {
		return err
	}
	entries, err := filepath.Glob(filepath.Join(path, "*", "*"))
	if err != nil {
		return err
	}
	top, _ := filepath.Glob(filepath.Join(path, "*"))
	for _, src := range append(top, entries...) {
		rel, _ := filepath.Rel(path, src)
		dst := filepath.Join(shared, rel)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
			return fmt.Errorf("copy %s into the shared wp-content: %w: %s", rel, err, out)
		}
	}
	if err := s.chown(shared); err != nil {
		return err
	}
	if err := os.RemoveAll(path); err != nil {
		return err
	}
	return os.Symlink(shared, path)
}

// apacheConfig is the image's Apache as far as WordPress can tell: prefork
// with mod_php, mod_rewrite with .htaccess allowed, and mod_remoteip
// taking the client from X-Forwarded-For when the request comes from a
// private or loopback address (the image's remoteip.conf).
func (s *Site) apacheConfig(dir, html, addr string) string {
	mods := []string{"mpm_prefork", "authz_core", "dir", "mime", "rewrite", "remoteip"}
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot /etc/apache2\nServerName %s\nListen %s\n", addr, addr)
	fmt.Fprintf(&b, "PidFile %s\nDefaultRuntimeDir %s\nMutex file:%s default\n", filepath.Join(dir, "run", "apache2.pid"), filepath.Join(dir, "run"), filepath.Join(dir, "run"))
	for _, m := range mods {
		fmt.Fprintf(&b, "LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n", m, m)
	}
	b.WriteString("LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so\n")
	if s.apacheUser != "" {
		fmt.Fprintf(&b, "User %s\nGroup %s\n", s.apacheUser, s.apacheUser)
	}
	b.WriteString("StartServers 2\nMinSpareServers 2\nMaxSpareServers 4\nMaxRequestWorkers 8\n")
	b.WriteString("TypesConfig /etc/mime.types\n")
	fmt.Fprintf(&b, "ErrorLog %s\nLogFormat \"%%a %%{X-Forwarded-For}i %%r %%>s\" wp\nCustomLog %s wp\n", filepath.Join(dir, "logs", "error.log"), filepath.Join(dir, "logs", "access.log"))
	b.WriteString("RemoteIPHeader X-Forwarded-For\n")
	for _, r := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8"} {
		fmt.Fprintf(&b, "RemoteIPInternalProxy %s\n", r)
	}
	fmt.Fprintf(&b, "DocumentRoot %s\n<Directory %s>\n  Options FollowSymLinks\n  AllowOverride All\n  Require all granted\n</Directory>\n", html, html)
	b.WriteString("<FilesMatch \\.php$>\n  SetHandler application/x-httpd-php\n</FilesMatch>\nDirectoryIndex index.php index.html\n")
	return b.String()
}

// chown gives path to the user Apache runs PHP as, when this run is root.
func (s *Site) chown(path string) error {
	if s.apacheUser == "" {
		return nil
	}
	if out, err := exec.Command("chown", "-R", s.apacheUser+":"+s.apacheUser, path).CombinedOutput(); err != nil {
		return fmt.Errorf("chown %s: %w: %s", path, err, out)
	}
	return nil
}

// apacheUser is www-data when this run is root (Apache then drops to it,
// as in the image), and empty otherwise (Apache stays this user).
func apacheUser() string {
	if os.Geteuid() != 0 {
		return ""
	}
	if _, err := user.Lookup("www-data"); err != nil {
		return ""
	}
	return "www-data"
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
