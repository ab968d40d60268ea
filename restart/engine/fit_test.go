package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// A night records how long each cluster's deployments took, as verify
// saw them complete; the next night's plan judges the window from those
// times, and its report names the cluster that does not fit.
func TestObservedDeploymentTimesDecideTheNextNightsWindowFit(t *testing.T) {
	lf := newLocalFleet(t, fleetsim.Config{Seed: 3, Accounts: 2, Clusters: 4, Services: 40, DeployTime: 300 * time.Millisecond, NoThrottle: true})
	e := lf.engine(t)
	first := lf.run(t, e)
	if first.Plan.Fit.Clusters == 0 || first.Plan.Fit.NotFitting != 0 {
		t.Fatalf("first night's fit %+v: every cluster fits with the configured 10m", first.Plan.Fit)
	}
	recs, err := lf.store.LoadRuns(t.Context(), lf.day)
	if err != nil {
		t.Fatal(err)
	}
	completed := 0
	for _, r := range recs {
		if r.Status != "completed" {
			continue
		}
		completed++
		// fleetsim's deployment takes 300 ms from its creation to its
		// completion, as its createdAt and updatedAt say.
		if r.DeploymentTime < 250*time.Millisecond || r.DeploymentTime > 5*time.Second {
			t.Errorf("%s: deployment time %v, want about 300ms", r.ARN, r.DeploymentTime)
		}
	}
	if completed == 0 {
		t.Fatal("no restart completed")
	}
	times, err := lf.store.LoadDeploymentTimes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(times) == 0 || len(times) > first.Plan.Fit.Clusters {
		t.Fatalf("deployment times of %d clusters kept, %d planned", len(times), first.Plan.Fit.Clusters)
	}
	// One cluster turns slow: its deployments now take 7 hours.
	slow := times[0].Cluster
	times[0].Milliseconds = (7 * time.Hour).Milliseconds()
	if err := lf.store.PutDeploymentTimes(t.Context(), times); err != nil {
		t.Fatal(err)
	}

	next, _ := time.Parse(time.DateOnly, lf.day)
	lf.day = next.AddDate(0, 0, 1).Format(time.DateOnly)
	second := lf.run(t, lf.engine(t))
	if second.Plan.Fit.NotFitting != 1 || second.Plan.Fit.Clusters != first.Plan.Fit.Clusters {
		t.Fatalf("second night's fit %+v, want exactly the slow cluster out of %d", second.Plan.Fit, first.Plan.Fit.Clusters)
	}
	f := second.Summary.Fit
	if f == nil || len(f.NotFitting) != 1 || f.NotFitting[0].Cluster != slow || second.Summary.Counts.ClustersNotFitting != 1 {
		t.Fatalf("report's fit %+v, want %s", f, slow)
	}
	if r := f.NotFitting[0].Reason; !strings.HasPrefix(r, slow+": ") || !strings.Contains(r, "deployments take ~7h (cluster)") || !strings.Contains(r, "after the window") {
		t.Fatalf("reason %q", r)
	}
}
