package fleetsim

import (
	"testing"
	"time"
)

func TestClusterDeployTimeSlowsOnlyThatCluster(t *testing.T) {
	sim, err := New(Config{Fleet: smallFleet(2), DeployTime: time.Minute, Clock: NewFakeClock(t0),
		ClusterDeployTime: map[string]time.Duration{memberA + "/" + region + "/small": 25 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	c := sim.accounts[memberA].regions[region].clusters
	for name, want := range map[string]time.Duration{"small": 25 * time.Minute, "big": time.Minute} {
		sv := c[name].order[0]
		if d := sim.newDeployment(sv, sv.taskDef, t0, outcomeComplete); d.duration != want {
			t.Errorf("cluster %s: deployment takes %v, want %v", name, d.duration, want)
		}
	}
}
