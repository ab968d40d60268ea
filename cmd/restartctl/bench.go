package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// Seed scale of the fleet the benchmark discovers; --scale multiplies it.
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

// cmdBench discovers an in-process fleetsim (AWS's documented per-account
// ECS buckets, a per-call latency) with the engine's discovery, then with a
// naive script, and prints both against the lower bound the buckets allow.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	latency := fs.Duration("latency", 20*time.Millisecond, "latency added to every ECS call")
	scale := fs.Int("scale", 1, "fleet size as a multiple of the seed's (50 accounts, 1000 clusters, 10,000 services)")
	seed := fs.Int64("seed", 1, "fleet generation seed")
	naive := fs.Bool("naive", true, "also run the naive baseline (one account, one call at a time, tags per service)")
	def := awsfleet.DefaultLimits().Read
	readRate := fs.Float64("read-rate", def.PerSecond, "the engine's ListClusters/ListServices/DescribeServices pace per account and Region (calls/s)")
	readBurst := fs.Int("read-burst", def.Burst, "the engine's burst of those calls")
	updateRate := fs.Float64("update-rate", awsfleet.DefaultLimits().Modify.PerSecond, "UpdateService calls per second per account and Region, burst ten times it (as run's --update-rate)")
	restarts := fs.Int("restarts", 200, "restarts issued with --no-wait's pacing in the fleet's largest account and Region (0: skip)")
	planServices := fs.Int("plan-services", 100_000, "services in the inventory `restartctl plan` is timed on, end to end (0: skip)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *scale < 1 {
		return flagError(fs, stderr, "--scale must be at least 1, got %d", *scale)
	}
	if *latency < 0 {
		return flagError(fs, stderr, "--latency must not be negative, got %s", *latency)
	}
	cfg := fleetsim.Config{Seed: *seed, Accounts: seedAccounts * *scale, Clusters: seedClusters * *scale, Services: seedServices * *scale}

	limits := awsfleet.DefaultLimits()
	limits.Read = awsfleet.Rate{PerSecond: *readRate, Burst: *readBurst}
	limits.Modify = awsfleet.Rate{PerSecond: *updateRate, Burst: max(1, int(10**updateRate))}
	discover := func(ctx context.Context, cfg aws.Config, sim *fleetsim.Sim) (int, int, error) {
		return engineDiscover(ctx, cfg, sim, limits)
	}
	ours, err := benchDiscovery(ctx, cfg, *latency, "engine", discover)
	if err != nil {
		return err
	}
	results := []benchResult{ours}
	if *naive {
		nv, err := benchDiscovery(ctx, cfg, *latency, "naive", naiveDiscover)
		if err != nil {
			return err
		}
		results = append(results, nv)
	}
	var rr *restartResult
	if *restarts > 0 {
		r, err := benchRestarts(ctx, cfg, *latency, limits, *restarts)
		if err != nil {
			return err
		}
		rr = &r
	}
	var pl *planResult
	if *planServices > 0 {
		p, err := benchPlan(ctx, *seed, *planServices)
		if err != nil {
			return err
		}
		pl = &p
	}
	printBench(stdout, cfg, *latency, limits, results, rr, pl)
	return nil
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

// benchResult is one discovery of the fleet.
type benchResult struct {
	name      string
	wall      time.Duration
	services  int
	failed    int
	lower     time.Duration
	busiest   string
	calls     map[string]int64
	throttled int64
	peakRSS   int64 // bytes, the process's maximum resident set so far
	heapPeak  uint64
	heapFleet uint64 // the in-process fleet's heap before discovery
}

type discoverFunc func(ctx context.Context, cfg aws.Config, sim *fleetsim.Sim) (services, failed int, err error)

