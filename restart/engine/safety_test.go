package engine_test

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
)

// shortWindow is a one-hour window of four batches, ten minutes apart.
var shortWindow = fleet.Window{Length: time.Hour, Interval: 10 * time.Minute, VerifyReserve: 30 * time.Minute}

// paced runs a night at its batches' start times, a batch a second
// (the window divided by 600): the breakers judge each batch after its
// check, before the next one is due. The fleets of these tests scale
// ECS's buckets (and the engine's limits) by 10, so that a batch's checks
// take less than that second, as they take less than the ten minutes
// between two batches in AWS.
func (lf *localFleet) paced(t *testing.T, e *engine.Engine) (engine.RunResult, error) {
	t.Helper()
	return e.Run(t.Context(), engine.RunOptions{
		Input:     engine.DiscoverInput{Day: lf.day},
		TimeScale: 600, VerifyEvery: 50 * time.Millisecond, VerifyTimeout: lf.verifyTimeout,
	})
}

// eligibleByAccount counts the eligible services of the fleet's truth by
// account.
func eligibleByAccount(truth []fleet.Service) map[string]int {
	out := map[string]int{}
	for _, s := range fleet.Classify(truth, fleet.EnrollTagged).Eligible {
		out[s.Account]++
	}
	return out
}

func TestAPausedNightRestartsNothingAndSaysWhoPausedIt(t *testing.T) {
	t.Parallel()
	lf := newLocalFleet(t, fleetsim.Config{Seed: 31, Accounts: 2, Clusters: 4, Services: 40, DeployTime: 50 * time.Millisecond, ThrottleScale: 10})
	ctx := t.Context()
	e := lf.engine(t) // creates the tables
	if err := lf.store.SetPause(ctx, "ECR outage in us-east-1", "alice@example.com", time.Now()); err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(ctx, engine.RunOptions{Input: engine.DiscoverInput{Day: lf.day}, NoWait: true, VerifyTimeout: time.Second})
	var pe *engine.PausedError
	if !errors.As(err, &pe) || pe.Pause.By != "alice@example.com" {
		t.Fatalf("paused run: %v, want a PausedError naming who paused", err)
	}
	if h := res.Halted; h == nil || h.Kind != report.HaltPaused || h.Reason != "ECR outage in us-east-1" || h.By != "alice@example.com" {
		t.Fatalf("halted = %+v, want paused with its reason and author", res.Halted)
	}
	if n := lf.sim.Stats().TotalCalls; n != 0 {
		t.Fatalf("a paused night made %d calls to the fleet, want none", n)
	}
	if text := report.SummaryText(res.Summary); !strings.Contains(text, "PAUSED by alice@example.com") {
		t.Errorf("summary does not say the night was paused:\n%s", text)
	}
	// Resumed, the next run of the day restarts.
	if _, err := lf.store.ClearPause(ctx, "bob", time.Now()); err != nil {
		t.Fatal(err)
	}
	res = lf.run(t, lf.engine(t))
	if res.Halted != nil || res.Report.RestartedThisRun == 0 {
		t.Fatalf("after resume: halted %+v, restarted %d", res.Halted, res.Report.RestartedThisRun)
	}
}

func TestAPauseDuringTheNightStopsWithinOneBatch(t *testing.T) {
	t.Parallel()
	lf := newLocalFleet(t, fleetsim.Config{Seed: 32, Accounts: 3, Clusters: 9, Services: 120, DeployTime: 50 * time.Millisecond, ThrottleScale: 10})
	lf.settings.Window = shortWindow
	e := lf.engine(t)
	var (
		wg     sync.WaitGroup
		res    engine.RunResult
		runErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, runErr = lf.paced(t, e)
	}()
	// Pause as soon as the first batch has restarted something.
	var atPause int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, atPause = lf.updates(); atPause > 0 {
			break
		}
	}
	if err := lf.store.SetPause(t.Context(), "wrong image pushed to latest", "carol", time.Now()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !errors.As(runErr, new(*engine.PausedError)) || res.Halted == nil || res.Halted.Kind != report.HaltPaused {
		t.Fatalf("run: %v, halted %+v; want paused", runErr, res.Halted)
	}
	_, total := lf.updates()
	perBatch := (res.Plan.Eligible + len(res.Plan.Batches) - 1) / len(res.Plan.Batches)
	if total == 0 || total > perBatch {
		t.Fatalf("%d restarts, %d when paused: want the pause to stop the night within the batch restarting then (%d services)", total, atPause, perBatch)
	}
	if res.Summary.Counts.NotAttempted != res.Plan.Eligible-total || res.Summary.Counts.LeftOver < res.Plan.Eligible-total {
		t.Errorf("counts %+v: want the %d services not attempted counted and left for the next night", res.Summary.Counts, res.Plan.Eligible-total)
	}
}

