package fleet

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// DefaultDeploymentTime is the deployment duration the fit assumes for a
// service with no observed duration and no configured one: a rolling
// deployment of a typical service behind a load balancer (new tasks start
// and pass the health checks, old ones drain for the target group's
// deregistration delay, 300 s by default, Elastic Load Balancing's
// "Deregistration delay") takes a few minutes; 10 minutes leaves room.
const DefaultDeploymentTime = 10 * time.Minute

// DurationSource says where a service's deployment duration came from.
type DurationSource string

// The sources of a deployment duration, most specific first.
const (
	DurationObserved DurationSource = "observed"
	DurationCluster  DurationSource = "cluster"
	DurationDefault  DurationSource = "default"
)

// Durations are the deployment durations the fit assumes: a service's own
// observed duration, else its cluster's (keyed by Service.ClusterKey),
// else Default (DefaultDeploymentTime when zero).
type Durations struct {
	Service map[string]time.Duration
	Cluster map[string]time.Duration
	Default time.Duration
}

// For returns the duration assumed for s and where it came from.
func (d Durations) For(s Service) (time.Duration, DurationSource) {
	if v, ok := d.Service[s.ARN]; ok && v > 0 {
		return v, DurationObserved
	}
	if v, ok := d.Cluster[s.ClusterKey()]; ok && v > 0 {
		return v, DurationCluster
	}
	if d.Default > 0 {
		return d.Default, DurationDefault
	}
	return DefaultDeploymentTime, DurationDefault
}

// FitReport says which clusters' restarts fit the window.
type FitReport struct {
	// Clusters is how many clusters the plan restarts; Fitting of them fit.
	Clusters int `json:"clusters"`
	Fitting  int `json:"fitting"`
	// NotFitting are the clusters that do not fit, sorted by cluster.
	NotFitting []ClusterFit `json:"notFitting"`
}

// Fits reports whether every cluster fits.
func (r FitReport) Fits() bool { return len(r.NotFitting) == 0 }

// Summary is one line: "34 of 36 clusters fit the window; 2 do not".
func (r FitReport) Summary() string {
	if r.Fits() {
		return fmt.Sprintf("all %d clusters fit the window", r.Clusters)
	}
	return fmt.Sprintf("%d of %d clusters fit the window; %d do not", r.Fitting, r.Clusters, len(r.NotFitting))
}

// ClusterFit is a cluster that does not fit, with the numbers that say why.
type ClusterFit struct {
	// Cluster is "account/region/cluster".
	Cluster  string `json:"cluster"`
	Services int    `json:"services"`
	// DeploymentSeconds is the longest deployment duration assumed for
	// its services, and Source where the durations came from (the most
	// specific source among them).
	DeploymentSeconds float64        `json:"deploymentSeconds"`
	Source            DurationSource `json:"source"`
	// LastEnd is when its last deployment ends, "HH:MM" local time, and
	// AfterWindowSeconds how long after the window's end (0 when before).
	LastEnd            string  `json:"lastEnd"`
	AfterWindowSeconds float64 `json:"afterWindowSeconds"`
	// MaxDeploying is the most of its services deploying at once, first
	// reached at MaxDeployingAt ("HH:MM"), and SpreadCap the most the
	// planner puts in one batch (ceil(services/slots)+1).
	MaxDeploying   int    `json:"maxDeploying"`
	MaxDeployingAt string `json:"maxDeployingAt"`
	SpreadCap      int    `json:"spreadCap"`
	// OverCapSeconds is the longest stretch during which more than
	// SpreadCap were deploying.
	OverCapSeconds float64 `json:"overCapSeconds"`
	// Reason says it in words, with the numbers.
	Reason string `json:"reason"`
}

// SpreadTolerance is how long a cluster may have more deployments running
// than its spread cap before Fit says it does not fit: the durations are
// estimates to the minute (an observed one may include up to a check
// interval of the verifier), so a shorter excess is noise, while one of a
// minute or more means batches really overlap.
const SpreadTolerance = time.Minute

