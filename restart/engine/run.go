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
	// Halted is why the night stopped before its last batch: the pause
	// (who, when, why) or the fleet's circuit breaker (the counts and the
	// services that tripped it); nil when it did not.
	Halted *report.Halt `json:"halted,omitempty"`
}

// ErrBatchesFailed is returned by Run, with the report made, when the
// restart or the check of some batches failed: the other batches ran.
var ErrBatchesFailed = errors.New("batches failed")

// Run drives a whole night in one process (`restartctl run`): discover,
// plan, then each batch at its (possibly scaled) start time with the
// restarts of earlier batches checked while waiting, a last round of
// checks, and the report. It is the state machine's work, in order.
//
// Outside the window of the run's day (unless Config.OutsideWindow) it
// returns an *OutsideWindowError before discovering anything; when the
// window closes during the night, the remaining batches are not
// restarted, the report is made, and the error is returned with it. The
// pause switch (*PausedError) and the fleet's circuit breaker
// (*BreakerOpenError) stop the night the same way, at discovery or at
// the next batch. A batch whose restart or check fails is recorded and
// the night goes on; ErrBatchesFailed is returned with the report.
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
	var stopped error
	if res.Discover.Halt == "" {
		if res.Plan, err = e.Plan(ctx, res.Discover.RunRef); err != nil {
			return res, err
		}
		if stopped, err = e.runBatches(ctx, opts, &res); err != nil {
			return res, err
		}
	} else {
		res.Plan = PlanOutput{RunRef: res.Discover.RunRef, Batches: []BatchRef{}}
		c, err := e.controls(ctx, day)
		if err != nil {
			return res, err
		}
		stopped = c.halted()
	}
	if res.Report, res.Summary, err = e.Report(ctx, res.Discover.RunRef); err != nil {
		return res, err
	}
	res.Halted = res.Summary.Halted
	if err := res.Summary.Counts.Accounted(); err != nil {
		return res, fmt.Errorf("run %s: report does not add up: %w", res.Discover.RunID, err)
	}
	if stopped == nil && res.Halted != nil && res.Halted.Kind == HaltBreaker {
		// Tripped by the last checks: nothing was left to stop, but the
		// day's later runs are halted until someone resumes.
		c, err := e.controls(ctx, day)
		if err != nil {
			return res, err
		}
		stopped = c.halted()
	}
	if stopped == nil && res.Report.BatchesFailed > 0 {
		stopped = fmt.Errorf("run %s: %d batches failed (the report lists them): %w", res.Discover.RunID, res.Report.BatchesFailed, ErrBatchesFailed)
	}
	return res, stopped
}

// runBatches restarts the plan's batches and checks them, and returns
// what stopped the night early (the window, the pause, the breaker).
func (e *Engine) runBatches(ctx context.Context, opts RunOptions, res *RunResult) (stopped, err error) {
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
	pending := map[int]BatchRef{}
	// verifyPending checks the batches still rolling out; a check that
	// fails is recorded and left to the final checks.
	verifyPending := func() (halt bool) {
		for _, i := range slices.Sorted(maps.Keys(pending)) {
			b := pending[i]
			v, err := e.VerifyBatch(ctx, b)
			if err != nil {
				if ctx.Err() != nil {
					return false
				}
				e.logf("batch %d (%s): its check failed: %v", i, b.Start, err)
				b.Failure = &StepFailure{Verify: &StepError{Error: "VerifyFailed", Cause: err.Error()}}
				if _, rerr := e.VerifyBatch(ctx, b); rerr != nil {
					e.logf("batch %d: the failure not recorded: %v", i, rerr)
				}
				delete(pending, i)
				continue
			}
			if v.Pending == 0 {
				delete(pending, i)
			}
			halt = halt || v.Halt != ""
		}
		return halt
	}
	breakerOpen := func() error {
		c, err := e.controls(ctx, res.Discover.Day)
		if err != nil {
			return err
		}
		return c.halted()
	}
batches:
	for i, b := range res.Plan.Batches {
		for until := due(b); time.Now().Before(until); {
			if verifyPending() {
				if stopped = breakerOpen(); stopped != nil {
					e.logf("batch %d/%d (%s) and later not restarted: %v", i+1, len(res.Plan.Batches), b.Start, stopped)
					break batches
				}
			}
			if err := sleep(ctx, min(every, time.Until(until))); err != nil {
				return nil, err
			}
		}
		// No wait to check earlier batches in: check them while this one
		// restarts. Verify draws from ECS's service-read and tag buckets,
		// the restarts from service-modify, so neither slows the other;
		// checked between the batches instead, a 100,000-service night
		// idles its UpdateService buckets for seconds at every batch.
		verified := make(chan bool, 1)
		if opts.NoWait {
			go func() { verified <- verifyPending() }()
		} else {
			verified <- false
		}
		r, err := e.RestartBatch(ctx, b)
		halt := <-verified
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ow *OutsideWindowError
		var pe *PausedError
		var be *BreakerOpenError
		switch {
		case errors.As(err, &ow), errors.As(err, &pe), errors.As(err, &be):
			e.logf("batch %d/%d (%s) and later not restarted: %v", i+1, len(res.Plan.Batches), b.Start, err)
			stopped = err
			break batches
		case err != nil:
			// Failure isolation: the batch is recorded as failed, what it
			// restarted is checked, and the night goes on.
			e.logf("batch %d/%d (%s): its restart failed: %v", i+1, len(res.Plan.Batches), b.Start, err)
			fb := b
			fb.Failure = &StepFailure{Restart: &StepError{Error: "RestartFailed", Cause: err.Error()}}
			if _, verr := e.VerifyBatch(ctx, fb); verr != nil {
				e.logf("batch %d: the failure not recorded: %v", i, verr)
			}
		}
		res.Restarts = append(res.Restarts, r)
		pending[b.Batch] = b
		if err == nil {
			e.logf("batch %d/%d (%s): %d services, %d restarted, %d already restarted today, %d gone, %d not started, %d unknown, %d restarted recently; checked before: %d opted out, %d no longer eligible, %d deployments in progress, %d not checked, %d moved to the next batch, %d of halted accounts",
				i+1, len(res.Plan.Batches), b.Start, r.Services, r.Restarted, r.AlreadyClaimed, r.Gone, r.NotStarted, r.Unknown, r.RestartedRecently,
				r.OptedOut, r.Ineligible, r.DeploymentInProgress, r.NotChecked, r.Deferred, r.AccountHalted)
		}
		if halt {
			if stopped = breakerOpen(); stopped != nil {
				e.logf("batches after %d/%d (%s) not restarted: %v", i+1, len(res.Plan.Batches), b.Start, stopped)
				break batches
			}
		}
	}
	all := BatchRef{RunID: res.Discover.RunID, Day: res.Discover.Day, Batch: AllBatches}
	deadline := time.Now().Add(timeout)
	// After a halt, the batches restarted so far are still checked
	// (their tallies) before the whole day's last round.
	verifyPending()
	lastPending, lastLog := -1, time.Time{}
	for {
		v, err := e.VerifyBatch(ctx, all)
		if err != nil {
			return nil, err
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
			return nil, err
		}
	}
	return stopped, nil
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
