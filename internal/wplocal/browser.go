package wplocal

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Browser is a visitor of the site: its cookies, the local address it
// connects from (which stands for a public one), and what the last pages
// gave it to send back (form nonces).
type Browser struct {
	name   string
	base   string
	client *http.Client
	// quickDraft is the dashboard's Quick Draft form: its nonce and the
	// draft's id, as a person would submit it.
	quickDraft url.Values
	// restNonce is the wp_rest nonce the block editor sends with every
	// REST request.
	restNonce string
}

func (s *Site) browser(name string, local netip.Addr) *Browser {
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: local.AsSlice()}, Timeout: 10 * time.Second}
	return &Browser{
		name: name,
		base: s.lb.SiteURL(),
		client: &http.Client{
			Jar:     jar,
			Timeout: 120 * time.Second,
			Transport: &http.Transport{
				DialContext:     dialer.DialContext,
				TLSClientConfig: &tls.Config{RootCAs: s.ca.Pool},
			},
			// A person's browser follows redirects; counting them needs
			// each answer as it comes.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// page is one answer.
type page struct {
	Status int
	Body   string
	Header http.Header
	// Task is the task that served it ("" when the load balancer itself
	// answered).
	Task string
}

func (p page) location() string { return p.Header.Get("Location") }

func (b *Browser) get(ctx context.Context, path string, header ...string) (page, error) {
	return b.do(ctx, http.MethodGet, path, nil, header...)
}

func (b *Browser) post(ctx context.Context, path string, form url.Values) (page, error) {
	return b.do(ctx, http.MethodPost, path, form)
}

func (b *Browser) do(ctx context.Context, method, path string, form url.Values, header ...string) (page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return page{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return page{}, fmt.Errorf("%s %s %s: %w", b.name, method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return page{}, fmt.Errorf("%s %s %s: %w", b.name, method, path, err)
	}
	return page{Status: resp.StatusCode, Body: string(raw), Header: resp.Header, Task: resp.Header.Get(targetHeader)}, nil
}

var (
	quickPressForm = regexp.MustCompile(`(?s)<form[^>]*id="quick-press".*?</form>`)
	hiddenInput    = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
	inputName      = regexp.MustCompile(`name="([^"]+)"`)
	inputValue     = regexp.MustCompile(`value="([^"]*)"`)
	restNonce      = regexp.MustCompile(`^[0-9a-f]{10}$`)
)

// use is one thing a logged-in administrator does; authenticated says
// whether WordPress treated the request as theirs.
type use struct {
	name string
	do   func(b *Browser, ctx context.Context) (page, bool, error)
}

// uses are what the run does in turn, five kinds so that over three tasks
// every kind lands on every task. Between them they need every key and
// salt: the dashboard and admin-ajax the auth cookie (AUTH_*, or
// SECURE_AUTH_* over HTTPS), the front page and the REST API the
// logged-in cookie (LOGGED_IN_*), Quick Draft and the REST API a nonce
// (NONCE_*) made on another task than the one that checks it.
var uses = []use{
	{"dashboard", (*Browser).dashboard},
	{"quick draft", (*Browser).saveQuickDraft},
	{"REST nonce", (*Browser).newRESTNonce},
	{"REST users/me", (*Browser).restMe},
	{"front page", (*Browser).frontPage},
}

// dashboard opens /wp-admin/ and keeps its Quick Draft form.
func (b *Browser) dashboard(ctx context.Context) (page, bool, error) {
	p, err := b.get(ctx, "/wp-admin/")
	if err != nil {
		return p, false, err
	}
	form := quickPressForm.FindString(p.Body)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="wpadminbar"`) || form == "" {
		return p, false, nil
	}
	values := url.Values{}
	for _, in := range hiddenInput.FindAllString(form, -1) {
		n, v := inputName.FindStringSubmatch(in), inputValue.FindStringSubmatch(in)
		if n != nil && v != nil {
			values.Set(n[1], v[1])
		}
	}
	if values.Get("_wpnonce") != "" && values.Get("post_ID") != "" {
		b.quickDraft = values
	}
	return p, true, nil
}

// saveQuickDraft submits the Quick Draft form a dashboard gave, as the
// dashboard's script posts it: check_admin_referer refuses a nonce that
// another task's NONCE_KEY made.
func (b *Browser) saveQuickDraft(ctx context.Context) (page, bool, error) {
	form := url.Values{}
	for k, v := range b.quickDraft {
		form[k] = v
	}
	form.Set("post_title", "Written across tasks")
	form.Set("content", "A draft saved through the load balancer.")
	p, err := b.post(ctx, "/wp-admin/post.php", form)
	if err != nil {
		return p, false, err
	}
	ok := p.Status == http.StatusOK && strings.Contains(p.Body, `id="quick-press"`) &&
		!strings.Contains(p.Body, "Unable to submit this form")
	return p, ok, nil
}

// newRESTNonce asks admin-ajax for a wp_rest nonce, as the editor does
// when its nonce expires.
func (b *Browser) newRESTNonce(ctx context.Context) (page, bool, error) {
	p, err := b.get(ctx, "/wp-admin/admin-ajax.php?action=rest-nonce")
	if err != nil {
		return p, false, err
	}
	n := strings.TrimSpace(p.Body)
	if p.Status != http.StatusOK || !restNonce.MatchString(n) {
		return p, false, nil
	}
	b.restNonce = n
	return p, true, nil
}

// restMe reads the logged-in user from the REST API with the nonce.
func (b *Browser) restMe(ctx context.Context) (page, bool, error) {
	p, err := b.get(ctx, "/?rest_route=/wp/v2/users/me", "X-WP-Nonce", b.restNonce)
	if err != nil {
		return p, false, err
	}
	return p, p.Status == http.StatusOK && strings.Contains(p.Body, `"id":`), nil
}

// frontPage is the site as its visitors see it; a logged-in user gets
// the toolbar.
func (b *Browser) frontPage(ctx context.Context) (page, bool, error) {
	p, err := b.get(ctx, "/")
	if err != nil {
		return p, false, err
	}
	return p, p.Status == http.StatusOK && strings.Contains(p.Body, `id="wpadminbar"`), nil
}

// login signs in through wp-login.php as a person does: the form first
// (it sets the test cookie the submit checks), then the submit.
func (b *Browser) login(ctx context.Context, user, password string) error {
	if _, err := b.get(ctx, "/wp-login.php"); err != nil {
		return err
	}
	p, err := b.post(ctx, "/wp-login.php", url.Values{
		"log": {user}, "pwd": {password}, "wp-submit": {"Log In"},
		"redirect_to": {b.base + "/wp-admin/"}, "testcookie": {"1"},
	})
	if err != nil {
		return err
	}
	if p.Status != http.StatusFound || strings.Contains(p.location(), "wp-login.php") {
		return fmt.Errorf("login as %s: WordPress answered %d (%s)%s", user, p.Status, p.location(), loginError(p.Body))
	}
	u, _ := url.Parse(b.base)
	for _, c := range b.client.Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "wordpress_logged_in_") {
			return nil
		}
	}
	return fmt.Errorf("login as %s: no logged-in cookie came back", user)
}

var loginErrorText = regexp.MustCompile(`(?s)id="login_error"[^>]*>(.*?)</div>`)

func loginError(body string) string {
	if m := loginErrorText.FindStringSubmatch(body); m != nil {
		return ": " + strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], " ")), " ")
	}
	return ""
}
