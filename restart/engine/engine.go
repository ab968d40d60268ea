// Package engine runs the daily restart as steps over ids: Discover, Plan,
// RestartBatch, VerifyBatch and Report. Each step reads what it needs from
// the store and returns only ids and counts, so that the same functions are
// the Step Functions tasks (whose payloads are limited to 256 KiB) and the
// stages of `restartctl run`.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// Fleet is what the engine does in the member accounts (awsfleet.Fleet).
type Fleet interface {
	DiscoverEach(ctx context.Context, accounts, regions []string, found func(awsfleet.AccountResult, []fleet.Service)) []awsfleet.AccountResult
	Restart(ctx context.Context, t awsfleet.Target) (deploymentID string, err error)
	Check(ctx context.Context, targets []awsfleet.Target) []awsfleet.Observation
	Stamp(ctx context.Context, t awsfleet.Target, at time.Time) error
	Preflight(ctx context.Context, targets []awsfleet.Target) []awsfleet.Current
	Changes(ctx context.Context, targets []awsfleet.Target) []awsfleet.Change
}

// Store is where the engine keeps the day's state (store.Store).
type Store interface {
	PutInventory(ctx context.Context, day string, items []store.Item) error
	LoadInventory(ctx context.Context, day, runID string) ([]store.Item, error)
	LoadBatch(ctx context.Context, day, runID string, batch int) ([]store.Item, error)
	PutRunMeta(ctx context.Context, m store.RunMeta) error
	GetRunMeta(ctx context.Context, day, runID string) (store.RunMeta, error)
	PutAccountResults(ctx context.Context, day string, results []store.AccountResult) error
	LoadAccountResults(ctx context.Context, day, runID string) ([]store.AccountResult, error)

	Claim(ctx context.Context, r store.Record) (bool, error)
	MarkStarted(ctx context.Context, day, arn, runID, deploymentID string, at time.Time) error
	Adopt(ctx context.Context, day, arn, deploymentID string, at time.Time, detail string) error
	Release(ctx context.Context, day, arn, detail string) error
	Finish(ctx context.Context, day, arn string, status fleet.Status, detail string, at time.Time) error
	FinishCompleted(ctx context.Context, day, arn, detail string, at time.Time, took time.Duration) error
	Note(ctx context.Context, day, arn, detail string) error
	LoadRunBatch(ctx context.Context, day, runID string, batch int) ([]store.Record, error)
	LoadRuns(ctx context.Context, day string) ([]store.Record, error)

	PutPlan(ctx context.Context, day, runID string, items []store.Item) error
	PutBatchSkips(ctx context.Context, day, runID string, batch int, skips []store.Skip) error
	PutDeferrals(ctx context.Context, day, runID string, to int, start string, items []store.Item) error
	GetRecords(ctx context.Context, day string, arns []string) ([]store.Record, error)
	SetChange(ctx context.Context, day, arn string, before, after fleet.Revision) error

	GetRun(ctx context.Context, day, runID string) (store.RunMeta, error)
	PutDeploymentTimes(ctx context.Context, times []store.ClusterDeploymentTime) error
	LoadDeploymentTimes(ctx context.Context) ([]store.ClusterDeploymentTime, error)

	GetPause(ctx context.Context) (store.Pause, error)
	LoadBreakers(ctx context.Context, day string) ([]store.Breaker, error)
	TripBreaker(ctx context.Context, b store.Breaker) (bool, error)
	PutTally(ctx context.Context, day string, t store.Tally) error
	LoadTallies(ctx context.Context, day, runID string) ([]store.Tally, error)
	PutBatchFailure(ctx context.Context, day string, f store.BatchFailure) error
	LoadBatchFailures(ctx context.Context, day, runID string) ([]store.BatchFailure, error)
	PutHalt(ctx context.Context, day string, h store.Halt) error
	GetHalt(ctx context.Context, day, runID string) (store.Halt, bool, error)
	PutCarryOver(ctx context.Context, c store.CarryOver) error
	LoadCarryOver(ctx context.Context, day string) (store.CarryOver, bool, error)
}

// Notifier sends the report (report.Notifier).
type Notifier interface {
	Notify(ctx context.Context, s report.Summary) error
}

