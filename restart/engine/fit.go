package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// maxFitListed bounds the clusters that do not fit kept in the run's
// record (one DynamoDB item, at most 400 KB) and its report; the rest are
// counted.
const maxFitListed = 200

// deploymentTimesKept is how long a cluster's observed deployment time is
// used when the cluster has not been restarted since.
const deploymentTimesKept = 30 * 24 * time.Hour

// fit judges the plan against the window from the clusters' last observed
// deployment times (the report of each night keeps them, see
// keepDeploymentTimes), else the configured time. It reads one short list
// rather than the last night's run records: a few pages for the whole
// fleet instead of one item per service. The fit is advice: when the
// times cannot be read it falls back to the configured time rather than
// hold up the night.
func (e *Engine) fit(ctx context.Context, batches []fleet.Batch, services []fleet.Service) fleet.FitReport {
	times, err := e.store.LoadDeploymentTimes(ctx)
	if err != nil {
		e.logf("window fit: observed deployment times not read, assuming %s for every cluster: %v", e.cfg.DeploymentTime, err)
		times = nil
	}
	d := fleet.Durations{Cluster: make(map[string]time.Duration, len(times)), Default: e.cfg.DeploymentTime}
	for _, t := range times {
		d.Cluster[t.Cluster] = t.Duration()
	}
	r := fleet.Fit(batches, services, e.cfg.Window, e.cfg.IssueRate, d)
	e.logf("window fit: %s (%d clusters with observed deployment times, else %s; %g restarts/s per account and Region)",
		r.Summary(), len(times), e.cfg.DeploymentTime, e.cfg.IssueRate)
	for i, c := range r.NotFitting {
		if i == 20 {
			e.logf("window fit: ... and %d more", len(r.NotFitting)-i)
			break
		}
		e.logf("window fit: %s", c.Reason)
	}
	return r
}

// truncateFit keeps at most maxFitListed clusters that do not fit, and
// returns how many it left out.
func truncateFit(r fleet.FitReport) (*fleet.FitReport, int) {
	cut := 0
	if len(r.NotFitting) > maxFitListed {
		cut = len(r.NotFitting) - maxFitListed
		r.NotFitting = r.NotFitting[:maxFitListed]
	}
	return &r, cut
}

// keepDeploymentTimes records, for each cluster restarted on day, the
// longest of its completed deployments, for the next nights' plans.
func (e *Engine) keepDeploymentTimes(ctx context.Context, day string, recs []store.Record) error {
	observed := map[string]time.Duration{}
	for _, r := range recs {
		if r.Day != day || r.Status != fleet.StatusCompleted || r.DeploymentTime <= 0 {
			continue
		}
		k := r.Account + "/" + r.Region + "/" + r.Cluster
		observed[k] = max(observed[k], r.DeploymentTime)
	}
	if len(observed) == 0 {
		return nil
	}
	prev, err := e.store.LoadDeploymentTimes(ctx)
	if err != nil {
		return fmt.Errorf("keep deployment times: %w", err)
	}
	if err := e.store.PutDeploymentTimes(ctx, store.MergeDeploymentTimes(prev, day, observed, deploymentTimesKept)); err != nil {
		return fmt.Errorf("keep deployment times: %w", err)
	}
	return nil
}
