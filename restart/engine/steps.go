package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// perPair bounds the calls in flight for one account and Region; its
// limiter paces them anyway, more would only queue.
const perPair = 4

// Discover finds every service of every member account and Region and
// writes the day's inventory. Accounts that fail are recorded and reported;
// they do not fail the step.
func (e *Engine) Discover(ctx context.Context, in DiscoverInput) (DiscoverOutput, error) {
	ctx, stepDone := e.step(ctx, HandlerDiscover)
	defer stepDone()
	now := e.now()
	if in.Time.IsZero() {
		in.Time = now
	}
	if in.Day == "" {
		in.Day = e.Day(in.Time)
	}
	if _, err := e.midnight(in.Day); err != nil {
		return DiscoverOutput{}, fmt.Errorf("discover: %w", err)
	}
	if in.RunID == "" {
		in.RunID = NewRunID(in.Day)
	}
	out := DiscoverOutput{RunRef: RunRef{RunID: in.RunID, Day: in.Day}}
	if len(e.cfg.Accounts) == 0 || len(e.cfg.Regions) == 0 {
		return out, errors.New("discover: no member accounts or regions configured")
	}
	// Paused, or the fleet's breaker open for the day: no ECS call at
	// all, the night goes to its report.
	c, err := e.controls(ctx, in.Day)
	if err != nil {
		return out, fmt.Errorf("discover: %w", err)
	}
	if herr := c.halted(); herr != nil {
		out.Halt = HaltPaused
		if errors.As(herr, new(*BreakerOpenError)) {
			out.Halt = HaltBreaker
		}
		e.recordHalt(ctx, BatchRef{RunID: in.RunID, Day: in.Day, Batch: -1}, herr)
		meta := store.RunMeta{RunID: in.RunID, Day: in.Day, StartedAt: now, Enrollment: e.cfg.Enrollment, Halted: out.Halt}
		if err := e.store.PutRunMeta(ctx, meta); err != nil {
			return out, fmt.Errorf("discover: %w", err)
		}
		e.logf("discover: nothing discovered: %v", herr)
		return out, nil
	}
	start := time.Now()
	w := newInventoryWriter(ctx, e.store, in.Day)
	var done int
	total := len(e.cfg.Accounts) * len(e.cfg.Regions)
	results := e.fleetFor(in.RunID).DiscoverEach(w.ctx, e.cfg.Accounts, e.cfg.Regions, func(r awsfleet.AccountResult, services []fleet.Service) {
		done++
		for _, c := range r.ClustersGone {
			e.logf("discover: %s %s: cluster %s was deleted during discovery", r.Account, r.Region, c)
		}
		if r.Err != nil {
			e.logf("discover %d/%d: %s %s failed: %v", done, total, r.Account, r.Region, r.Err)
		} else {
			e.logf("discover %d/%d: %s %s: %d clusters, %d services", done, total, r.Account, r.Region, r.Clusters, r.Services)
		}
		w.add(in.RunID, e.allowed(services))
	})
	out.DiscoverySeconds = time.Since(start).Seconds()
	written, err := w.close()
	out.InventorySeconds = time.Since(start).Seconds() - out.DiscoverySeconds
	if err != nil {
		return out, fmt.Errorf("discover: %w", err)
	}
	recs := make([]store.AccountResult, len(results))
	for i, r := range results {
		recs[i] = store.AccountResult{Account: r.Account, Region: r.Region, RunID: in.RunID, Clusters: r.Clusters, Services: r.Services, ClustersGone: r.ClustersGone}
		if r.Err != nil {
			recs[i].Error = r.Err.Error()
			out.AccountsFailed++
		}
	}
	if err := e.store.PutAccountResults(ctx, in.Day, recs); err != nil {
		return out, fmt.Errorf("discover: %w", err)
	}
	out.Discovered, out.Accounts = written, len(results)
	meta := store.RunMeta{RunID: in.RunID, Day: in.Day, StartedAt: now, Enrollment: e.cfg.Enrollment, Discovered: written}
	if err := e.store.PutRunMeta(ctx, meta); err != nil {
		return out, fmt.Errorf("discover: %w", err)
	}
	e.logf("discovered %d services in %d account/region pairs (%d failed) in %.1fs; the inventory's last writes took %.1fs more",
		out.Discovered, out.Accounts, out.AccountsFailed, out.DiscoverySeconds, out.InventorySeconds)
	return out, nil
}

