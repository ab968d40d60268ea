package engine_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// A night against a DynamoDB whose every partition key takes only a few
// writes a second (ProvisionedThroughputExceededException, unprocessed
// items) and whose index queries and eventually consistent reads miss the
// last two seconds of writes: every eligible service is restarted exactly
// once, none is left undone, and a rerun restarts nothing.
func TestNightIsCorrectWithDynamoDBHotKeysAndStaleReads(t *testing.T) {
	lf := newLocalFleet(t, fleetsim.Config{Seed: 12, Accounts: 2, Clusters: 8, Services: 100, DeployTime: 30 * time.Millisecond})
	f := &testenv.DynamoFaults{Upstream: lf.settings.DynamoDBEndpoint, PartitionRate: 50, PartitionBurst: 1, Delay: 2 * time.Second}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	lf.settings.DynamoDBEndpoint = srv.URL
	truth := lf.sim.Inventory()

	res := lf.run(t, lf.engine(t))
	checkNothingLost(t, lf, truth, func(fleet.Service) bool { return false }, res.Summary)
	c := res.Summary.Counts
	if c.Completed == 0 || c.NotStarted+c.Claimed+c.NotAttempted != 0 {
		t.Errorf("counts %+v: want completions and nothing left undone", c)
	}
	st := f.Stats()
	t.Logf("DynamoDB faults: %+v", st)
	if st.ThrottledItems == 0 {
		t.Error("no write was throttled: the fault did not bite")
	}
	if st.EventualReads != 0 {
		t.Errorf("the engine made %d eventually consistent reads, want none", st.EventualReads)
	}

	_, before := lf.updates()
	res2 := lf.run(t, lf.engine(t))
	if _, after := lf.updates(); after != before || res2.Report.RestartedThisRun != 0 {
		t.Errorf("rerun restarted %d services (%d UpdateService calls), want 0", res2.Report.RestartedThisRun, after-before)
	}
}
