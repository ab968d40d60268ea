package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// The window-fit case: a fleet where a few clusters deploy slowly.
const (
	// fitFastDeploy is shorter than a batch interval: a cluster whose
	// deployments take this long always fits the default window (its
	// deployments of one batch end before its next batch, and the last
	// batch, at 05:30, ends minutes before 06:00).
	fitFastDeploy = 2 * time.Minute
	// fitSlowDeploy with fitSlowMinServices can never fit: a 45-minute
	// deployment is still running, for 5 minutes at least, when the four
	// batches after it have started, so any five consecutive slots of the
	// 34 may hold at most the cluster's spread cap, ceil(k/34)+1, of its k
	// services: at most 7 times that in the night, fewer than k once
	// k >= 20 (and 5 minutes is over fleet.SpreadTolerance).
	fitSlowDeploy      = 45 * time.Minute
	fitSlowMinServices = 20
	fitSlowClusters    = 3
)

// fitResult is the window-fit case of the bench: which clusters were made
// slow, how long verify saw their deployments take, and which clusters the
// plan's fit names.
type fitResult struct {
	services, clusters int
	slow               []string // the clusters given slow deployments
	// observedFast and observedSlow are the longest deployment times
	// verify observed in the other clusters and in the slow ones.
	observedFast, observedSlow time.Duration
	observed                   int // restarts whose deployment time was observed
	report                     fleet.FitReport
	wall                       time.Duration
}

// exact reports whether the fit names exactly the slow clusters.
func (r fitResult) exact() bool {
	named := make([]string, len(r.report.NotFitting))
	for i, c := range r.report.NotFitting {
		named[i] = c.Cluster
	}
	return slices.Equal(named, r.slow)
}