func benchDiscovery(ctx context.Context, cfg fleetsim.Config, latency time.Duration, name string, discover discoverFunc) (benchResult, error) {
	sim, err := fleetsim.New(cfg)
	if err != nil {
		return benchResult{}, fmt.Errorf("bench: %w", err)
	}
	if latency > 0 {
		if err := sim.Inject(fleetsim.Fault{Kind: fleetsim.FaultLatency, Latency: latency}); err != nil {
			return benchResult{}, fmt.Errorf("bench: %w", err)
		}
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	awsCfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(sim.HubAccessKeyID(), "local", ""),
		Retryer:      awsfleet.NewRetryer(awsfleet.DefaultRetryPolicy()),
	}
	lower, busiest := discoveryLowerBound(sim.ClusterSizes(), latency)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var heapPeak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		// Sampled: the Go heap's peak during the run (the process's peak
		// RSS below also holds the in-process fleet).
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > heapPeak.Load() {
				heapPeak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	n, failed, err := discover(ctx, awsCfg, sim)
	wall := time.Since(start)
	close(stop)
	<-done
	if err != nil {
		return benchResult{}, fmt.Errorf("bench %s: %w", name, err)
	}
	st := sim.Stats()
	calls := map[string]int64{}
	for op, m := range st.Calls {
		for _, c := range m {
			calls[op] += c
		}
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return benchResult{
		name: name, wall: wall, services: n, failed: failed, lower: lower, busiest: busiest,
		calls: calls, throttled: st.TotalThrottled, peakRSS: ru.Maxrss * 1024, heapPeak: heapPeak.Load(),
		heapFleet: before.HeapAlloc,
	}, nil
}

// engineDiscover is the engine's discovery as `restartctl run` builds it:
// the default parallelism, the project's retryer, limits (the defaults
// unless --read-rate/--read-burst say otherwise).
func engineDiscover(ctx context.Context, cfg aws.Config, sim *fleetsim.Sim, limits awsfleet.Limits) (int, int, error) {
	f := awsfleet.New(awsfleet.AssumeRoleClients(cfg, awsfleet.Roles{Name: sim.RoleName(), SessionName: "bench"}), awsfleet.WithLimits(limits))
	services, results := f.Discover(ctx, sim.Accounts(), sim.Regions(), nil)
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	return len(services), failed, nil
}

// naiveDiscover is how a plain script discovers: one account and Region
// at a time, one call at a time, the tags of each service fetched with
// ListTagsForResource. It keeps the project's retryer (a script with the
// SDK's default one fails under sustained throttling, aws-sdk-go-v2 #1665)
// and no client-side pacing.
func naiveDiscover(ctx context.Context, cfg aws.Config, sim *fleetsim.Sim) (int, int, error) {
	stsClient := sts.NewFromConfig(cfg)
	n, failed := 0, 0
	for _, account := range sim.Accounts() {
		creds := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, fmt.Sprintf("arn:aws:iam::%s:role/%s", account, sim.RoleName())))
		for _, region := range sim.Regions() {
			c := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.Credentials = creds; o.Region = region })
			k, err := naivePair(ctx, c)
			n += k
			if err != nil {
				failed++
			}
		}
	}
	return n, failed, nil
}

func naivePair(ctx context.Context, c *ecs.Client) (int, error) {
	n := 0
	pc := ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{})
	for pc.HasMorePages() {
		page, err := pc.NextPage(ctx)
		if err != nil {
			return n, err
		}
		for _, cluster := range page.ClusterArns {
			ps := ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{Cluster: aws.String(cluster)})
			for ps.HasMorePages() {
				sp, err := ps.NextPage(ctx)
				if err != nil {
					return n, err
				}
				for i := 0; i < len(sp.ServiceArns); i += describePage {
					chunk := sp.ServiceArns[i:min(i+describePage, len(sp.ServiceArns))]
					d, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: chunk})
					if err != nil {
						return n, err
					}
					for _, s := range d.Services {
						if _, err := c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: s.ServiceArn}); err != nil {
							return n, err
						}
						n++
					}
				}
			}
		}
	}
	return n, nil
}

