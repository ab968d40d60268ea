package engine_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// A run that crashed left two claims: one before UpdateService (no
// deployment was started) and one after it (the deployment id was never
// recorded). The next run must restart neither a second time: the first
// is released once stale and restarted by a later run, the second's
// deployment is adopted and verified.
func TestCrashedClaimsAreResolvedWithoutADoubleRestart(t *testing.T) {
	t.Parallel()
	lf := newLocalFleet(t, fleetsim.Config{Seed: 3, Accounts: 2, Clusters: 8, Services: 80, DeployTime: 50 * time.Millisecond})
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
	var picks []store.Item
	for _, b := range p.Batches[:2] {
		items, err := lf.store.LoadBatch(ctx, lf.day, d.RunID, b.Batch)
		if err != nil || len(items) == 0 {
			t.Fatalf("batch %d: %d items, %v", b.Batch, len(items), err)
		}
		picks = append(picks, items[0])
	}
	before, after := picks[0], picks[1]
	claim := func(it store.Item, at time.Time) {
		ok, err := lf.store.Claim(ctx, store.Record{RunRecord: fleet.RunRecord{
			Day: lf.day, ARN: it.ARN, Account: it.Account, Region: it.Region, Cluster: it.Cluster, Service: it.Service.Service, Batch: it.Batch,
		}, RunID: "crashed", ClaimedAt: at, Stamp: true})
		if err != nil || !ok {
			t.Fatalf("claim %s: %v %v", it.ARN, ok, err)
		}
	}
	claim(before, time.Now().Add(-time.Hour))
	claim(after, time.Now())
	cfg, err := setup.AWSConfig(ctx, lf.settings)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(lf.url)
	client, _ := awsfleet.AssumeRoleClients(cfg, lf.settings.Roles)(ctx, after.Account, after.Region)
	if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(after.Cluster), Service: aws.String(after.Service.Service), ForceNewDeployment: true}); err != nil {
		t.Fatal(err)
	}

	for _, b := range p.Batches {
		if _, err := e.RestartBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	all := engine.BatchRef{RunID: d.RunID, Day: lf.day, Batch: engine.AllBatches}
	for deadline := time.Now().Add(5 * time.Second); ; {
		v, err := e.VerifyBatch(ctx, all)
		if err != nil {
			t.Fatal(err)
		}
		if v.Pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, sum, err := e.Report(ctx, d.RunRef)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := lf.store.LoadRuns(ctx, lf.day)
	status := map[string]store.Record{}
	for _, r := range recs {
		status[r.ARN] = r
	}
	updates, _ := lf.updates()
	if r := status[before.ARN]; r.Status != store.StatusNotStarted || updates[before.ARN] != 0 {
		t.Errorf("claim before UpdateService: %s (%s), %d restarts; want released, not restarted", r.Status, r.Detail, updates[before.ARN])
	}
	if r := status[after.ARN]; r.Status != fleet.StatusCompleted || r.DeploymentID == "" || updates[after.ARN] != 1 {
		t.Errorf("claim after UpdateService: %s (%s), deployment %q, %d restarts; want adopted and completed once", r.Status, r.Detail, r.DeploymentID, updates[after.ARN])
	}
	if sum.Counts.NotStarted != 1 {
		t.Errorf("report counts %d not started, want the released claim", sum.Counts.NotStarted)
	}

	// The next run of the day restarts the released service, and only it.
	_, total := lf.updates()
	res := lf.run(t, lf.engine(t))
	updates, total2 := lf.updates()
	if updates[before.ARN] != 1 || updates[after.ARN] != 1 || total2 != total+1 || res.Report.RestartedThisRun != 1 {
		t.Errorf("rerun: released %d, adopted %d restarts, %d new in all, %d by the run; want 1, 1, 1, 1",
			updates[before.ARN], updates[after.ARN], total2-total, res.Report.RestartedThisRun)
	}
}