func TestEveryDeploymentFailingTripsTheBreakerWithinTheFirstBatches(t *testing.T) {
	t.Parallel()
	lf := newLocalFleet(t, fleetsim.Config{Seed: 33, Accounts: 3, Clusters: 9, Services: 200, DeployTime: 50 * time.Millisecond, ThrottleScale: 10,
		Faults: []fleetsim.Fault{{Kind: fleetsim.FaultDeploymentFail}}})
	lf.settings.Window = fleet.Window{Length: 2 * time.Hour, Interval: 10 * time.Minute, VerifyReserve: 30 * time.Minute} // 10 batches
	res, err := lf.paced(t, lf.engine(t))
	var be *engine.BreakerOpenError
	if !errors.As(err, &be) {
		t.Fatalf("run: %v, want the breaker open", err)
	}
	h := res.Halted
	if h == nil || h.Kind != report.HaltBreaker || h.Failed < 10 || len(h.Services) == 0 || h.Batch > 2 {
		t.Fatalf("halted = %+v, want the breaker tripped by the first two or three batches, with its failures", h)
	}
	if h.Services[0].Changed == "" {
		t.Errorf("the failures that tripped the breaker do not say what the restarts changed: %+v", h.Services[0])
	}
	_, total := lf.updates()
	restarted := 0
	for _, r := range res.Restarts {
		restarted += r.Restarted
	}
	c := res.Summary.Counts
	if len(res.Restarts) > 3 || total != restarted || h.Verified > total || c.Failed+c.RolledBack != total {
		t.Fatalf("%d batches restarted %d services (fleet saw %d, breaker verified %d, counts %+v), want no batch after the trip", len(res.Restarts), restarted, total, h.Verified, c)
	}
	if c.Halted != 1 || !res.Report.Incomplete || c.NotAttempted != c.Eligible-total {
		t.Errorf("counts %+v, incomplete %v: want the halt counted, the rest not attempted and the night incomplete", c, res.Report.Incomplete)
	}
	// A second run of the day finds the breaker open: nothing discovered,
	// nothing restarted, until someone resets it.
	before := lf.sim.Stats().TotalCalls
	if _, err := lf.paced(t, lf.engine(t)); !errors.As(err, new(*engine.BreakerOpenError)) {
		t.Fatalf("second run: %v, want the breaker still open", err)
	}
	if after := lf.sim.Stats().TotalCalls; after != before {
		t.Fatalf("the second run made %d calls to the fleet", after-before)
	}
}

func TestABrokenAccountStopsAloneAndTheOthersGoOn(t *testing.T) {
	t.Parallel()
	cfg := fleetsim.Config{Seed: 34, Accounts: 4, Clusters: 12, Services: 200, DeployTime: 50 * time.Millisecond, ThrottleScale: 10}
	probe, err := fleetsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	broken := probe.Accounts()[1]
	cfg.Faults = []fleetsim.Fault{{Kind: fleetsim.FaultDeploymentFail, Account: broken}}
	lf := newLocalFleet(t, cfg)
	lf.settings.Window = shortWindow
	truth := lf.sim.Inventory()
	res, err := lf.paced(t, lf.engine(t))
	if err != nil {
		t.Fatalf("run: %v, want the night to go on", err)
	}
	if res.Halted != nil || len(res.Summary.AccountsHalted) != 1 || res.Summary.AccountsHalted[0].Account != broken {
		t.Fatalf("halted %+v, accounts halted %+v: want only account %s stopped", res.Halted, res.Summary.AccountsHalted, broken)
	}
	eligible := eligibleByAccount(truth)
	updates, _ := lf.updates()
	restarted := map[string]int{}
	for arn := range updates {
		restarted[strings.SplitN(arn, ":", 6)[4]]++
	}
	for acct, n := range eligible {
		switch {
		case acct == broken && (restarted[acct] == 0 || restarted[acct] >= n):
			t.Errorf("broken account %s: %d of %d restarted, want its first batch only", acct, restarted[acct], n)
		case acct != broken && restarted[acct] != n:
			t.Errorf("healthy account %s: %d of %d restarted, want all", acct, restarted[acct], n)
		}
	}
	skipped := res.Summary.Counts.SkippedByReason[engine.ReasonAccountBreakerOpen]
	if skipped != eligible[broken]-restarted[broken] || res.Summary.Counts.LeftOver != skipped {
		t.Errorf("skipped for the account's breaker %d, left for the next night %d; want the %d not restarted", skipped, res.Summary.Counts.LeftOver, eligible[broken]-restarted[broken])
	}
	if text := report.SummaryText(res.Summary); !strings.Contains(text, "account "+broken+" halted") {
		t.Errorf("the summary does not name the halted account:\n%s", text)
	}
}

