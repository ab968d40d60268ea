package wplocal

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// balancer is the Application Load Balancer as far as WordPress and its
// visitors can tell: one local listener per plan listener (TLS with the
// run's certificate where the plan's is HTTPS), the plan's rules in
// priority order, then the default action; forward goes round robin to
// the healthy targets, and health checks use the plan's path and matcher.
type balancer struct {
	spec    *Spec
	matches func(int) bool
	// standIns maps the local address a client connects from to the
	// public address it stands for, which the rules' source-ip
	// conditions see; any other local address (the tasks themselves,
	// calling the site for WP-Cron) stands for the NAT's.
	standIns map[netip.Addr]netip.Addr
	nat      netip.Addr
	// checkEvery is the health check interval here: the plan's (30 s
	// in the stack) would make a run wait minutes for a new task.
	checkEvery time.Duration

	mu      sync.Mutex
	targets []*target
	next    int
	// selfCalls counts requests to wp-cron.php that the tasks sent.
	selfCalls int

	servers []*http.Server
	// URLs are the local listeners' base URLs, by plan listener port.
	URLs map[int]string
}

type target struct {
	name string
	addr string
	// healthy after the plan's healthy threshold of passed checks in a
	// row, unhealthy after its unhealthy threshold of failed ones.
	healthy          bool
	passes, failures int
	draining         bool
	// last is the last health check's outcome, for messages.
	last     string
	inflight sync.WaitGroup
	stop     chan struct{}
}

func newBalancer(spec *Spec, cert tls.Certificate, standIns map[netip.Addr]netip.Addr, nat netip.Addr) (*balancer, error) {
	m, err := matcher(spec.TargetGroup.Matcher)
	if err != nil {
		return nil, err
	}
	b := &balancer{spec: spec, matches: m, standIns: standIns, nat: nat, checkEvery: time.Second, URLs: map[int]string{}}
	type bound struct {
		l   Listener
		ln  net.Listener
		url string
	}
	var all []bound
	for _, l := range spec.Listeners {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.close()
			return nil, err
		}
		scheme := "http"
		if l.Protocol == "HTTPS" {
			scheme = "https"
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		}
		u := fmt.Sprintf("%s://%s", scheme, ln.Addr())
		b.URLs[l.Port] = u
		all = append(all, bound{l, ln, u})
	}
	for _, x := range all {
		srv := &http.Server{Handler: b.handler(x.l), ReadHeaderTimeout: 30 * time.Second}
		b.servers = append(b.servers, srv)
		go srv.Serve(x.ln)
	}
	return b, nil
}

// SiteURL is the local address of the listener that serves the site.
func (b *balancer) SiteURL() string {
	for _, l := range b.spec.Listeners {
		if l.Forward && l.Protocol == "HTTPS" {
			return b.URLs[l.Port]
		}
	}
	for _, l := range b.spec.Listeners {
		if l.Forward {
			return b.URLs[l.Port]
		}
	}
	return ""
}

func (b *balancer) close() {
	for _, s := range b.servers {
		s.Close()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range b.targets {
		close(t.stop)
	}
	b.targets = nil
}

// source is the address a request's rules see.
func (b *balancer) source(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return b.nat
	}
	if s, ok := b.standIns[ap.Addr()]; ok {
		return s
	}
	return b.nat
}

func (b *balancer) handler(l Listener) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		src := b.source(r)
		if src == b.nat && r.URL.Path == "/wp-cron.php" {
			b.mu.Lock()
			b.selfCalls++
			b.mu.Unlock()
		}
		if !l.Forward {
			// The HTTP listener's redirect: same host and path, the
			// protocol and port of the plan's redirect (its port 443 is
			// the local HTTPS listener's here).
			target := ""
			for _, other := range b.spec.Listeners {
				if other.Forward && strings.EqualFold(other.Protocol, l.RedirectProtocol) {
					target = b.URLs[other.Port]
				}
			}
			u, _ := url.Parse(target)
			u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
			http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
			return
		}
		path := r.URL.EscapedPath()
		for _, rule := range l.Rules {
			if len(rule.Other) > 0 || !rule.MatchesPath(path) || !rule.MatchesSource(src) {
				continue
			}
			switch rule.Action {
			case "fixed-response":
				code, _ := strconv.Atoi(rule.StatusCode)
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(code)
				io.WriteString(w, fixedBody(rule.Resource.Inputs))
				return
			case "forward":
				b.forward(w, r, l, src)
				return
			default:
				http.Error(w, "the local load balancer does not model rule action "+rule.Action, http.StatusNotImplemented)
				return
			}
		}
		b.forward(w, r, l, src)
	})
}

