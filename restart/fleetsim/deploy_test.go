package fleetsim

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func describeOne(t *testing.T, c *ecs.Client, cluster, name string) ecstypes.Service {
	t.Helper()
	out, err := c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 1 {
		t.Fatalf("describe %s: %d services, failures %+v", name, len(out.Services), out.Failures)
	}
	return out.Services[0]
}

func forceDeploy(t *testing.T, c *ecs.Client, cluster, name string) string {
	t.Helper()
	out, err := c.UpdateService(context.Background(), &ecs.UpdateServiceInput{
		Cluster: aws.String(cluster), Service: aws.String(name), ForceNewDeployment: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range out.Service.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			return aws.ToString(d.Id)
		}
	}
	t.Fatal("no PRIMARY deployment in UpdateService response")
	return ""
}

func TestForcedDeploymentCompletesAfterDeployTime(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1), DeployTime: 10 * time.Minute})
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	before := describeOne(t, c, "small", "web")
	oldID := aws.ToString(before.Deployments[0].Id)

	id := forceDeploy(t, c, "small", "web")
	if !regexp.MustCompile(`^ecs-svc/\d{19}$`).MatchString(id) || id == oldID {
		t.Fatalf("deployment id %q (old %q)", id, oldID)
	}
	s := describeOne(t, c, "small", "web")
	if len(s.Deployments) != 2 || aws.ToString(s.Deployments[0].Id) != id ||
		s.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress ||
		aws.ToString(s.Deployments[1].Status) != "ACTIVE" || aws.ToString(s.Deployments[1].Id) != oldID {
		t.Fatalf("after UpdateService: %+v", s.Deployments)
	}

	h.clock.Advance(5 * time.Minute)
	s = describeOne(t, c, "small", "web")
	if s.Deployments[0].RunningCount != 2 || s.Deployments[1].RunningCount != 2 || s.RunningCount != 4 {
		t.Fatalf("half way: new %d old %d total %d", s.Deployments[0].RunningCount, s.Deployments[1].RunningCount, s.RunningCount)
	}

	h.clock.Advance(5 * time.Minute)
	s = describeOne(t, c, "small", "web")
	if len(s.Deployments) != 1 || aws.ToString(s.Deployments[0].Id) != id ||
		s.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted || s.RunningCount != 4 || s.DesiredCount != 4 {
		t.Fatalf("after deploy time: running %d, %+v", s.RunningCount, s.Deployments)
	}
	if msg := aws.ToString(s.Events[0].Message); msg != "(service web) has reached a steady state." {
		t.Fatalf("latest event %q", msg)
	}

	// The service deployment API tells the same story.
	sds, err := c.ListServiceDeployments(context.Background(), &ecs.ListServiceDeploymentsInput{Cluster: aws.String("small"), Service: aws.String("web")})
	if err != nil || len(sds.ServiceDeployments) != 2 || sds.ServiceDeployments[0].Status != ecstypes.ServiceDeploymentStatusSuccessful {
		t.Fatalf("ListServiceDeployments: %+v, %v", sds, err)
	}
	if day := t0.Format(time.DateOnly); h.sim.Stats().UpdateService[day][serviceARN(region, memberA, "small", "web")] != 1 {
		t.Fatalf("update counts %v", h.sim.Stats().UpdateService)
	}
}

func TestDeploymentJitterIsSeededAndBounded(t *testing.T) {
	durations := func(seed int64) []time.Duration {
		sim, err := New(Config{Seed: seed, Fleet: smallFleet(20), DeployTime: time.Minute, DeployJitter: 0.5, Clock: NewFakeClock(t0)})
		if err != nil {
			t.Fatal(err)
		}
		var out []time.Duration
		for _, sv := range sim.accounts[memberA].regions[region].clusters["big"].order {
			d := sim.newDeployment(sv, sv.taskDef, t0, outcomeComplete)
			if d.duration < 30*time.Second || d.duration > 90*time.Second {
				t.Fatalf("duration %v outside 1m ± 50%%", d.duration)
			}
			out = append(out, d.duration)
		}
		return out
	}
	a, b := durations(7), durations(7)
	distinct := map[time.Duration]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different durations: %v vs %v", a[i], b[i])
		}
		distinct[a[i]] = true
	}
	if len(distinct) < 10 {
		t.Fatalf("jitter produced only %d distinct durations", len(distinct))
	}
}