func TestServicesOptedOutOrRedeployedSinceDiscoveryAreNotRestartedAndTheirOwnersAreTold(t *testing.T) {
	t.Parallel()
	lf := newLocalFleet(t, fleetsim.Config{Seed: 35, Accounts: 2, Clusters: 6, Services: 80, DeployTime: 50 * time.Millisecond, ThrottleScale: 10,
		Faults: []fleetsim.Fault{{Kind: fleetsim.FaultOptOutAfterDiscovery, Rate: 0.15}, {Kind: fleetsim.FaultForeignDeployment, Rate: 0.15}}})
	lf.settings.Window = shortWindow
	eligible := map[string]bool{}
	for _, s := range fleet.Classify(lf.sim.Inventory(), fleet.EnrollTagged).Eligible {
		eligible[s.ARN] = true
	}
	res := lf.run(t, lf.engine(t))
	faulted := lf.sim.Stats().Faulted
	updates, _ := lf.updates()
	told := map[string]fleet.Status{}
	for _, o := range res.Summary.Owners {
		for _, s := range o.Skipped {
			told[s.ARN] = s.Status
		}
	}
	for kind, want := range map[fleetsim.FaultKind]fleet.Reason{
		fleetsim.FaultOptOutAfterDiscovery: engine.ReasonOptedOutSinceDiscovery,
		fleetsim.FaultForeignDeployment:    engine.ReasonDeploymentInProgress,
	} {
		n := 0
		for _, arn := range faulted[kind] {
			if !eligible[arn] || (kind == fleetsim.FaultForeignDeployment && told[arn] == fleet.Status(engine.ReasonOptedOutSinceDiscovery)) {
				continue
			}
			n++
			if updates[arn] != 0 {
				t.Errorf("%s (%s): restarted %d times", arn, kind, updates[arn])
			}
			if told[arn] != fleet.Status(want) {
				t.Errorf("%s (%s): its owner was told %q, want %s", arn, kind, told[arn], want)
			}
		}
		if n == 0 {
			t.Errorf("the %s fault picked no eligible service", kind)
		}
		if got := res.Summary.Counts.SkippedByReason[want]; got < n {
			t.Errorf("skipped for %s: %d, want %d", want, got, n)
		}
	}
	deferred := 0
	for _, r := range res.Restarts {
		deferred += r.Deferred
	}
	if deferred == 0 {
		t.Error("no service with a deployment of its own was moved to a later batch first")
	}
	if res.Summary.Counts.LeftOver != res.Summary.Counts.SkippedByReason[engine.ReasonDeploymentInProgress] {
		t.Errorf("left for the next night %d, want the services with a deployment in progress", res.Summary.Counts.LeftOver)
	}
	// What each restart changed is on its record.
	recs, err := lf.store.LoadRuns(t.Context(), lf.day)
	if err != nil {
		t.Fatal(err)
	}
	withChange := 0
	for _, r := range recs {
		if r.Status == fleet.StatusCompleted && r.Before.TaskDefinition != "" && len(r.After.Images) == 1 && r.After.Images[0].Digest != "" {
			withChange++
		}
	}
	if withChange == 0 || res.Summary.Counts.ImagesChanged == 0 {
		t.Errorf("%d completed records say what changed, %d restarts deployed a new digest; want both", withChange, res.Summary.Counts.ImagesChanged)
	}
}

