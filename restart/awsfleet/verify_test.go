package awsfleet

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

func dep(id, status string, rollout types.DeploymentRolloutState, running, desired int32) types.Deployment {
	return types.Deployment{Id: aws.String(id), Status: aws.String(status), RolloutState: rollout, RunningCount: running, DesiredCount: desired, CreatedAt: aws.Time(time.Unix(100, 0))}
}

func svcWith(running, desired int32, events []string, ds ...types.Deployment) *types.Service {
	s := &types.Service{Status: aws.String("ACTIVE"), RunningCount: running, DesiredCount: desired, Deployments: ds}
	for _, e := range events {
		s.Events = append(s.Events, types.ServiceEvent{Message: aws.String(e)})
	}
	return s
}

func TestJudgeFollowsTheDeploymentItStarted(t *testing.T) {
	const mine = "ecs-svc/mine"
	for _, c := range []struct {
		name string
		svc  *types.Service
		want fleet.Status
	}{
		{"missing service", nil, fleet.StatusGone},
		{"draining service", &types.Service{Status: aws.String("DRAINING")}, fleet.StatusGone},
		{"completed with all tasks", svcWith(3, 3, nil, dep(mine, "PRIMARY", types.DeploymentRolloutStateCompleted, 3, 3)), fleet.StatusCompleted},
		{"completed but tasks missing", svcWith(0, 3, nil, dep(mine, "PRIMARY", types.DeploymentRolloutStateCompleted, 0, 3)), fleet.StatusStarted},
		{"rolling out", svcWith(3, 3, nil, dep(mine, "PRIMARY", types.DeploymentRolloutStateInProgress, 1, 3), dep("ecs-svc/old", "ACTIVE", types.DeploymentRolloutStateCompleted, 2, 3)), fleet.StatusStarted},
		{"failed, rollback running", svcWith(3, 3, nil, dep("ecs-svc/rb", "PRIMARY", types.DeploymentRolloutStateInProgress, 0, 3), dep(mine, "ACTIVE", types.DeploymentRolloutStateFailed, 0, 3)), fleet.StatusRolledBack},
		{"failed, no rollback", svcWith(0, 3, nil, dep(mine, "PRIMARY", types.DeploymentRolloutStateFailed, 0, 3)), fleet.StatusFailed},
		{"gone after failure and rollback", svcWith(3, 3, []string{
			"(service s) rolling back to deployment ecs-svc/old.",
			"(service s) (deployment " + mine + ") deployment failed: tasks failed to start.",
		}, dep("ecs-svc/rb", "PRIMARY", types.DeploymentRolloutStateCompleted, 3, 3)), fleet.StatusRolledBack},
		{"gone after completing", svcWith(3, 3, []string{"(service s) (deployment " + mine + ") deployment completed."},
			dep("ecs-svc/next", "PRIMARY", types.DeploymentRolloutStateCompleted, 3, 3)), fleet.StatusCompleted},
		// ECS keeps 100 events: their silence is no failure.
		{"gone without a trace", svcWith(3, 3, nil, dep("ecs-svc/next", "PRIMARY", types.DeploymentRolloutStateCompleted, 3, 3)), fleet.StatusStarted},
		// Behind a Classic Load Balancer there is no rolloutState.
		{"no rollout state, old deployment still there", svcWith(3, 3, nil, dep(mine, "PRIMARY", "", 1, 3), dep("ecs-svc/old", "ACTIVE", "", 2, 3)), fleet.StatusStarted},
		{"no rollout state, old deployment replaced", svcWith(3, 3, nil, dep(mine, "PRIMARY", "", 3, 3)), fleet.StatusCompleted},
		{"no rollout state, tasks missing", svcWith(2, 3, nil, dep(mine, "PRIMARY", "", 2, 3)), fleet.StatusStarted},
		{"superseded while rolling out", svcWith(3, 3, nil, dep("ecs-svc/next", "PRIMARY", types.DeploymentRolloutStateInProgress, 0, 3), dep(mine, "ACTIVE", types.DeploymentRolloutStateInProgress, 0, 3)), fleet.StatusFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Judge(c.svc, mine); got.Status != c.want {
				t.Fatalf("Judge = %s (%s), want %s", got.Status, got.Detail, c.want)
			}
		})
	}
}

func TestJudgeReportsThePrimaryForAClaimWithoutDeployment(t *testing.T) {
	o := Judge(svcWith(3, 3, nil, dep("ecs-svc/p", "PRIMARY", types.DeploymentRolloutStateInProgress, 0, 3)), "")
	if o.Status != fleet.StatusStarted || o.Primary != "ecs-svc/p" || o.PrimaryCreated.IsZero() {
		t.Fatalf("Judge = %+v, want the PRIMARY deployment reported", o)
	}
}

func TestAdaptivePacingHalvesOnThrottlingAndClimbsBack(t *testing.T) {
	var l limiters
	l.limits = LimitsAt(1)
	a := l.get("111111111111", "us-east-1", limitModify)
	now := time.Now()
	a.throttled(now)
	a.throttled(now.Add(10 * time.Millisecond)) // same episode: one cut
	if got := l.rate("111111111111", "us-east-1", limitModify); got != 2.5 {
		t.Fatalf("after throttling: %v/s, want 2.5 (half of 5)", got)
	}
	if got := l.rate("111111111111", "us-east-1", limitServiceRead); got != 20 {
		t.Fatalf("reads: %v/s, want untouched 20", got)
	}
	for range climbSteps {
		a.succeeded()
	}
	if got := l.rate("111111111111", "us-east-1", limitModify); got != 5 {
		t.Fatalf("after %d successes: %v/s, want back at 5", climbSteps, got)
	}
	for i := range 20 {
		a.throttled(now.Add(time.Duration(i+1) * cutEvery))
	}
	if got := l.rate("111111111111", "us-east-1", limitModify); got != 5*floorShare {
		t.Fatalf("after sustained throttling: %v/s, want the floor %v", got, 5*floorShare)
	}
}

func TestJudgeTakesTheDeploymentTimeFromECS(t *testing.T) {
	completed := dep("ecs-svc/mine", "PRIMARY", types.DeploymentRolloutStateCompleted, 3, 3)
	completed.UpdatedAt = aws.Time(time.Unix(100+25*60, 0))
	rolling := dep("ecs-svc/mine", "PRIMARY", types.DeploymentRolloutStateInProgress, 1, 3)
	rolling.UpdatedAt = aws.Time(time.Unix(160, 0))
	noUpdate := dep("ecs-svc/mine", "PRIMARY", types.DeploymentRolloutStateCompleted, 3, 3)
	for _, c := range []struct {
		name string
		d    types.Deployment
		want time.Duration
	}{
		{"completed: updatedAt minus createdAt", completed, 25 * time.Minute},
		{"still rolling out: nothing yet", rolling, 0},
		{"no updatedAt: unknown", noUpdate, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Judge(svcWith(3, 3, nil, c.d), "ecs-svc/mine"); got.Took != c.want {
				t.Fatalf("Took = %v, want %v (%+v)", got.Took, c.want, got)
			}
		})
	}
}