func TestFailedDeploymentRollsBackLikeTheCircuitBreaker(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1), DeployTime: time.Minute})
	web := serviceARN(region, memberA, "small", "web")
	if err := h.sim.Inject(Fault{Kind: FaultDeploymentFail, Service: web, Count: 1}); err != nil {
		t.Fatal(err)
	}
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	oldID := aws.ToString(describeOne(t, c, "small", "web").Deployments[0].Id)
	id := forceDeploy(t, c, "small", "web")

	h.clock.Advance(30 * time.Second)
	s := describeOne(t, c, "small", "web")
	if s.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress || s.Deployments[0].RunningCount != 0 || s.RunningCount != 4 {
		t.Fatalf("while failing: running %d, %+v", s.RunningCount, s.Deployments)
	}

	h.clock.Advance(30 * time.Second)
	s = describeOne(t, c, "small", "web")
	if len(s.Deployments) != 3 {
		t.Fatalf("after the breaker trips: %+v", s.Deployments)
	}
	rb, failed := s.Deployments[0], s.Deployments[1]
	if aws.ToString(rb.Status) != "PRIMARY" || aws.ToString(rb.Id) == id || rb.RolloutState != ecstypes.DeploymentRolloutStateInProgress ||
		aws.ToString(failed.Id) != id || aws.ToString(failed.Status) != "ACTIVE" || failed.RolloutState != ecstypes.DeploymentRolloutStateFailed ||
		!strings.Contains(aws.ToString(failed.RolloutStateReason), "circuit breaker") {
		t.Fatalf("rollback shape: %+v", s.Deployments)
	}
	if e0, e1 := aws.ToString(s.Events[0].Message), aws.ToString(s.Events[1].Message); e0 != "(service web) rolling back to deployment "+oldID+"." ||
		e1 != "(service web) (deployment "+id+") deployment failed: tasks failed to start." {
		t.Fatalf("events %q, %q", e0, e1)
	}

	h.clock.Advance(time.Minute)
	s = describeOne(t, c, "small", "web")
	if len(s.Deployments) != 1 || aws.ToString(s.Deployments[0].Id) != aws.ToString(rb.Id) ||
		s.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted || s.RunningCount != 4 {
		t.Fatalf("after rollback: %+v", s.Deployments)
	}
	ctx := context.Background()
	sds, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("small"), Service: aws.String("web"),
		Status: []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusRollbackSuccessful}})
	if err != nil || len(sds.ServiceDeployments) != 1 {
		t.Fatalf("ListServiceDeployments: %+v, %v", sds, err)
	}
	full, err := c.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{
		ServiceDeploymentArns: []string{aws.ToString(sds.ServiceDeployments[0].ServiceDeploymentArn)}})
	if err != nil || len(full.ServiceDeployments) != 1 || full.ServiceDeployments[0].Rollback == nil ||
		full.ServiceDeployments[0].DeploymentCircuitBreaker.Status != ecstypes.ServiceDeploymentRollbackMonitorsStatusTriggered {
		t.Fatalf("DescribeServiceDeployments: %+v, %v", full, err)
	}

	// Count: 1 means the next deployment succeeds.
	id2 := forceDeploy(t, c, "small", "web")
	h.clock.Advance(time.Minute)
	if s := describeOne(t, c, "small", "web"); aws.ToString(s.Deployments[0].Id) != id2 || s.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted {
		t.Fatalf("second deployment: %+v", s.Deployments)
	}
}

func TestHungDeploymentNeverFinishes(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1), DeployTime: time.Minute})
	if err := h.sim.Inject(Fault{Kind: FaultDeploymentHang, Account: memberA}); err != nil {
		t.Fatal(err)
	}
	c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
	id := forceDeploy(t, c, "small", "web")
	h.clock.Advance(24 * time.Hour)
	s := describeOne(t, c, "small", "web")
	if aws.ToString(s.Deployments[0].Id) != id || s.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress ||
		s.Deployments[0].RunningCount != 0 || s.RunningCount != s.DesiredCount {
		t.Fatalf("a day later: running %d, %+v", s.RunningCount, s.Deployments)
	}
}