func TestAFailedBatchIsRecordedTheNextBatchesRunAndItsServicesGoFirstTheNextNight(t *testing.T) {
	t.Parallel()
	lf := newLocalFleet(t, fleetsim.Config{Seed: 36, Accounts: 2, Clusters: 6, Services: 80, DeployTime: 50 * time.Millisecond, ThrottleScale: 10})
	lf.settings.Window = shortWindow
	// DynamoDB fails every claim of batch 1: its restart fails after the
	// store's retries.
	proxy := &testenv.FailingDynamo{Upstream: lf.settings.DynamoDBEndpoint, Fail: func(op string, body []byte) bool {
		return op == "PutItem" && bytes.Contains(body, []byte(`"batch":{"N":"1"}`)) && bytes.Contains(body, []byte(`"status":{"S":"claimed"}`))
	}}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	lf.settings.DynamoDBEndpoint = srv.URL
	res, err := lf.engine(t).Run(t.Context(), engine.RunOptions{Input: engine.DiscoverInput{Day: lf.day}, NoWait: true,
		VerifyEvery: 50 * time.Millisecond, VerifyTimeout: lf.verifyTimeout})
	if !errors.Is(err, engine.ErrBatchesFailed) {
		t.Fatalf("run: %v, want the failed batch reported", err)
	}
	if f := res.Summary.BatchesFailed; len(f) != 1 || f[0].Batch != 1 || f[0].Step != "restart" || proxy.Failed() == 0 {
		t.Fatalf("batches failed %+v, want batch 1's restart", f)
	}
	if len(res.Restarts) != len(res.Plan.Batches) || len(res.Plan.Batches) != 4 {
		t.Fatalf("%d of %d batches ran, want all 4", len(res.Restarts), len(res.Plan.Batches))
	}
	for _, r := range res.Restarts {
		if r.Batch != 1 && r.Restarted == 0 {
			t.Errorf("batch %d restarted nothing", r.Batch)
		}
	}
	c := res.Summary.Counts
	if c.Completed == 0 || c.NotAttempted == 0 || c.Completed+c.NotAttempted != c.Eligible || c.LeftOver != c.NotAttempted || !res.Report.Incomplete {
		t.Fatalf("counts %+v: want batch 1 not attempted and left over, the others completed, the night incomplete", c)
	}

	// The next night places them first.
	ctx := t.Context()
	next := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	e := lf.engine(t)
	d, err := e.Discover(ctx, engine.DiscoverInput{Day: next})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(ctx, d.RunRef)
	if err != nil {
		t.Fatal(err)
	}
	if p.CarriedOver != c.LeftOver {
		t.Fatalf("the next night's plan carried over %d services, want the %d left", p.CarriedOver, c.LeftOver)
	}
	left := map[string]bool{}
	for _, r := range res.Restarts {
		if r.Batch == 1 {
			items, err := lf.store.LoadBatch(ctx, lf.day, res.Discover.RunID, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				left[it.ARN] = true
			}
		}
	}
	first, err := lf.store.LoadBatch(ctx, next, d.RunID, p.Batches[0].Batch)
	if err != nil {
		t.Fatal(err)
	}
	inFirst := 0
	for _, it := range first {
		if left[it.ARN] {
			inFirst++
		}
	}
	if inFirst < min(len(first), len(left))*3/4 {
		t.Errorf("the next night's first batch holds %d of the %d services left over (it has %d)", inFirst, len(left), len(first))
	}
}

func TestTheDefaultPaceTakesAtMostHalfOfEveryBucket(t *testing.T) {
	t.Parallel()
	var svcs []fleet.Service
	for i := range 400 {
		svcs = append(svcs, fleet.Service{Account: "222222222222", Region: "us-east-1", Cluster: "c" + string(rune('a'+i%8)),
			Service: "svc-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)), DesiredCount: 1,
			Tags: map[string]string{fleet.RestartTag: "enabled"}})
	}
	// ECS's buckets and the engine's limits both times 20: the night
	// outlasts the 10-second windows the peak is measured over.
	lf := newLocalFleet(t, fleetsim.Config{Fleet: svcs, DeployTime: 50 * time.Millisecond, ThrottleScale: 20})
	lf.settings.BucketShare = 0 // the default
	lf.settings.Window = fleet.Window{Length: 6 * time.Hour, Interval: time.Hour, VerifyReserve: 30 * time.Minute}
	res := lf.run(t, lf.engine(t))
	if res.Summary.Counts.Completed != len(svcs) {
		t.Fatalf("counts %+v: want all %d completed", res.Summary.Counts, len(svcs))
	}
	st := lf.sim.Stats()
	peak := st.PeakRate10s["222222222222/us-east-1"]
	buckets := map[string]float64{}
	for op, b := range fleetsim.ThrottleLimits() {
		buckets[op] = b[1] * 20
	}
	for cat, op := range map[string]string{"service-read": "DescribeServices", "service-modify": "UpdateService", "tag-modify": "TagResource",
		"cluster-read": "ListClusters", "service-deployment": "ListServiceDeployments"} {
		half := awsfleet.DefaultBucketShare * buckets[op]
		t.Logf("%s: peak %.1f/s over 10 s, half the bucket %.1f/s", cat, peak[cat], half)
		if peak[cat] > half {
			t.Errorf("%s: %.1f calls/s over 10 s, more than half of ECS's %v/s", cat, peak[cat], buckets[op])
		}
	}
	if peak["service-modify"] < 0.6*awsfleet.DefaultBucketShare*buckets["UpdateService"] || st.TotalThrottled != 0 {
		t.Errorf("UpdateService peaked at %.1f/s with %d throttled: the night did not run at its pace", peak["service-modify"], st.TotalThrottled)
	}
}
