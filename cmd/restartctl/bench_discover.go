package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// localFleet is a fleetsim served over HTTP in this process, with the
// time of every call's arrival and answer kept per action.
type localFleet struct {
	sim *fleetsim.Sim
	srv *httptest.Server

	mu    sync.Mutex
	first map[string]time.Time // action: first arrival
	last  map[string]time.Time // action: last answer
}

func startFleet(cfg fleetsim.Config, latency time.Duration) (*localFleet, error) {
	sim, err := fleetsim.New(cfg)
	if err != nil {
		return nil, err
	}
	if latency > 0 {
		if err := sim.Inject(fleetsim.Fault{Kind: fleetsim.FaultLatency, Latency: latency}); err != nil {
			return nil, err
		}
	}
	f := &localFleet{sim: sim, first: map[string]time.Time{}, last: map[string]time.Time{}}
	h := sim.Handler()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// ECS's JSON 1.1 protocol names the action in X-Amz-Target
		// ("AmazonEC2ContainerServiceV20141113.UpdateService").
		action := r.Header.Get("X-Amz-Target")
		action = action[strings.LastIndexByte(action, '.')+1:]
		now := time.Now()
		f.mu.Lock()
		if _, ok := f.first[action]; !ok && action != "" {
			f.first[action] = now
		}
		f.mu.Unlock()
		h.ServeHTTP(w, r)
		f.mu.Lock()
		f.last[action] = time.Now()
		f.mu.Unlock()
	}))
	return f, nil
}

func (f *localFleet) close() { f.srv.Close() }

// hubConfig is the hub's SDK configuration against a fleetsim at url,
// with the engine's retryer.
func hubConfig(url string, sim *fleetsim.Sim) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(sim.HubAccessKeyID(), "local", ""),
		Retryer:      awsfleet.NewRetryer(awsfleet.DefaultRetryPolicy()),
	}
}

// span is the time from the first call of action to the last answer.
func (f *localFleet) span(action string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.first[action].IsZero() {
		return 0
	}
	return f.last[action].Sub(f.first[action])
}

// calls sums the fleet's calls and throttling answers per action.
func (f *localFleet) calls() (calls, throttled map[string]int64) {
	st := f.sim.Stats()
	calls, throttled = map[string]int64{}, map[string]int64{}
	for op, m := range st.Calls {
		for _, c := range m {
			calls[op] += c
		}
	}
	for op, m := range st.Throttled {
		for _, c := range m {
			throttled[op] += c
		}
	}
	return calls, throttled
}

// child is a restartctl run as its own process: the engine alone, as the
// Lambda function runs it, its memory apart from the simulated fleet's.
type child struct {
	stdout  []byte
	wall    time.Duration
	peakRSS int64 // bytes
}

func runChild(ctx context.Context, exe string, args ...string) (child, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return child{}, fmt.Errorf("restartctl %s: %w", args[0], err)
	}
	// The peak resident set of the child's own memory, from
	// /proc/PID/status's VmHWM while it runs. Not the rusage of wait4:
	// Go starts children with vfork, and Linux carries the parent's
	// high-water mark over into the child's ru_maxrss when it execs
	// (setmax_mm_hiwater_rss in fs/exec.c), so that would count this
	// process's simulated fleet.
	var peak atomic.Int64
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if kib := vmHWM(status); kib > peak.Load() {
				peak.Store(kib)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	<-watched
	c := child{stdout: out.Bytes(), wall: time.Since(start), peakRSS: peak.Load() * 1024}
	if err != nil {
		tail := errb.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return c, fmt.Errorf("restartctl %s: %w\n%s", args[0], err, tail)
	}
	return c, nil
}

// vmHWM is the "VmHWM:" line of a /proc/PID/status file in KiB (0 when
// it cannot be read: the process has ended, or this is not Linux).
func vmHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// engineArgs are the flags that point a restartctl at the local fleet and
// DynamoDB, with tables of their own.
func engineArgs(f *localFleet, ddb, tables string, rateScale, updateRate, bucketShare float64) []string {
	args := []string{
		"--endpoint", f.srv.URL, "--accounts-from-endpoint", "--dynamodb-endpoint", ddb,
		"--inventory-table", tables + "-inventory", "--runs-table", tables + "-runs",
		"--rate-scale", strconv.FormatFloat(rateScale, 'g', -1, 64),
		"--progress=false",
	}
	// Zero: the engine's own default.
	if updateRate > 0 {
		args = append(args, "--update-rate", strconv.FormatFloat(updateRate, 'g', -1, 64))
	}
	if bucketShare > 0 {
		args = append(args, "--bucket-share", strconv.FormatFloat(bucketShare, 'g', -1, 64))
	}
	return args
}

