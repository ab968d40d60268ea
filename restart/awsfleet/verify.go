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
	// Err is why the service could not be checked; it is checked again
	// later.
	Err error
}

// Check describes the services of the targets (10 per DescribeServices
// call, the calls of one account and Region paced by its read limiter) and
// judges the deployment each restart started. It does not use the
// services-stable waiter: that passes with 0 tasks and after a rollback.
func (f *Fleet) Check(ctx context.Context, targets []Target) []Observation {
	type group struct {
		account, region, cluster string
		targets                  []Target
	}
	groups := map[string]*group{}
	var keys []string
	for _, t := range targets {
		k := t.Account + "/" + t.Region + "/" + t.Cluster
		g := groups[k]
		if g == nil {
			g = &group{account: t.Account, region: t.Region, cluster: t.Cluster}
			groups[k] = g
			keys = append(keys, k)
		}
		g.targets = append(g.targets, t)
	}
	var (
		mu  sync.Mutex
		out []Observation
		wg  sync.WaitGroup
		sem = make(chan struct{}, f.parallel)
	)
	for _, k := range keys {
		g := groups[k]
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
			}
			var obs []Observation
			for chunk := range slices.Chunk(g.targets, 10) {
				obs = append(obs, f.checkChunk(ctx, g.account, g.region, g.cluster, chunk)...)
			}
			mu.Lock()
			out = append(out, obs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
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
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.ARN
	}
	d, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: names}, f.paced(account, region, limitRead))
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
	byARN := map[string]*types.Service{}
	for i := range d.Services {
		byARN[aws.ToString(d.Services[i].ServiceArn)] = &d.Services[i]
	}
	obs := make([]Observation, len(ts))
	for i, t := range ts {
		obs[i] = Judge(byARN[t.ARN], t.DeploymentID)
		obs[i].ARN = t.ARN
	}
	return obs
}

// Judge decides where the deployment depID of service s stands. s is nil
// when DescribeServices reported the service missing.
func Judge(s *types.Service, depID string) Observation {
	if s == nil {
		return Observation{Status: fleet.StatusGone, Detail: "service no longer exists"}
	}
	if st := aws.ToString(s.Status); st != "ACTIVE" {
		return Observation{Status: fleet.StatusGone, Detail: "service is " + st}
	}
	var o Observation
	p := primary(s.Deployments)
	if p != nil {
		o.Primary, o.PrimaryCreated = aws.ToString(p.Id), aws.ToTime(p.CreatedAt)
	}
	o.Status = fleet.StatusStarted
	if depID == "" {
		return o
	}
	var mine *types.Deployment
	for i := range s.Deployments {
		if aws.ToString(s.Deployments[i].Id) == depID {
			mine = &s.Deployments[i]
		}
	}
	if mine != nil {
		switch mine.RolloutState {
		case types.DeploymentRolloutStateCompleted:
			if mine == p && (mine.RunningCount != mine.DesiredCount || s.RunningCount != s.DesiredCount) {
				o.Detail = fmt.Sprintf("rollout completed, %d of %d tasks running", s.RunningCount, s.DesiredCount)
				return o
			}
			o.Status = fleet.StatusCompleted
			o.Detail = fmt.Sprintf("%d of %d tasks running", mine.RunningCount, mine.DesiredCount)
			return o
		case types.DeploymentRolloutStateFailed:
			o.Status, o.Detail = fleet.StatusFailed, aws.ToString(mine.RolloutStateReason)
			if p != nil && p != mine {
				o.Status = fleet.StatusRolledBack
				o.Detail = fmt.Sprintf("%s; rolling back with %s", o.Detail, aws.ToString(p.Id))
			}
			return o
		}
		if mine != p {
			// Replaced by a newer deployment before finishing: somebody
			// else deployed the service.
			o.Status = fleet.StatusFailed
			o.Detail = fmt.Sprintf("deployment %s superseded by %s before it completed", depID, o.Primary)
			return o
		}
		o.Detail = fmt.Sprintf("rolling out, %d of %d tasks running", mine.RunningCount, mine.DesiredCount)
		return o
	}
	// The deployment is no longer listed: ECS drops a deployment once
	// another one completed. The events say whether it failed (and was
	// rolled back) or completed before being replaced.
	failed, rolledBack, completed := false, false, false
	for _, e := range s.Events {
		msg := aws.ToString(e.Message)
		if strings.Contains(msg, depID) {
			switch {
			case strings.Contains(msg, "deployment failed"):
				failed = true
			case strings.Contains(msg, "deployment completed"):
				completed = true
			}
		}
		if strings.Contains(msg, "rolling back") {
			rolledBack = true
		}
	}
	switch {
	case completed:
		o.Status, o.Detail = fleet.StatusCompleted, "completed, then replaced by "+o.Primary
	case failed && rolledBack:
		o.Status, o.Detail = fleet.StatusRolledBack, "deployment failed; rolled back by the circuit breaker to "+o.Primary
	case failed:
		o.Status, o.Detail = fleet.StatusFailed, "deployment failed"
	default:
		o.Status, o.Detail = fleet.StatusFailed, fmt.Sprintf("deployment %s is gone and %s replaced it; no completion seen", depID, o.Primary)
	}
	return o
}
