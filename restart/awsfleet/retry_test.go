package awsfleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// throttlingECS answers every UpdateService with ThrottlingException until
// the same service has been refused `refusals` times, then accepts it.
func throttlingECS(t *testing.T, refusals int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var (
		mu    sync.Mutex
		seen  = map[string]int{}
		calls atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var body strings.Builder
		_, _ = fmt.Fprint(&body, r.Header.Get("X-Amz-Target"))
		buf := make([]byte, 4096)
		n, _ := r.Body.Read(buf)
		key := string(buf[:n])
		mu.Lock()
		seen[key]++
		k := seen[key]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if k <= refusals {
			w.Header().Set("X-Amzn-ErrorType", "ThrottlingException")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
			return
		}
		fmt.Fprint(w, `{"service":{"serviceName":"s","status":"ACTIVE","deployments":[{"id":"ecs-svc/1","status":"PRIMARY"}]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func ecsClient(url string, retryer func() aws.Retryer) *ecs.Client {
	return ecs.New(ecs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("k", "s", ""),
		Retryer:      retryer(),
	})
}

// restartMany updates n services concurrently and returns how many failed
// and the first error.
func restartMany(c *ecs.Client, n int) (int, error) {
	var (
		wg       sync.WaitGroup
		failed   atomic.Int32
		firstErr atomic.Value
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.UpdateService(context.Background(), &ecs.UpdateServiceInput{
				Cluster: aws.String("c"), Service: aws.String(fmt.Sprintf("s%03d", i)), ForceNewDeployment: true,
			})
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
		}()
	}
	wg.Wait()
	err, _ := firstErr.Load().(error)
	return int(failed.Load()), err
}

func TestRetriesKeepGoingAfterTheDefaultRetryQuotaIsSpent(t *testing.T) {
	const services, refusals = 40, 6 // 240 throttled retries: the default quota allows 100
	fast := RetryPolicy{MaxAttempts: refusals + 2, ThrottleBase: time.Millisecond, Base: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

	// The SDK's standard retryer with the same attempts and backoff, but its
	// shared retry quota: once spent, calls fail without retrying.
	srv, _ := throttlingECS(t, refusals)
	standard := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = fast.MaxAttempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	failed, err := restartMany(ecsClient(srv.URL, standard), services)
	if failed == 0 || !strings.Contains(fmt.Sprint(err), "retry quota exceeded") {
		t.Fatalf("standard retryer: %d failed (%v); the test no longer shows the quota problem", failed, err)
	}

	srv, calls := throttlingECS(t, refusals)
	failed, err = restartMany(ecsClient(srv.URL, NewRetryer(fast)), services)
	if failed != 0 {
		t.Fatalf("%d of %d calls failed under throttling: %v", failed, services, err)
	}
	if want := int64(services * (refusals + 1)); calls.Load() != want {
		t.Fatalf("%d requests, want %d (every throttled call retried until accepted)", calls.Load(), want)
	}
}

func TestThrottledCallsGiveUpAfterMaxAttempts(t *testing.T) {
	srv, calls := throttlingECS(t, 1000)
	p := RetryPolicy{MaxAttempts: 4, ThrottleBase: time.Millisecond, Base: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	_, err := ecsClient(srv.URL, NewRetryer(p)).UpdateService(t.Context(), &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("s")})
	if err == nil || calls.Load() != 4 {
		t.Fatalf("err = %v after %d calls, want an error after 4", err, calls.Load())
	}
	if !errors.Is(classify(err), ErrNotStarted) {
		t.Fatalf("a call throttled past its retries is not classified as not started: %v", err)
	}
}

func TestThrottleBackoffStartsHigherThanOtherErrors(t *testing.T) {
	p := DefaultRetryPolicy()
	for attempt := 1; attempt <= 12; attempt++ {
		for range 50 {
			d := fullJitter(p.ThrottleBase, p.MaxBackoff, attempt)
			if d < 0 || d > p.MaxBackoff {
				t.Fatalf("attempt %d: backoff %v outside [0, %v]", attempt, d, p.MaxBackoff)
			}
		}
	}
	// The ceiling doubles from the base up to MaxBackoff.
	var maxSeen time.Duration
	for range 2000 {
		maxSeen = max(maxSeen, fullJitter(time.Second, 20*time.Second, 3))
	}
	if maxSeen < 3*time.Second || maxSeen > 4*time.Second {
		t.Fatalf("third throttled attempt backs off up to %v, want up to 4s", maxSeen)
	}
}