// Fit decides, for every cluster of the plan, whether its restarts fit the
// window, from the deployment durations d and the pace at which the engine
// issues restarts in one account and Region (rate UpdateService calls per
// second; no wait between them when rate <= 0).
//
// The model, which is how the engine runs a night:
//
//   - Batches run one after the other, each no earlier than its slot
//     (Batch.Offset from local midnight) and no earlier than the moment
//     the previous batch issued its last restart (the state machine runs
//     one batch at a time): begin(b) = max(Offset(b), lastIssue(b-1)).
//   - Within a batch, the services of one account and Region share that
//     account's UpdateService pace and are issued in the batch's order
//     (by ARN): the k-th of them (k = 0, 1, ...) at issue = begin(b) +
//     k/rate. The bucket's burst is not counted on, so this is the slow
//     side of the truth.
//   - A service's deployment runs from its issue to issue + its duration
//     (d.For); one that ends at the instant another starts is not running
//     with it.
//
// A cluster of k services fits when both hold:
//
//   - window: every one of its deployments ends no later than the window's
//     end (Start + Length);
//   - spread: never for SpreadTolerance or longer are more than
//     ceil(k/s)+1 of its deployments running, s being the window's slots:
//     the most that Schedule puts in one batch. A batch whose deployments
//     are still running when the cluster's next batch starts is fine as
//     long as the two together stay within that cap, or exceed it only
//     for moments (deployments as long as the batch interval overlap the
//     next batch by the issue delay: seconds); beyond it, the spread the
//     planner made is lost and
//     the cluster's capacity is drained as if the batches were one.
//
// Services of the plan missing from services are left out.
func Fit(batches []Batch, services []Service, w Window, rate float64, d Durations) FitReport {
	type span struct{ from, to time.Duration }
	type clusterState struct {
		key     string
		dur     time.Duration // of its services without their own
		src     DurationSource
		longest time.Duration
		source  DurationSource
		lastEnd time.Duration
		spans   []span
	}
	type pairID struct{ account, region string }
	type svcInfo struct {
		cluster *clusterState
		pair    int32
		dur     time.Duration // 0: the cluster's
	}
	// Each service's cluster, account and Region and duration, resolved
	// once: the batches then cost one map lookup per service.
	clusterOf := map[clusterID]*clusterState{}
	pairOf := map[pairID]int32{}
	byARN := make(map[string]svcInfo, len(services))
	var prev svcInfo
	var prevID clusterID
	for i := range services {
		s := &services[i]
		// An inventory lists a cluster's services together: the previous
		// service's cluster saves two lookups.
		id := clusterID{s.Account, s.Region, s.Cluster}
		if prev.cluster == nil || id != prevID {
			c := clusterOf[id]
			if c == nil {
				c = &clusterState{key: s.ClusterKey()}
				c.dur, c.src = d.For(Service{Account: s.Account, Region: s.Region, Cluster: s.Cluster})
				clusterOf[id] = c
			}
			p, ok := pairOf[pairID{s.Account, s.Region}]
			if !ok {
				p = int32(len(pairOf))
				pairOf[pairID{s.Account, s.Region}] = p
			}
			prev, prevID = svcInfo{cluster: c, pair: p}, id
		}
		info := svcInfo{cluster: prev.cluster, pair: prev.pair}
		if v := d.Service[s.ARN]; v > 0 {
			info.dur = v
		}
		byARN[s.ARN] = info
	}
	var order []*clusterState
	windowEnd := w.Start + w.Length
	var step time.Duration
	if rate > 0 {
		step = time.Duration(float64(time.Second) / rate)
	}
	prevLastIssue := time.Duration(math.MinInt64)
	pos := make([]int32, len(pairOf)) // restarts issued in the batch, per pair
	var touched []int32
	for _, b := range batches {
		begin := max(b.Offset, prevLastIssue)
		for _, p := range touched {
			pos[p] = 0
		}
		touched = touched[:0]
		lastIssue := begin
		for _, arn := range b.Services {
			info, ok := byARN[arn]
			if !ok {
				continue
			}
			k := pos[info.pair]
			if k == 0 {
				touched = append(touched, info.pair)
			}
			pos[info.pair] = k + 1
			issue := begin + time.Duration(k)*step
			lastIssue = max(lastIssue, issue)
			c := info.cluster
			dur, src := c.dur, c.src
			if info.dur > 0 {
				dur, src = info.dur, DurationObserved
			}
			if c.spans == nil {
				c.source = src
				order = append(order, c)
			}
			c.spans = append(c.spans, span{issue, issue + dur})
			c.longest = max(c.longest, dur)
			if sourceRank(src) < sourceRank(c.source) {
				c.source = src
			}
			c.lastEnd = max(c.lastEnd, issue+dur)
		}
		prevLastIssue = lastIssue
	}
	slots := max(1, w.Slots())
	r := FitReport{Clusters: len(order), NotFitting: []ClusterFit{}}
	type event struct {
		at    time.Duration
		delta int
	}
	var events []event
	for _, c := range order {
		k := len(c.spans)
		limit := (k+slots-1)/slots + 1
		most, mostAt, over := 0, time.Duration(0), time.Duration(0)
		if k > limit {
			events = events[:0]
			for _, sp := range c.spans {
				events = append(events, event{sp.from, 1}, event{sp.to, -1})
			}
			// Ends before starts at the same instant.
			slices.SortFunc(events, func(a, b event) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.delta, b.delta)) })
			n := 0
			var since time.Duration // when n last rose above limit
			for _, e := range events {
				n += e.delta
				if n > most {
					most, mostAt = n, e.at
				}
				switch {
				case n == limit+1 && e.delta > 0:
					since = e.at
				case n == limit && e.delta < 0:
					over = max(over, e.at-since)
				}
			}
		}
		after := c.lastEnd - windowEnd
		crowded := over >= SpreadTolerance
		if after <= 0 && !crowded {
			r.Fitting++
			continue
		}
		f := ClusterFit{
			Cluster: c.key, Services: k, DeploymentSeconds: c.longest.Seconds(), Source: c.source,
			LastEnd: clock(c.lastEnd), AfterWindowSeconds: max(0, after).Seconds(), SpreadCap: limit,
		}
		var why []string
		if after > 0 {
			why = append(why, fmt.Sprintf("the last ends %s, %s after the window", clock(c.lastEnd), roundDur(after)))
		}
		if crowded {
			f.MaxDeploying, f.MaxDeployingAt, f.OverCapSeconds = most, clock(mostAt), over.Seconds()
			why = append(why, fmt.Sprintf("%d deploy at once from %s, more than the %d its spread allows, for %s", most, clock(mostAt), limit, roundDur(over)))
		}
		f.Reason = fmt.Sprintf("%s: %d services, deployments take ~%s (%s), %s",
			c.key, k, roundDur(c.longest), c.source, strings.Join(why, "; "))
		r.NotFitting = append(r.NotFitting, f)
	}
	slices.SortFunc(r.NotFitting, func(a, b ClusterFit) int { return cmp.Compare(a.Cluster, b.Cluster) })
	return r
}

func sourceRank(s DurationSource) int {
	switch s {
	case DurationObserved:
		return 0
	case DurationCluster:
		return 1
	}
	return 2
}

// roundDur prints a duration for people: whole minutes from 10 minutes
// on, else seconds.
func roundDur(d time.Duration) string {
	if d >= 10*time.Minute {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
