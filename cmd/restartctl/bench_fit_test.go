package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestBenchFitNamesExactlyTheSlowClusters(t *testing.T) {
	r, err := benchFit(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.slow) != fitSlowClusters || !r.exact() {
		var names []string
		for _, c := range r.report.NotFitting {
			names = append(names, c.Cluster)
		}
		t.Fatalf("slow clusters %v, the fit names %v", r.slow, names)
	}
	// verify saw fleetsim's deployment times, as ECS's createdAt and
	// updatedAt give them.
	if r.observed != r.services || r.observedFast != fitFastDeploy || r.observedSlow != fitSlowDeploy {
		t.Fatalf("observed %d of %d, fast %v slow %v; want all, %v and %v", r.observed, r.services, r.observedFast, r.observedSlow, fitFastDeploy, fitSlowDeploy)
	}
	var b bytes.Buffer
	r.print(&b)
	t.Log("\n" + b.String() + strings.Join(r.keyValues(), " "))
	for _, c := range r.slow {
		if !strings.Contains(b.String(), "  "+c+": ") {
			t.Errorf("the printed case does not give %s's reason:\n%s", c, b.String())
		}
	}
	kv := strings.Join(r.keyValues(), " ")
	for _, want := range []string{"fit_exact=true", "fit_slow_clusters=3", "fit_not_fitting=3", "fit_observed_slow_s=2700"} {
		if !strings.Contains(kv, want) {
			t.Errorf("key=value pairs %q lack %s", kv, want)
		}
	}
}
