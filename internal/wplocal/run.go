package wplocal

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// RequestsPerRun is how many authenticated requests the run spreads over
// the tasks: eight per task with three, each of the five uses on every
// task.
const RequestsPerRun = 24

// Result is what a run measured.
type Result struct {
	Tasks         int
	Authenticated int
	Requests      int
	Restart       string
	TLS           string
	Install       string
	Settings      Settings
	WPCronCalls   int
}

// Line is the run's machine-readable summary, its last line.
func (r Result) Line() string {
	return fmt.Sprintf("wordpress: tasks=%d authenticated=%d/%d restart=%s tls=%s install=%s", r.Tasks, r.Authenticated, r.Requests, r.Restart, r.TLS, r.Install)
}

// OK says whether the site works as its users need: every request
// authenticated on every task the service runs, the session kept through
// a restart, TLS required by the database and the install protected.
func (r Result) OK(desired int) bool {
	return r.Tasks == desired && r.Requests > 0 && r.Authenticated == r.Requests &&
		r.Restart == "kept" && r.TLS == "required" && r.Install == "protected"
}

// Run is the whole check on a plan's WordPress tier: start the database
// and the load balancer, run the service's tasks, install by the first
// run, use the dashboard across the tasks, restart, probe TLS.
func Run(ctx context.Context, spec *Spec, opts Options) (Result, error) {
	res := Result{Requests: RequestsPerRun, Restart: "untested", TLS: "untested", Install: "untested"}
	s, err := Start(ctx, spec, opts)
	if err != nil {
		return res, err
	}
	defer s.Close()
	for _, n := range s.values.Notes {
		s.logf("%s", n)
	}
	if err := s.RunTasks(ctx, spec.Container, spec.DesiredCount); err != nil {
		return res, err
	}
	if res.TLS, err = s.tlsStep(ctx); err != nil {
		return res, err
	}
	if res.Install, err = s.Install(ctx); err != nil {
		return res, err
	}
	b, err := s.Login(ctx)
	if err != nil {
		return res, err
	}
	u, err := s.Use(ctx, b, RequestsPerRun)
	if err != nil {
		return res, err
	}
	res.Authenticated, res.Tasks = u.Authenticated, len(u.Tasks)
	s.logf("%d of %d requests authenticated; served by %s", u.Authenticated, u.Requests, spread(u.Tasks))
	for _, r := range u.Refused {
		s.logf("refused: %s", r)
	}
	if res.Settings, err = s.Settings(ctx, b); err != nil {
		return res, err
	}
	restart, ru, err := s.Restart(ctx, b)
	if err != nil {
		return res, err
	}
	res.Restart = restart
	s.logf("after the restart %d of %d requests authenticated on the new task", ru.Authenticated, ru.Requests)
	for _, r := range ru.Refused {
		s.logf("refused: %s", r)
	}
	res.WPCronCalls = s.lb.wpCronCalls()
	return res, nil
}

func (s *Site) tlsStep(ctx context.Context) (string, error) {
	tls, notes, err := s.TLS(ctx)
	for _, n := range notes {
		s.logf("database %s", n)
	}
	return tls, err
}

func spread(tasks map[string]int) string {
	var names []string
	for n := range tasks {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", orDefault(n, "the load balancer"), tasks[n])
	}
	return strings.Join(parts, ", ")
}
