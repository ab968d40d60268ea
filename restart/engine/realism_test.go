package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// The tests below each switch on one behaviour of real ECS or STS that
// fleetsim models as a fault, and check what a user of the report sees.

// noDoubleDeployments fails the test for any service that got more than
// one deployment today, whatever the engine believes.
func noDoubleDeployments(t *testing.T, lf *localFleet) int {
	t.Helper()
	total := 0
	for arn, n := range lf.sim.Stats().Deployments[lf.day] {
		if n > 1 {
			t.Errorf("%s: %d deployments today, want at most 1", arn, n)
		}
		total += n
	}
	return total
}

func stampedAt(t *testing.T, s fleet.Service) bool {
	t.Helper()
	_, err := time.Parse(time.RFC3339, s.Tags[fleet.RestartTag])
	return err == nil && s.Tags[fleet.RestartTag] >= time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
}

func TestServicesWithoutRolloutStateAreJudgedByTheirServiceDeployments(t *testing.T) {
	t.Parallel()
	cfg := fleetsim.Config{Seed: 21, Accounts: 2, Clusters: 8, Services: 80, DeployTime: 100 * time.Millisecond, ThrottleScale: 5,
		Faults: []fleetsim.Fault{{Kind: fleetsim.FaultNoRolloutState}, {Kind: fleetsim.FaultDeploymentFail, Rate: 0.2}}}
	lf := newLocalFleet(t, cfg)
	// A fifth of the deployments fail, on purpose: not a breakage for
	// the breaker to stop.
	lf.settings.Breaker = engine.Breaker{MaxFailedShare: 0.5, AccountMaxFailedShare: 0.9}
	truth := lf.sim.Inventory()
	res := lf.run(t, lf.engine(t))
	c := res.Summary.Counts
	recs := checkNothingLost(t, lf, truth, func(fleet.Service) bool { return false }, res.Summary)
	noDoubleDeployments(t, lf)
	if c.InProgress != 0 || c.Failed != 0 || c.Completed == 0 || c.RolledBack == 0 {
		t.Fatalf("counts %+v: want every restart completed or rolled back, none left in progress", c)
	}
	for _, s := range lf.sim.Inventory() {
		if r, ok := recs[s.ARN]; ok && r.Status == fleet.StatusCompleted && !stampedAt(t, s) {
			t.Errorf("%s: completed but not stamped (%q)", s.ARN, s.Tags[fleet.RestartTag])
		}
	}
}