// discoverResult is the discovery of one fleet: the engine's ECS calls
// alone, then the discover step end to end.
type discoverResult struct {
	scale                   int
	accounts, clusters      int
	ecsOnly                 time.Duration // awsfleet's discovery alone, in this process
	ecsOnlyServices         int
	services, pairs, failed int
	wall                    time.Duration // the step's process: start, STS, ECS, DynamoDB
	ecs, inventoryTail      float64       // seconds in the step: the ECS calls; the writes after them
	lower                   time.Duration
	busiest                 string
	calls, throttled        map[string]int64
	peakRSS                 int64
}

// benchDiscover discovers a fleet at ECS's own buckets twice, each time
// on a fresh copy: with the engine's discovery alone (awsfleet, as the
// step builds it, the services counted and dropped), which is what the
// buckets' lower bound is about; then with the discover step
// (`restartctl invoke discover`, the Lambda handler, its own process),
// DynamoDB writes included. On a 2-core machine the step's ECS calls
// share the CPU with dynalite writing the inventory, which real DynamoDB
// does not.
func benchDiscover(ctx context.Context, exe, ddb string, cfg fleetsim.Config, scale int, latency time.Duration, limits awsfleet.Limits, updateRate, share float64) (discoverResult, error) {
	r := discoverResult{scale: scale, accounts: cfg.Accounts, clusters: cfg.Clusters}
	alone, err := startFleet(cfg, latency)
	if err != nil {
		return r, fmt.Errorf("bench discover %dx: %w", scale, err)
	}
	r.lower, r.busiest = discoveryLowerBound(alone.sim.ClusterSizes(), latency)
	f := awsfleet.New(awsfleet.AssumeRoleClients(hubConfig(alone.srv.URL, alone.sim), awsfleet.Roles{Name: alone.sim.RoleName(), SessionName: "bench"}), awsfleet.WithLimits(limits))
	start := time.Now()
	f.DiscoverEach(ctx, alone.sim.Accounts(), alone.sim.Regions(), func(_ awsfleet.AccountResult, found []fleet.Service) {
		r.ecsOnlyServices += len(found)
	})
	r.ecsOnly = time.Since(start)
	alone.close()

	step, err := startFleet(cfg, latency)
	if err != nil {
		return r, fmt.Errorf("bench discover %dx: %w", scale, err)
	}
	defer step.close()
	args := append([]string{"invoke", "discover"}, engineArgs(step, ddb, fmt.Sprintf("bench-discover-%dx-%d", scale, time.Now().UnixNano()), 1, updateRate, share)...)
	c, err := runChild(ctx, exe, append(args, "{}")...)
	if err != nil {
		return r, fmt.Errorf("bench discover %dx: %w", scale, err)
	}
	var out engine.DiscoverOutput
	if err := json.Unmarshal(c.stdout, &out); err != nil {
		return r, fmt.Errorf("bench discover %dx: the step's output %q: %w", scale, c.stdout, err)
	}
	r.calls, r.throttled = step.calls()
	r.services, r.pairs, r.failed = out.Discovered, out.Accounts, out.AccountsFailed
	r.wall, r.ecs, r.inventoryTail, r.peakRSS = c.wall, out.DiscoverySeconds, out.InventorySeconds, c.peakRSS
	return r, nil
}

// naiveResult is the naive script's discovery.
type naiveResult struct {
	wall             time.Duration
	services, failed int
	calls, throttled map[string]int64
}

// benchNaive discovers a copy of the fleet as a plain script does (see
// naiveDiscover), in this process.
func benchNaive(ctx context.Context, cfg fleetsim.Config, latency time.Duration) (naiveResult, error) {
	f, err := startFleet(cfg, latency)
	if err != nil {
		return naiveResult{}, fmt.Errorf("bench naive: %w", err)
	}
	defer f.close()
	start := time.Now()
	n, failed := naiveDiscover(ctx, hubConfig(f.srv.URL, f.sim), f.sim)
	wall := time.Since(start)
	calls, throttled := f.calls()
	return naiveResult{wall: wall, services: n, failed: failed, calls: calls, throttled: throttled}, nil
}

// naiveDiscover is how a plain script discovers: one account and Region
// at a time, one call at a time, the tags of each service fetched with
// ListTagsForResource. It keeps the project's retryer (a script with the
// SDK's default one fails under sustained throttling, aws-sdk-go-v2 #1665)
// and no client-side pacing.
func naiveDiscover(ctx context.Context, cfg aws.Config, sim *fleetsim.Sim) (services, failed int) {
	stsClient := sts.NewFromConfig(cfg)
	for _, account := range sim.Accounts() {
		creds := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, fmt.Sprintf("arn:aws:iam::%s:role/%s", account, sim.RoleName())))
		for _, region := range sim.Regions() {
			c := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.Credentials = creds; o.Region = region })
			k, err := naivePair(ctx, c)
			services += k
			if err != nil {
				failed++
			}
		}
	}
	return services, failed
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
