package awsfleet

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// recordingECS accepts every UpdateService and records when it came.
type recordingECS struct {
	ECS
	mu    sync.Mutex
	times []time.Time
}

func (r *recordingECS) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	r.mu.Lock()
	r.times = append(r.times, time.Now())
	r.mu.Unlock()
	return &ecs.UpdateServiceOutput{Service: &types.Service{Deployments: []types.Deployment{{Id: aws.String("ecs-svc/1"), Status: aws.String("PRIMARY")}}}}, nil
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
	clients := map[string]*recordingECS{"111111111111": {}, "222222222222": {}}
	f := New(func(_ context.Context, account, _ string) (ECS, error) { return clients[account], nil },
		WithLimits(Limits{Modify: Rate{PerSecond: 50, Burst: 5}, Tag: Rate{PerSecond: 1, Burst: 1}, Read: Rate{PerSecond: 1, Burst: 1}}))
	const perAccount = 30
	start := time.Now()
	var wg sync.WaitGroup
	for account := range clients {
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
	// 5 at once, then 50/s: 25 more take 0.5s. The accounts do not share a
	// bucket, so both finish in about that time, not twice it.
	if elapsed < 450*time.Millisecond || elapsed > 900*time.Millisecond {
		t.Fatalf("60 restarts in two accounts took %v, want about 0.5s", elapsed)
	}
	for account, c := range clients {
		if len(c.times) != perAccount {
			t.Fatalf("account %s: %d calls, want %d", account, len(c.times), perAccount)
		}
		// Burst 5 plus at most ~5 refilled tokens in any 100ms.
		if n := maxInWindow(c.times, 100*time.Millisecond); n > 11 {
			t.Fatalf("account %s: %d calls within 100ms, the limiter allows about 10", account, n)
		}
	}
}

func TestDefaultLimitsStayInsideECSBuckets(t *testing.T) {
	l := DefaultLimits()
	for name, c := range map[string]struct {
		got         Rate
		burst, rate float64
	}{
		"UpdateService": {l.Modify, 50, 5},
		"TagResource":   {l.Tag, 20, 10},
		"reads":         {l.Read, 50, 20},
	} {
		if float64(c.got.Burst) >= c.burst || c.got.PerSecond >= c.rate {
			t.Errorf("%s: limit %+v is not inside ECS's bucket (burst %v, %v/s)", name, c.got, c.burst, c.rate)
		}
	}
}