func TestEventChurnDoesNotTurnOutcomesIntoFailures(t *testing.T) {
	t.Parallel()
	cfg := fleetsim.Config{Seed: 22, Accounts: 2, Clusters: 8, Services: 80, DeployTime: 100 * time.Millisecond, ThrottleScale: 5,
		Faults: []fleetsim.Fault{{Kind: fleetsim.FaultEventChurn}, {Kind: fleetsim.FaultDeploymentFail, Rate: 0.3}}}
	lf := newLocalFleet(t, cfg)
	truth := lf.sim.Inventory()
	ctx := t.Context()
	e := lf.engine(t)
	d, err := e.Discover(ctx, engine.DiscoverInput{Day: lf.day})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(ctx, d.RunRef)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range p.Batches {
		if _, err := e.RestartBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// The first check comes after the failed deployments were rolled back:
	// ECS no longer lists them, and their outcome has left the events.
	time.Sleep(4 * cfg.DeployTime)
	if _, err := e.VerifyBatch(ctx, engine.BatchRef{RunID: d.RunID, Day: lf.day, Batch: engine.AllBatches}); err != nil {
		t.Fatal(err)
	}
	_, sum, err := e.Report(ctx, d.RunRef)
	if err != nil {
		t.Fatal(err)
	}
	c := sum.Counts
	recs := checkNothingLost(t, lf, truth, func(fleet.Service) bool { return false }, sum)
	if c.Failed != 0 || c.InProgress != 0 || c.RolledBack == 0 || c.Completed == 0 {
		t.Fatalf("counts %+v: the rolled-back restarts, whose events were pushed out, must be reported as rolled back", c)
	}
	for arn, r := range recs {
		if r.Status == fleet.StatusRolledBack && !strings.Contains(r.Detail, "ROLLBACK_SUCCESSFUL") {
			t.Errorf("%s: rolled back, detail %q: want it from the service deployment", arn, r.Detail)
		}
	}
}

func TestAClusterDeletedDuringDiscoveryLosesNothingElse(t *testing.T) {
	t.Parallel()
	cfg := fleetsim.Config{Seed: 23, Accounts: 2, Clusters: 12, Services: 120, DeployTime: 50 * time.Millisecond, ThrottleScale: 5,
		Faults: []fleetsim.Fault{{Kind: fleetsim.FaultClusterGone, Rate: 0.25}}}
	lf := newLocalFleet(t, cfg)
	res := lf.run(t, lf.engine(t))
	deleted := lf.sim.Stats().ClustersDeleted
	if len(deleted) == 0 {
		t.Fatal("no cluster was deleted: the fault did not fire")
	}
	// What is left is everything there is to restart.
	checkNothingLost(t, lf, lf.sim.Inventory(), func(fleet.Service) bool { return false }, res.Summary)
	sum := res.Summary
	if sum.Counts.AccountsFailed != 0 || sum.Counts.ClustersGone != len(deleted) || len(sum.ClustersGone) != len(deleted) {
		t.Fatalf("accounts failed %d, clusters gone %d %v; want 0 and the %d deleted", sum.Counts.AccountsFailed, sum.Counts.ClustersGone, sum.ClustersGone, len(deleted))
	}
	text := report.SummaryText(sum)
	for _, arn := range deleted {
		if !strings.Contains(text, arn) {
			t.Errorf("summary does not name deleted cluster %s:\n%s", arn, text)
		}
	}
}

func TestShortARNServicesAreKeyedApartNeverStampedAndTheirOwnersToldTheFix(t *testing.T) {
	t.Parallel()
	svc := func(cluster, name string) fleet.Service {
		return fleet.Service{Account: "222222222222", Region: "us-east-1", Cluster: cluster, Service: name, DesiredCount: 2,
			Tags: map[string]string{fleet.RestartTag: "enabled", "owner": "team-a"}}
	}
	for _, enrol := range []fleet.Enrollment{fleet.EnrollAll, fleet.EnrollTagged} {
		t.Run(string(enrol), func(t *testing.T) {
			lf := newLocalFleet(t, fleetsim.Config{Fleet: []fleet.Service{svc("one", "api"), svc("two", "api"), svc("two", "web")},
				DeployTime: 50 * time.Millisecond, Faults: []fleetsim.Fault{{Kind: fleetsim.FaultShortARN, Service: "api"}}})
			lf.settings.Enrollment = enrol
			res := lf.run(t, lf.engine(t))
			short := []string{"arn:aws:ecs:us-east-1:222222222222:service/one/api", "arn:aws:ecs:us-east-1:222222222222:service/two/api"}
			recs, err := lf.store.LoadRuns(t.Context(), lf.day)
			if err != nil {
				t.Fatal(err)
			}
			byARN := map[string]store.Record{}
			for _, r := range recs {
				byARN[r.ARN] = r
			}
			updates, _ := lf.updates()
			for _, arn := range short {
				r, ok := byARN[arn]
				switch enrol {
				case fleet.EnrollAll:
					if !ok || r.Status != fleet.StatusCompleted || r.Stamp || updates[arn] != 1 {
						t.Errorf("%s: %+v, %d restarts; want restarted once, completed, no tag claimed", arn, r, updates[arn])
					}
				case fleet.EnrollTagged:
					if ok || updates[arn] != 0 {
						t.Errorf("%s: restarted %d times; an untaggable service cannot be enrolled", arn, updates[arn])
					}
				}
			}
			c := res.Summary.Counts
			if c.ShortARN != 2 || (enrol == fleet.EnrollTagged && c.SkippedByReason[fleet.ReasonShortARN] != 2) {
				t.Errorf("counts %+v: want 2 short ARNs (skipped as short-arn when enrollment is tagged)", c)
			}
			var text string
			for _, o := range res.Summary.Owners {
				if len(o.Unenrolled) > 0 {
					t.Errorf("owner %s told to add the tag to %v", o.Owner, o.Unenrolled)
				}
				if len(o.ShortARN) > 0 {
					text += report.OwnerText(lf.day, o)
				}
			}
			if !strings.Contains(text, "serviceLongArnFormat") || !strings.Contains(text, short[0]) || !strings.Contains(text, short[1]) {
				t.Errorf("owner text does not give the fix for both services:\n%s", text)
			}
			if r := byARN["arn:aws:ecs:us-east-1:222222222222:service/two/web"]; r.Status != fleet.StatusCompleted || !r.Stamp {
				t.Errorf("the long-ARN neighbour: %+v, want completed and stamped", r)
			}
		})
	}
}

func TestAnUpdateServiceAppliedThenAnswered500IsNeverRepeated(t *testing.T) {
	t.Parallel()
	cfg := fleetsim.Config{Seed: 24, Accounts: 2, Clusters: 8, Services: 80, DeployTime: 50 * time.Millisecond, ThrottleScale: 5,
		Faults: []fleetsim.Fault{{Kind: fleetsim.FaultAppliedServerError, Rate: 0.5}, {Kind: fleetsim.FaultServerError, Op: "UpdateService", Rate: 0.2}}}
	lf := newLocalFleet(t, cfg)
	truth := lf.sim.Inventory()
	res := lf.run(t, lf.engine(t))
	checkNothingLost(t, lf, truth, func(fleet.Service) bool { return false }, res.Summary)
	started := noDoubleDeployments(t, lf)
	c := res.Summary.Counts
	if c.NotStarted+c.Claimed+c.NotAttempted != 0 || started != c.Restarted {
		t.Fatalf("counts %+v, %d deployments: want every service restarted, once", c, started)
	}
	for _, f := range lf.sim.Faults() {
		if f.Fired == 0 {
			t.Errorf("fault %s never fired", f.Kind)
		}
	}
}

func TestMemberSessionsExpiringMidNightLeaveNothingNotStarted(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		window time.Duration
	}{
		// Renewed ahead of expiry by the credentials cache, with the
		// production window (5 minutes, longer than these sessions).
		{"renewed ahead", 0},
		// Renewed after ECS refused an expired one (window too small).
		{"renewed after ExpiredTokenException", time.Nanosecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := fleetsim.Config{Seed: 25, Accounts: 2, Clusters: 8, Services: 80, DeployTime: 50 * time.Millisecond, ThrottleScale: 5,
				Faults: []fleetsim.Fault{{Kind: fleetsim.FaultTokenExpiry, After: time.Second}}}
			lf := newLocalFleet(t, cfg)
			lf.settings.Roles.RefreshBefore = c.window
			truth := lf.sim.Inventory()
			start := time.Now()
			res := lf.run(t, lf.engine(t))
			checkNothingLost(t, lf, truth, func(fleet.Service) bool { return false }, res.Summary)
			n := res.Summary.Counts
			if n.NotStarted+n.Claimed+n.NotAttempted+n.AccountsFailed != 0 {
				t.Fatalf("counts %+v: nothing may be left undone by expired sessions", n)
			}
			el, sessions := time.Since(start), len(lf.sim.Sessions())
			t.Logf("%v night, %d sessions for %d accounts", el.Round(time.Millisecond), sessions, len(lf.sim.Accounts()))
			if el > 1500*time.Millisecond && sessions <= len(lf.sim.Accounts()) {
				t.Errorf("a %v night used %d sessions for %d accounts: none renewed", el.Round(time.Millisecond), sessions, len(lf.sim.Accounts()))
			}
			// Renewed when due (STS gives the expiry to the second, so a
			// 1s session may look shorter), not for every call.
			if most := len(lf.sim.Accounts()) * (4 + int(el/(250*time.Millisecond))); sessions > most {
				t.Errorf("a %v night used %d sessions for %d accounts of 1s sessions, want at most %d", el.Round(time.Millisecond), sessions, len(lf.sim.Accounts()), most)
			}
		})
	}
}

