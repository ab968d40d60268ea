package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
func (e *Engine) RestartBatch(ctx context.Context, ref BatchRef) (RestartOutput, error) {
	ctx, stepDone := e.step(ctx, HandlerRestart)
	defer stepDone()
	out := RestartOutput{BatchRef: ref}
	if err := e.CheckWindow(ref.Day); err != nil {
		return out, err // unwrapped: its type name is the Lambda errorType
	}
	items, err := e.store.LoadBatch(ctx, ref.Day, ref.RunID, ref.Batch)
	if err != nil {
		return out, fmt.Errorf("restart: %w", err)
	}
	out.Services = len(items)
	if items, out.RestartedRecently, err = e.skipRecent(ctx, ref, items); err != nil {
		return out, fmt.Errorf("restart: %w", err)
	}
	f := e.fleetFor(ref.RunID)
	var (
		mu       sync.Mutex
		firstErr error
	)
	count := func(p *int) { mu.Lock(); *p++; mu.Unlock() }
	byPair(ctx, items, func(it store.Item) string { return it.Account + "/" + it.Region }, e.cfg.Workers, perPair, func(it store.Item) {
		if err := e.restartOne(ctx, f, ref, it, &out, count); err != nil {
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

func (e *Engine) restartOne(ctx context.Context, f Fleet, ref BatchRef, it store.Item, out *RestartOutput, count func(*int)) error {
	rec := store.Record{
		RunRecord: fleet.RunRecord{
			Day: ref.Day, ARN: it.ARN, Account: it.Account, Region: it.Region,
			Cluster: it.Cluster, Service: it.Service.Service, Batch: ref.Batch,
		},
		RunID:     ref.RunID,
		ClaimedAt: e.now(),
		// A short ARN cannot be tagged: never claim a tag was written.
		Stamp: !it.Unenrolled && !it.ShortARN,
	}
	claimed, err := e.store.Claim(ctx, rec)
	if err != nil {
		return err
	}
	if !claimed {
		count(&out.AlreadyClaimed)
		return nil
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
// with their restart time.
func (e *Engine) VerifyBatch(ctx context.Context, ref BatchRef) (VerifyOutput, error) {
	ctx, stepDone := e.step(ctx, HandlerVerify)
	defer stepDone()
	out := VerifyOutput{BatchRef: ref}
	var recs []store.Record
	var err error
	if ref.Batch == AllBatches {
		recs, err = e.store.LoadRuns(ctx, ref.Day)
	} else {
		recs, err = e.store.LoadRunBatch(ctx, ref.Day, ref.RunID, ref.Batch)
	}
	if err != nil {
		return out, fmt.Errorf("verify: %w", err)
	}
	recs = slices.DeleteFunc(recs, func(r store.Record) bool {
		return r.Status != store.StatusClaimed && r.Status != fleet.StatusStarted
	})
	if len(recs) == 0 {
		return out, nil
	}
	targets := make([]awsfleet.Target, len(recs))
	byARN := make(map[string]store.Record, len(recs))
	for i, r := range recs {
		targets[i] = awsfleet.Target{Account: r.Account, Region: r.Region, Cluster: r.Cluster, Service: r.Service, ARN: r.ARN, DeploymentID: r.DeploymentID, Since: r.ClaimedAt}
		byARN[r.ARN] = r
	}
	f := e.fleetFor(ref.RunID)
	obs := f.Check(ctx, targets)
	var (
		mu       sync.Mutex
		firstErr error
	)
	byPair(ctx, obs, func(o awsfleet.Observation) string { r := byARN[o.ARN]; return r.Account + "/" + r.Region }, e.cfg.Workers, perPair, func(o awsfleet.Observation) {
		field, err := e.settle(ctx, f, byARN[o.ARN], o)
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
	})
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return out, fmt.Errorf("verify batch %d of run %s: %w", ref.Batch, ref.RunID, firstErr)
	}
	return out, nil
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
func (e *Engine) Report(ctx context.Context, ref RunRef) (ReportOutput, report.Summary, error) {
	ctx, stepDone := e.step(ctx, HandlerReport)
	defer stepDone()
	out := ReportOutput{RunRef: ref}
	items, err := e.store.LoadInventory(ctx, ref.Day, ref.RunID)
	if err != nil {
		return out, report.Summary{}, fmt.Errorf("report: %w", err)
	}
	recs, err := e.store.LoadRuns(ctx, ref.Day)
	if err != nil {
		return out, report.Summary{}, fmt.Errorf("report: %w", err)
	}
	accounts, err := e.store.LoadAccountResults(ctx, ref.Day, ref.RunID)
	if err != nil {
		return out, report.Summary{}, fmt.Errorf("report: %w", err)
	}
	byARN := make(map[string]store.Record, len(recs))
	for _, r := range recs {
		byARN[r.ARN] = r
	}
	outcomes := make([]report.Outcome, len(items))
	for i, it := range items {
		o := report.Outcome{Service: it.Service, Skip: it.Skip, Unenrolled: it.Unenrolled}
		if it.Batch == store.NoBatch && it.Skip == "" {
			o.Skip = ReasonNotPlanned
		}
		if r, ok := byARN[it.ARN]; ok && o.Skip == "" {
			o.Status, o.Detail = r.Status, r.Detail
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
	if meta, err := e.store.GetRun(ctx, ref.Day, ref.RunID); err == nil && meta.Fit != nil {
		sum.SetFit(*meta.Fit, meta.FitTruncated)
	} else if err != nil {
		e.logf("report: window fit not reported: %v", err)
	}
	if err := e.keepDeploymentTimes(ctx, ref.Day, recs); err != nil {
		// The next plan falls back to the times it has, or the
		// configured one: not a reason to fail the night's report.
		e.logf("report: %v", err)
	}
	out.Counts = sum.Counts
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
