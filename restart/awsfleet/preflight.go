package awsfleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// Current is what the check just before a restart found about a service.
type Current struct {
	ARN string
	// Gone is set when the service (or its cluster) no longer exists or is
	// being deleted; Detail says which.
	Gone   bool
	Detail string
	// Service is the service as DescribeServices shows it now, tags
	// included (valid unless Gone or Err).
	Service fleet.Service
	// Busy describes a deployment in progress: the PRIMARY deployment's
	// rolloutState is IN_PROGRESS, or an older deployment is still ACTIVE
	// beside it (for services without rolloutState, behind a Classic Load
	// Balancer, the only sign). Empty when the service is steady.
	Busy string
	// TaskDefinition is the PRIMARY deployment's task definition: what
	// the service runs before the restart.
	TaskDefinition string
	// Err is why the service could not be checked.
	Err error
}

// Preflight describes the targets' services just before their restart,
// 10 per DescribeServices call with their tags (include=TAGS), the calls
// of one account and Region paced by its read limiter: a service opted
// out, deleted or redeployed since discovery is then not restarted.
func (f *Fleet) Preflight(ctx context.Context, targets []Target) []Current {
	var (
		mu  sync.Mutex
		out []Current
	)
	f.byCluster(ctx, targets, func(account, region, cluster string, ts []Target) {
		var cur []Current
		for chunk := range slices.Chunk(ts, 10) {
			cur = append(cur, f.preflightChunk(ctx, account, region, cluster, chunk)...)
		}
		mu.Lock()
		out = append(out, cur...)
		mu.Unlock()
	})
	return out
}

// byCluster calls fn for the targets of each account, Region and
// cluster, up to f.parallel groups at once.
func (f *Fleet) byCluster(ctx context.Context, targets []Target, fn func(account, region, cluster string, ts []Target)) {
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
	var wg sync.WaitGroup
	sem := make(chan struct{}, f.parallel)
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
			fn(g.account, g.region, g.cluster, g.targets)
		}()
	}
	wg.Wait()
}

func (f *Fleet) preflightChunk(ctx context.Context, account, region, cluster string, ts []Target) []Current {
	all := func(c Current) []Current {
		out := make([]Current, len(ts))
		for i, t := range ts {
			out[i] = c
			out[i].ARN = t.ARN
		}
		return out
	}
	if ctx.Err() != nil {
		return all(Current{Err: ctx.Err()})
	}
	client, err := f.clients(ctx, account, region)
	if err != nil {
		return all(Current{Err: err})
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Service
	}
	d, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String(cluster), Services: names, Include: []types.ServiceField{types.ServiceFieldTags},
	}, f.paced(account, region, limitServiceRead))
	if err != nil {
		if errors.Is(classify(err), ErrGone) {
			return all(Current{Gone: true, Detail: "cluster no longer exists"})
		}
		return all(Current{Err: fmt.Errorf("check %s/%s before the restart: %w", account, cluster, err)})
	}
	byName := map[string]*types.Service{}
	for i := range d.Services {
		byName[aws.ToString(d.Services[i].ServiceName)] = &d.Services[i]
	}
	out := make([]Current, len(ts))
	for i, t := range ts {
		out[i] = current(account, region, cluster, t, byName[t.Service])
	}
	return out
}

// current is the check of one service; s is nil when DescribeServices
// reported it missing.
func current(account, region, cluster string, t Target, s *types.Service) Current {
	c := Current{ARN: t.ARN}
	switch {
	case s == nil:
		c.Gone, c.Detail = true, "service no longer exists"
		return c
	case aws.ToString(s.Status) != "ACTIVE":
		c.Gone, c.Detail = true, "service is "+aws.ToString(s.Status)
		return c
	}
	c.Service = toService(account, region, cluster, *s)
	// The target's ARN is the service's key (the long form of a short ARN).
	c.Service.ARN = t.ARN
	p := primary(s.Deployments)
	if p != nil {
		c.TaskDefinition = aws.ToString(p.TaskDefinition)
	}
	switch {
	case p != nil && p.RolloutState == types.DeploymentRolloutStateInProgress:
		c.Busy = fmt.Sprintf("deployment %s in progress since %s (%d of %d tasks running)", aws.ToString(p.Id),
			aws.ToTime(p.CreatedAt).UTC().Format("15:04:05Z"), p.RunningCount, p.DesiredCount)
	case len(s.Deployments) > 1:
		id := "none"
		if p != nil {
			id = aws.ToString(p.Id)
		}
		c.Busy = fmt.Sprintf("%d deployments at once: the PRIMARY (%s) has not yet replaced the older ones", len(s.Deployments), id)
	}
	return c
}
