package awsfleet

import (
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// RetryPolicy is how the SDK clients retry a failed call.
type RetryPolicy struct {
	// MaxAttempts per call, the first included (default 10).
	MaxAttempts int
	// ThrottleBase is the first backoff after a throttling error; it doubles
	// per attempt up to MaxBackoff, with full jitter (default 1s: ECS
	// refills its modify bucket at 5 tokens/s, so a throttled caller has to
	// wait on the order of seconds, not milliseconds).
	ThrottleBase time.Duration
	// Base is the first backoff after another retryable error (5xx,
	// connection reset; default 100ms).
	Base time.Duration
	// MaxBackoff caps one backoff (default 20s).
	MaxBackoff time.Duration
}

// DefaultRetryPolicy is the policy used by the engine's clients: with 10
// attempts and backoffs of ~1, 2, 4, 8, 16, 20, 20, 20, 20 s (full jitter,
// so about half that on average), a call survives about a minute of
// sustained throttling before it gives up.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 10, ThrottleBase: time.Second, Base: 100 * time.Millisecond, MaxBackoff: 20 * time.Second}
}

// NewRetryer returns the retryer for the policy, for aws.Config.Retryer.
//
// The SDK's standard retryer shares a client-side "retry quota" token
// bucket (500 tokens; a retry costs 14, a throttled retry 5) across every
// call made through the client. Under sustained throttling, which is the
// normal state of a fleet-wide restart, that bucket empties and from then on
// every failed call fails at once with "retry quota exceeded" instead of
// backing off (aws/aws-sdk-go-v2 issues #1665 and #3189). Here the calls are
// already paced by per-account limiters and the throttling is expected, so
// the quota is disabled with ratelimit.None: each call retries up to
// MaxAttempts with its own backoff and the backoff alone spreads the load.
func NewRetryer(p RetryPolicy) func() aws.Retryer {
	p = p.withDefaults()
	throttles := retry.IsErrorThrottles(retry.DefaultThrottles)
	backoff := retry.BackoffDelayerFunc(func(attempt int, err error) (time.Duration, error) {
		base := p.Base
		if throttles.IsErrorThrottle(err).Bool() {
			base = p.ThrottleBase
		}
		return fullJitter(base, p.MaxBackoff, attempt), nil
	})
	return func() aws.Retryer {
		r := retry.NewStandard(func(o *retry.StandardOptions) {
			o.RateLimiter = ratelimit.None
			o.Backoff = backoff
			o.MaxBackoff = p.MaxBackoff
		})
		// An expired session is retryable: the member clients drop the
		// cached session on this answer (refreshOnExpiredToken), so the
		// retry goes out with a new one.
		return retry.AddWithMaxAttempts(retry.AddWithErrorCodes(r, ErrCodeExpiredToken), p.MaxAttempts)
	}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.ThrottleBase <= 0 {
		p.ThrottleBase = d.ThrottleBase
	}
	if p.Base <= 0 {
		p.Base = d.Base
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = d.MaxBackoff
	}
	return p
}

// fullJitter is a uniform delay in [0, min(base*2^(attempt-1), max)).
func fullJitter(base, maxDelay time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	return time.Duration(rand.Int64N(int64(d) + 1))
}
