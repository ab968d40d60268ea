package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
)

// Seed scale of the fleet the benchmark discovers; --scales multiplies it.
const (
	seedAccounts = 50
	seedClusters = 1000
	seedServices = 10000
)

// Page sizes of the ECS list and describe calls (ECS API Reference:
// ListClusters and ListServices return at most 100 ARNs a page,
// DescribeServices takes at most 10 services).
const (
	listPage     = 100
	describePage = 10
)

// cmdBench measures the restart at scale against fleetsim (ECS's
// documented per-account buckets, a per-call latency) and prints each
// measurement beside the lower bound those buckets allow; the last line is
// the same as key=value pairs.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	latency := fs.Duration("latency", 20*time.Millisecond, "latency added to every ECS call")
	scalesFlag := fs.String("scales", "1,10", "fleet sizes to discover, as multiples of the seed's (50 accounts, 1000 clusters, 10,000 services)")
	seed := fs.Int64("seed", 1, "fleet generation seed")
	naive := fs.Bool("naive", true, "also run the naive baseline at the first scale (one account, one call at a time, tags per service), alongside the rest")
	updateRate := fs.Float64("update-rate", awsfleet.LimitsAt(1).Modify.PerSecond, "UpdateService calls per second per account and Region for the discovery and night measurements (as run's --update-rate)")
	share := fs.Float64("bucket-share", 1, "the part of each ECS bucket the discovery and night measurements take (as run's --bucket-share): the whole bucket, where their lower bounds are")
	busiest := fs.Bool("busiest", true, "the night of the busiest account and Region of the 10x fleet at the engine's default share, scaled back to AWS's rates: how much of the window it takes")
	busiestScale := fs.Float64("busiest-scale", 20, "multiply ECS's buckets and the engine's limits by this for the busiest account's night (its restarts take 1/N of their time at AWS's rates)")
	nightScale := fs.Int("night", 1, "fleet size of the whole night run with --no-wait (0: skip)")
	nightBuckets := fs.Float64("night-buckets", 1, "multiply ECS's buckets and the engine's limits by this for the night (its restarts take as long as the busiest account's bucket needs: minutes at 1)")
	fit := fs.Bool("fit", true, "the window-fit case: slow deployments observed by verify, and the clusters the plan says do not fit")
	planServices := fs.Int("plan-services", 100_000, "services in the inventory `restartctl plan` is timed on, end to end (0: skip)")
	alongside := fs.String("alongside", "", "a shell `COMMAND` run while the night and the naive script run (they wait on buckets, not on the CPU), such as scripts/nightcost.sh; its output is printed before the bench's, and its last line, key=value pairs, joins the bench's last line")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	scales, err := parseScales(*scalesFlag)
	if err != nil {
		return flagError(fs, stderr, "--scales %q: %v", *scalesFlag, err)
	}
	if *latency < 0 {
		return flagError(fs, stderr, "--latency must not be negative, got %s", *latency)
	}
	if *updateRate <= 0 || *updateRate > setup.MaxUpdateRate {
		return flagError(fs, stderr, "--update-rate %v: want more than 0 and at most %d", *updateRate, setup.MaxUpdateRate)
	}
	if *nightScale < 0 || *nightBuckets < 1 {
		return flagError(fs, stderr, "--night must be 0 or more and --night-buckets at least 1")
	}
	ddb, err := testenv.TryDynamoDB()
	if err != nil {
		return fmt.Errorf("bench needs a local DynamoDB (dynalite): %w; run `npm ci` at the repository root or set DYNAMODB_ENDPOINT", err)
	}
	defer testenv.Cleanup()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	fleetAt := func(scale int) fleetsim.Config {
		return fleetsim.Config{Seed: *seed, Accounts: seedAccounts * scale, Clusters: seedClusters * scale, Services: seedServices * scale}
	}
	if *share <= 0 || *share > 1 || *busiestScale < 1 {
		return flagError(fs, stderr, "--bucket-share must be above 0 and at most 1, --busiest-scale at least 1")
	}
	limits := awsfleet.LimitsAt(*share).WithUpdateRate(*updateRate)
	var r benchReport
	r.latency, r.limits = *latency, limits

	// The naive script waits on latency and buckets, one call at a time,
	// not on the CPU: it runs alongside the rest, on its own copy of the
	// fleet.
	var bg sync.WaitGroup
	var naiveErr error
	if *naive {
		bg.Add(1)
		go func() {
			defer bg.Done()
			nv, err := benchNaive(ctx, fleetAt(scales[0]), *latency)
			r.naive, naiveErr = &nv, err
		}()
	}
	for _, scale := range scales {
		d, err := benchDiscover(ctx, exe, ddb, fleetAt(scale), scale, *latency, limits, *updateRate, *share)
		if err != nil {
			return err
		}
		r.discover = append(r.discover, d)
		fmt.Fprintf(stderr, "bench: discovery at %dx: %.2fs (lower bound %.2fs); the step %.2fs\n", scale, d.ecsOnly.Seconds(), d.lower.Seconds(), d.wall.Seconds())
	}
	if *planServices > 0 {
		p, err := benchPlan(ctx, *seed, *planServices)
		if err != nil {
			return err
		}
		r.plan = &p
	}
	if *fit {
		fr, err := benchFit(ctx, *seed)
		if err != nil {
			return err
		}
		r.fit = &fr
	}
	// The CPU-bound measurements are done: what is left waits on buckets.
	var side *exec.Cmd
	var sideOut bytes.Buffer
	if *alongside != "" {
		side = exec.CommandContext(ctx, "bash", "-c", *alongside)
		side.Stdout, side.Stderr = &sideOut, stderr
		// Its own process group, so that what it starts (a local fleet,
		// dynalite) goes with it when the bench stops early.
		side.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := side.Start(); err != nil {
			return fmt.Errorf("bench --alongside: %w", err)
		}
		defer func() {
			if side.ProcessState == nil {
				_ = syscall.Kill(-side.Process.Pid, syscall.SIGTERM)
				_ = side.Wait()
			}
		}()
	}
	if *nightScale > 0 {
		n, err := benchNight(ctx, exe, ddb, fleetAt(*nightScale), *latency, *nightBuckets, *updateRate, *share)
		if err != nil {
			return err
		}
		r.night = &n
		fmt.Fprintf(stderr, "bench: night of %d services: %.2fs\n", n.services, n.wall.Seconds())
	}
	if *busiest {
		b, err := benchBusiest(ctx, exe, ddb, fleetAt(10), *latency, *busiestScale)
		if err != nil {
			return err
		}
		r.busiest = &b
		fmt.Fprintf(stderr, "bench: the busiest 10x account's night at the default share: %.2fs (x%g)\n", b.wall.Seconds(), b.scale)
	}
	var extra []string
	if side != nil {
		if err := side.Wait(); err != nil {
			return fmt.Errorf("bench --alongside %q: %w", *alongside, err)
		}
		lines := strings.Split(strings.TrimRight(sideOut.String(), "\n"), "\n")
		extra = strings.Fields(lines[len(lines)-1])
		for _, kv := range extra {
			if !strings.Contains(kv, "=") {
				return fmt.Errorf("bench --alongside %q: its last line is not key=value pairs: %q", *alongside, lines[len(lines)-1])
			}
		}
		fmt.Fprintln(stdout, strings.Join(lines[:len(lines)-1], "\n"))
		fmt.Fprintln(stdout)
	}
	bg.Wait()
	if naiveErr != nil {
		return naiveErr
	}
	r.print(stdout, extra)
	return nil
}

