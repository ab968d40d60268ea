package wplocal

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Options change how a site runs locally.
type Options struct {
	// Work is the run's directory (the tasks' files, MariaDB's data, the
	// logs); it must not exist yet or be empty.
	Work string
	// Log receives the run's progress; nil discards it.
	Log io.Writer
}

// Site is the stack's WordPress tier running on this machine.
type Site struct {
	spec       *Spec
	work       string
	logw       io.Writer
	values     *values
	ca         *authority
	db         *mariaDB
	lb         *balancer
	apacheUser string

	// The local addresses the two people connect from, and the public
	// addresses they stand for: an administrator inside compute.adminCidrs
	// and a stranger outside it.
	adminLocal, strangerLocal netip.Addr
	admin, stranger           netip.Addr

	container Container
	tasks     []running
	started   int

	adminUser, adminPassword string
}

type running struct {
	task   *task
	target *target
}

// Local addresses of the run's two browsers: Linux routes all of
// 127.0.0.0/8 to the loopback interface.
var (
	adminLocal    = netip.MustParseAddr("127.0.0.2")
	strangerLocal = netip.MustParseAddr("127.0.0.3")
)

// exampleAdmin is the README's example of an office's address, which the
// administrator stands for when the plan admits nobody.
var exampleAdmin = netip.MustParseAddr("203.0.113.7")

// documentation addresses (RFC 5737) for the stranger and the NAT, taken
// in order, skipping any an admin range contains.
var documentation = []netip.Addr{
	netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("192.0.2.77"),
	netip.MustParseAddr("198.51.100.77"), netip.MustParseAddr("203.0.113.200"),
}

// Start brings up the database and the load balancer; no task runs yet.
func Start(ctx context.Context, spec *Spec, opts Options) (*Site, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	s := &Site{spec: spec, work: opts.Work, logw: opts.Log, values: newValues(spec), apacheUser: apacheUser(),
		adminLocal: adminLocal, strangerLocal: strangerLocal, container: spec.Container}
	if err := os.MkdirAll(s.work, 0o755); err != nil {
		return nil, err
	}
	// Apache's user must reach the tasks' files inside the run's
	// directory.
	if err := os.Chmod(s.work, 0o755); err != nil {
		return nil, err
	}
	var err error
	if s.ca, err = newAuthority(s.work); err != nil {
		return nil, err
	}
	s.chooseStandIns()

	env, err := s.values.environment(spec.Container)
	if err != nil {
		return nil, err
	}
	s.db, err = startMariaDB(ctx, filepath.Join(s.work, "mariadb"), spec.Database, s.ca, s.logf)
	if err != nil {
		return nil, err
	}
	// The database and its user as RDS was asked to make them; the
	// password is whatever the task reads, so that a task definition
	// without it cannot connect, as in the stack.
	user, name, password := orDefault(env["WORDPRESS_DB_USER"], spec.Database.User), orDefault(env["WORDPRESS_DB_NAME"], spec.Database.Name), env["WORDPRESS_DB_PASSWORD"]
	if password == "" {
		password = randomText(18)
	}
	if err := s.db.createUser(ctx, name, user, password); err != nil {
		s.Close()
		return nil, err
	}
	nat := s.unused(s.stranger)
	s.lb, err = newBalancer(spec, s.ca.Server, map[netip.Addr]netip.Addr{adminLocal: s.admin, strangerLocal: s.stranger}, nat)
	if err != nil {
		s.Close()
		return nil, err
	}
	for _, l := range spec.Listeners {
		s.logf("listener %s on %s (%d rules)", l, s.lb.URLs[l.Port], len(l.Rules))
	}
	return s, nil
}

// chooseStandIns picks the public addresses the browsers stand for: the
// administrator inside the first range the install rules forward, the
// stranger outside every one.
func (s *Site) chooseStandIns() {
	s.admin = exampleAdmin
	var found bool
	for _, l := range s.spec.Listeners {
		for _, r := range l.Rules {
			if found || r.Action != "forward" || r.SourceIP == nil || !r.MatchesPath("/wp-admin/install.php") {
				continue
			}
			if pfx, err := netip.ParsePrefix(r.SourceIP[0]); err == nil {
				s.admin, found = pfx.Addr(), true
			}
		}
	}
	s.stranger = s.unused()
	s.logf("the administrator connects from %s, standing for %s; a stranger from %s, standing for %s", adminLocal, s.admin, strangerLocal, s.stranger)
}

// unused is a documentation address no rule's source range contains and
// not among taken.
func (s *Site) unused(taken ...netip.Addr) netip.Addr {
	for _, a := range documentation {
		if a == s.admin || slices.Contains(taken, a) {
			continue
		}
		inside := false
		for _, l := range s.spec.Listeners {
			for _, r := range l.Rules {
				inside = inside || (r.SourceIP != nil && r.MatchesSource(a))
			}
		}
		if !inside {
			return a
		}
	}
	return documentation[len(documentation)-1]
}