// discoveryLowerBound is the shortest time any client could discover the
// fleet in under ECS's buckets and latency: the account and Region pairs
// have their own buckets, so the busiest pair decides. In a pair,
// ListClusters pages one after another (cluster-read bucket); then every
// ListServices page and DescribeServices call draws from the service-read
// bucket, full at that moment (it cannot hold more than its burst), so the
// last of N calls is answered no sooner than (N - burst)/rate after the
// first, plus one latency; nor sooner than the longest chain of pages of
// one cluster.
func discoveryLowerBound(sizes map[string]map[string][]int, latency time.Duration) (time.Duration, string) {
	limits := fleetsim.ThrottleLimits()
	cr, sr := limits["ListClusters"], limits["ListServices"]
	lat := latency.Seconds()
	var best float64
	var busiest string
	for acct, regions := range sizes {
		for region, clusters := range regions {
			lc := max(1, ceilDiv(len(clusters), listPage))
			list := math.Max(float64(lc)*lat, math.Max(0, float64(lc)-cr[0])/cr[1]+lat)
			var n, chain int
			for _, k := range clusters {
				ls, ds := max(1, ceilDiv(k, listPage)), ceilDiv(k, describePage)
				n += ls + ds
				chain = max(chain, ls+min(ds, 1))
			}
			t := list + math.Max(float64(chain)*lat, lat+math.Max(0, float64(n)-sr[0])/sr[1])
			if t > best {
				best, busiest = t, fmt.Sprintf("%s/%s (%d clusters, %d service-read calls)", acct, region, len(clusters), n)
			}
		}
	}
	return time.Duration(best * float64(time.Second)), busiest
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func printBench(w io.Writer, cfg fleetsim.Config, latency time.Duration, limits awsfleet.Limits, rs []benchResult, rr *restartResult, pl *planResult) {
	read := limits.Read
	buckets := fleetsim.ThrottleLimits()
	fmt.Fprintf(w, "discovery of %d accounts, %d clusters, %d services (seed %d); %s per ECS call\n",
		cfg.Accounts, cfg.Clusters, cfg.Services, cfg.Seed, latency)
	fmt.Fprintf(w, "ECS buckets per account and Region (burst, refill/s): cluster-read %g/%g, service-read %g/%g, tag-read %g/%g\n",
		buckets["ListClusters"][0], buckets["ListClusters"][1], buckets["ListServices"][0], buckets["ListServices"][1],
		buckets["ListTagsForResource"][0], buckets["ListTagsForResource"][1])
	fmt.Fprintf(w, "engine's read pace per account and Region: %g/s, burst %d\n", read.PerSecond, read.Burst)
	fmt.Fprintf(w, "lower bound %s, decided by %s\n\n", rs[0].lower.Round(time.Millisecond), rs[0].busiest)
	ops := map[string]bool{}
	for _, r := range rs {
		for op := range r.calls {
			ops[op] = true
		}
	}
	opList := make([]string, 0, len(ops))
	for op := range ops {
		opList = append(opList, op)
	}
	sort.Strings(opList)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\twall\tlower bound\tratio\tservices\tpairs failed\tthrottled\t"+strings.Join(opList, "\t")+"\tpeak RSS MiB\tpeak heap MiB\tfleetsim heap MiB\t")
	for _, r := range rs {
		row := fmt.Sprintf("%s\t%.2fs\t%.2fs\t%.2fx\t%d\t%d\t%d", r.name, r.wall.Seconds(), r.lower.Seconds(),
			r.wall.Seconds()/r.lower.Seconds(), r.services, r.failed, r.throttled)
		for _, op := range opList {
			row += fmt.Sprintf("\t%d", r.calls[op])
		}
		row += fmt.Sprintf("\t%.0f\t%.0f\t%.0f\t", float64(r.peakRSS)/(1<<20), float64(r.heapPeak)/(1<<20), float64(r.heapFleet)/(1<<20))
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
	if len(rs) > 1 {
		fmt.Fprintf(w, "\nspeed-up over the naive baseline: %.1fx\n", rs[1].wall.Seconds()/rs[0].wall.Seconds())
	}
	if rr != nil {
		fmt.Fprintf(w, "restarts in %s: %d issued in %.2fs (bucket allows %.2fs: %.0f%%), %.2f/s over the second half (bucket refill %g/s, engine's pace %g/s); throttled %d, failed %d, deployments started %d\n",
			rr.pair, rr.issued, rr.wall.Seconds(), rr.lower.Seconds(), 100*rr.lower.Seconds()/rr.wall.Seconds(), rr.sustained,
			fleetsim.ThrottleLimits()["UpdateService"][1], limits.Modify.PerSecond, rr.throttled, rr.failed, rr.deployments)
	}
	if pl != nil {
		fmt.Fprintf(w, "restartctl plan of %d services: %.2fs end to end (process, JSON in and out, %d batches, %.1f MiB out); planning alone %.3fs\n",
			pl.services, pl.endToEnd.Seconds(), pl.batches, float64(pl.planBytes)/(1<<20), pl.planning.Seconds())
	}
	// The machine-readable line, last.
	kv := []string{
		fmt.Sprintf("accounts=%d", cfg.Accounts), fmt.Sprintf("clusters=%d", cfg.Clusters), fmt.Sprintf("services=%d", cfg.Services),
		fmt.Sprintf("latency_ms=%d", latency.Milliseconds()), fmt.Sprintf("lower_bound_s=%.2f", rs[0].lower.Seconds()),
	}
	for _, r := range rs {
		p := r.name + "_"
		kv = append(kv, fmt.Sprintf("%swall_s=%.2f", p, r.wall.Seconds()), fmt.Sprintf("%sratio=%.2f", p, r.wall.Seconds()/r.lower.Seconds()),
			fmt.Sprintf("%sservices=%d", p, r.services), fmt.Sprintf("%spairs_failed=%d", p, r.failed),
			fmt.Sprintf("%sthrottled=%d", p, r.throttled), fmt.Sprintf("%speak_rss_mib=%.0f", p, float64(r.peakRSS)/(1<<20)),
			fmt.Sprintf("%speak_heap_mib=%.0f", p, float64(r.heapPeak)/(1<<20)), fmt.Sprintf("%sfleetsim_heap_mib=%.0f", p, float64(r.heapFleet)/(1<<20)))
		for _, op := range opList {
			kv = append(kv, fmt.Sprintf("%scalls_%s=%d", p, op, r.calls[op]))
		}
	}
	kv = append(kv, fmt.Sprintf("read_rate=%g", read.PerSecond), fmt.Sprintf("read_burst=%d", read.Burst))
	if rr != nil {
		kv = append(kv, fmt.Sprintf("restarts=%d", rr.issued), fmt.Sprintf("restart_wall_s=%.2f", rr.wall.Seconds()),
			fmt.Sprintf("restart_lower_bound_s=%.2f", rr.lower.Seconds()), fmt.Sprintf("restart_bucket_pct=%.0f", 100*rr.lower.Seconds()/rr.wall.Seconds()),
			fmt.Sprintf("restart_sustained_per_s=%.2f", rr.sustained), fmt.Sprintf("restart_throttled=%d", rr.throttled),
			fmt.Sprintf("restart_failed=%d", rr.failed))
	}
	if pl != nil {
		kv = append(kv, fmt.Sprintf("plan_services=%d", pl.services), fmt.Sprintf("plan_end_to_end_s=%.2f", pl.endToEnd.Seconds()),
			fmt.Sprintf("plan_planning_s=%.3f", pl.planning.Seconds()))
	}
	if len(rs) > 1 {
		kv = append(kv, fmt.Sprintf("speedup=%.1f", rs[1].wall.Seconds()/rs[0].wall.Seconds()))
	}
	fmt.Fprintln(w, strings.Join(kv, " "))
}

// restartResult is a burst of restarts in one account and Region.
type restartResult struct {
	pair           string
	issued, failed int
	wall, lower    time.Duration
	sustained      float64 // restarts/s over the second half
	throttled      int64
	deployments    int
}

// benchRestarts restarts n services of the fleet's largest account and
// Region with awsfleet.Fleet.Restart, as `restartctl run --no-wait` does
// (the engine's per-account UpdateService pacing, 8 in flight per account
// and Region), without the DynamoDB claims around each one.
func benchRestarts(ctx context.Context, cfg fleetsim.Config, latency time.Duration, limits awsfleet.Limits, n int) (restartResult, error) {
	sim, err := fleetsim.New(cfg)
	if err != nil {
		return restartResult{}, fmt.Errorf("bench restarts: %w", err)
	}
	if latency > 0 {
		if err := sim.Inject(fleetsim.Fault{Kind: fleetsim.FaultLatency, Latency: latency}); err != nil {
			return restartResult{}, fmt.Errorf("bench restarts: %w", err)
		}
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	byPair := map[string][]fleet.Service{}
	var largest string
	for _, s := range sim.Inventory() {
		if s.DeploymentController != "ECS" || s.DesiredCount == 0 {
			continue
		}
		k := s.Account + "/" + s.Region
		byPair[k] = append(byPair[k], s)
		if len(byPair[k]) > len(byPair[largest]) {
			largest = k
		}
	}
	targets := byPair[largest][:min(n, len(byPair[largest]))]
	awsCfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(sim.HubAccessKeyID(), "local", ""),
		Retryer:      awsfleet.NewRetryer(awsfleet.DefaultRetryPolicy()),
	}
	f := awsfleet.New(awsfleet.AssumeRoleClients(awsCfg, awsfleet.Roles{Name: sim.RoleName(), SessionName: "bench"}), awsfleet.WithLimits(limits))
	var (
		failed atomic.Int64
		mu     sync.Mutex
		done   []time.Duration
		inner  = make(chan struct{}, 8)
		wg     sync.WaitGroup
	)
	start := time.Now()
	for _, s := range targets {
		inner <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-inner; wg.Done() }()
			_, err := f.Restart(ctx, awsfleet.Target{Account: s.Account, Region: s.Region, Cluster: s.Cluster, Service: s.Service, ARN: s.ARN, Since: time.Now()})
			if err != nil {
				failed.Add(1)
			}
			mu.Lock()
			done = append(done, time.Since(start))
			mu.Unlock()
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	sort.Slice(done, func(i, j int) bool { return done[i] < done[j] })
	half := len(done) / 2
	var sustained float64
	if d := (done[len(done)-1] - done[half]).Seconds(); d > 0 {
		sustained = float64(len(done)-1-half) / d
	}
	b := fleetsim.ThrottleLimits()["UpdateService"]
	lower := latency + time.Duration(math.Max(0, float64(len(targets))-b[0])/b[1]*float64(time.Second))
	st := sim.Stats()
	deployments := 0
	for _, m := range st.Deployments {
		for _, c := range m {
			deployments += c
		}
	}
	var throttled int64
	for _, c := range st.Throttled["UpdateService"] {
		throttled += c
	}
	return restartResult{
		pair: largest, issued: len(targets), failed: int(failed.Load()), wall: wall, lower: lower,
		sustained: sustained, throttled: throttled, deployments: deployments,
	}, nil
}
