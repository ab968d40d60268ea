package engine_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
)

// A member account whose role refuses the hub costs discovery only that
// account, and the step goes on; the refusal is still a metric the
// pipeline alarms on (access-denied), written by the step that met it.
func TestAnAccessDenialThatAStepSurvivesIsCountedAsAMetric(t *testing.T) {
	t.Parallel()
	lf := newLocalFleet(t, fleetsim.Config{Seed: 5, Accounts: 3, Clusters: 4, Services: 12})
	denied := lf.sim.Accounts()[0]
	if err := lf.sim.Inject(fleetsim.Fault{Kind: fleetsim.FaultAccessDenied, Account: denied}); err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	s := lf.settings
	s.Metrics = &metrics
	e, err := setup.Build(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Discover(t.Context(), engine.DiscoverInput{Day: lf.day})
	if err != nil {
		t.Fatalf("discovery failed as a whole: %v", err)
	}
	if out.AccountsFailed == 0 {
		t.Fatalf("discovery reports no failed account: %+v", out)
	}
	var got int64
	sc := bufio.NewScanner(&metrics)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("metric line %q: %v", sc.Text(), err)
		}
		if n, ok := line[engine.MetricAccessDenied].(float64); ok && line["Step"] == engine.HandlerDiscover {
			got += int64(n)
		}
	}
	// One AssumeRole per Region of the account, each refused once
	// (AccessDenied is not retried).
	if got < 1 {
		t.Fatalf("no %s metric from discover; metrics:\n%s", engine.MetricAccessDenied, metrics.String())
	}
}
