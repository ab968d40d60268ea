//go:build e2e

package engine_test

import (
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
)

// TestE2EFullFleet is the night at full size: 50 accounts, 1000 clusters,
// 10,000 services, AWS's throttling buckets unscaled, the production
// retry policy and limits, every fault injected at once: those of
// fleetsim's first version and the behaviours of real ECS and STS
// (no rolloutState, event churn, short ARNs, clusters deleted during
// discovery, UpdateService applied then answered 500, member sessions of
// 20 seconds, a neighbour using half of every account's UpdateService
// rate). Run it with `go test -tags e2e -run E2E -timeout 30m ./restart/engine`.
func TestE2EFullFleet(t *testing.T) {
	cfg := fleetsim.Config{Seed: 1, Accounts: 50, Clusters: 1000, Services: 10000, DeployTime: 2 * time.Second, DeployJitter: 0.25}
	probe, err := fleetsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	accts := probe.Accounts()
	denied := accts[7]
	cfg.Faults = []fleetsim.Fault{
		{Kind: fleetsim.FaultAccessDenied, Account: denied},
		{Kind: fleetsim.FaultServerError, Rate: 0.01},
		{Kind: fleetsim.FaultThrottle, Op: "UpdateService", Rate: 0.02},
		{Kind: fleetsim.FaultServiceGone, Rate: 0.005, AfterDescribe: true},
		{Kind: fleetsim.FaultDeploymentFail, Rate: 0.01},
		{Kind: fleetsim.FaultDeploymentHang, Rate: 0.005},
		{Kind: fleetsim.FaultNoRolloutState, Rate: 0.1},
		{Kind: fleetsim.FaultEventChurn, Rate: 0.1},
		{Kind: fleetsim.FaultShortARN, Rate: 0.01},
		{Kind: fleetsim.FaultClusterGone, Rate: 0.01},
		{Kind: fleetsim.FaultAppliedServerError, Rate: 0.02},
		{Kind: fleetsim.FaultTokenExpiry, After: 20 * time.Second},
		{Kind: fleetsim.FaultSharedBucket, Op: "UpdateService", Rate: 0.5},
	}
	lf := newLocalFleet(t, cfg)
	lf.settings.Retry = awsfleet.DefaultRetryPolicy()
	lf.settings.RateScale = 1
	// UpdateService at ECS's full 5/s, as if the engine were alone in the
	// accounts: with the neighbour's half gone, ECS's bucket runs dry and
	// only the adaptive pacing keeps the night from failing services.
	lf.settings.UpdateRate = setup.MaxUpdateRate
	lf.verifyTimeout = 30 * time.Second
	truth := lf.sim.Inventory()

	start := time.Now()
	res := lf.run(t, lf.engine(t))
	t.Logf("first run: %v, %+v", time.Since(start).Round(time.Second), res.Summary.Counts)
	st := lf.sim.Stats()
	deleted := map[string]bool{}
	for _, arn := range st.ClustersDeleted {
		deleted[arn] = true
	}
	inDeleted := func(s fleet.Service) bool {
		return deleted["arn:aws:ecs:"+s.Region+":"+s.Account+":cluster/"+s.Cluster]
	}
	checkNothingLost(t, lf, truth, func(s fleet.Service) bool { return s.Account == denied || inDeleted(s) }, res.Summary)
	_, updates := lf.updates()
	t.Logf("UpdateService accepted %d, calls %d, throttled %d (UpdateService %d; injected and the neighbour's: see faults); sessions %d; clusters deleted %d",
		updates, st.TotalCalls, st.TotalThrottled, sum(st.Throttled["UpdateService"]), len(st.Sessions), len(st.ClustersDeleted))
	for _, f := range st.Faults {
		t.Logf("fault %s fired %d", f.Kind, f.Fired)
	}
	c := res.Summary.Counts
	if c.AccountsFailed != len(lf.settings.Regions) {
		t.Errorf("accounts failed = %d, want the denied account in every Region", c.AccountsFailed)
	}
	if c.NotStarted+c.Claimed+c.NotAttempted != 0 {
		t.Errorf("restarts left undone (throttling, expired sessions, lost answers): %+v", c)
	}
	if c.ClustersGone != len(deleted) || len(deleted) == 0 {
		t.Errorf("report names %d deleted clusters, fleetsim deleted %d", c.ClustersGone, len(deleted))
	}
	if c.ShortARN == 0 || c.SkippedByReason[fleet.ReasonShortARN] == 0 {
		t.Errorf("no short-ARN service reported: %+v", c)
	}
	deployments := func() int {
		n := 0
		for arn, k := range lf.sim.Stats().Deployments[lf.day] {
			if k > 1 {
				t.Errorf("%s: %d deployments in the night, want 1", arn, k)
			}
			n += k
		}
		return n
	}
	first := deployments()
	t.Logf("deployments started %d, restarted %d, completed %d, rolled back %d, failed %d, in progress %d, gone %d",
		first, c.Restarted, c.Completed, c.RolledBack, c.Failed, c.InProgress, c.Gone)

	start = time.Now()
	res2 := lf.run(t, lf.engine(t))
	_, updates2 := lf.updates()
	t.Logf("second run: %v, restarted %d", time.Since(start).Round(time.Second), res2.Report.RestartedThisRun)
	if updates2 != updates || res2.Report.RestartedThisRun != 0 || deployments() != first {
		t.Errorf("second run restarted %d services (%d UpdateService calls)", res2.Report.RestartedThisRun, updates2-updates)
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
