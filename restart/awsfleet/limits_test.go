package awsfleet

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// recordingECS is an ECS endpoint that records when each account's
// requests arrive (the account is the access key id) and throttles every
// fourth attempt of each account.
type recordingECS struct {
	mu    sync.Mutex
	times map[string][]time.Time
}

func (r *recordingECS) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	auth := req.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	key := strings.SplitN(auth[i+len("Credential="):], "/", 2)[0]
	r.mu.Lock()
	r.times[key] = append(r.times[key], time.Now())
	throttle := len(r.times[key])%4 == 0
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if throttle {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
		return
	}
	fmt.Fprint(w, `{"service":{"deployments":[{"id":"ecs-svc/1","status":"PRIMARY"}]}}`)
}

// maxInWindow is the most calls seen in any window of length w.
func maxInWindow(ts []time.Time, w time.Duration) int {
	best := 0
	for i := range ts {
		n := 0
		for j := i; j < len(ts) && ts[j].Sub(ts[i]) < w; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

func TestRestartsArePacedPerAccountInsideTheModifyBucket(t *testing.T) {
	rec := &recordingECS{times: map[string][]time.Time{}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	retryer := NewRetryer(RetryPolicy{MaxAttempts: 5, ThrottleBase: time.Millisecond, Base: time.Millisecond, MaxBackoff: time.Millisecond})
	f := New(func(_ context.Context, account, _ string) (ECS, error) {
		return ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: retryer(),
			Credentials: credentials.NewStaticCredentialsProvider(account, "s", "")}), nil
	},
		WithLimits(Limits{Modify: Rate{PerSecond: 50, Burst: 5}, Tag: Rate{PerSecond: 1, Burst: 1}, ServiceRead: Rate{PerSecond: 1, Burst: 1}}))
	const perAccount = 30
	start := time.Now()
	var wg sync.WaitGroup
	for _, account := range []string{"111111111111", "222222222222"} {
		for range perAccount {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.Restart(t.Context(), Target{Account: account, Region: "us-east-1", Cluster: "c", Service: "s", ARN: "arn"}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	// A quarter of the attempts are throttled and retried: 30 calls make
	// about 40 attempts per account, and retries wait for the limiter like
	// first attempts: 5 at once, then 50/s, about 0.7s, plus a moment at
	// half the rate after the first throttle (the pacing adapts). The
	// accounts do not share a bucket, so both finish in that time, not
	// twice it.
	if elapsed < 600*time.Millisecond || elapsed > 2*time.Second {
		t.Fatalf("60 restarts in two accounts took %v, want about 1s", elapsed)
	}
	for account, times := range rec.times {
		if len(times) < perAccount+perAccount/4 {
			t.Fatalf("account %s: %d attempts, want the throttled ones retried", account, len(times))
		}
		// Burst 5 plus at most ~5 refilled tokens in any 100ms.
		if n := maxInWindow(times, 100*time.Millisecond); n > 11 {
			t.Fatalf("account %s: %d calls within 100ms, the limiter allows about 10", account, n)
		}
	}
}

func TestFullShareLimitsPaceAtECSBucketsWithTheirBurstsInside(t *testing.T) {
	l := LimitsAt(1)
	ecsBuckets := fleetsim.ThrottleLimits() // burst, refill per second
	for op, got := range limitsByOp(l) {
		b := ecsBuckets[op]
		if got.PerSecond != b[1] {
			t.Errorf("%s: paced at %v/s, want ECS's refill %v/s", op, got.PerSecond, b[1])
		}
		if float64(got.Burst) != b[0]-bucketMargin {
			t.Errorf("%s: burst %d, want ECS's %v less the margin of %d", op, got.Burst, b[0], bucketMargin)
		}
	}
}

func limitsByOp(l Limits) map[string]Rate {
	return map[string]Rate{
		"UpdateService":              l.Modify,
		"TagResource":                l.Tag,
		"ListClusters":               l.ClusterRead,
		"ListServices":               l.ServiceRead,
		"DescribeServices":           l.ServiceRead,
		"ListServiceDeployments":     l.History,
		"DescribeServiceDeployments": l.History,
		"DescribeServiceRevisions":   l.History,
	}
}

func TestDefaultLimitsTakeAtMostHalfOfEveryBucketOverTenSeconds(t *testing.T) {
	ecsBuckets := fleetsim.ThrottleLimits()
	for _, share := range []float64{DefaultBucketShare, 0.25, 0.8} {
		for op, got := range limitsByOp(LimitsAt(share)) {
			most := share * ecsBuckets[op][1] * 10
			if n := got.MaxPerWindow(10 * time.Second); n > most || n < 0.9*most {
				t.Errorf("share %v, %s: %v calls in 10 s (%+v), want at most and near %v", share, op, n, got, most)
			}
		}
	}
	if DefaultLimits() != LimitsAt(0.5) {
		t.Errorf("the default share is not half")
	}
}

func TestUpdateRateIsKeptOverTenSeconds(t *testing.T) {
	for _, c := range []struct {
		rate, pace float64
		burst      int
	}{{5, 5, 48}, {4, 3.6, 3}, {2.5, 2.25, 2}, {0.01, 0.009, 1}} {
		got := DefaultLimits().WithUpdateRate(c.rate).Modify
		if math.Abs(got.PerSecond-c.pace) > 1e-9 || got.Burst != c.burst {
			t.Errorf("WithUpdateRate(%v) = %+v, want %v/s burst %d", c.rate, got, c.pace, c.burst)
		}
	}
}

func TestAccountLimitsOverrideTheDefaultForTheirAccount(t *testing.T) {
	l := limiters{limits: DefaultLimits(), accounts: map[string]Limits{"222222222222": LimitsAt(0.1)}}
	if got := l.rate("222222222222", "us-east-1", limitModify); math.Abs(got-0.45) > 1e-9 {
		t.Errorf("account with its own share: %v/s", got)
	}
	if got := l.rate("333333333333", "us-east-1", limitModify); got != DefaultLimits().Modify.PerSecond {
		t.Errorf("other account: %v/s", got)
	}
}
