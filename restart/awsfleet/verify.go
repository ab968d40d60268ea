package awsfleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// Observation is what a check found about one restart.
type Observation struct {
	ARN string
	// Status is final (completed, failed, rolled-back, gone) or
	// fleet.StatusStarted while the deployment is still rolling out, or
	// when the check itself failed (Err).
	Status fleet.Status
	Detail string
	// Primary and PrimaryCreated describe the service's PRIMARY
	// deployment, so that a claim without a deployment id can adopt the
	// deployment created after it.
	Primary        string
	PrimaryCreated time.Time
	// Took is how long the deployment took to complete as ECS reports it
	// (the deployment's updatedAt minus its createdAt, or the service
	// deployment's finishedAt minus its startedAt); 0 when ECS does not
	// say, or the deployment did not complete.
	Took time.Duration
	// TaskDefinition is the task definition of the restart's deployment,
	// when DescribeServices still lists it.
	TaskDefinition string
	// Err is why the service could not be checked; it is checked again
	// later.
	Err error
}

// Check describes the services of the targets (10 per DescribeServices
// call, the calls of one account and Region paced by its read limiter) and
// judges the deployment each restart started. It does not use the
// services-stable waiter: that passes with 0 tasks and after a rollback.
func (f *Fleet) Check(ctx context.Context, targets []Target) []Observation {
	var (
		mu  sync.Mutex
		out []Observation
	)
	f.byCluster(ctx, targets, func(account, region, cluster string, ts []Target) {
		var obs []Observation
		for chunk := range slices.Chunk(ts, 10) {
			obs = append(obs, f.checkChunk(ctx, account, region, cluster, chunk)...)
		}
		mu.Lock()
		out = append(out, obs...)
		mu.Unlock()
	})
	return out
}

func (f *Fleet) checkChunk(ctx context.Context, account, region, cluster string, ts []Target) []Observation {
	fail := func(err error) []Observation {
		obs := make([]Observation, len(ts))
		for i, t := range ts {
			obs[i] = Observation{ARN: t.ARN, Status: fleet.StatusStarted, Err: fmt.Errorf("check %s: %w", t.ARN, err)}
		}
		return obs
	}
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}
	client, err := f.clients(ctx, account, region)
	if err != nil {
		return fail(err)
	}
	// By name: the cluster is given, and a service with a short ARN is
	// reported under an ARN that is not its key.
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Service
	}
	d, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: names}, f.paced(account, region, limitServiceRead))
	if err != nil {
		if errors.Is(classify(err), ErrGone) {
			obs := make([]Observation, len(ts))
			for i, t := range ts {
				obs[i] = Observation{ARN: t.ARN, Status: fleet.StatusGone, Detail: "cluster no longer exists"}
			}
			return obs
		}
		return fail(err)
	}
	byName := map[string]*types.Service{}
	for i := range d.Services {
		byName[aws.ToString(d.Services[i].ServiceName)] = &d.Services[i]
	}
	obs := make([]Observation, len(ts))
	for i, t := range ts {
		o, settled := judge(byName[t.Service], t.DeploymentID)
		if !settled {
			o = f.judgeByHistory(ctx, client, account, region, cluster, t, o)
		}
		o.ARN = t.ARN
		obs[i] = o
	}
	return obs
}

// Judge decides where the deployment depID of service s stands from what
// DescribeServices shows. s is nil when DescribeServices reported the
// service missing. Where that view cannot settle it (no rolloutState, or
// the deployment no longer listed), the answer is Check's fallback:
// Check asks the service deployment history first.
func Judge(s *types.Service, depID string) Observation {
	o, _ := judge(s, depID)
	return o
}

