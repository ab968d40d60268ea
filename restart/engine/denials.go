package engine

import (
	"context"
	"encoding/json"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
)

// DenialCounter counts, per step, the requests AWS refused for lack of
// permission (calllog.Recorder).
type DenialCounter interface {
	Denied(step string) int64
}

// WithAccessDenied makes every step report the requests AWS refused it for
// lack of permission, as an AccessDenied metric the pipeline alarms on: a
// step can survive a refusal (discovery skips the account, a check gives
// up), and the night must not look healthy when it did.
func WithAccessDenied(c DenialCounter) Option { return func(e *Engine) { e.denials = c } }

// step marks ctx with the step's name (so that its AWS requests are
// counted and logged as the step's) and returns a func to call when the
// step ends, which reports the step's access denials.
func (e *Engine) step(ctx context.Context, name string) (context.Context, func()) {
	ctx = fleet.WithStep(ctx, name)
	if e.denials == nil {
		return ctx, func() {}
	}
	before := e.denials.Denied(name)
	return ctx, func() {
		n := e.denials.Denied(name) - before
		if n <= 0 {
			return
		}
		e.logf("%s: AWS refused %d requests for lack of permission (AccessDenied): the step's role or the member role lacks an action", name, n)
		if e.metrics != nil {
			dims := [][]string{{}, {"Step"}}
			line := map[string]any{"Step": name, MetricAccessDenied: n}
			if e.cfg.Stack != "" {
				// The pipeline's alarm selects its own stack's denials.
				dims = [][]string{{"Stack"}, {"Stack", "Step"}}
				line["Stack"] = e.cfg.Stack
			}
			line["_aws"] = report.EMFHeader(e.now(), dims, []map[string]string{{"Name": MetricAccessDenied, "Unit": "Count"}})
			_ = json.NewEncoder(e.metrics).Encode(line)
		}
	}
}

// MetricAccessDenied is the metric of requests AWS refused a step.
const MetricAccessDenied = "AccessDenied"