// Config is what a run restarts and when.
type Config struct {
	// Accounts and Regions are the member accounts and Regions discovered.
	Accounts []string
	Regions  []string
	// Enrollment says whether untagged services are restarted.
	Enrollment fleet.Enrollment
	// Window is the night's window (fleet.DefaultWindow when zero).
	Window fleet.Window
	// Location is the stack's time zone: the day and the batch start
	// times are local to it (UTC when nil).
	Location *time.Location
	// StaleClaimAfter is how old a claim without a known deployment must
	// be before the verifier releases it (default 20m: longer than a
	// Lambda invocation can live plus the SDK's retries).
	StaleClaimAfter time.Duration
	// Workers bounds the account/Region pairs worked on at once in a batch
	// (default 32; each pair has at most 4 calls in flight).
	Workers int
	// OutsideWindow lets batches restart outside the window of the run's
	// day (a demo, an emergency run by hand); by default RestartBatch and
	// Run refuse with an *OutsideWindowError.
	OutsideWindow bool
	// MinInterval is the least time between two restarts of a service
	// (DefaultMinInterval when zero; negative turns the check off).
	MinInterval time.Duration
	// DeploymentTime is the deployment duration the plan's window fit
	// assumes for a cluster with no observed one (fleet.DefaultDeploymentTime
	// when zero).
	DeploymentTime time.Duration
	// IssueRate is the UpdateService calls per second the fleet makes in
	// one account and Region, as the window fit counts them (the default
	// limits' when zero).
	IssueRate float64
	// Breaker is when the circuit breakers stop the night
	// (DefaultBreaker's fields where zero).
	Breaker Breaker
	// MaxDeferrals is how many times the check before a restart moves a
	// service with a deployment of its own in progress to the next batch
	// before it leaves it to the next night (DefaultMaxDeferrals when
	// zero; negative: never).
	MaxDeferrals int
	// Clusters, when set, are the only clusters (by ARN) whose services a
	// run takes in: a stack that shares its account with others restarts
	// its own cluster only. Services of other clusters are left out of the
	// inventory, so nothing of them is planned, restarted or reported.
	Clusters []string
	// Stack, when set, is the Stack dimension of the run's metrics, so that
	// two pipelines in one account and Region alarm on their own nights.
	Stack string
}

// Engine runs the steps. Build one with New.
type Engine struct {
	cfg      Config
	newFleet func(runID string) Fleet
	store    Store
	notifier Notifier
	metrics  io.Writer
	denials  DenialCounter
	now      func() time.Time
	progress func(format string, args ...any)

	mu     sync.Mutex
	fleets map[string]Fleet
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the time source (time.Now by default).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithProgress receives one line per notable event (accounts discovered,
// batches restarted).
func WithProgress(fn func(format string, args ...any)) Option {
	return func(e *Engine) { e.progress = fn }
}

// WithNotifier sets where the report is sent (nowhere by default).
func WithNotifier(n Notifier) Option { return func(e *Engine) { e.notifier = n } }

// WithMetrics sets where the EMF metric lines are written (nowhere by
// default; os.Stdout in Lambda).
func WithMetrics(w io.Writer) Option { return func(e *Engine) { e.metrics = w } }

// New returns an Engine. newFleet returns the Fleet of a run (its
// credentials carry the run id in their session name); it is called once
// per run id.
func New(cfg Config, newFleet func(runID string) Fleet, st Store, opts ...Option) *Engine {
	if cfg.Window == (fleet.Window{}) {
		cfg.Window = fleet.DefaultWindow()
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Enrollment == "" {
		cfg.Enrollment = fleet.EnrollTagged
	}
	if cfg.StaleClaimAfter <= 0 {
		cfg.StaleClaimAfter = 20 * time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.MinInterval == 0 {
		cfg.MinInterval = DefaultMinInterval
	}
	if cfg.DeploymentTime <= 0 {
		cfg.DeploymentTime = fleet.DefaultDeploymentTime
	}
	if cfg.IssueRate <= 0 {
		cfg.IssueRate = awsfleet.DefaultLimits().Modify.PerSecond
	}
	cfg.Breaker = cfg.Breaker.withDefaults()
	if cfg.MaxDeferrals == 0 {
		cfg.MaxDeferrals = DefaultMaxDeferrals
	}
	e := &Engine{cfg: cfg, newFleet: newFleet, store: st, now: time.Now, fleets: map[string]Fleet{}}
	for _, o := range opts {
		o(e)
	}
	return e
}

func (e *Engine) fleetFor(runID string) Fleet {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.fleets[runID]
	if !ok {
		f = e.newFleet(runID)
		e.fleets[runID] = f
	}
	return f
}

func (e *Engine) logf(format string, args ...any) {
	if e.progress != nil {
		e.progress(format, args...)
	}
}

// NewRunID returns a run id for a day: the day and a random suffix.
func NewRunID(day string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return day + "-" + hex.EncodeToString(b)
}

// midnight is the start of the local day.
func (e *Engine) midnight(day string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, day, e.cfg.Location)
	if err != nil {
		return time.Time{}, fmt.Errorf("day %q: want YYYY-MM-DD: %w", day, err)
	}
	return t, nil
}