func TestServiceGoneBetweenDiscoveryAndRestart(t *testing.T) {
	for _, tc := range []struct {
		mode, updateErr string
	}{
		{"missing", "ServiceNotFoundException"},
		{"inactive", "ServiceNotActiveException"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			h := newHarness(t, Config{Fleet: smallFleet(3)})
			arn := serviceARN(region, memberA, "big", "svc-001")
			if err := h.sim.Inject(Fault{Kind: FaultServiceGone, Service: arn, Mode: tc.mode, AfterDescribe: true}); err != nil {
				t.Fatal(err)
			}
			c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
			describeOne(t, c, "big", "svc-001") // discovery sees it
			_, err := c.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("big"), Service: aws.String(arn), ForceNewDeployment: true})
			if code := apiCode(t, err); code != tc.updateErr {
				t.Fatalf("UpdateService: %s, want %s", code, tc.updateErr)
			}
			out, err := c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("big"), Services: []string{arn}})
			if err != nil {
				t.Fatal(err)
			}
			switch tc.mode {
			case "missing":
				if len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
					t.Fatalf("describe after deletion: %+v", out)
				}
			case "inactive":
				if len(out.Services) != 1 || aws.ToString(out.Services[0].Status) != "INACTIVE" {
					t.Fatalf("describe after deletion: %+v", out)
				}
			}
			for _, s := range h.sim.Inventory() {
				if s.ARN == arn {
					t.Fatal("deleted service still in the inventory")
				}
			}
		})
	}
}

func TestCallFaults(t *testing.T) {
	ctx := context.Background()
	t.Run("access denied on AssumeRole", func(t *testing.T) {
		h := newHarness(t, Config{Fleet: smallFleet(1), Faults: []Fault{{Kind: FaultAccessDenied, Account: memberB}}})
		if _, err := h.ecsFor(h.memberCreds(memberA, "run-1"), 1).ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
			t.Fatalf("account A: %v", err)
		}
		_, err := h.ecsFor(h.memberCreds(memberB, "run-1"), 1).ListClusters(ctx, &ecs.ListClustersInput{})
		if code := apiCode(t, err); code != "AccessDenied" {
			t.Fatalf("account B: %v", err)
		}
	})
	t.Run("access denied on an ECS action", func(t *testing.T) {
		h := newHarness(t, Config{Fleet: smallFleet(1), Faults: []Fault{{Kind: FaultAccessDenied, Account: memberA, Op: "UpdateService"}}})
		c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
		_, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("small"), Service: aws.String("web"), ForceNewDeployment: true})
		var ade *ecstypes.AccessDeniedException
		if !errors.As(err, &ade) {
			t.Fatalf("UpdateService: %v", err)
		}
	})
	t.Run("server errors are retried by the SDK", func(t *testing.T) {
		h := newHarness(t, Config{Fleet: smallFleet(1), Faults: []Fault{{Kind: FaultServerError, Account: memberA, Op: "ListClusters", Count: 2}}})
		c := h.ecsFor(h.memberCreds(memberA, "run-1"), 3)
		if _, err := c.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
			t.Fatalf("after two 500s the third attempt should pass: %v", err)
		}
		if n := h.sim.Stats().Calls["ListClusters"][memberA]; n != 3 {
			t.Fatalf("ListClusters calls %d, want 3", n)
		}
		c1 := h.ecsFor(h.memberCreds(memberA, "run-2"), 1)
		h.sim.Inject(Fault{Kind: FaultServerError, Op: "DescribeServices"})
		_, err := c1.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("small"), Services: []string{"web"}})
		var se *ecstypes.ServerException
		if !errors.As(err, &se) {
			t.Fatalf("DescribeServices: %v", err)
		}
	})
	t.Run("latency", func(t *testing.T) {
		h := newHarness(t, Config{Fleet: smallFleet(1), Faults: []Fault{{Kind: FaultLatency, Op: "ListClusters", Latency: 50 * time.Millisecond}}})
		c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
		start := time.Now()
		if _, err := c.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Fatalf("call took %v, want >= 50ms", d)
		}
	})
	t.Run("region disabled", func(t *testing.T) {
		h := newHarness(t, Config{Fleet: smallFleet(1), Faults: []Fault{{Kind: FaultRegionDisabled, Account: memberA, Region: region}}})
		_, err := h.ecsFor(h.memberCreds(memberA, "run-1"), 1).ListClusters(ctx, &ecs.ListClustersInput{})
		if code := apiCode(t, err); code != "UnrecognizedClientException" {
			t.Fatalf("code %s", code)
		}
	})
	t.Run("probabilistic faults are seeded", func(t *testing.T) {
		run := func() []bool {
			h := newHarness(t, Config{Seed: 3, Fleet: smallFleet(1), Faults: []Fault{{Kind: FaultThrottle, Rate: 0.5}}})
			c := h.ecsFor(h.memberCreds(memberA, "run-1"), 1)
			var hits []bool
			for range 40 {
				_, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
				hits = append(hits, err != nil)
			}
			return hits
		}
		a, b := run(), run()
		n := 0
		for i := range a {
			if a[i] != b[i] {
				t.Fatal("same seed, different throttles")
			}
			if a[i] {
				n++
			}
		}
		if n < 10 || n > 30 {
			t.Fatalf("%d of 40 calls throttled at rate 0.5", n)
		}
	})
}
