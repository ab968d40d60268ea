package engine_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// localFleet is a fleetsim served over HTTP plus a DynamoDB with fresh
// tables, and the engine wired to both exactly as restartctl wires it.
type localFleet struct {
	sim      *fleetsim.Sim
	url      string
	settings setup.Settings
	store    *store.Store
	day      string
	// verifyTimeout bounds the checks after the last batch (hung
	// deployments never finish).
	verifyTimeout time.Duration
}

var tableSeq atomic.Int64

// fastRetry keeps the real retry logic with short backoffs, so that the
// injected throttling and 5xx errors do not make the tests slow.
var fastRetry = awsfleet.RetryPolicy{MaxAttempts: 10, ThrottleBase: 20 * time.Millisecond, Base: 5 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}

func newLocalFleet(t testing.TB, cfg fleetsim.Config) *localFleet {
	t.Helper()
	ddb := testenv.DynamoDB(t)
	sim, err := fleetsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	n := tableSeq.Add(1)
	suffix := fmt.Sprintf("%d-%d", time.Now().UnixNano(), n)
	s := setup.Settings{
		Endpoint: srv.URL, DynamoDBEndpoint: ddb, Region: "us-east-1",
		StaticKeyID: sim.HubAccessKeyID(),
		Accounts:    sim.Accounts(), Regions: sim.Regions(),
		Roles:      awsfleet.Roles{Name: sim.RoleName()},
		Enrollment: fleet.EnrollTagged, Window: fleet.DefaultWindow(), Location: time.UTC,
		InventoryTable: "inv-" + suffix, RunsTable: "runs-" + suffix, CreateTables: true,
		Retry: fastRetry,
		// The tests run at any time of day; the window guard has tests of
		// its own (window_test.go).
		OutsideWindow: true,
		// The fleet's buckets and the client's limits scale together, so
		// the pacing is the real one, only faster.
		RateScale: max(cfg.ThrottleScale, 1),
		// The whole of each bucket, for speed: by default the engine
		// takes half (TestTheDefaultPaceTakesAtMostHalfOfEveryBucket).
		BucketShare: 1,
	}
	db := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddb) })
	return &localFleet{
		sim: sim, url: srv.URL, settings: s,
		store:         store.New(db, store.WithTables(s.InventoryTable, s.RunsTable)),
		day:           time.Now().UTC().Format(time.DateOnly),
		verifyTimeout: 3 * time.Second,
	}
}

