package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
)

// busiestResult is the night of the busiest account and Region of a
// fleet, at the engine's default share of ECS's buckets.
type busiestResult struct {
	fleetServices int
	pair          string
	services      int
	restarted     int
	scale         float64 // ECS's buckets and the engine's limits times this
	wall          time.Duration
	restartSpan   time.Duration // first UpdateService sent to last answered
	window        fleet.Window
	counts        report.Counts
	calls         map[string]int64
	throttled     int64
	// peak is the busiest 10 seconds of each bucket, per second, and
	// bucket its refill rate, both at the scale.
	peak, bucket map[string]float64
}

// busiestBuckets are the buckets the night draws from, with an action of
// each for its refill rate.
var busiestBuckets = map[string]string{
	"cluster-read": "ListClusters", "service-read": "DescribeServices", "service-modify": "UpdateService",
	"tag-modify": "TagResource", "service-deployment": "ListServiceDeployments",
}

// benchBusiest finds the account and Region with the most restarts of the
// fleet that cfg generates (every service restarted: --enrollment all)
// and runs that account's whole night with `restartctl run --no-wait` at
// the engine's default bucket share, fleetsim's buckets and the engine's
// limits both multiplied by scale so that it takes seconds, not half an
// hour. Its restarts, times scale, are what the same night takes of the
// window at AWS's own rates.
func benchBusiest(ctx context.Context, exe, ddb string, cfg fleetsim.Config, latency time.Duration, scale float64) (busiestResult, error) {
	all, err := fleetsim.Generate(fleetsim.GenerateConfig{Seed: cfg.Seed, Accounts: cfg.Accounts, Clusters: cfg.Clusters, Services: cfg.Services})
	if err != nil {
		return busiestResult{}, fmt.Errorf("bench busiest: %w", err)
	}
	perPair := map[string]int{}
	for _, s := range fleet.Classify(all, fleet.EnrollAll).Eligible {
		perPair[s.Account+"/"+s.Region]++
	}
	pairs := make([]string, 0, len(perPair))
	for p := range perPair {
		pairs = append(pairs, p)
	}
	sort.Slice(pairs, func(i, j int) bool {
		return perPair[pairs[i]] > perPair[pairs[j]] || (perPair[pairs[i]] == perPair[pairs[j]] && pairs[i] < pairs[j])
	})
	busiest := pairs[0]
	acct, region, _ := strings.Cut(busiest, "/")
	var mine []fleet.Service
	for _, s := range all {
		if s.Account == acct && s.Region == region {
			mine = append(mine, s)
		}
	}
	one := fleetsim.Config{Seed: cfg.Seed, Fleet: mine, Regions: []string{region}, ThrottleScale: scale,
		DeployTime: 3 * time.Second, DeployJitter: 0.5}
	f, err := startFleet(one, latency)
	if err != nil {
		return busiestResult{}, fmt.Errorf("bench busiest: %w", err)
	}
	defer f.close()
	// The engine's defaults: no --update-rate, no --bucket-share.
	args := append([]string{"run", "--no-wait", "--json", "--enrollment", "all", "--outside-window", "--verify-timeout", "30s"},
		engineArgs(f, ddb, fmt.Sprintf("bench-busiest-%d", time.Now().UnixNano()), scale, 0, 0)...)
	c, err := runChild(ctx, exe, args...)
	if err != nil {
		return busiestResult{}, fmt.Errorf("bench busiest: %w", err)
	}
	var out struct{ engine.RunResult }
	if err := json.Unmarshal(c.stdout, &out); err != nil {
		return busiestResult{}, fmt.Errorf("bench busiest: the run's output: %w", err)
	}
	st := f.sim.Stats()
	calls, throttled := f.calls()
	r := busiestResult{
		fleetServices: len(all), pair: busiest, services: len(mine), restarted: out.Summary.Counts.Restarted, scale: scale,
		wall: c.wall, restartSpan: f.span("UpdateService"), window: fleet.DefaultWindow(), counts: out.Summary.Counts,
		calls: calls, throttled: sum(throttled), peak: st.PeakRate10s[busiest], bucket: map[string]float64{},
	}
	limits := fleetsim.ThrottleLimits()
	for cat, op := range busiestBuckets {
		r.bucket[cat] = limits[op][1] * scale
	}
	return r, nil
}

