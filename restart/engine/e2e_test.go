//go:build e2e

package engine_test

import (
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// TestE2EFullFleet is the night at full size: 50 accounts, 1000 clusters,
// 10,000 services, AWS's throttling buckets unscaled, the production
// retry policy and limits, every fault injected. Run it with
// `go test -tags e2e -run E2E -timeout 30m ./restart/engine`.
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
	}
	lf := newLocalFleet(t, cfg)
	lf.settings.Retry = awsfleet.DefaultRetryPolicy()
	lf.settings.RateScale = 1
	lf.verifyTimeout = 30 * time.Second
	truth := lf.sim.Inventory()

	start := time.Now()
	res := lf.run(t, lf.engine(t))
	t.Logf("first run: %v, %+v", time.Since(start).Round(time.Second), res.Summary.Counts)
	checkNothingLost(t, lf, truth, func(s fleet.Service) bool { return s.Account == denied }, res.Summary)
	st := lf.sim.Stats()
	_, updates := lf.updates()
	t.Logf("UpdateService accepted %d, calls %d, throttled %d (of which injected: see faults)", updates, st.TotalCalls, st.TotalThrottled)
	if res.Summary.Counts.AccountsFailed != len(lf.settings.Regions) {
		t.Errorf("accounts failed = %d, want the denied account in every Region", res.Summary.Counts.AccountsFailed)
	}

	start = time.Now()
	res2 := lf.run(t, lf.engine(t))
	_, updates2 := lf.updates()
	t.Logf("second run: %v, restarted %d", time.Since(start).Round(time.Second), res2.Report.RestartedThisRun)
	if updates2 != updates || res2.Report.RestartedThisRun != 0 {
		t.Errorf("second run restarted %d services (%d UpdateService calls)", res2.Report.RestartedThisRun, updates2-updates)
	}
}