// Plan assigns each eligible service of the run's inventory to a batch
// and records the decisions (batch, or the reason to skip) in the
// inventory.
func (e *Engine) Plan(ctx context.Context, ref RunRef) (PlanOutput, error) {
	ctx, stepDone := e.step(ctx, HandlerPlan)
	defer stepDone()
	out := PlanOutput{RunRef: ref, Batches: []BatchRef{}}
	meta, err := e.store.GetRunMeta(ctx, ref.Day, ref.RunID)
	if err != nil {
		return out, fmt.Errorf("plan: %w", err)
	}
	if meta.Halted != "" {
		return out, nil // discovery found the night halted: nothing to plan
	}
	if _, err := e.midnight(ref.Day); err != nil {
		return out, fmt.Errorf("plan: %w", err)
	}
	items, err := e.store.LoadInventory(ctx, ref.Day, ref.RunID)
	if err != nil {
		return out, fmt.Errorf("plan: %w", err)
	}
	services := make([]fleet.Service, len(items))
	for i, it := range items {
		services[i] = it.Service
	}
	plan, err := fleet.PlanNight(services, e.cfg.Enrollment, e.cfg.Window)
	if err != nil {
		return out, fmt.Errorf("plan run %s: %w", ref.RunID, err)
	}
	// What the night before left not attempted goes first.
	if carry, prev, err := e.carriedOver(ctx, ref.Day); err != nil {
		e.logf("plan: the night before's carry-over not read, planned without it: %v", err)
	} else if len(carry) > 0 {
		out.CarriedOver, out.Moved = fleet.PlaceFirst(plan.Batches, services, carry, e.cfg.Window)
		meta.CarriedOver, meta.CarriedFrom = out.CarriedOver, prev
		e.logf("plan: %d services carried over from %s (not attempted then), %d of them moved into the first batches", out.CarriedOver, prev, out.Moved)
	}
	unenrolled := map[string]bool{}
	for _, o := range fleet.Classify(services, e.cfg.Enrollment).Unenrolled {
		for _, arn := range o.ARNs {
			unenrolled[arn] = true
		}
	}
	byARN := make(map[string]*store.Item, len(items))
	for i := range items {
		it := &items[i]
		it.Batch, it.Start, it.Skip, it.Unenrolled = store.NoBatch, "", "", unenrolled[it.ARN]
		byARN[it.ARN] = it
	}
	meta.Batches = nil
	for _, b := range plan.Batches {
		at, err := e.slotAt(ref.Day, b.Index)
		if err != nil {
			return out, fmt.Errorf("plan: %w", err)
		}
		for _, arn := range b.Services {
			if it := byARN[arn]; it != nil {
				it.Batch, it.Start = b.Index, b.Start
			}
		}
		meta.Batches = append(meta.Batches, store.Slot{Index: b.Index, Start: b.Start, StartAt: at, Services: len(b.Services)})
		out.Batches = append(out.Batches, BatchRef{RunID: ref.RunID, Day: ref.Day, Batch: b.Index, Start: b.Start, StartAt: at})
		out.Eligible += len(b.Services)
	}
	for _, s := range plan.Skipped {
		if it := byARN[s.ARN]; it != nil && it.Batch == store.NoBatch {
			it.Skip = s.Reason
		}
	}
	out.Skipped = len(items) - out.Eligible
	if err := e.store.PutPlan(ctx, ref.Day, ref.RunID, items); err != nil {
		return out, fmt.Errorf("plan: %w", err)
	}
	fit := e.fit(ctx, plan.Batches, services)
	out.Fit = FitCounts{Clusters: fit.Clusters, NotFitting: len(fit.NotFitting)}
	meta.Fit, meta.FitTruncated = truncateFit(fit)
	meta.Planned = true
	if err := e.store.PutRunMeta(ctx, meta); err != nil {
		return out, fmt.Errorf("plan: %w", err)
	}
	e.logf("planned %d services in %d batches, %d skipped", out.Eligible, len(out.Batches), out.Skipped)
	return out, nil
}