func TestANeighbourUsingHalfTheUpdateRateFailsNoServiceByThrottling(t *testing.T) {
	t.Parallel()
	// One account: its UpdateService bucket (50 at once, then 5/s, as in
	// AWS) is shared with a neighbour drawing half its refill, and
	// the night needs more than the burst. The engine is set to ECS's full
	// bucket, as if it were alone (by default it takes half, and never
	// meets the neighbour): only its adaptive pacing saves it.
	var svcs []fleet.Service
	for i := range 75 {
		svcs = append(svcs, fleet.Service{Account: "222222222222", Region: "us-east-1", Cluster: "c" + string(rune('a'+i%6)),
			Service: "svc-" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)), DesiredCount: 1,
			Tags: map[string]string{fleet.RestartTag: "enabled"}})
	}
	cfg := fleetsim.Config{Fleet: svcs, DeployTime: 50 * time.Millisecond,
		Faults: []fleetsim.Fault{{Kind: fleetsim.FaultSharedBucket, Op: "UpdateService", Rate: 0.5}}}
	lf := newLocalFleet(t, cfg)
	lf.settings.BucketShare = 1
	lf.settings.UpdateRate = setup.MaxUpdateRate
	// Few, large batches: the restarts come as fast as the pacing lets them.
	lf.settings.Window.Interval = time.Hour
	truth := lf.sim.Inventory()
	res := lf.run(t, lf.engine(t))
	checkNothingLost(t, lf, truth, func(fleet.Service) bool { return false }, res.Summary)
	c := res.Summary.Counts
	st := lf.sim.Stats()
	if c.NotStarted+c.Claimed+c.NotAttempted != 0 || c.Restarted != len(svcs) {
		t.Fatalf("counts %+v: want all %d restarted, none failed by throttling", c, len(svcs))
	}
	if st.Throttled["UpdateService"]["222222222222"] == 0 {
		t.Fatal("UpdateService was never throttled: the neighbour did not bite")
	}
	t.Logf("UpdateService calls %d, throttled %d", st.Calls["UpdateService"]["222222222222"], st.Throttled["UpdateService"]["222222222222"])
}