func (lf *localFleet) engine(t testing.TB) *engine.Engine {
	t.Helper()
	e, err := setup.Build(t.Context(), lf.settings, engine.WithProgress(func(format string, args ...any) {
		if testing.Verbose() {
			t.Logf(format, args...)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (lf *localFleet) run(t testing.TB, e *engine.Engine) engine.RunResult {
	t.Helper()
	res, err := e.Run(t.Context(), engine.RunOptions{
		Input:  engine.DiscoverInput{Day: lf.day},
		NoWait: true, VerifyEvery: 50 * time.Millisecond, VerifyTimeout: lf.verifyTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// updates returns how many accepted UpdateService calls each service got
// today, by ARN, and their total.
func (lf *localFleet) updates() (map[string]int, int) {
	m := lf.sim.Stats().UpdateService[lf.day]
	total := 0
	for _, n := range m {
		total += n
	}
	return m, total
}

// checkNothingLost asserts that every eligible service of a reachable
// account was restarted exactly once or has a recorded reason not to be,
// and that nothing else was restarted.
func checkNothingLost(t testing.TB, lf *localFleet, truth []fleet.Service, unreachable func(fleet.Service) bool, sum report.Summary) map[string]store.Record {
	t.Helper()
	if err := sum.Counts.Accounted(); err != nil {
		t.Fatal(err)
	}
	recs, err := lf.store.LoadRuns(t.Context(), lf.day)
	if err != nil {
		t.Fatal(err)
	}
	byARN := map[string]store.Record{}
	for _, r := range recs {
		byARN[r.ARN] = r
	}
	updates, _ := lf.updates()
	eligible := map[string]bool{}
	for _, s := range fleet.Classify(truth, fleet.EnrollTagged).Eligible {
		if unreachable(s) {
			continue
		}
		eligible[s.ARN] = true
		r, ok := byARN[s.ARN]
		switch {
		case !ok:
			t.Errorf("%s: eligible but no run record", s.ARN)
		case r.Status == fleet.StatusGone:
			if updates[s.ARN] != 0 {
				t.Errorf("%s: gone but restarted %d times", s.ARN, updates[s.ARN])
			}
		case slices.Contains([]fleet.Status{fleet.StatusCompleted, fleet.StatusFailed, fleet.StatusRolledBack, fleet.StatusStarted}, r.Status):
			if updates[s.ARN] != 1 {
				t.Errorf("%s: %s but restarted %d times today, want 1", s.ARN, r.Status, updates[s.ARN])
			}
			if r.DeploymentID == "" {
				t.Errorf("%s: %s without a deployment id", s.ARN, r.Status)
			}
		default:
			t.Errorf("%s: left in state %q (%s)", s.ARN, r.Status, r.Detail)
		}
	}
	for arn, n := range updates {
		if !eligible[arn] {
			t.Errorf("%s: not eligible but restarted %d times", arn, n)
		}
	}
	return byARN
}

func TestNightWithEveryFaultLosesNothingAndARerunRestartsNothing(t *testing.T) {
	t.Parallel()
	cfg := fleetsim.Config{Seed: 11, Accounts: 6, Clusters: 40, Services: 400, DeployTime: 150 * time.Millisecond, DeployJitter: 0.3, ThrottleScale: 5}
	probe, err := fleetsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	accts := probe.Accounts()
	denied, disabled := accts[0], accts[1]
	cfg.Faults = []fleetsim.Fault{
		{Kind: fleetsim.FaultAccessDenied, Account: denied},
		{Kind: fleetsim.FaultRegionDisabled, Account: disabled, Region: "us-west-2"},
		{Kind: fleetsim.FaultServerError, Rate: 0.05},
		{Kind: fleetsim.FaultThrottle, Op: "UpdateService", Rate: 0.05},
		{Kind: fleetsim.FaultThrottle, Op: "DescribeServices", Rate: 0.05},
		{Kind: fleetsim.FaultLatency, Rate: 0.2, Latency: 3 * time.Millisecond},
		{Kind: fleetsim.FaultServiceGone, Rate: 0.03, AfterDescribe: true},
		{Kind: fleetsim.FaultDeploymentFail, Rate: 0.05},
		{Kind: fleetsim.FaultDeploymentHang, Rate: 0.03},
	}
	lf := newLocalFleet(t, cfg)
	truth := lf.sim.Inventory()
	unreachable := func(s fleet.Service) bool {
		return s.Account == denied || (s.Account == disabled && s.Region == "us-west-2")
	}
	start := time.Now().Add(-time.Second)
	res := lf.run(t, lf.engine(t))
	c := res.Summary.Counts

	recs := checkNothingLost(t, lf, truth, unreachable, res.Summary)
	if want := len(lf.settings.Regions) + 1; c.AccountsFailed != want {
		t.Errorf("accounts failed = %d, want %d (denied in every Region, one Region disabled): %+v", c.AccountsFailed, want, res.Summary.Accounts)
	}
	for name, n := range map[string]int{"completed": c.Completed, "rolled back": c.RolledBack, "in progress": c.InProgress, "gone": c.Gone, "unenrolled": c.Unenrolled} {
		if n == 0 {
			t.Errorf("no service %s: the faults did not reach the engine (%+v)", name, c)
		}
	}
	if c.NotStarted+c.Claimed+c.NotAttempted != 0 {
		t.Errorf("restarts left undone: %+v", c)
	}
	if st := lf.sim.Stats(); st.TotalThrottled == 0 {
		t.Errorf("no call was throttled: the throttling fault did not fire")
	}

	// Completed restarts of tagged services carry the restart time.
	now := time.Now()
	stamped := 0
	for _, s := range lf.sim.Inventory() {
		r, ok := recs[s.ARN]
		if !ok || r.Status != fleet.StatusCompleted {
			continue
		}
		at, err := time.Parse(time.RFC3339, s.Tags[fleet.RestartTag])
		if err != nil || at.Before(start.Truncate(time.Second)) || at.After(now) {
			t.Errorf("%s: completed but tag %s = %q, want the restart time", s.ARN, fleet.RestartTag, s.Tags[fleet.RestartTag])
			continue
		}
		stamped++
	}
	if stamped == 0 {
		t.Error("no completed service was stamped")
	}

	// A second run the same day restarts nothing.
	_, before := lf.updates()
	res2 := lf.run(t, lf.engine(t))
	if _, after := lf.updates(); after != before {
		t.Errorf("rerun made %d UpdateService calls, want 0", after-before)
	}
	if res2.Report.RestartedThisRun != 0 {
		t.Errorf("rerun restarted %d services", res2.Report.RestartedThisRun)
	}
	claimed := 0
	for _, r := range res2.Restarts {
		claimed += r.AlreadyClaimed + r.Gone
	}
	if claimed == 0 {
		t.Error("rerun found no service already restarted today")
	}
}