func fixedBody(inputs map[string]any) string {
	for _, a := range inputs["actions"].([]any) {
		m, _ := a.(map[string]any)
		if f, ok := m["fixedResponse"].(map[string]any); ok {
			s, _ := f["messageBody"].(string)
			return s
		}
	}
	return ""
}

// pick is the next target in rotation among the healthy ones; when none
// is healthy the load balancer sends to all of them (fail open), and with
// no target at all it answers 503.
func (b *balancer) pick() *target {
	b.mu.Lock()
	defer b.mu.Unlock()
	var pool []*target
	for _, t := range b.targets {
		if t.healthy && !t.draining {
			pool = append(pool, t)
		}
	}
	if len(pool) == 0 {
		for _, t := range b.targets {
			if !t.draining {
				pool = append(pool, t)
			}
		}
	}
	if len(pool) == 0 {
		return nil
	}
	t := pool[b.next%len(pool)]
	b.next++
	t.inflight.Add(1)
	return t
}

func (b *balancer) forward(w http.ResponseWriter, r *http.Request, l Listener, src netip.Addr) {
	t := b.pick()
	if t == nil {
		http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
		return
	}
	defer t.inflight.Done()
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", t.addr
			pr.Out.Host = r.Host
			// What the load balancer adds (ELB guide, "HTTP headers and
			// Application Load Balancers"): the client's address appended
			// to X-Forwarded-For, and the listener's protocol and port.
			xff := src.String()
			if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
				xff = prior + ", " + xff
			}
			pr.Out.Header.Set("X-Forwarded-For", xff)
			pr.Out.Header.Set("X-Forwarded-Proto", strings.ToLower(l.Protocol))
			pr.Out.Header.Set("X-Forwarded-Port", strconv.Itoa(l.Port))
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Set(targetHeader, t.name)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			w.Header().Set(targetHeader, t.name)
			http.Error(w, "502 Bad Gateway: "+err.Error(), http.StatusBadGateway)
		},
	}
	proxy.ServeHTTP(w, r)
}

// targetHeader names, in each response, the task that served it: the run
// counts how the requests spread. The load balancer adds no such header.
const targetHeader = "X-Local-Task"

// register adds a task to the target group; it takes traffic once it has
// passed the health check the plan's healthy threshold of times.
func (b *balancer) register(t *task) *target {
	tg := &target{name: t.Name, addr: t.Addr, stop: make(chan struct{})}
	b.mu.Lock()
	b.targets = append(b.targets, tg)
	b.mu.Unlock()
	go b.healthChecks(tg)
	return tg
}

func (b *balancer) healthChecks(t *target) {
	tg := b.spec.TargetGroup
	client := &http.Client{
		Timeout:       time.Duration(tg.TimeoutSeconds) * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	tick := time.NewTicker(b.checkEvery)
	defer tick.Stop()
	for {
		ok, last := false, ""
		// The load balancer's health check names the target itself as
		// the host (ELB guide, "Health checks for your target groups").
		if resp, err := client.Get("http://" + t.addr + tg.Path); err == nil {
			ok, last = b.matches(resp.StatusCode), resp.Status
			resp.Body.Close()
		} else {
			last = err.Error()
		}
		b.mu.Lock()
		t.last = last
		if ok {
			t.passes, t.failures = t.passes+1, 0
			if t.passes >= tg.HealthyThreshold {
				t.healthy = true
			}
		} else {
			t.failures, t.passes = t.failures+1, 0
			if t.failures >= tg.UnhealthyThreshold {
				t.healthy = false
			}
		}
		b.mu.Unlock()
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
	}
}

// waitHealthy waits until the target passes its health checks, for at
// most a minute (ECS's grace period is for a task copying WordPress onto
// EFS, which a local task does before it starts).
func (b *balancer) waitHealthy(ctx context.Context, t *target) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		b.mu.Lock()
		h, last := t.healthy, t.last
		b.mu.Unlock()
		if h {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("task %s never passed the health check %s (matcher %s); the last check got %s", t.name, b.spec.TargetGroup.Path, b.spec.TargetGroup.Matcher, orDefault(last, "no answer"))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// deregister takes a target out of rotation and waits for its requests
// in flight, as the target group's deregistration delay lets them finish.
func (b *balancer) deregister(t *target) {
	b.mu.Lock()
	t.draining = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() { t.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
	b.mu.Lock()
	for i, x := range b.targets {
		if x == t {
			b.targets = append(b.targets[:i], b.targets[i+1:]...)
			break
		}
	}
	b.mu.Unlock()
	close(t.stop)
}

func (b *balancer) wpCronCalls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.selfCalls
}