// RestartBatch forces a new deployment of every service of the batch that
// nobody restarted today. Each service is claimed (a conditional write per
// day and service) before UpdateService is called, so a rerun or a
// duplicated invocation restarts nothing twice.
//
// Before anything it reads the pause switch and the day's circuit
// breakers: paused or with the fleet's breaker open it restarts nothing
// and returns a *PausedError or *BreakerOpenError; the services of an
// account whose breaker is open are skipped. Then it checks the others
// just before their restart (see preflight).
func (e *Engine) RestartBatch(ctx context.Context, ref BatchRef) (RestartOutput, error) {
	ctx, stepDone := e.step(ctx, HandlerRestart)
	defer stepDone()
	out := RestartOutput{BatchRef: ref}
	if err := e.CheckWindow(ref.Day); err != nil {
		return out, err // unwrapped: its type name is the Lambda errorType
	}
	c, err := e.controls(ctx, ref.Day)
	if err != nil {
		return out, fmt.Errorf("restart: %w", err)
	}
	if err := c.halted(); err != nil {
		e.recordHalt(ctx, ref, err)
		return out, err // unwrapped, as OutsideWindowError
	}
	items, err := e.store.LoadBatch(ctx, ref.Day, ref.RunID, ref.Batch)
	if err != nil {
		return out, fmt.Errorf("restart: %w", err)
	}
	out.Services = len(items)
	items, skips, claimed, err := e.skipRecent(ctx, ref, items)
	if err != nil {
		return out, fmt.Errorf("restart: %w", err)
	}
	out.RestartedRecently = len(skips)
	kept := items[:0:0]
	for _, it := range items {
		if b := c.accounts[it.Account]; b.Open && !claimed[it.ARN] {
			skips = append(skips, store.Skip{ARN: it.ARN, Reason: ReasonAccountBreakerOpen, Detail: b.Reason})
			out.AccountHalted++
			continue
		}
		kept = append(kept, it)
	}
	meta, err := e.store.GetRun(ctx, ref.Day, ref.RunID)
	if err != nil {
		return out, fmt.Errorf("restart: %w", err)
	}
	next := nextSlot(meta.Batches, ref.Batch)
	f := e.fleetFor(ref.RunID)
	chk := e.preflight(ctx, f, kept, claimed, next)
	for _, sk := range chk.skips {
		switch sk.Reason {
		case ReasonOptedOutSinceDiscovery:
			out.OptedOut++
		case ReasonIneligibleSinceDiscovery:
			out.Ineligible++
		case ReasonDeploymentInProgress:
			out.DeploymentInProgress++
		case ReasonNotChecked:
			out.NotChecked++
		}
	}
	out.Deferred = len(chk.deferred)
	skips = append(skips, chk.skips...)
	// Written even when empty: a retried invocation replaces the lists.
	if err := e.store.PutBatchSkips(ctx, ref.Day, ref.RunID, ref.Batch, skips); err != nil {
		return out, fmt.Errorf("restart: %w", err)
	}
	if next != nil {
		if err := e.store.PutDeferrals(ctx, ref.Day, ref.RunID, next.Index, next.Start, chk.deferred); err != nil {
			return out, fmt.Errorf("restart: %w", err)
		}
	}
	var (
		mu       sync.Mutex
		firstErr error
	)
	count := func(p *int) { mu.Lock(); *p++; mu.Unlock() }
	byPair(ctx, chk.restart, func(it store.Item) string { return it.Account + "/" + it.Region }, e.cfg.Workers, perPair, func(it store.Item) {
		if err := e.restartOne(ctx, f, ref, it, chk.before[it.ARN], chk.gone[it.ARN], &out, count); err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	})
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return out, fmt.Errorf("restart batch %d of run %s: %w", ref.Batch, ref.RunID, firstErr)
	}
	return out, nil
}

