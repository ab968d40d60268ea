package engine

import (
	"context"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/report"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// previousDay is the day before day (YYYY-MM-DD).
func previousDay(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, -1).Format(time.DateOnly)
}

// carriedOver returns the services the night before left not attempted,
// and that night.
func (e *Engine) carriedOver(ctx context.Context, day string) (map[string]bool, string, error) {
	prev := previousDay(day)
	c, ok, err := e.store.LoadCarryOver(ctx, prev)
	if err != nil || !ok {
		return nil, prev, err
	}
	set := make(map[string]bool, len(c.ARNs))
	for _, arn := range c.ARNs {
		set[arn] = true
	}
	return set, prev, nil
}

// leftOver returns the eligible services of the outcomes that the night
// did not attempt, or skipped for a reason that passes (CarriedOver): the
// next night places them first. A claim without a known outcome is not
// among them: it may have restarted the service.
func leftOver(outcomes []report.Outcome) []string {
	var out []string
	for _, o := range outcomes {
		switch {
		case o.Skip != "":
			if CarriedOver(o.Skip) {
				out = append(out, o.Service.ARN)
			}
		case o.Status == "" || o.Status == store.StatusNotStarted:
			out = append(out, o.Service.ARN)
		}
	}
	return out
}

// keepCarryOver writes what the night leaves to the next: when it
// discovered nothing (paused, or halted from its start), what the night
// before left is handed on unchanged.
func (e *Engine) keepCarryOver(ctx context.Context, day string, meta store.RunMeta, outcomes []report.Outcome) (int, error) {
	arns := leftOver(outcomes)
	if meta.Halted != "" {
		prev, _, err := e.carriedOver(ctx, day)
		if err != nil {
			return 0, err
		}
		arns = arns[:0]
		for arn := range prev {
			arns = append(arns, arn)
		}
	}
	return len(arns), e.store.PutCarryOver(ctx, store.CarryOver{Day: day, ARNs: arns})
}