// judge is Judge, and whether DescribeServices settles the question. The
// deployment's rolloutState does when ECS returns it; it does not for
// services behind a Classic Load Balancer ("The rolloutState of a service
// is only returned for services that use the rolling update (ECS)
// deployment type that aren't behind a Classic Load Balancer", ECS API
// Reference, Deployment), nor once the deployment left the list. The
// events are never the record: ECS keeps only the 100 latest ("A maximum
// of 100 of the latest events are displayed", Service.events), does not
// repeat a message, and some carry no deployment id; they only colour the
// fallback.
func judge(s *types.Service, depID string) (Observation, bool) {
	if s == nil {
		return Observation{Status: fleet.StatusGone, Detail: "service no longer exists"}, true
	}
	if st := aws.ToString(s.Status); st != "ACTIVE" {
		return Observation{Status: fleet.StatusGone, Detail: "service is " + st}, true
	}
	var o Observation
	p := primary(s.Deployments)
	if p != nil {
		o.Primary, o.PrimaryCreated = aws.ToString(p.Id), aws.ToTime(p.CreatedAt)
	}
	o.Status = fleet.StatusStarted
	if depID == "" {
		return o, true
	}
	var mine *types.Deployment
	for i := range s.Deployments {
		if aws.ToString(s.Deployments[i].Id) == depID {
			mine = &s.Deployments[i]
		}
	}
	hint := eventHint(s, depID)
	if mine != nil {
		o.TaskDefinition = aws.ToString(mine.TaskDefinition)
		switch mine.RolloutState {
		case types.DeploymentRolloutStateCompleted:
			if mine == p && (mine.RunningCount != mine.DesiredCount || s.RunningCount != s.DesiredCount) {
				o.Detail = fmt.Sprintf("rollout completed, %d of %d tasks running", s.RunningCount, s.DesiredCount)
				return o, true
			}
			o.Status = fleet.StatusCompleted
			o.Detail = fmt.Sprintf("%d of %d tasks running", mine.RunningCount, mine.DesiredCount)
			// A completed deployment's updatedAt is when its rolloutState
			// last changed: when it completed.
			o.Took = took(mine.CreatedAt, mine.UpdatedAt)
			return o, true
		case types.DeploymentRolloutStateFailed:
			o.Status, o.Detail = fleet.StatusFailed, aws.ToString(mine.RolloutStateReason)
			if p != nil && p != mine {
				o.Status = fleet.StatusRolledBack
				o.Detail = fmt.Sprintf("%s; rolling back with %s", o.Detail, aws.ToString(p.Id))
			}
			return o, true
		case types.DeploymentRolloutStateInProgress:
			if mine != p {
				// Replaced by a newer deployment before finishing: somebody
				// else deployed the service.
				o.Status = fleet.StatusFailed
				o.Detail = fmt.Sprintf("deployment %s superseded by %s before it completed", depID, o.Primary)
				return o, true
			}
			o.Detail = fmt.Sprintf("rolling out, %d of %d tasks running", mine.RunningCount, mine.DesiredCount)
			return o, true
		}
		// No rolloutState. Fallback: the deployment is done when it is the
		// PRIMARY, the older deployments are gone (ECS drops them once the
		// new one has replaced their tasks) and every desired task runs.
		switch {
		case mine == p && len(s.Deployments) == 1 && mine.RunningCount == mine.DesiredCount && s.RunningCount == s.DesiredCount:
			o.Status = fleet.StatusCompleted
			o.Detail = fmt.Sprintf("%d of %d tasks running, previous deployment replaced", mine.RunningCount, mine.DesiredCount)
		case mine != p && hint.rolledBack:
			o.Status, o.Detail = fleet.StatusRolledBack, fmt.Sprintf("deployment %s replaced by %s after a rollback event", depID, o.Primary)
		case mine != p:
			o.Status, o.Detail = fleet.StatusFailed, fmt.Sprintf("deployment %s superseded by %s before it completed", depID, o.Primary)
		default:
			o.Detail = fmt.Sprintf("rolling out, %d of %d tasks running, %d deployments", mine.RunningCount, mine.DesiredCount, len(s.Deployments))
		}
		return o, false
	}
	// The deployment is no longer listed: ECS drops a deployment once
	// another one completed. Without the history, the events may still say
	// how it ended; their silence proves nothing.
	switch {
	case hint.completed:
		o.Status, o.Detail = fleet.StatusCompleted, "completed, then replaced by "+o.Primary
	case hint.failed && hint.rolledBack:
		o.Status, o.Detail = fleet.StatusRolledBack, "deployment failed; rolled back by the circuit breaker to "+o.Primary
	case hint.failed:
		o.Status, o.Detail = fleet.StatusFailed, "deployment failed"
	default:
		o.Detail = fmt.Sprintf("deployment %s is no longer listed (%s replaced it) and its outcome is unknown", depID, o.Primary)
	}
	return o, false
}

type hint struct{ completed, failed, rolledBack bool }