// restartOne claims and restarts one service; a service the check found
// gone (gone is the detail) is claimed and recorded gone, not restarted.
func (e *Engine) restartOne(ctx context.Context, f Fleet, ref BatchRef, it store.Item, before fleet.Revision, gone string, out *RestartOutput, count func(*int)) error {
	rec := store.Record{
		RunRecord: fleet.RunRecord{
			Day: ref.Day, ARN: it.ARN, Account: it.Account, Region: it.Region,
			Cluster: it.Cluster, Service: it.Service.Service, Batch: ref.Batch,
		},
		RunID:     ref.RunID,
		ClaimedAt: e.now(),
		// A short ARN cannot be tagged: never claim a tag was written.
		Stamp:  !it.Unenrolled && !it.ShortARN,
		Before: before,
	}
	claimed, err := e.store.Claim(ctx, rec)
	if err != nil {
		return err
	}
	if !claimed {
		count(&out.AlreadyClaimed)
		return nil
	}
	if gone != "" {
		count(&out.Gone)
		return e.store.Finish(ctx, ref.Day, it.ARN, fleet.StatusGone, gone, e.now())
	}
	t := awsfleet.Target{Account: it.Account, Region: it.Region, Cluster: it.Cluster, Service: it.Service.Service, ARN: it.ARN, Since: rec.ClaimedAt}
	dep, err := f.Restart(ctx, t)
	switch {
	case err == nil:
		count(&out.Restarted)
		if err := e.store.MarkStarted(ctx, ref.Day, it.ARN, ref.RunID, dep, e.now()); err != nil {
			// The record stays claimed; the verifier adopts the deployment.
			return err
		}
	case errors.Is(err, awsfleet.ErrGone):
		count(&out.Gone)
		return e.store.Finish(ctx, ref.Day, it.ARN, fleet.StatusGone, err.Error(), e.now())
	case errors.Is(err, awsfleet.ErrNotStarted):
		count(&out.NotStarted)
		return e.store.Release(ctx, ref.Day, it.ARN, err.Error())
	default:
		count(&out.Unknown)
		return e.store.Note(ctx, ref.Day, it.ARN, "UpdateService outcome unknown: "+err.Error())
	}
	return nil
}

// VerifyBatch checks the deployment each restart of the batch started (or,
// for AllBatches, every unfinished restart of the day) and records the
// final states; Pending counts those still rolling out or not checkable
// now. Successful restarts of enrolled services get RestartTag stamped
// with their restart time, and every restart that ended gets what it
// changed recorded (task definition and image digests, before and after).
//
// For a batch it then counts the batch's outcomes (its tally), checks
// again the earlier batches whose restarts were still rolling out when
// they were last checked, and lets the circuit breakers judge the night:
// Halt is "breaker" when the fleet's breaker is open, and no further
// batch is to be restarted.
//
// A ref with a Failure records that its batch's restart or check failed
// after every retry (the state machine's way of saying so): after a
// failed restart the batch's restarts so far are checked as usual; after
// a failed check, nothing more is done.
func (e *Engine) VerifyBatch(ctx context.Context, ref BatchRef) (VerifyOutput, error) {
	ctx, stepDone := e.step(ctx, HandlerVerify)
	defer stepDone()
	out := VerifyOutput{BatchRef: ref}
	if ref.Failure != nil {
		if err := e.recordFailure(ctx, ref); err != nil {
			return out, fmt.Errorf("verify: %w", err)
		}
		if ref.Failure.Verify != nil && ref.Failure.Verify.Error != "" {
			return out, nil
		}
	}
	if ref.Batch == AllBatches {
		recs, err := e.store.LoadRuns(ctx, ref.Day)
		if err != nil {
			return out, fmt.Errorf("verify: %w", err)
		}
		if err := e.check(ctx, ref, recs, &out); err != nil {
			return out, fmt.Errorf("verify batch %d of run %s: %w", ref.Batch, ref.RunID, err)
		}
		return out, nil
	}
	c, err := e.controls(ctx, ref.Day)
	if err != nil {
		return out, fmt.Errorf("verify: %w", err)
	}
	if err := e.verifyBatch(ctx, ref, c, &out); err != nil {
		return out, err
	}
	tallies, err := e.store.LoadTallies(ctx, ref.Day, ref.RunID)
	if err != nil {
		return out, fmt.Errorf("verify: %w", err)
	}
	reverified := false
	for _, t := range tallies {
		if t.Batch >= ref.Batch || t.Pending == 0 || e.now().Sub(t.At) < staleTally {
			continue
		}
		var v VerifyOutput
		if err := e.verifyBatch(ctx, BatchRef{RunID: ref.RunID, Day: ref.Day, Batch: t.Batch}, c, &v); err != nil {
			return out, err
		}
		reverified = true
	}
	if reverified {
		if tallies, err = e.store.LoadTallies(ctx, ref.Day, ref.RunID); err != nil {
			return out, fmt.Errorf("verify: %w", err)
		}
	}
	b, err := e.evaluate(ctx, ref, c, tallies)
	if err != nil {
		return out, fmt.Errorf("verify: %w", err)
	}
	if b.Open {
		out.Halt = HaltBreaker
		e.recordHalt(ctx, ref, &BreakerOpenError{Breaker: b})
	}
	return out, nil
}

