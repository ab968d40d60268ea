package awsfleet

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go/middleware"
)

// Limits are the client-side request rates per account and Region. ECS
// throttles each account and Region with token buckets per group of actions
// ("Request throttling for the Amazon ECS API", Amazon ECS API Reference),
// and every caller in the account draws from the same buckets: Application
// Auto Scaling, CI, the console, the teams' own deployments. So by default
// the engine takes only a share of each bucket (DefaultBucketShare, see
// LimitsAt), and the limiters (see limiters) slow down further as soon as
// ECS throttles because someone else is drawing more.
type Limits struct {
	// Modify paces UpdateService: ECS allows a burst of 50 and 5/s.
	Modify Rate
	// Tag paces TagResource: ECS allows 20 and 10/s.
	Tag Rate
	// ClusterRead paces ListClusters: ECS allows 50 and 20/s.
	ClusterRead Rate
	// ServiceRead paces ListServices and DescribeServices: ECS allows 100
	// and 20/s.
	ServiceRead Rate
	// History paces ListServiceDeployments, DescribeServiceDeployments
	// and DescribeServiceRevisions: ECS allows 50 and 20/s for the
	// service deployment reads.
	History Rate
}

// Rate is a token bucket: Burst tokens, refilled at PerSecond.
type Rate struct {
	PerSecond float64
	Burst     int
}

// bucketMargin is how many calls short of ECS's bursts the default limits
// stay. Two calls are 100 ms of the fastest refill (20/s): more than the
// reordering of calls in flight together.
const bucketMargin = 2

// ECS's buckets per account and Region, burst and refill per second
// ("Request throttling for the Amazon ECS API").
var (
	ecsServiceModify = Rate{PerSecond: 5, Burst: 50}
	ecsTagModify     = Rate{PerSecond: 10, Burst: 20}
	ecsClusterRead   = Rate{PerSecond: 20, Burst: 50}
	ecsServiceRead   = Rate{PerSecond: 20, Burst: 100}
	ecsDeployments   = Rate{PerSecond: 20, Burst: 50}
)

// DefaultBucketShare is the part of each ECS bucket's sustained rate the
// engine takes by default: half. The busiest account of a fleet ten times
// the seed's (3,466 restarts in one account and Region) then needs about
// 26 minutes of the 6-hour window (BENCHMARKS.md), and the other half of
// every bucket stays with the account's own tools.
const DefaultBucketShare = 0.5

// paceUnder is how far under its share a limiter paces, so that its
// burst and its rate together stay inside the share over any 10 seconds
// (see LimitsAt).
const paceUnder = 0.9

// DefaultLimits returns the limits at DefaultBucketShare.
func DefaultLimits() Limits { return LimitsAt(DefaultBucketShare) }

// LimitsAt returns the limits that take share (0 < share <= 1) of each of
// ECS's buckets. At share 1 the limiters pace at the buckets' refill
// rates, their bursts bucketMargin calls short of ECS's: the night as
// short as ECS allows. Under 1, each limiter paces at paceUnder of its
// share of the refill rate with a burst of one second of that pace, so
// that its calls in any 10 seconds (burst + 10 s x rate) stay under
// share x 10 s x refill: the bucket's other part is left to the account's
// other callers, whoever they are. (Ten seconds, because a neighbour is
// crowded out by a caller's sustained rate, not by one second of it.)
func LimitsAt(share float64) Limits {
	return Limits{
		Modify:      paceAt(ecsServiceModify, share),
		Tag:         paceAt(ecsTagModify, share),
		ClusterRead: paceAt(ecsClusterRead, share),
		ServiceRead: paceAt(ecsServiceRead, share),
		History:     paceAt(ecsDeployments, share),
	}
}

// paceAt is the limiter that takes share of an ECS bucket (see LimitsAt).
func paceAt(bucket Rate, share float64) Rate {
	if share >= 1 {
		return Rate{PerSecond: bucket.PerSecond, Burst: bucket.Burst - bucketMargin}
	}
	r := paceUnder * share * bucket.PerSecond
	return Rate{PerSecond: r, Burst: max(1, int(r))}
}

// MaxPerWindow is the most calls a limiter at r lets through in any
// window of length w: its burst, then one call every 1/rate.
func (r Rate) MaxPerWindow(w time.Duration) float64 {
	return float64(r.Burst) + math.Floor(w.Seconds()*r.PerSecond)
}

// WithUpdateRate returns the limits with UpdateService kept under
// perSecond (at most ECS's 5/s) over any 10 seconds, as LimitsAt keeps a
// share: perSecond / 5 of the bucket.
func (l Limits) WithUpdateRate(perSecond float64) Limits {
	l.Modify = paceAt(ecsServiceModify, perSecond/ecsServiceModify.PerSecond)
	return l
}

// Scaled multiplies every rate by f (for a local fleet whose buckets are
// scaled the same way).
func (l Limits) Scaled(f float64) Limits {
	s := func(r Rate) Rate {
		return Rate{PerSecond: r.PerSecond * f, Burst: max(1, int(float64(r.Burst)*f))}
	}
	return Limits{Modify: s(l.Modify), Tag: s(l.Tag), ClusterRead: s(l.ClusterRead), ServiceRead: s(l.ServiceRead), History: s(l.History)}
}

type limitKind int

const (
	limitServiceRead limitKind = iota
	limitClusterRead
	limitModify
	limitTag
	limitHistory
	limitKinds
)

