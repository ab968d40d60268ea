package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// Handler names: the Lambda functions' _HANDLER values and the names of
// `restartctl invoke`.
const (
	HandlerDiscover = "discover"
	HandlerPlan     = "plan"
	HandlerRestart  = "restart"
	HandlerVerify   = "verify"
	HandlerReport   = "report"
)

// Handlers returns the engine's steps as Lambda handlers by name. Each takes
// and returns small JSON documents (ids and counts):
//
//	discover  DiscoverInput {"runId"?, "day"?, "time"?}  -> DiscoverOutput {"runId","day","discovered",...,"halt"}
//	plan      RunRef {"runId","day"}                    -> PlanOutput {"runId","day","batches":[BatchRef...],"carriedOver",...}
//	restart   BatchRef {"runId","day","batch",...}      -> RestartOutput {"restarted","alreadyClaimed",...}
//	verify    BatchRef (batch -1: the whole day; "failure": a failed step to record) -> VerifyOutput {"pending",...,"halt"}
//	report    RunRef                                    -> ReportOutput {"counts",...,"halted","batchesFailed","incomplete"}
//
// discover and restart fail with PausedError or BreakerOpenError when the
// night is stopped, as restart does with OutsideWindowError outside the
// window: the state machine matches those names.
func (e *Engine) Handlers() map[string]any {
	return map[string]any{
		HandlerDiscover: e.Discover,
		HandlerPlan:     e.Plan,
		HandlerRestart:  e.RestartBatch,
		HandlerVerify:   e.VerifyBatch,
		HandlerReport: func(ctx context.Context, ref RunRef) (ReportOutput, error) {
			out, _, err := e.Report(ctx, ref)
			return out, err
		},
	}
}

// Handler returns the handler called name, or an error listing the names.
func (e *Engine) Handler(name string) (any, error) {
	hs := e.Handlers()
	h, ok := hs[name]
	if !ok {
		return nil, fmt.Errorf("unknown handler %q: want one of %v", name, slices.Sorted(maps.Keys(hs)))
	}
	return h, nil
}

// HandlerNames lists the handler names.
func HandlerNames() []string {
	return []string{HandlerDiscover, HandlerPlan, HandlerRestart, HandlerVerify, HandlerReport}
}