// staleTally is how old an earlier batch's tally must be before a later
// batch's check looks at that batch's unfinished restarts again: the
// state machine checks a batch only until the next one is due, while
// `restartctl run` keeps checking every batch, which refreshes them.
const staleTally = 20 * time.Second

// verifyBatch checks one batch's unfinished restarts and replaces its
// tally with the batch's counts.
func (e *Engine) verifyBatch(ctx context.Context, ref BatchRef, c controls, out *VerifyOutput) error {
	recs, err := e.store.LoadRunBatch(ctx, ref.Day, ref.RunID, ref.Batch)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := e.check(ctx, ref, recs, out); err != nil {
		return fmt.Errorf("verify batch %d of run %s: %w", ref.Batch, ref.RunID, err)
	}
	if err := e.store.PutTally(ctx, ref.Day, c.tally(ref, recs, e.now())); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}

// check settles the unfinished records among recs, updating their
// statuses in place, and records what the restarts that ended changed.
func (e *Engine) check(ctx context.Context, ref BatchRef, recs []store.Record, out *VerifyOutput) error {
	index := map[string]int{}
	var targets []awsfleet.Target
	for i, r := range recs {
		if r.Status != store.StatusClaimed && r.Status != fleet.StatusStarted {
			continue
		}
		index[r.ARN] = i
		targets = append(targets, awsfleet.Target{Account: r.Account, Region: r.Region, Cluster: r.Cluster, Service: r.Service, ARN: r.ARN, DeploymentID: r.DeploymentID, Since: r.ClaimedAt})
	}
	if len(targets) == 0 {
		return nil
	}
	f := e.fleetFor(ref.RunID)
	obs := f.Check(ctx, targets)
	var (
		mu       sync.Mutex
		firstErr error
		ended    []awsfleet.Target
		after    = map[string]string{}
	)
	pairOf := func(o awsfleet.Observation) string { r := recs[index[o.ARN]]; return r.Account + "/" + r.Region }
	byPair(ctx, obs, pairOf, e.cfg.Workers, perPair, func(o awsfleet.Observation) {
		i := index[o.ARN]
		field, err := e.settle(ctx, f, recs[i], o)
		mu.Lock()
		defer mu.Unlock()
		if err != nil && !errors.Is(err, store.ErrNotOwner) && firstErr == nil {
			firstErr = err
		}
		switch field {
		case fleet.StatusCompleted:
			out.Completed++
		case fleet.StatusFailed:
			out.Failed++
		case fleet.StatusRolledBack:
			out.RolledBack++
		case fleet.StatusGone:
			out.Gone++
		case store.StatusNotStarted:
			out.Released++
		default:
			out.Pending++
		}
		if err == nil && (field.Final() || field == store.StatusNotStarted) {
			recs[i].Status, recs[i].Detail, recs[i].FinishedAt = field, o.Detail, e.now()
		}
		if err == nil && field.Final() && field != fleet.StatusGone {
			r := recs[i]
			ended = append(ended, awsfleet.Target{Account: r.Account, Region: r.Region, Cluster: r.Cluster, Service: r.Service, ARN: r.ARN, DeploymentID: r.DeploymentID, Since: r.ClaimedAt})
			after[r.ARN] = o.TaskDefinition
		}
	})
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return firstErr
	}
	e.recordChanges(ctx, f, ref, recs, index, ended, after)
	return nil
}

