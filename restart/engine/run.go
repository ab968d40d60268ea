package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/report"
)

// RunOptions says how Run paces the night.
type RunOptions struct {
	// Input starts the run (day, run id).
	Input DiscoverInput
	// NoWait restarts the batches back to back instead of at their start
	// times.
	NoWait bool
	// TimeScale > 1 divides every wait: with 60, a 6-hour night takes 6
	// minutes. 0 or 1 waits until each batch's real start time.
	TimeScale float64
	// VerifyEvery is the time between two checks of unfinished restarts
	// (default 10s, divided by TimeScale; 1s with NoWait).
	VerifyEvery time.Duration
	// VerifyTimeout bounds the checks after the last batch (default the
	// window's verify reserve, divided by TimeScale; 1m with NoWait). What
	// is still rolling out then is reported as in progress.
	VerifyTimeout time.Duration
}

// RunResult is what each step of a run returned.
type RunResult struct {
	Discover DiscoverOutput  `json:"discover"`
	Plan     PlanOutput      `json:"plan"`
	Restarts []RestartOutput `json:"restarts"`
	Report   ReportOutput    `json:"report"`
	Summary  report.Summary  `json:"summary"`
}

// Run drives a whole night in one process (`restartctl run`): discover,
// plan, then each batch at its (possibly scaled) start time with the
// restarts of earlier batches checked while waiting, a last round of
// checks, and the report. It is the state machine's work, in order.
//
// Outside the window of the run's day (unless Config.OutsideWindow) it
// returns an *OutsideWindowError before discovering anything; when the
// window closes during the night, the remaining batches are not
// restarted, the report is made, and the error is returned with it.
func (e *Engine) Run(ctx context.Context, opts RunOptions) (RunResult, error) {
	var res RunResult
	var err error
	day := opts.Input.Day
	if day == "" {
		at := opts.Input.Time
		if at.IsZero() {
			at = e.now()
		}
		day = e.Day(at)
		opts.Input.Day = day
	}
	if err := e.CheckWindow(day); err != nil {
		return res, err
	}
	if res.Discover, err = e.Discover(ctx, opts.Input); err != nil {
		return res, err
	}
	if res.Plan, err = e.Plan(ctx, res.Discover.RunRef); err != nil {
		return res, err
	}
	scale := opts.TimeScale
	if scale < 1 {
		scale = 1
	}
	every := opts.VerifyEvery
	if every <= 0 {
		every = time.Duration(float64(10*time.Second) / scale)
		if opts.NoWait {
			every = time.Second
		}
	}
	timeout := opts.VerifyTimeout
	if timeout <= 0 {
		timeout = time.Duration(float64(e.cfg.Window.VerifyReserve) / scale)
		if opts.NoWait {
			timeout = time.Minute
		}
	}
	// deadline of batch i, in this process's clock.
	start := time.Now()
	due := func(b BatchRef) time.Time {
		switch {
		case opts.NoWait:
			return time.Time{}
		case opts.TimeScale > 1:
			first := res.Plan.Batches[0].StartAt
			return start.Add(time.Duration(float64(b.StartAt.Sub(first)) / scale))
		}
		return b.StartAt
	}
	var closed error
	pending := map[int]BatchRef{}
	verifyPending := func() error {
		for _, i := range slices.Sorted(maps.Keys(pending)) {
			v, err := e.VerifyBatch(ctx, pending[i])
			if err != nil {
				return err
			}
			if v.Pending == 0 {
				delete(pending, i)
			}
		}
		return nil
	}
	for i, b := range res.Plan.Batches {
		for until := due(b); time.Now().Before(until); {
			if err := verifyPending(); err != nil {
				return res, err
			}
			if err := sleep(ctx, min(every, time.Until(until))); err != nil {
				return res, err
			}
		}
		// No wait to check earlier batches in: check them while this one
		// restarts. Verify draws from ECS's service-read and tag buckets,
		// the restarts from service-modify, so neither slows the other;
		// checked between the batches instead, a 100,000-service night
		// idles its UpdateService buckets for seconds at every batch.
		verified := make(chan error, 1)
		if opts.NoWait {
			go func() { verified <- verifyPending() }()
		} else {
			verified <- nil
		}
		r, err := e.RestartBatch(ctx, b)
		if verr := <-verified; verr != nil {
			return res, verr
		}
		if ow := (*OutsideWindowError)(nil); errors.As(err, &ow) {
			e.logf("batch %d/%d (%s) and later not restarted: %v", i+1, len(res.Plan.Batches), b.Start, err)
			closed = err
			break
		}
		res.Restarts = append(res.Restarts, r)
		if err != nil {
			return res, err
		}
		pending[b.Batch] = b
		e.logf("batch %d/%d (%s): %d services, %d restarted, %d already restarted today, %d gone, %d not started, %d unknown, %d restarted recently",
			i+1, len(res.Plan.Batches), b.Start, r.Services, r.Restarted, r.AlreadyClaimed, r.Gone, r.NotStarted, r.Unknown, r.RestartedRecently)
	}
	all := BatchRef{RunID: res.Discover.RunID, Day: res.Discover.Day, Batch: AllBatches}
	deadline := time.Now().Add(timeout)
	lastPending, lastLog := -1, time.Time{}
	for {
		v, err := e.VerifyBatch(ctx, all)
		if err != nil {
			return res, err
		}
		if v.Pending == 0 || !time.Now().Before(deadline) {
			if v.Pending > 0 {
				e.logf("verify: %d restarts still in progress after %v; reported as in progress", v.Pending, timeout)
			}
			break
		}
		if v.Pending != lastPending || time.Since(lastLog) >= 10*time.Second {
			e.logf("verify: %d restarts still in progress", v.Pending)
			lastPending, lastLog = v.Pending, time.Now()
		}
		if err := sleep(ctx, min(every, time.Until(deadline))); err != nil {
			return res, err
		}
	}
	if res.Report, res.Summary, err = e.Report(ctx, res.Discover.RunRef); err != nil {
		return res, err
	}
	if err := res.Summary.Counts.Accounted(); err != nil {
		return res, fmt.Errorf("run %s: report does not add up: %w", res.Discover.RunID, err)
	}
	return res, closed
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
