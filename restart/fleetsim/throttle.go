package fleetsim

import (
	"math"
	"time"
)

// bucketSpec is one row of ECS's throttling table: the bucket's maximum
// capacity (burst) and its refill rate per second (sustained).
type bucketSpec struct {
	Burst     float64
	PerSecond float64
}

// ecsThrottleCategories is the part of the table "Request throttling for the
// Amazon ECS API" (Amazon ECS API Reference, request-throttling.html) that
// covers the actions fleetsim serves. Every action of a category draws from
// the same bucket, per account and per Region, as ECS does.
var ecsThrottleCategories = map[string]bucketSpec{
	"cluster-read":       {Burst: 50, PerSecond: 20},  // DescribeClusters, ListClusters
	"service-read":       {Burst: 100, PerSecond: 20}, // DescribeServices, ListServices
	"service-modify":     {Burst: 50, PerSecond: 5},   // CreateService, DeleteService, UpdateService
	"service-deployment": {Burst: 50, PerSecond: 20},  // DescribeServiceDeployments, ListServiceDeployments
	"tag-modify":         {Burst: 20, PerSecond: 10},  // TagResource, UntagResource
	"tag-read":           {Burst: 50, PerSecond: 20},  // ListTagsForResource
}

// ecsOpCategory maps each served ECS action to its throttling category.
var ecsOpCategory = map[string]string{
	"ListClusters":               "cluster-read",
	"DescribeClusters":           "cluster-read",
	"ListServices":               "service-read",
	"DescribeServices":           "service-read",
	"UpdateService":              "service-modify",
	"ListServiceDeployments":     "service-deployment",
	"DescribeServiceDeployments": "service-deployment",
	// The throttling table lists the service deployment reads, not the
	// service revisions that came with them (October 2024); fleetsim
	// counts DescribeServiceRevisions against the same bucket, and the
	// engine paces it with the same limiter, so that it can never take
	// more than that bucket's share whichever bucket ECS draws it from.
	"DescribeServiceRevisions": "service-deployment",
	"TagResource":              "tag-modify",
	"UntagResource":            "tag-modify",
	"ListTagsForResource":      "tag-read",
}

// ThrottleLimits returns a copy of the ECS throttling table fleetsim
// enforces, keyed by action, as (burst, sustained per second) before any
// scaling.
func ThrottleLimits() map[string][2]float64 {
	out := make(map[string][2]float64, len(ecsOpCategory))
	for op, cat := range ecsOpCategory {
		b := ecsThrottleCategories[cat]
		out[op] = [2]float64{b.Burst, b.PerSecond}
	}
	return out
}

// bucket is a token bucket refilled lazily from the clock: no goroutine
// ticks it, the elapsed time is credited when a request arrives.
type bucket struct {
	spec   bucketSpec
	tokens float64
	last   time.Time
}

func newBucket(spec bucketSpec, now time.Time) *bucket {
	return &bucket{spec: spec, tokens: spec.Burst, last: now}
}

// take removes one token if there is one; share is the fraction of the
// refill left after the neighbours sharing the bucket took theirs (1 when
// nobody else calls). The caller holds the account lock.
func (b *bucket) take(now time.Time, share float64) bool {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(b.spec.Burst, b.tokens+dt*b.spec.PerSecond*max(share, 0))
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// scaled returns spec with both rates multiplied by f; the burst never drops
// below one request.
func (b bucketSpec) scaled(f float64) bucketSpec {
	if f <= 0 {
		f = 1
	}
	return bucketSpec{Burst: math.Max(1, math.Round(b.Burst*f)), PerSecond: b.PerSecond * f}
}

// The window of Stats.PeakRate10s: calls are counted in ticks of 100 ms
// over the last 10 seconds.
const (
	rateTick         = 100 * time.Millisecond
	rateTicks        = 100
	rateWindowLength = rateTick * rateTicks
)

// rateWindow counts the calls an account makes to one throttling bucket
// of a Region over the last 10 seconds, and keeps the most it ever held:
// the highest sustained rate over any 10-second window, which is what a
// neighbour drawing from the same bucket sees of the caller.
type rateWindow struct {
	ticks [rateTicks]int32
	head  int64 // the newest tick counted
	sum   int
	peak  int
}

// add counts one call at now. The caller holds the account lock.
func (w *rateWindow) add(now time.Time) {
	t := now.UnixNano() / int64(rateTick)
	if t > w.head {
		for i := max(w.head+1, t-rateTicks+1); i <= t; i++ {
			slot := i % rateTicks
			w.sum -= int(w.ticks[slot])
			w.ticks[slot] = 0
		}
		w.head = t
	}
	if t <= w.head-rateTicks {
		t = w.head // stamped before a call that took the lock first
	}
	w.ticks[t%rateTicks]++
	w.sum++
	w.peak = max(w.peak, w.sum)
}

// peakPerSecond is the highest number of calls in any 10-second window,
// per second.
func (w *rateWindow) peakPerSecond() float64 {
	return float64(w.peak) / rateWindowLength.Seconds()
}