// recordChanges records what the restarts that ended changed. It is a
// record for people, not a step of the restart: what cannot be read is
// left out, with the task definition DescribeServices showed.
func (e *Engine) recordChanges(ctx context.Context, f Fleet, ref BatchRef, recs []store.Record, index map[string]int, ended []awsfleet.Target, after map[string]string) {
	if len(ended) == 0 {
		return
	}
	noted := 0
	for _, c := range f.Changes(ctx, ended) {
		r := recs[index[c.ARN]]
		before, now := c.Before, c.After
		if c.Err != nil {
			before, now = fleet.Revision{}, fleet.Revision{TaskDefinition: after[c.ARN]}
			if noted < 3 {
				e.logf("%s: what the restart changed is not known: %v", c.ARN, c.Err)
			}
			noted++
		}
		if before.TaskDefinition == "" {
			before.TaskDefinition = r.Before.TaskDefinition
		}
		if now.TaskDefinition == "" {
			now.TaskDefinition = after[c.ARN]
		}
		if err := e.store.SetChange(ctx, ref.Day, c.ARN, before, now); err != nil {
			e.logf("%s: %v", c.ARN, err)
		}
	}
}

// recordFailure records that ref's batch's restart or check failed.
func (e *Engine) recordFailure(ctx context.Context, ref BatchRef) error {
	for step, se := range map[string]*StepError{"restart": ref.Failure.Restart, "verify": ref.Failure.Verify} {
		if se == nil || se.Error == "" {
			continue
		}
		e.logf("batch %d of run %s: its %s failed after every retry: %s %s", ref.Batch, ref.RunID, step, se.Error, se.Cause)
		if err := e.store.PutBatchFailure(ctx, ref.Day, store.BatchFailure{RunID: ref.RunID, Batch: ref.Batch, Step: step, Error: se.Error, Cause: se.Cause, At: e.now()}); err != nil {
			return err
		}
	}
	return nil
}

// settle records what the observation says about r and returns the
// record's new status (StatusStarted while unfinished).
func (e *Engine) settle(ctx context.Context, f Fleet, r store.Record, o awsfleet.Observation) (fleet.Status, error) {
	now := e.now()
	if o.Err != nil {
		return fleet.StatusStarted, e.store.Note(ctx, r.Day, r.ARN, "not checked: "+o.Err.Error())
	}
	if r.Status == store.StatusClaimed {
		switch {
		case o.Status == fleet.StatusGone:
			return o.Status, e.store.Finish(ctx, r.Day, r.ARN, o.Status, o.Detail, now)
		case o.Primary != "" && !o.PrimaryCreated.Before(r.ClaimedAt.Add(-time.Second)):
			// UpdateService went through but the run did not record it:
			// the PRIMARY deployment created after the claim is ours.
			return fleet.StatusStarted, e.store.Adopt(ctx, r.Day, r.ARN, o.Primary, o.PrimaryCreated,
				"deployment adopted: created after the claim whose UpdateService outcome was not recorded")
		case now.Sub(r.ClaimedAt) > e.cfg.StaleClaimAfter:
			err := e.store.Release(ctx, r.Day, r.ARN, fmt.Sprintf("claim of run %s abandoned: no deployment created since %s", r.RunID, r.ClaimedAt.UTC().Format(time.RFC3339)))
			return store.StatusNotStarted, err
		}
		return fleet.StatusStarted, nil
	}
	if !o.Status.Final() {
		return fleet.StatusStarted, nil
	}
	if o.Status == fleet.StatusCompleted && r.Stamp {
		at := r.StartedAt
		if at.IsZero() {
			at = now
		}
		t := awsfleet.Target{Account: r.Account, Region: r.Region, Cluster: r.Cluster, Service: r.Service, ARN: r.ARN}
		if err := f.Stamp(ctx, t, at); err != nil {
			// Checked again later: the record stays in progress until the
			// tag is written.
			return fleet.StatusStarted, e.store.Note(ctx, r.Day, r.ARN, "completed, tag not written yet: "+err.Error())
		}
	}
	if o.Status == fleet.StatusCompleted {
		return o.Status, e.store.FinishCompleted(ctx, r.Day, r.ARN, o.Detail, now, deploymentTime(r, o, now))
	}
	return o.Status, e.store.Finish(ctx, r.Day, r.ARN, o.Status, o.Detail, now)
}

