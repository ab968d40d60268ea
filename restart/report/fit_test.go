package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

func TestSummaryNamesTheClustersThatDidNotFitTheWindow(t *testing.T) {
	s := sample()
	reason := "123456789012/us-east-1/payments: 12 services, deployments take ~25m (cluster), the last ends 06:14, 14m after the window"
	s.SetFit(fleet.FitReport{Clusters: 40, Fitting: 38, NotFitting: []fleet.ClusterFit{
		{Cluster: "123456789012/us-east-1/payments", Reason: reason},
	}}, 1)
	text := SummaryText(s)
	for _, want := range []string{
		"window fit: 38 of 40 clusters fit the window; 2 do not",
		"  " + reason + "\n",
		"  ... and 1 more\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	if s.Counts.ClustersNotFitting != 2 {
		t.Errorf("ClustersNotFitting = %d, want 2", s.Counts.ClustersNotFitting)
	}
	var b bytes.Buffer
	if err := WriteEMF(&b, s, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"ClustersNotFitting":2`) {
		t.Errorf("EMF lacks ClustersNotFitting: %s", b.String())
	}

	s = sample()
	s.SetFit(fleet.FitReport{Clusters: 40, Fitting: 40}, 0)
	if text := SummaryText(s); !strings.Contains(text, "window fit: all 40 clusters fit the window\n") {
		t.Errorf("summary of a night that fits:\n%s", text)
	}
	if text := SummaryText(sample()); strings.Contains(text, "window fit") {
		t.Errorf("an unplanned run reports a fit:\n%s", text)
	}
}