// benchFit restarts every eligible service of a generated fleet against
// fleetsim, where the deployments of a few large clusters take 45 minutes
// and the others' 2, watches them complete with the engine's verifier
// (awsfleet.Fleet.Check) on fleetsim's clock moved forward, plans the
// night and judges its fit from the deployment times verify observed.
// The report must name exactly the slow clusters.
func benchFit(ctx context.Context, seed int64) (fitResult, error) {
	start := time.Now()
	services, err := fleetsim.Generate(fleetsim.GenerateConfig{Seed: seed, Accounts: 10, Clusters: 60, Services: 1200})
	if err != nil {
		return fitResult{}, fmt.Errorf("bench fit: %w", err)
	}
	eligible := fleet.Classify(services, fleet.EnrollAll).Eligible
	sizes := map[string]int{}
	for _, s := range eligible {
		sizes[s.ClusterKey()]++
	}
	var big []string
	for k, n := range sizes {
		if n >= fitSlowMinServices {
			big = append(big, k)
		}
	}
	slices.Sort(big)
	if len(big) == 0 {
		return fitResult{}, fmt.Errorf("bench fit: no cluster of the generated fleet has %d services to make slow", fitSlowMinServices)
	}
	// Every len/n-th of them, so that the slow ones are spread over the
	// accounts rather than the first few.
	var slow []string
	for i := 0; i < fitSlowClusters && i < len(big); i++ {
		slow = append(slow, big[i*len(big)/min(fitSlowClusters, len(big))])
	}
	slowTimes := map[string]time.Duration{}
	for _, k := range slow {
		slowTimes[k] = fitSlowDeploy
	}

	clock := fleetsim.NewFakeClock(time.Now().Truncate(time.Second))
	sim, err := fleetsim.New(fleetsim.Config{Seed: seed, Fleet: services, DeployTime: fitFastDeploy, ClusterDeployTime: slowTimes, Clock: clock, NoThrottle: true})
	if err != nil {
		return fitResult{}, fmt.Errorf("bench fit: %w", err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	awsCfg := hubConfig(srv.URL, sim)
	// The restarts' pace is not what this case measures (the fit counts
	// the engine's default pace below): fleetsim does not throttle here, nor does
	// the client.
	fast := awsfleet.Rate{PerSecond: 10_000, Burst: 10_000}
	f := awsfleet.New(awsfleet.AssumeRoleClients(awsCfg, awsfleet.Roles{Name: sim.RoleName(), SessionName: "bench-fit"}),
		awsfleet.WithLimits(awsfleet.Limits{Modify: fast, Tag: fast, ClusterRead: fast, ServiceRead: fast, History: fast}))

	var pending []awsfleet.Target
	for _, s := range eligible {
		t := awsfleet.Target{Account: s.Account, Region: s.Region, Cluster: s.Cluster, Service: s.Service, ARN: s.ARN, Since: clock.Now()}
		dep, err := f.Restart(ctx, t)
		if err != nil {
			return fitResult{}, fmt.Errorf("bench fit: restart %s: %w", s.ARN, err)
		}
		t.DeploymentID = dep
		pending = append(pending, t)
	}
	// Watch the deployments on fleetsim's clock, five minutes at a time,
	// as the state machine's verify does between batches; the sessions
	// AssumeRole gave last an hour of that clock.
	observed := map[string]time.Duration{}
	for step := 0; len(pending) > 0; step++ {
		if step == 11 {
			return fitResult{}, fmt.Errorf("bench fit: %d deployments still running after 55 minutes", len(pending))
		}
		clock.Advance(5 * time.Minute)
		byARN := map[string]awsfleet.Target{}
		for _, t := range pending {
			byARN[t.ARN] = t
		}
		var still []awsfleet.Target
		for _, o := range f.Check(ctx, pending) {
			switch {
			case o.Err != nil:
				return fitResult{}, fmt.Errorf("bench fit: %w", o.Err)
			case o.Status == fleet.StatusCompleted:
				if o.Took <= 0 {
					return fitResult{}, fmt.Errorf("bench fit: %s completed without a deployment time", o.ARN)
				}
				observed[o.ARN] = o.Took
			case o.Status.Final():
				return fitResult{}, fmt.Errorf("bench fit: %s: %s %s", o.ARN, o.Status, o.Detail)
			default:
				still = append(still, byARN[o.ARN])
			}
		}
		pending = still
	}

	r := fitResult{services: len(eligible), clusters: len(sizes), slow: slow, observed: len(observed)}
	for _, s := range eligible {
		d := observed[s.ARN]
		if slowTimes[s.ClusterKey()] > 0 {
			r.observedSlow = max(r.observedSlow, d)
		} else {
			r.observedFast = max(r.observedFast, d)
		}
	}
	plan, err := fleet.PlanNight(services, fleet.EnrollAll, fleet.DefaultWindow())
	if err != nil {
		return fitResult{}, fmt.Errorf("bench fit: %w", err)
	}
	r.report = fleet.Fit(plan.Batches, services, fleet.DefaultWindow(), awsfleet.DefaultLimits().Modify.PerSecond,
		fleet.Durations{Service: observed, Default: fleet.DefaultDeploymentTime})
	r.wall = time.Since(start)
	return r, nil
}

// keyValues are the case's key=value pairs for the bench's last line.
func (r fitResult) keyValues() []string {
	return []string{
		fmt.Sprintf("fit_services=%d", r.services), fmt.Sprintf("fit_clusters=%d", r.clusters),
		fmt.Sprintf("fit_slow_clusters=%d", len(r.slow)), fmt.Sprintf("fit_not_fitting=%d", len(r.report.NotFitting)),
		fmt.Sprintf("fit_exact=%t", r.exact()), fmt.Sprintf("fit_observed=%d", r.observed),
		fmt.Sprintf("fit_observed_fast_s=%.0f", r.observedFast.Seconds()), fmt.Sprintf("fit_observed_slow_s=%.0f", r.observedSlow.Seconds()),
		fmt.Sprintf("fit_wall_s=%.2f", r.wall.Seconds()),
	}
}

// print writes the case for people: what was made slow, what verify saw,
// and the clusters the fit names with its reasons.
func (r fitResult) print(w io.Writer) {
	fmt.Fprintf(w, "window fit: %d services in %d clusters restarted against fleetsim; deployments take %s, %s in %s\n",
		r.services, r.clusters, fitFastDeploy, fitSlowDeploy, strings.Join(r.slow, ", "))
	fmt.Fprintf(w, "verify observed %d deployment times: longest %s in the other clusters, %s in the slow ones\n",
		r.observed, r.observedFast.Round(time.Second), r.observedSlow.Round(time.Second))
	fmt.Fprintf(w, "plan of the default window at %g restarts/s per account and Region: %s; names exactly the slow clusters: %t\n",
		awsfleet.DefaultLimits().Modify.PerSecond, r.report.Summary(), r.exact())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "cluster\tservices\tdeployment\tlast ends\tafter window\tmost at once\tspread cap\tover it for")
	for _, c := range r.report.NotFitting {
		most, after, over := "-", "-", "-"
		if c.MaxDeploying > 0 {
			most, over = fmt.Sprintf("%d from %s", c.MaxDeploying, c.MaxDeployingAt), seconds(c.OverCapSeconds).String()
		}
		if c.AfterWindowSeconds > 0 {
			after = seconds(c.AfterWindowSeconds).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\n", c.Cluster, c.Services, seconds(c.DeploymentSeconds), c.LastEnd, after, most, c.SpreadCap, over)
	}
	tw.Flush()
	for _, c := range r.report.NotFitting {
		fmt.Fprintf(w, "  %s\n", c.Reason)
	}
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Second)
}