// deploymentTime is how long the completed deployment of r took: as ECS
// reports it, else from the restart to this observation (which can be
// late by the time between two checks).
func deploymentTime(r store.Record, o awsfleet.Observation, now time.Time) time.Duration {
	if o.Took > 0 {
		return o.Took
	}
	if r.StartedAt.IsZero() {
		return 0
	}
	return now.Sub(r.StartedAt)
}

// ReasonNotPlanned is the skip reason of a discovered service that the
// run never planned (Plan did not run).
const ReasonNotPlanned fleet.Reason = "not-planned"

// Report computes the run's counts from the store, writes them as EMF
// metric lines and sends the summary and the owners' notifications. It
// calls no member account: the last check of unfinished restarts is the
// Verify step's (VerifyBatch with AllBatches), which runs before it in the
// state machine and in Run, under the role that may reach the members.
// The summary says why the night stopped, if it did (the pause, the
// fleet's breaker), which accounts' breakers tripped and which batches
// failed; and the services the night did not attempt are kept for the
// next night's plan.
func (e *Engine) Report(ctx context.Context, ref RunRef) (ReportOutput, report.Summary, error) {
	ctx, stepDone := e.step(ctx, HandlerReport)
	defer stepDone()
	out := ReportOutput{RunRef: ref}
	fail := func(err error) (ReportOutput, report.Summary, error) {
		return out, report.Summary{}, fmt.Errorf("report: %w", err)
	}
	items, err := e.store.LoadInventory(ctx, ref.Day, ref.RunID)
	if err != nil {
		return fail(err)
	}
	recs, err := e.store.LoadRuns(ctx, ref.Day)
	if err != nil {
		return fail(err)
	}
	accounts, err := e.store.LoadAccountResults(ctx, ref.Day, ref.RunID)
	if err != nil {
		return fail(err)
	}
	byARN := make(map[string]store.Record, len(recs))
	for _, r := range recs {
		byARN[r.ARN] = r
	}
	outcomes := make([]report.Outcome, len(items))
	for i, it := range items {
		o := report.Outcome{Service: it.Service, Skip: it.Skip, SkipDetail: it.SkipDetail, Unenrolled: it.Unenrolled}
		if it.Batch == store.NoBatch && it.Skip == "" {
			o.Skip = ReasonNotPlanned
		}
		if r, ok := byARN[it.ARN]; ok && o.Skip == "" {
			o.Status, o.Detail, o.Before, o.After = r.Status, r.Detail, r.Before, r.After
			if r.RunID == ref.RunID && r.DeploymentID != "" {
				out.RestartedThisRun++
			}
		}
		outcomes[i] = o
	}
	var failed []report.AccountError
	var gone []report.ClusterGone
	for _, a := range accounts {
		if a.Error != "" {
			failed = append(failed, report.AccountError{Account: a.Account, Region: a.Region, Error: a.Error})
		}
		for _, c := range a.ClustersGone {
			gone = append(gone, report.ClusterGone{Account: a.Account, Region: a.Region, Cluster: c})
		}
	}
	sum := report.Build(ref.RunID, ref.Day, outcomes, failed)
	sum.SetClustersGone(gone)
	meta, err := e.store.GetRun(ctx, ref.Day, ref.RunID)
	if err == nil && meta.Fit != nil {
		sum.SetFit(*meta.Fit, meta.FitTruncated)
	} else if err != nil {
		e.logf("report: window fit not reported: %v", err)
	}
	sum.Counts.CarriedOver = meta.CarriedOver
	if err := e.reportHalts(ctx, ref, byARN, &sum); err != nil {
		return fail(err)
	}
	if n, err := e.keepCarryOver(ctx, ref.Day, meta, outcomes); err != nil {
		// The next night plans without it: not a reason to fail the report.
		e.logf("report: carry-over not kept: %v", err)
	} else {
		sum.Counts.LeftOver = n
	}
	if err := e.keepDeploymentTimes(ctx, ref.Day, recs); err != nil {
		// The next plan falls back to the times it has, or the
		// configured one: not a reason to fail the night's report.
		e.logf("report: %v", err)
	}
	out.Counts = sum.Counts
	if sum.Halted != nil {
		out.Halted = sum.Halted.Kind
	}
	out.BatchesFailed = len(sum.BatchesFailed)
	out.Incomplete = out.Halted == HaltBreaker || out.BatchesFailed > 0
	if e.metrics != nil {
		var dims []report.Dimension
		if e.cfg.Stack != "" {
			dims = append(dims, report.Dimension{Name: "Stack", Value: e.cfg.Stack})
		}
		if err := report.WriteEMF(e.metrics, sum, e.now(), dims...); err != nil {
			return out, sum, fmt.Errorf("report: write metrics: %w", err)
		}
	}
	if e.notifier != nil {
		if err := e.notifier.Notify(ctx, sum); err != nil {
			return out, sum, fmt.Errorf("report: %w", err)
		}
	}
	return out, sum, nil
}

