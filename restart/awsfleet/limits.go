package awsfleet

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// Limits are the client-side request rates per account and Region. ECS
// throttles each account and Region with token buckets per group of actions
// ("Request throttling for the Amazon ECS API"); the limits stay a little
// inside them so that the SDK's retries are for surprises, not the rule.
type Limits struct {
	// Modify paces UpdateService: ECS allows a burst of 50 and 5/s
	// sustained; default 40 and 4/s.
	Modify Rate
	// Tag paces TagResource: ECS allows 20 and 10/s; default 15 and 8/s.
	Tag Rate
	// Read paces ListClusters, ListServices and DescribeServices: ECS
	// allows 50 (cluster reads) or 100 (service reads) and 20/s; default 40
	// and 16/s.
	Read Rate
}

// Rate is a token bucket: Burst tokens, refilled at PerSecond.
type Rate struct {
	PerSecond float64
	Burst     int
}

// DefaultLimits returns the limits described on Limits.
func DefaultLimits() Limits {
	return Limits{
		Modify: Rate{PerSecond: 4, Burst: 40},
		Tag:    Rate{PerSecond: 8, Burst: 15},
		Read:   Rate{PerSecond: 16, Burst: 40},
	}
}

// Scaled multiplies every rate by f (for a local fleet whose buckets are
// scaled the same way).
func (l Limits) Scaled(f float64) Limits {
	s := func(r Rate) Rate {
		return Rate{PerSecond: r.PerSecond * f, Burst: max(1, int(float64(r.Burst)*f))}
	}
	return Limits{Modify: s(l.Modify), Tag: s(l.Tag), Read: s(l.Read)}
}

type limitKind int

const (
	limitRead limitKind = iota
	limitModify
	limitTag
)

// limiters holds one set of rate.Limiters per account and Region. The
// process is the only caller for its accounts while it runs (the state
// machine runs one Restart at a time), so a per-process limiter is the
// account's limiter.
type limiters struct {
	limits Limits
	mu     sync.Mutex
	m      map[string]*[3]*rate.Limiter
}

func (l *limiters) wait(ctx context.Context, account, region string, kind limitKind) error {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*[3]*rate.Limiter{}
	}
	k := account + "/" + region
	set := l.m[k]
	if set == nil {
		nl := func(r Rate) *rate.Limiter { return rate.NewLimiter(rate.Limit(r.PerSecond), max(1, r.Burst)) }
		set = &[3]*rate.Limiter{nl(l.limits.Read), nl(l.limits.Modify), nl(l.limits.Tag)}
		l.m[k] = set
	}
	l.mu.Unlock()
	return set[kind].Wait(ctx)
}

// paced is a per-call option that makes every attempt of the call wait for
// the account's limiter, retries included: the limiter sits after the SDK's
// retry middleware, so a burst of retries after throttling is paced like
// first attempts instead of emptying ECS's bucket again.
func (f *Fleet) paced(account, region string, kind limitKind) func(*ecs.Options) {
	mw := middleware.FinalizeMiddlewareFunc("DailyRestartLimiter", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if err := f.limiters.wait(ctx, account, region, kind); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for the %s/%s request limiter: %w", account, region, err)
		}
		return next.HandleFinalize(ctx, in)
	})
	return func(o *ecs.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Insert(mw, "Retry", middleware.After)
		})
	}
}