// atAWS is a duration of the scaled night at AWS's own rates.
func (r busiestResult) atAWS(d time.Duration) time.Duration {
	return time.Duration(float64(d) * r.scale)
}

// windowShare is the part of the window's restart time (its length less
// the verify reserve) that the busiest account's restarts take at AWS's
// rates.
func (r busiestResult) windowShare() float64 {
	return float64(r.atAWS(r.restartSpan)) / float64(r.window.Length-r.window.VerifyReserve)
}

// underHalf reports whether every bucket's busiest 10 seconds stayed
// within the default share of its refill rate.
func (r busiestResult) underHalf() bool {
	for cat, b := range r.bucket {
		if r.peak[cat] > awsfleet.DefaultBucketShare*b {
			return false
		}
	}
	return true
}

func (r busiestResult) print(w io.Writer) {
	fmt.Fprintf(w, "busiest account and Region of the %d-service fleet, %s (%d services, %d restarted), at the default share of ECS's buckets (%.0f%%), buckets and limits x%g:\n",
		r.fleetServices, r.pair, r.services, r.restarted, 100*awsfleet.DefaultBucketShare, r.scale)
	fmt.Fprintf(w, "  restarts %.2fs (first UpdateService to last answer), %s at AWS's rates: %.1f%% of the window's %s of batch starts (%s with the verify reserve); the whole run %.2fs (%s scaled back, an upper bound)\n",
		r.restartSpan.Seconds(), r.atAWS(r.restartSpan).Round(time.Second), 100*r.windowShare(), r.window.Length-r.window.VerifyReserve, r.window.Length,
		r.wall.Seconds(), r.atAWS(r.wall).Round(time.Second))
	fmt.Fprintf(w, "  busiest 10 seconds of each bucket against half its refill (calls/s, both x%g):", r.scale)
	for _, cat := range []string{"service-modify", "service-read", "tag-modify", "service-deployment", "cluster-read"} {
		fmt.Fprintf(w, " %s %.1f of %.1f;", cat, r.peak[cat], awsfleet.DefaultBucketShare*r.bucket[cat])
	}
	fmt.Fprintf(w, " throttled %d, completed %d, failed %d, not started %d\n", r.throttled, r.counts.Completed, r.counts.Failed, r.counts.NotStarted)
	fmt.Fprintf(w, "  calls: %s\n", callList(r.calls))
}

func (r busiestResult) keyValues() []string {
	kv := []string{
		fmt.Sprintf("busiest_pair=%s", r.pair),
		fmt.Sprintf("busiest_services=%d", r.services),
		fmt.Sprintf("busiest_restarted=%d", r.restarted),
		fmt.Sprintf("busiest_scale=%g", r.scale),
		fmt.Sprintf("busiest_restart_s=%.2f", r.restartSpan.Seconds()),
		fmt.Sprintf("busiest_restart_at_aws_s=%.0f", r.atAWS(r.restartSpan).Seconds()),
		fmt.Sprintf("busiest_window_pct=%.1f", 100*r.windowShare()),
		fmt.Sprintf("busiest_wall_s=%.2f", r.wall.Seconds()),
		fmt.Sprintf("busiest_throttled=%d", r.throttled),
	}
	for _, cat := range []string{"service-modify", "service-read", "tag-modify", "service-deployment"} {
		kv = append(kv, fmt.Sprintf("busiest_peak_%s_pct_of_bucket=%.0f", strings.ReplaceAll(cat, "-", "_"), 100*r.peak[cat]/r.bucket[cat]))
	}
	return kv
}
