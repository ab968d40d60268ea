package report

import (
	"fmt"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// WindowFit is whether the night's plan fit the window (fleet.Fit): the
// platform team is told which clusters' restarts would end after the
// window, or deploy more of the cluster at once than the spread allows,
// before owners notice.
type WindowFit struct {
	fleet.FitReport
	// Unlisted counts the clusters that do not fit but are not in
	// NotFitting (the run's record holds a bounded list).
	Unlisted int `json:"unlisted,omitempty"`
}

// SetFit records the plan's window fit; unlisted counts the clusters that
// do not fit beyond those f lists.
func (s *Summary) SetFit(f fleet.FitReport, unlisted int) {
	s.Fit = &WindowFit{FitReport: f, Unlisted: unlisted}
	s.Counts.ClustersNotFitting = len(f.NotFitting) + unlisted
}

func writeFit(b *strings.Builder, s Summary) {
	if s.Fit == nil {
		return
	}
	f := s.Fit
	if f.Fits() && f.Unlisted == 0 {
		fmt.Fprintf(b, "window fit: %s\n", f.Summary())
		return
	}
	fmt.Fprintf(b, "window fit: %d of %d clusters fit the window; %d do not (speed up their deployments, or give them more time: restart.windowLength, restart.batchInterval):\n",
		f.Fitting, f.Clusters, len(f.NotFitting)+f.Unlisted)
	for _, c := range f.NotFitting {
		fmt.Fprintf(b, "  %s\n", c.Reason)
	}
	if f.Unlisted > 0 {
		fmt.Fprintf(b, "  ... and %d more\n", f.Unlisted)
	}
}