// limiters holds one adaptive limiter per account, Region and ECS bucket.
// The process is the only caller the engine has for its accounts while it
// runs (the state machine runs one Restart at a time), but not the only
// caller in them: Application Auto Scaling, CI and people draw from the
// same ECS buckets. So the limits are a ceiling, and each limiter slows
// down when ECS throttles and climbs back while it does not.
//
// Why not aws-sdk-go-v2's own client-side rate limiting
// (retry.NewAdaptiveMode)? It keeps one token bucket per client, while ECS
// throttles per group of actions: a throttled UpdateService would slow the
// DescribeServices and TagResource calls that draw from other ECS buckets.
// It starts unrestricted and only learns after the first throttle, so the
// night would open by emptying the account's bucket, neighbours' share
// included, whereas these limiters start under ECS's documented rates.
// And the SDK documents it as experimental.
type limiters struct {
	limits Limits
	// accounts overrides limits for the accounts it names.
	accounts map[string]Limits
	mu       sync.Mutex
	m        map[string]*[limitKinds]*adaptive
}

func (l *limiters) get(account, region string, kind limitKind) *adaptive {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*[limitKinds]*adaptive{}
	}
	k := account + "/" + region
	set := l.m[k]
	if set == nil {
		lim := l.limits
		if a, ok := l.accounts[account]; ok {
			lim = a
		}
		set = &[limitKinds]*adaptive{
			limitServiceRead: newAdaptive(lim.ServiceRead), limitClusterRead: newAdaptive(lim.ClusterRead),
			limitModify: newAdaptive(lim.Modify), limitTag: newAdaptive(lim.Tag), limitHistory: newAdaptive(lim.History),
		}
		l.m[k] = set
	}
	return set[kind]
}

// rate returns the rate the limiter of an account, Region and kind paces
// at now (the ceiling until ECS throttles).
func (l *limiters) rate(account, region string, kind limitKind) float64 {
	a := l.get(account, region, kind)
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// adaptive paces one ECS bucket of one account and Region: additive
// increase, multiplicative decrease, as TCP (and the SDK's adaptive mode)
// share a link they cannot see. It schedules calls by the generic cell
// rate algorithm: each call gets the next slot of a theoretical arrival
// time that advances by 1/rate per call, up to burst-1 slots early.
// Between cuts slots only move forward, so a faster rate never lets new
// calls bunch up with those already waiting; a cut voids the slots given
// out at the old rate.
type adaptive struct {
	ceiling Rate

	mu      sync.Mutex
	cur     float64   // calls per second now
	burst   int       // calls that may go at once
	tat     time.Time // theoretical arrival time of the next call
	lastCut time.Time
	cuts    int // how many times the rate was cut: voids older slots
	// recovered is set when the rate is back at the ceiling; the burst
	// comes back once no call is waiting, so that it never lets new calls
	// overtake those already scheduled.
	recovered bool
}

// Tuning of adaptive. A cut halves the rate, at most once per cutEvery so
// that the calls in flight when the bucket ran dry count as one signal;
// each success gives back 1/climbSteps of the ceiling, so a halved rate is
// restored after about climbSteps/2 successes; the rate never drops under
// floorShare of the ceiling.
const (
	cutEvery   = time.Second
	climbSteps = 20
	floorShare = 0.05
)

func newAdaptive(r Rate) *adaptive {
	return &adaptive{ceiling: r, cur: r.PerSecond, burst: max(1, r.Burst)}
}

// wait blocks until the call may go. A call that was waiting for a slot
// given out before a cut takes a new one at the new rate: the calls queued
// at the old pace would otherwise hit the empty bucket one after another.
func (a *adaptive) wait(ctx context.Context) error {
	for {
		a.mu.Lock()
		now := time.Now()
		interval := time.Duration(float64(time.Second) / a.cur)
		if a.tat.Before(now) {
			a.tat = now
			if a.recovered {
				a.burst, a.recovered = max(1, a.ceiling.Burst), false
			}
		}
		at := a.tat.Add(-time.Duration(a.burst-1) * interval)
		a.tat = a.tat.Add(interval)
		gen := a.cuts
		a.mu.Unlock()
		d := at.Sub(now)
		if d <= 0 {
			return ctx.Err()
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		a.mu.Lock()
		stale := a.cuts != gen
		a.mu.Unlock()
		if !stale {
			return nil
		}
	}
}

// throttled slows the limiter down after ECS throttled a call.
func (a *adaptive) throttled(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.lastCut) < cutEvery {
		return
	}
	a.lastCut = now
	a.cur = max(a.cur/2, a.ceiling.PerSecond*floorShare)
	a.recovered = false
	// Slots given out at the old rate are void (wait takes new ones).
	a.cuts++
	a.tat = now.Add(time.Duration(float64(time.Second) / a.cur))
	// The bucket is empty: no bursts until the rate has recovered.
	a.burst = 1
}

// succeeded lets the limiter climb back towards its ceiling.
func (a *adaptive) succeeded() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cur = min(a.ceiling.PerSecond, a.cur+a.ceiling.PerSecond/climbSteps)
	if a.cur >= a.ceiling.PerSecond && a.burst < a.ceiling.Burst {
		a.recovered = true
	}
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// paced is a per-call option that makes every attempt of the call wait for
// the account's limiter, retries included: the limiter sits after the SDK's
// retry middleware, so a burst of retries after throttling is paced like
// first attempts instead of emptying ECS's bucket again.
func (f *Fleet) paced(account, region string, kind limitKind) func(*ecs.Options) {
	a := f.limiters.get(account, region, kind)
	mw := middleware.FinalizeMiddlewareFunc("DailyRestartLimiter", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if err := a.wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for the %s/%s request limiter: %w", account, region, err)
		}
		out, md, err := next.HandleFinalize(ctx, in)
		switch {
		case err == nil:
			a.succeeded()
		case throttles.IsErrorThrottle(err).Bool():
			a.throttled(time.Now())
		}
		return out, md, err
	})
	return func(o *ecs.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Insert(mw, "Retry", middleware.After)
		})
	}
}