func (s *Site) logf(format string, args ...any) {
	fmt.Fprintf(s.logw, "  "+format+"\n", args...)
}

// Close stops every task, the load balancer and the database.
func (s *Site) Close() {
	for _, r := range s.tasks {
		r.task.stop()
	}
	s.tasks = nil
	if s.lb != nil {
		s.lb.close()
	}
	if s.db != nil {
		s.db.stop()
	}
}

// RunTasks replaces the running tasks with n new ones of c, each
// registered once it answers, as a new deployment does.
func (s *Site) RunTasks(ctx context.Context, c Container, n int) error {
	old := s.tasks
	s.tasks = nil
	for _, r := range old {
		s.lb.deregister(r.target)
		r.task.stop()
	}
	s.container = c
	for i := 0; i < n; i++ {
		if _, err := s.addTask(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (s *Site) addTask(ctx context.Context) (running, error) {
	s.started++
	t, err := s.startTask(ctx, fmt.Sprintf("task-%d", s.started), s.container)
	if err != nil {
		return running{}, err
	}
	r := running{task: t, target: s.lb.register(t)}
	s.tasks = append(s.tasks, r)
	if err := s.lb.waitHealthy(ctx, r.target); err != nil {
		return r, err
	}
	s.logf("%s serves on %s, healthy", t.Name, t.Addr)
	return r, nil
}

// Install is the README's first run: the install page, asked for from
// outside the admin ranges, must answer 403, and from inside them it must
// let the administrator install WordPress. It returns "protected" when
// both hold, "open" when a stranger reaches an install page, and "closed"
// when the administrator cannot either.
func (s *Site) Install(ctx context.Context) (string, error) {
	stranger := s.browser("stranger", s.strangerLocal)
	front, err := stranger.get(ctx, "/")
	if err != nil {
		return "", err
	}
	s.logf("before the install, / answers a stranger %d %s", front.Status, front.location())
	open := false
	for _, path := range []string{"/wp-admin/install.php", "/wp-admin/setup-config.php", "/wp-admin//install.php", "/wp-admin/install.php/x"} {
		p, err := stranger.get(ctx, path)
		if err != nil {
			return "", err
		}
		s.logf("%s from %s: %d", path, s.stranger, p.Status)
		open = open || p.Status != http.StatusForbidden
	}

	admin := s.browser("administrator", s.adminLocal)
	form, err := admin.get(ctx, "/wp-admin/install.php")
	if err != nil {
		return "", err
	}
	s.logf("/wp-admin/install.php from %s: %d", s.admin, form.Status)
	if form.Status == http.StatusForbidden {
		return "closed", fmt.Errorf("the install page refuses the administrator at %s too: the plan's rules admit no range (compute.adminCidrs is empty); plan with an admin range as the README's first run says", s.admin)
	}
	s.adminUser, s.adminPassword = "admin", randomText(18)
	done, err := admin.post(ctx, "/wp-admin/install.php?step=2", url.Values{
		"weblog_title": {"WordPress, run locally"}, "user_name": {s.adminUser},
		"admin_password": {s.adminPassword}, "admin_password2": {s.adminPassword}, "pw_weak": {"1"},
		"admin_email": {"admin@example.com"}, "blog_public": {"0"}, "Submit": {"Install WordPress"}, "language": {""},
	})
	if err != nil {
		return "", err
	}
	if done.Status != http.StatusOK || !strings.Contains(done.Body, "Success!") {
		return "", fmt.Errorf("install: WordPress answered %d on %s:\n%s", done.Status, orDefault(done.Task, "the load balancer"), lastLines(text(done.Body), 8))
	}
	s.logf("installed by the administrator through %s", done.Task)
	if open {
		return "open", nil
	}
	return "protected", nil
}

var tags = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]+>`)

// text is a page's words, for error messages.
func text(html string) string {
	var lines []string
	for _, l := range strings.Split(tags.ReplaceAllString(html, "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// Login signs the administrator in through the load balancer.
func (s *Site) Login(ctx context.Context) (*Browser, error) {
	b := s.browser("administrator", s.adminLocal)
	if err := b.login(ctx, s.adminUser, s.adminPassword); err != nil {
		return nil, err
	}
	return b, nil
}

// Usage is how a run of requests went.
type Usage struct {
	Requests, Authenticated int
	// Tasks counts the requests each task served.
	Tasks map[string]int
	// Refused are the requests WordPress did not treat as the user's.
	Refused []string
}

// Use makes n requests as the logged-in administrator, cycling through
// the kinds of uses, and counts the ones WordPress treated as theirs.
func (s *Site) Use(ctx context.Context, b *Browser, n int) (Usage, error) {
	u := Usage{Tasks: map[string]int{}}
	for i := 0; i < n; i++ {
		kind := uses[i%len(uses)]
		p, ok, err := kind.do(b, ctx)
		if err != nil {
			return u, err
		}
		u.Requests++
		u.Tasks[p.Task]++
		if ok {
			u.Authenticated++
		} else {
			u.Refused = append(u.Refused, fmt.Sprintf("%s on %s: %d %s", kind.name, orDefault(p.Task, "the load balancer"), p.Status, refusal(p)))
		}
	}
	return u, nil
}

// refusal says briefly how WordPress turned a request down.
func refusal(p page) string {
	switch {
	case strings.Contains(p.location(), "wp-login.php"):
		return "redirect to wp-login.php"
	case strings.Contains(p.Body, "The link you followed has expired"):
		return "the link you followed has expired"
	case strings.Contains(p.Body, "Unable to submit this form"):
		return "unable to submit this form (nonce refused)"
	case strings.Contains(p.Body, "rest_cookie_invalid_nonce"):
		return "REST: cookie nonce is invalid"
	case strings.Contains(p.Body, "rest_not_logged_in"):
		return "REST: not logged in"
	case p.Status == http.StatusOK:
		return "a page for a visitor who is not logged in"
	}
	return strings.TrimSpace(firstLine(text(p.Body)))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Restart replaces the tasks as the nightly restart does (a new
// deployment: a new task starts and passes its health checks, then the
// old ones are drained and stopped), and checks that the browser's
// session and the forms it holds still work on the new task. It returns
// "kept" or "lost".
func (s *Site) Restart(ctx context.Context, b *Browser) (string, Usage, error) {
	old := s.tasks
	s.tasks = nil
	r, err := s.addTask(ctx)
	if err != nil {
		return "", Usage{}, err
	}
	for _, o := range old {
		s.lb.deregister(o.target)
		o.task.stop()
	}
	s.logf("restart: %s replaced %d tasks", r.task.Name, len(old))
	// The forms and nonce from before the restart first, then fresh pages.
	order := []use{uses[1], uses[3], uses[0], uses[2], uses[4]}
	u := Usage{Tasks: map[string]int{}}
	for _, kind := range order {
		p, ok, err := kind.do(b, ctx)
		if err != nil {
			return "", u, err
		}
		u.Requests++
		u.Tasks[p.Task]++
		if ok && p.Task == r.task.Name {
			u.Authenticated++
		} else {
			u.Refused = append(u.Refused, fmt.Sprintf("%s on %s: %d %s", kind.name, orDefault(p.Task, "the load balancer"), p.Status, refusal(p)))
		}
	}
	if u.Authenticated == u.Requests {
		return "kept", u, nil
	}
	return "lost", u, nil
}

// TLS probes the database as a task would connect to it.
func (s *Site) TLS(ctx context.Context) (string, []string, error) {
	env, err := s.values.environment(s.container)
	if err != nil {
		return "", nil, err
	}
	if env["WORDPRESS_DB_PORT"] == "" {
		env["WORDPRESS_DB_PORT"] = fmt.Sprint(s.spec.Database.Port)
	}
	return tlsProbe(ctx, env)
}

// Settings are what an administrator finds of the stack's WordPress
// settings.
type Settings struct {
	CoreUpdates, FileEdit, UploadLimit string
}

var uploadLimit = regexp.MustCompile(`Maximum upload file size: ([0-9.]+ ?[KMG]?B)`)

// Settings looks at the dashboard's update, editor and upload pages.
func (s *Site) Settings(ctx context.Context, b *Browser) (Settings, error) {
	var out Settings
	// A page from a task that does not take the session says nothing
	// about the setting: ask again, up to once per task.
	signedIn := func(path string) (page, error) {
		var p page
		var err error
		for range len(s.tasks) + 1 {
			if p, err = b.get(ctx, path); err != nil || !strings.Contains(p.location(), "wp-login.php") {
				break
			}
		}
		return p, err
	}
	denied := func(path, what string) (string, error) {
		p, err := signedIn(path)
		if err != nil {
			return "", err
		}
		if strings.Contains(p.location(), "wp-login.php") {
			return "unknown", nil
		}
		why := notAllowed.FindString(p.Body)
		s.logf("%s: %d %s", what, p.Status, orDefault(why, firstLine(text(p.Body))))
		return map[bool]string{true: "off", false: "on"}[why != "" && p.Status >= 400], nil
	}
	var err error
	if out.CoreUpdates, err = denied("/wp-admin/update-core.php?action=do-core-upgrade", "core update from the dashboard"); err != nil {
		return out, err
	}
	if out.FileEdit, err = denied("/wp-admin/plugin-editor.php", "plugin file editor"); err != nil {
		return out, err
	}
	p, err := signedIn("/wp-admin/media-new.php")
	if err != nil {
		return out, err
	}
	out.UploadLimit = "unknown"
	if m := uploadLimit.FindStringSubmatch(p.Body); m != nil {
		out.UploadLimit = strings.ReplaceAll(m[1], " ", "")
	}
	return out, nil
}

var notAllowed = regexp.MustCompile(`Sorry, you are not allowed to [^<.]*\.`)
