package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
)

// updateBucket is ECS's UpdateService bucket per account and Region
// (burst, refill per second), as fleetsim enforces it.
func updateBucket() (burst, perSecond float64) {
	b := fleetsim.ThrottleLimits()["UpdateService"]
	return b[0], b[1]
}

// restartLowerBound is the shortest time n restarts in one account and
// Region can take under the bucket scaled by scale: the burst at once, the
// rest at the refill rate, plus one latency.
func restartLowerBound(n int, scale float64, latency time.Duration) time.Duration {
	burst, rate := updateBucket()
	return latency + time.Duration(math.Max(0, float64(n)-burst*scale)/(rate*scale)*float64(time.Second))
}

// nightResult is a whole night with --no-wait, end to end.
type nightResult struct {
	services, eligible, restarted int
	buckets                       float64 // ECS's buckets and the engine's limits times this
	wall                          time.Duration
	restartSpan                   time.Duration // first UpdateService sent to last answered
	lower                         time.Duration // the busiest pair's restarts under the bucket
	busiest                       string
	counts                        report.Counts
	calls, throttled              map[string]int64
	peakRSS                       int64
}

// benchNight runs `restartctl run --no-wait` (discover, plan, every batch
// back to back, verify, report) against a fleet whose buckets, and the
// engine's limits with them, are multiplied by buckets; deployments take
// a few seconds.
func benchNight(ctx context.Context, exe, ddb string, cfg fleetsim.Config, latency time.Duration, buckets, updateRate, share float64) (nightResult, error) {
	cfg.ThrottleScale = buckets
	cfg.DeployTime, cfg.DeployJitter = 3*time.Second, 0.5
	f, err := startFleet(cfg, latency)
	if err != nil {
		return nightResult{}, fmt.Errorf("bench night: %w", err)
	}
	defer f.close()
	args := append([]string{"run", "--no-wait", "--json", "--enrollment", "all", "--outside-window", "--verify-timeout", "30s"},
		engineArgs(f, ddb, fmt.Sprintf("bench-night-%d", time.Now().UnixNano()), buckets, updateRate, share)...)
	c, err := runChild(ctx, exe, args...)
	if err != nil {
		return nightResult{}, fmt.Errorf("bench night: %w", err)
	}
	var out struct {
		engine.RunResult
	}
	if err := json.Unmarshal(c.stdout, &out); err != nil {
		return nightResult{}, fmt.Errorf("bench night: the run's output: %w", err)
	}
	// Restarts per account and Region, from what the fleet accepted.
	perPair := map[string]int{}
	for _, byARN := range f.sim.Stats().UpdateService {
		for arn := range byARN {
			// arn:aws:ecs:REGION:ACCOUNT:service/...
			if p := strings.SplitN(arn, ":", 6); len(p) == 6 {
				perPair[p[4]+"/"+p[3]]++
			}
		}
	}
	var busiest string
	for k, n := range perPair {
		if n > perPair[busiest] || (n == perPair[busiest] && k < busiest) {
			busiest = k
		}
	}
	calls, throttled := f.calls()
	counts := out.Summary.Counts
	return nightResult{
		services: out.Discover.Discovered, eligible: counts.Eligible, restarted: counts.Restarted, buckets: buckets,
		wall: c.wall, restartSpan: f.span("UpdateService"),
		lower:   restartLowerBound(perPair[busiest], buckets, latency),
		busiest: fmt.Sprintf("%s (%d restarts)", busiest, perPair[busiest]),
		counts:  counts, calls: calls, throttled: throttled, peakRSS: c.peakRSS,
	}, nil
}