// eventHint reads what the listed events say about depID.
func eventHint(s *types.Service, depID string) hint {
	var h hint
	for _, e := range s.Events {
		msg := aws.ToString(e.Message)
		if strings.Contains(msg, depID) {
			switch {
			case strings.Contains(msg, "deployment failed"):
				h.failed = true
			case strings.Contains(msg, "deployment completed"):
				h.completed = true
			}
		}
		if strings.Contains(msg, "rolling back") {
			h.rolledBack = true
		}
	}
	return h
}

// judgeByHistory settles a restart that DescribeServices could not, from
// the service deployment ECS created for it (ListServiceDeployments: the
// oldest created since the claim, which came before UpdateService). When
// the history cannot be read (an endpoint without the API, a member role
// without ecs:ListServiceDeployments) the fallback stands, and the pair is
// not asked again during the run.
func (f *Fleet) judgeByHistory(ctx context.Context, client ECS, account, region, cluster string, t Target, fallback Observation) Observation {
	key := account + "/" + region
	if why, ok := f.noHistory.Load(key); ok {
		return withHistoryNote(fallback, why.(string))
	}
	in := &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(t.Service)}
	if !t.Since.IsZero() {
		// A little before the claim: the engine's clock and ECS's differ.
		in.CreatedAt = &types.CreatedAt{After: aws.Time(t.Since.Add(-historySlack))}
	}
	var oldest *types.ServiceDeploymentBrief
	// The SDK has no paginator for ListServiceDeployments; there are
	// rarely more than one or two since the claim.
	for first := true; first || in.NextToken != nil; first = false {
		page, err := client.ListServiceDeployments(ctx, in, f.paced(account, region, limitHistory), func(o *ecs.Options) {
			o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 3)
		})
		if err != nil {
			if ctx.Err() == nil && !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() && !errors.Is(classify(err), ErrGone) {
				why := fmt.Sprintf("service deployment history unavailable in %s %s: %v", account, region, err)
				f.noHistory.Store(key, why)
				return withHistoryNote(fallback, why)
			}
			return fallback
		}
		for i := range page.ServiceDeployments {
			sd := &page.ServiceDeployments[i]
			if oldest == nil || aws.ToTime(sd.CreatedAt).Before(aws.ToTime(oldest.CreatedAt)) {
				oldest = sd
			}
		}
		in.NextToken = page.NextToken
	}
	if oldest == nil {
		return fallback
	}
	o := fallback
	arn, reason := aws.ToString(oldest.ServiceDeploymentArn), aws.ToString(oldest.StatusReason)
	switch oldest.Status {
	case types.ServiceDeploymentStatusSuccessful:
		o.Status, o.Detail = fleet.StatusCompleted, "service deployment "+arn+" successful"
		start := oldest.StartedAt
		if start == nil {
			start = oldest.CreatedAt
		}
		o.Took = took(start, oldest.FinishedAt)
	case types.ServiceDeploymentStatusRollbackRequested, types.ServiceDeploymentStatusRollbackInProgress, types.ServiceDeploymentStatusRollbackSuccessful:
		o.Status, o.Detail = fleet.StatusRolledBack, fmt.Sprintf("service deployment %s %s: %s", arn, oldest.Status, reason)
	case types.ServiceDeploymentStatusRollbackFailed, types.ServiceDeploymentStatusStopped, types.ServiceDeploymentStatusStopRequested:
		o.Status, o.Detail = fleet.StatusFailed, fmt.Sprintf("service deployment %s %s: %s", arn, oldest.Status, reason)
	default: // PENDING, IN_PROGRESS
		o.Status, o.Detail = fleet.StatusStarted, fmt.Sprintf("service deployment %s %s", arn, oldest.Status)
	}
	return o
}

// took is end - start when ECS gave both and end is after start, else 0.
func took(start, end *time.Time) time.Duration {
	if start == nil || end == nil || !end.After(*start) {
		return 0
	}
	return end.Sub(*start)
}

// historySlack is how far before a claim a service deployment may have
// been created and still be the claim's: the engine's clock against ECS's.
const historySlack = 2 * time.Second

func withHistoryNote(o Observation, why string) Observation {
	if o.Status == fleet.StatusStarted {
		o.Detail = strings.TrimSpace(o.Detail + "; " + why)
	}
	return o
}