// parseScales reads "1,10".
func parseScales(v string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("want multiples of the seed fleet of 1 or more, comma separated, such as 1,10")
		}
		out = append(out, n)
	}
	return out, nil
}

// planResult is `restartctl plan` of a generated inventory.
type planResult struct {
	services  int
	endToEnd  time.Duration // a new process: start, read the JSON, plan, write the JSON
	planning  time.Duration // fleet.PlanNight alone, in this process
	batches   int
	planBytes int64
}

// benchPlan writes an inventory of n services (n/10 clusters, n/200
// accounts, as the seed's fleet) and times `restartctl plan` on it as a new
// process, then the planning alone. Both are the median of several runs:
// on a shared machine one run measures the neighbours as much as the plan.
func benchPlan(ctx context.Context, seed int64, n int) (planResult, error) {
	const processRuns, planRuns = 3, 5
	services, err := fleetsim.Generate(fleetsim.GenerateConfig{Seed: seed, Accounts: max(1, n/200), Clusters: max(1, n/10), Services: n})
	if err != nil {
		return planResult{}, fmt.Errorf("bench plan: %w", err)
	}
	dir, err := os.MkdirTemp("", "restartctl-bench")
	if err != nil {
		return planResult{}, fmt.Errorf("bench plan: %w", err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "inventory.json"), filepath.Join(dir, "plan.json")
	b, err := json.Marshal(services)
	if err != nil {
		return planResult{}, fmt.Errorf("bench plan: %w", err)
	}
	if err := os.WriteFile(in, b, 0o600); err != nil {
		return planResult{}, fmt.Errorf("bench plan: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return planResult{}, fmt.Errorf("bench plan: %w", err)
	}
	var endToEnd []time.Duration
	var planBytes int64
	for range processRuns {
		f, err := os.Create(out)
		if err != nil {
			return planResult{}, fmt.Errorf("bench plan: %w", err)
		}
		cmd := exec.CommandContext(ctx, exe, "plan", "--inventory", in, "--enrollment", "all")
		cmd.Stdout = f
		cmd.Stderr = os.Stderr
		start := time.Now()
		err = cmd.Run()
		endToEnd = append(endToEnd, time.Since(start))
		if err == nil {
			var st os.FileInfo
			st, err = f.Stat()
			if st != nil {
				planBytes = st.Size()
			}
		}
		f.Close()
		if err != nil {
			return planResult{}, fmt.Errorf("bench plan: %s plan: %w", exe, err)
		}
	}
	var planning []time.Duration
	var plan fleet.Plan
	for range planRuns {
		start := time.Now()
		plan, err = fleet.PlanNight(services, fleet.EnrollAll, fleet.DefaultWindow())
		planning = append(planning, time.Since(start))
		if err != nil {
			return planResult{}, fmt.Errorf("bench plan: %w", err)
		}
	}
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	return planResult{services: n, endToEnd: median(endToEnd), planning: median(planning), batches: len(plan.Batches), planBytes: planBytes}, nil
}

// benchReport is everything one bench run measured.
type benchReport struct {
	latency  time.Duration
	limits   awsfleet.Limits
	discover []discoverResult
	naive    *naiveResult
	night    *nightResult
	busiest  *busiestResult
	plan     *planResult
	fit      *fitResult
}

// The targets the bench checks (issue "restart at scale").
const (
	targetDiscoverRatio = 1.2              // discovery's wall over its lower bound
	targetSpeedup       = 30               // over the naive script, seed scale
	targetStep10x       = 60 * time.Second // the discover step at 10x, end to end
	targetRSS           = 512 << 20        // the engine's peak memory at 10x
	targetBucketShare   = 0.95             // restarts: share of what the bucket allows
	targetPlanEndToEnd  = time.Second      // restartctl plan of 100,000 services
	targetPlanning      = 100 * time.Millisecond
)

func (r benchReport) print(w io.Writer, extra []string) {
	buckets := fleetsim.ThrottleLimits()
	fmt.Fprintf(w, "ECS buckets per account and Region (burst, refill/s): cluster-read %g/%g, service-read %g/%g, service-modify %g/%g, tag-read %g/%g; %s per ECS call\n",
		buckets["ListClusters"][0], buckets["ListClusters"][1], buckets["ListServices"][0], buckets["ListServices"][1],
		buckets["UpdateService"][0], buckets["UpdateService"][1], buckets["ListTagsForResource"][0], buckets["ListTagsForResource"][1], r.latency)
	l := r.limits
	fmt.Fprintf(w, "engine's limits per account and Region for discovery and the night (refill/s, burst; the busiest account's night takes the default share): cluster reads %g/%d, service reads %g/%d, UpdateService %g/%d, slowing down when throttled\n\n",
		l.ClusterRead.PerSecond, l.ClusterRead.Burst, l.ServiceRead.PerSecond, l.ServiceRead.Burst, l.Modify.PerSecond, l.Modify.Burst)

	ops := []string{"AssumeRole", "ListClusters", "ListServices", "DescribeServices", "ListTagsForResource"}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "discovery\tservices\twall\tlower bound\tratio\tpairs failed\tthrottled (retried)\t"+strings.Join(ops, "\t")+"\tpeak RSS MiB\t")
	for _, d := range r.discover {
		fmt.Fprintf(tw, "engine %dx, ECS calls alone\t%d\t%.2fs\t%.2fs\t%.2fx\t\t\t\t\t\t\t\t\t\n", d.scale, d.ecsOnlyServices, d.ecsOnly.Seconds(), d.lower.Seconds(),
			d.ecsOnly.Seconds()/d.lower.Seconds())
		row := fmt.Sprintf("discover step %dx (ECS %.2fs, then writes %.2fs)\t%d\t%.2fs\t%.2fs\t%.2fx\t%d/%d\t%d", d.scale, d.ecs, d.inventoryTail, d.services, d.wall.Seconds(), d.lower.Seconds(),
			d.wall.Seconds()/d.lower.Seconds(), d.failed, d.pairs, sum(d.throttled))
		for _, op := range ops {
			row += fmt.Sprintf("\t%d", d.calls[op])
		}
		fmt.Fprintln(tw, row+fmt.Sprintf("\t%.0f\t", mib(d.peakRSS)))
	}
	if n := r.naive; n != nil && len(r.discover) > 0 {
		d := r.discover[0]
		row := fmt.Sprintf("naive script %dx\t%d\t%.2fs\t%.2fs\t%.2fx\t%d\t%d", d.scale, n.services, n.wall.Seconds(), d.lower.Seconds(),
			n.wall.Seconds()/d.lower.Seconds(), n.failed, sum(n.throttled))
		for _, op := range ops {
			row += fmt.Sprintf("\t%d", n.calls[op])
		}
		fmt.Fprintln(tw, row+"\t\t")
	}
	tw.Flush()
	for _, d := range r.discover {
		fmt.Fprintf(w, "lower bound at %dx (%d accounts, %d clusters) decided by %s\n", d.scale, d.accounts, d.clusters, d.busiest)
	}
	if r.naive != nil && len(r.discover) > 0 {
		fmt.Fprintf(w, "speed-up over the naive script: %.1fx (the engine's ECS calls alone)\n", r.naive.wall.Seconds()/r.discover[0].ecsOnly.Seconds())
	}
	if n := r.night; n != nil {
		fmt.Fprintf(w, "\nnight with --no-wait, ECS's buckets and the engine's limits x%g: %d services, %d eligible, %d restarted in %.2fs (first UpdateService to last answer), bucket allows %.2fs for the busiest pair %s: %.0f%%\n",
			n.buckets, n.services, n.eligible, n.restarted, n.restartSpan.Seconds(), n.lower.Seconds(), n.busiest, 100*n.lower.Seconds()/n.restartSpan.Seconds())
		fmt.Fprintf(w, "  UpdateService throttled (retried) %d, restarts not started %d, deployments failed %d, in progress at the end %d; whole run %.2fs; peak RSS %.0f MiB\n",
			n.throttled["UpdateService"], n.counts.NotStarted, n.counts.Failed, n.counts.InProgress, n.wall.Seconds(), mib(n.peakRSS))
		fmt.Fprintf(w, "  calls: %s\n", callList(n.calls))
	}
	if b := r.busiest; b != nil {
		fmt.Fprintln(w)
		b.print(w)
	}
	if pl := r.plan; pl != nil {
		fmt.Fprintf(w, "\nrestartctl plan of %d services: %.2fs end to end (process, JSON in and out, %d batches, %.1f MiB out); planning alone %.3fs\n",
			pl.services, pl.endToEnd.Seconds(), pl.batches, float64(pl.planBytes)/(1<<20), pl.planning.Seconds())
	}
	if r.fit != nil {
		fmt.Fprintln(w)
		r.fit.print(w)
	}
	targets := r.targets()
	fmt.Fprintln(w, "\ntargets:")
	met := 0
	for _, t := range targets {
		mark := "NOT MET"
		if t.met {
			mark, met = "met", met+1
		}
		fmt.Fprintf(w, "  %-7s %s: %s\n", mark, t.name, t.got)
	}

	// The machine-readable line, last.
	var kv []string
	add := func(k string, format string, v any) { kv = append(kv, k+"="+fmt.Sprintf(format, v)) }
	add("latency_ms", "%d", r.latency.Milliseconds())
	for _, d := range r.discover {
		p := fmt.Sprintf("discover%dx_", d.scale)
		add(p+"services", "%d", d.services)
		add(p+"wall_s", "%.2f", d.ecsOnly.Seconds())
		add(p+"lower_bound_s", "%.2f", d.lower.Seconds())
		add(p+"ratio", "%.2f", d.ecsOnly.Seconds()/d.lower.Seconds())
		add(p+"step_s", "%.2f", d.wall.Seconds())
		add(p+"step_ecs_s", "%.2f", d.ecs)
		add(p+"writes_after_s", "%.2f", d.inventoryTail)
		add(p+"pairs_failed", "%d", d.failed)
		add(p+"throttled", "%d", sum(d.throttled))
		add(p+"peak_rss_mib", "%.0f", mib(d.peakRSS))
		for _, op := range ops {
			add(p+"calls_"+op, "%d", d.calls[op])
		}
	}
	if n := r.naive; n != nil && len(r.discover) > 0 {
		add("naive_wall_s", "%.2f", n.wall.Seconds())
		add("naive_services", "%d", n.services)
		add("naive_throttled", "%d", sum(n.throttled))
		for _, op := range ops {
			add("naive_calls_"+op, "%d", n.calls[op])
		}
		add("speedup", "%.1f", n.wall.Seconds()/r.discover[0].ecsOnly.Seconds())
	}
	if n := r.night; n != nil {
		add("night_services", "%d", n.services)
		add("night_restarted", "%d", n.restarted)
		add("night_buckets_x", "%g", n.buckets)
		add("night_restart_s", "%.2f", n.restartSpan.Seconds())
		add("night_lower_bound_s", "%.2f", n.lower.Seconds())
		add("night_bucket_pct", "%.0f", 100*n.lower.Seconds()/n.restartSpan.Seconds())
		add("night_update_throttled", "%d", n.throttled["UpdateService"])
		add("night_not_started", "%d", n.counts.NotStarted)
		add("night_wall_s", "%.2f", n.wall.Seconds())
		add("night_peak_rss_mib", "%.0f", mib(n.peakRSS))
	}
	if b := r.busiest; b != nil {
		kv = append(kv, b.keyValues()...)
	}
	if pl := r.plan; pl != nil {
		add("plan_services", "%d", pl.services)
		add("plan_end_to_end_s", "%.2f", pl.endToEnd.Seconds())
		add("plan_planning_s", "%.3f", pl.planning.Seconds())
	}
	if r.fit != nil {
		kv = append(kv, r.fit.keyValues()...)
	}
	kv = append(kv, extra...)
	add("targets_met", "%s", fmt.Sprintf("%d/%d", met, len(targets)))
	fmt.Fprintln(w, strings.Join(kv, " "))
}

// target is one of the targets, judged on this run's numbers.
type target struct {
	name, got string
	met       bool
}

func (r benchReport) targets() []target {
	var ts []target
	for _, d := range r.discover {
		ratio := d.ecsOnly.Seconds() / d.lower.Seconds()
		ts = append(ts, target{fmt.Sprintf("discovery at %dx within %.1fx of its lower bound", d.scale, targetDiscoverRatio),
			fmt.Sprintf("%.2fs vs %.2fs, %.2fx; in the step, sharing the CPU with dynalite: %.2fs, %.2fx", d.ecsOnly.Seconds(), d.lower.Seconds(), ratio, d.ecs, d.ecs/d.lower.Seconds()),
			ratio <= targetDiscoverRatio && d.ecsOnlyServices == d.services})
		if d.scale == 10 {
			ts = append(ts,
				target{"discover step at 10x under 60s end to end, DynamoDB writes included",
					fmt.Sprintf("%.2fs", d.wall.Seconds()), d.wall < targetStep10x},
				target{"engine's peak memory at 10x under 512 MiB", fmt.Sprintf("%.0f MiB", mib(d.peakRSS)), d.peakRSS < targetRSS},
				target{"no account lost at 10x", fmt.Sprintf("%d of %d pairs failed, %d services", d.failed, d.pairs, d.services), d.failed == 0 && d.services == d.clusters*10})
		}
	}
	if n := r.naive; n != nil && len(r.discover) > 0 {
		s := n.wall.Seconds() / r.discover[0].ecsOnly.Seconds()
		ts = append(ts, target{fmt.Sprintf("at least %dx faster than the naive script", targetSpeedup), fmt.Sprintf("%.1fx", s), s >= targetSpeedup})
	}
	if n := r.night; n != nil {
		share := n.lower.Seconds() / n.restartSpan.Seconds()
		ts = append(ts,
			target{"night's restarts at 95% or more of the UpdateService bucket", fmt.Sprintf("%.0f%%", 100*share), share >= targetBucketShare},
			target{"no restart of the night failed by throttling", fmt.Sprintf("%d not started", n.counts.NotStarted), n.counts.NotStarted == 0})
	}
	if b := r.busiest; b != nil {
		ts = append(ts,
			target{"the busiest 10x account's night at the default share fits the window",
				fmt.Sprintf("%s of restarts at AWS's rates, %.1f%% of the %s of batch starts", b.atAWS(b.restartSpan).Round(time.Second), 100*b.windowShare(), b.window.Length-b.window.VerifyReserve),
				b.windowShare() < 1 && b.counts.NotStarted == 0 && b.restarted == b.counts.Eligible},
			target{"at the default share no bucket's busiest 10 seconds take more than half its refill",
				fmt.Sprintf("UpdateService %.0f%%, service reads %.0f%%, TagResource %.0f%%, service deployments %.0f%%; %d throttled",
					100*b.peak["service-modify"]/b.bucket["service-modify"], 100*b.peak["service-read"]/b.bucket["service-read"],
					100*b.peak["tag-modify"]/b.bucket["tag-modify"], 100*b.peak["service-deployment"]/b.bucket["service-deployment"], b.throttled),
				b.underHalf() && b.throttled == 0})
	}
	if pl := r.plan; pl != nil {
		ts = append(ts,
			target{fmt.Sprintf("restartctl plan of %d services under 1s end to end", pl.services), fmt.Sprintf("%.2fs", pl.endToEnd.Seconds()), pl.endToEnd < targetPlanEndToEnd},
			target{"planning alone under 0.1s", fmt.Sprintf("%.3fs", pl.planning.Seconds()), pl.planning < targetPlanning})
	}
	if f := r.fit; f != nil {
		ts = append(ts, target{"window fit names exactly the clusters with slow deployments",
			fmt.Sprintf("%d named, %d made slow", len(f.report.NotFitting), len(f.slow)), f.exact()})
	}
	return ts
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// callList is "Action=N ..." sorted by action.
func callList(m map[string]int64) string {
	ops := make([]string, 0, len(m))
	for op := range m {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = fmt.Sprintf("%s=%d", op, m[op])
	}
	return strings.Join(parts, " ")
}