// reportHalts adds to the summary why the run stopped, the accounts whose
// breakers tripped and the batches that failed.
func (e *Engine) reportHalts(ctx context.Context, ref RunRef, byARN map[string]store.Record, sum *report.Summary) error {
	issues := func(fs []store.ServiceFailure) []report.ServiceIssue {
		var out []report.ServiceIssue
		for _, f := range fs {
			si := report.ServiceIssue{ARN: f.ARN, Status: f.Status, Detail: f.Detail}
			if r, ok := byARN[f.ARN]; ok {
				si.Changed = report.Change(r.Before, r.After)
			}
			out = append(out, si)
		}
		return out
	}
	breakers, err := e.store.LoadBreakers(ctx, ref.Day)
	if err != nil {
		return err
	}
	var fleetBreaker store.Breaker
	var halted []report.AccountHalt
	for _, b := range breakers {
		switch {
		case b.Account == "":
			fleetBreaker = b
		case b.Open:
			halted = append(halted, report.AccountHalt{Account: b.Account, Reason: b.Reason, Batch: b.Batch, Failed: b.Failed, Verified: b.Verified, Services: issues(b.Services)})
		}
	}
	sum.SetAccountsHalted(halted)
	if h, ok, err := e.store.GetHalt(ctx, ref.Day, ref.RunID); err != nil {
		return err
	} else if ok {
		rh := report.Halt{Kind: h.Kind, Reason: h.Reason, By: h.By, At: h.At, Batch: h.Batch}
		if h.Kind == HaltBreaker {
			rh.Failed, rh.Verified, rh.Services = fleetBreaker.Failed, fleetBreaker.Verified, issues(fleetBreaker.Services)
		}
		sum.SetHalt(rh)
	}
	fs, err := e.store.LoadBatchFailures(ctx, ref.Day, ref.RunID)
	if err != nil {
		return err
	}
	var bf []report.BatchFailure
	for _, f := range fs {
		bf = append(bf, report.BatchFailure{Batch: f.Batch, Step: f.Step, Error: f.Error, Cause: f.Cause})
	}
	sum.SetBatchesFailed(bf)
	return nil
}

// allowed drops the services of clusters outside Config.Clusters (none
// when it is empty). A cluster's ARN is
// arn:<partition>:ecs:<region>:<account>:cluster/<name>; discovery knows
// the account, Region and name.
func (e *Engine) allowed(services []fleet.Service) []fleet.Service {
	if len(e.cfg.Clusters) == 0 {
		return services
	}
	keep := services[:0:0]
	for _, s := range services {
		for _, c := range e.cfg.Clusters {
			if strings.HasSuffix(c, ":"+s.Account+":cluster/"+s.Cluster) && strings.Contains(c, ":ecs:"+s.Region+":") {
				keep = append(keep, s)
				break
			}
		}
	}
	if dropped := len(services) - len(keep); dropped > 0 {
		e.logf("discover: %d services outside this stack's clusters left out", dropped)
	}
	return keep
}
