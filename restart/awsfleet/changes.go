package awsfleet

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// Change is what a restart changed: the service revision before it (the
// service deployment's source) and the one it deployed (its target).
type Change struct {
	ARN           string
	Before, After fleet.Revision
	// Err is why the change could not be read (the service revision
	// APIs exist for deployments since October 2024).
	Err error
}

// Changes reads, for each restart, the service deployment it started
// (ListServiceDeployments since the claim, as the verifier finds it), its
// source and target revisions (DescribeServiceDeployments, 20 at a time)
// and their task definitions and image digests (DescribeServiceRevisions,
// 20 at a time), every call of one account and Region paced by its
// history limiter. About 1.15 calls a restart, against the service
// deployment bucket, none against the reads discovery and the checks use.
func (f *Fleet) Changes(ctx context.Context, targets []Target) []Change {
	type pair struct{ account, region string }
	byPair := map[pair][]Target{}
	var order []pair
	for _, t := range targets {
		p := pair{t.Account, t.Region}
		if _, ok := byPair[p]; !ok {
			order = append(order, p)
		}
		byPair[p] = append(byPair[p], t)
	}
	var (
		mu  sync.Mutex
		out []Change
		wg  sync.WaitGroup
		sem = make(chan struct{}, f.parallel)
	)
	for _, p := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
			}
			cs := f.changesOfPair(ctx, p.account, p.region, byPair[p])
			mu.Lock()
			out = append(out, cs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (f *Fleet) changesOfPair(ctx context.Context, account, region string, ts []Target) []Change {
	out := make([]Change, len(ts))
	for i, t := range ts {
		out[i].ARN = t.ARN
	}
	failAll := func(err error) []Change {
		for i := range out {
			if out[i].Err == nil {
				out[i].Err = err
			}
		}
		return out
	}
	key := account + "/" + region
	if why, ok := f.noHistory.Load(key); ok {
		return failAll(fmt.Errorf("%s", why.(string)))
	}
	client, err := f.clients(ctx, account, region)
	if err != nil {
		return failAll(err)
	}
	// The service deployment each restart started: one list call each,
	// a few in flight (the limiter paces them; one at a time, the
	// network's round trips would).
	sds := make([]string, len(ts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, changesInFlight)
	for i, t := range ts {
		if _, ok := f.noHistory.Load(key); ok || ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			arn, err := f.serviceDeploymentSince(ctx, client, account, region, t)
			if err != nil {
				out[i].Err = err
				return
			}
			sds[i] = arn
		}()
	}
	wg.Wait()
	if why, ok := f.noHistory.Load(key); ok {
		return failAll(fmt.Errorf("%s", why.(string)))
	}
	// Their source and target revisions.
	type revs struct{ source, target string }
	bySD := map[string]revs{}
	var want []string
	for i := range ts {
		if sds[i] != "" {
			want = append(want, sds[i])
		}
	}
	for chunk := range slices.Chunk(want, 20) {
		d, err := client.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: chunk},
			f.paced(account, region, limitHistory), fewRetries)
		if err != nil {
			return failAll(fmt.Errorf("describe service deployments: %w", err))
		}
		for _, sd := range d.ServiceDeployments {
			var r revs
			if len(sd.SourceServiceRevisions) > 0 {
				r.source = aws.ToString(sd.SourceServiceRevisions[0].Arn)
			}
			if sd.TargetServiceRevision != nil {
				r.target = aws.ToString(sd.TargetServiceRevision.Arn)
			}
			bySD[aws.ToString(sd.ServiceDeploymentArn)] = r
		}
	}
	// The revisions' task definitions and images.
	var revARNs []string
	for _, r := range bySD {
		for _, a := range []string{r.source, r.target} {
			if a != "" && !slices.Contains(revARNs, a) {
				revARNs = append(revARNs, a)
			}
		}
	}
	slices.Sort(revARNs)
	revisions := map[string]fleet.Revision{}
	for chunk := range slices.Chunk(revARNs, 20) {
		d, err := client.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: chunk},
			f.paced(account, region, limitHistory), fewRetries)
		if err != nil {
			return failAll(fmt.Errorf("describe service revisions: %w", err))
		}
		for _, sr := range d.ServiceRevisions {
			revisions[aws.ToString(sr.ServiceRevisionArn)] = revision(sr)
		}
	}
	for i := range ts {
		if out[i].Err != nil {
			continue
		}
		r, ok := bySD[sds[i]]
		if !ok {
			out[i].Err = fmt.Errorf("service deployment %s not described", sds[i])
			continue
		}
		out[i].Before, out[i].After = revisions[r.source], revisions[r.target]
		if out[i].Before.ARN == "" {
			out[i].Before.ARN = r.source
		}
		if out[i].After.ARN == "" {
			out[i].After.ARN = r.target
		}
	}
	return out
}

// changesInFlight bounds the list calls of one account and Region in
// flight at once.
const changesInFlight = 8

// fewRetries bounds the retries of the change reads: they are a record,
// not the restart, and are not worth a long wait.
func fewRetries(o *ecs.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 3) }

// serviceDeploymentSince is the ARN of the service deployment the restart
// of t started: the oldest created since its claim.
func (f *Fleet) serviceDeploymentSince(ctx context.Context, client ECS, account, region string, t Target) (string, error) {
	in := &ecs.ListServiceDeploymentsInput{Cluster: aws.String(t.Cluster), Service: aws.String(t.Service)}
	if !t.Since.IsZero() {
		in.CreatedAt = &types.CreatedAt{After: aws.Time(t.Since.Add(-historySlack))}
	}
	var oldest *types.ServiceDeploymentBrief
	for first := true; first || in.NextToken != nil; first = false {
		page, err := client.ListServiceDeployments(ctx, in, f.paced(account, region, limitHistory), fewRetries)
		if err != nil {
			if ctx.Err() == nil && !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
				f.noHistory.LoadOrStore(account+"/"+region, fmt.Sprintf("service deployment history unavailable in %s %s: %v", account, region, err))
			}
			return "", fmt.Errorf("list service deployments of %s: %w", t.ARN, err)
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
		return "", fmt.Errorf("no service deployment of %s since its restart", t.ARN)
	}
	return aws.ToString(oldest.ServiceDeploymentArn), nil
}

func revision(sr types.ServiceRevision) fleet.Revision {
	r := fleet.Revision{ARN: aws.ToString(sr.ServiceRevisionArn), TaskDefinition: aws.ToString(sr.TaskDefinition)}
	for _, ci := range sr.ContainerImages {
		r.Images = append(r.Images, fleet.Image{Container: aws.ToString(ci.ContainerName), Image: aws.ToString(ci.Image), Digest: aws.ToString(ci.ImageDigest)})
	}
	return r
}
