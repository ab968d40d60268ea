package awsfleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/sync/errgroup"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// AccountResult is how discovery went in one account and Region.
type AccountResult struct {
	Account  string
	Region   string
	Clusters int
	Services int
	// Err is set when the pair could not be fully discovered (AccessDenied
	// on AssumeRole, throttled past retries, Region disabled); the services
	// found before the error are kept.
	Err error
	// ClustersGone are the ARNs of clusters that ListClusters returned but
	// that were deleted before their services could be listed
	// (ClusterNotFoundException). The pair's other clusters are still
	// discovered: the pair is not failed for it.
	ClustersGone []string
}

// DiscoverEach lists every ECS service of every account and Region, the
// pairs in parallel (bounded), and hands over each pair's services as the
// pair finishes, so that a caller can write them while the other pairs
// are still being listed, and need not hold the whole fleet. A pair that
// fails is reported in its result (with the services found before the
// error) and does not stop the others. found calls are
// serialized; a slow found holds up the pairs that finish after it, so it
// should hand the services on rather than do I/O itself.
func (f *Fleet) DiscoverEach(ctx context.Context, accounts, regions []string, found func(AccountResult, []fleet.Service)) []AccountResult {
	type pair struct{ account, region string }
	var pairs []pair
	for _, a := range accounts {
		for _, r := range regions {
			pairs = append(pairs, pair{a, r})
		}
	}
	var (
		mu      sync.Mutex
		results = make([]AccountResult, len(pairs))
		wg      sync.WaitGroup
		sem     = make(chan struct{}, f.parallel)
	)
	for i, p := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				results[i] = AccountResult{Account: p.account, Region: p.region, Err: fmt.Errorf("discover account %s %s: %w", p.account, p.region, ctx.Err())}
				return
			}
			services, res := f.discoverPair(ctx, p.account, p.region)
			mu.Lock()
			results[i] = res
			found(res, services)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

func (f *Fleet) discoverPair(ctx context.Context, account, region string) ([]fleet.Service, AccountResult) {
	res := AccountResult{Account: account, Region: region}
	fail := func(err error) AccountResult {
		res.Err = fmt.Errorf("discover account %s %s: %w", account, region, err)
		return res
	}
	client, err := f.clients(ctx, account, region)
	if err != nil {
		return nil, fail(err)
	}
	var clusters []string
	pc := ecs.NewListClustersPaginator(client, &ecs.ListClustersInput{MaxResults: aws.Int32(100)})
	for pc.HasMorePages() {
		page, err := pc.NextPage(ctx, f.paced(account, region, limitClusterRead))
		if err != nil {
			return nil, fail(fmt.Errorf("list clusters: %w", err))
		}
		clusters = append(clusters, page.ClusterArns...)
	}
	res.Clusters = len(clusters)

	var (
		mu    sync.Mutex
		found []fleet.Service
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.clusterPar)
	for _, c := range clusters {
		g.Go(func() error {
			svcs, err := f.discoverCluster(gctx, client, account, region, c)
			mu.Lock()
			defer mu.Unlock()
			if errors.As(err, new(*types.ClusterNotFoundException)) {
				// Deleted since ListClusters: its services went with it.
				// Only this cluster is lost, not the account and Region.
				res.ClustersGone = append(res.ClustersGone, c)
				return nil
			}
			found = append(found, svcs...)
			return err
		})
	}
	err = g.Wait()
	slices.Sort(res.ClustersGone)
	res.Services = len(found)
	if err != nil {
		return found, fail(err)
	}
	return found, res
}

func (f *Fleet) discoverCluster(ctx context.Context, client ECS, account, region, clusterARN string) ([]fleet.Service, error) {
	var arns []string
	ps := ecs.NewListServicesPaginator(client, &ecs.ListServicesInput{Cluster: aws.String(clusterARN), MaxResults: aws.Int32(100)})
	for ps.HasMorePages() {
		page, err := ps.NextPage(ctx, f.paced(account, region, limitServiceRead))
		if err != nil {
			return nil, fmt.Errorf("list services of %s: %w", clusterARN, err)
		}
		arns = append(arns, page.ServiceArns...)
	}
	var out []fleet.Service
	for chunk := range slices.Chunk(arns, 10) {
		// By name: a short service ARN names no cluster, and the name is
		// unique within the cluster given.
		names := make([]string, len(chunk))
		for i, arn := range chunk {
			names[i] = lastSegment(arn)
		}
		d, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster:  aws.String(clusterARN),
			Services: names,
			Include:  []types.ServiceField{types.ServiceFieldTags},
		}, f.paced(account, region, limitServiceRead))
		if err != nil {
			return out, fmt.Errorf("describe services of %s: %w", clusterARN, err)
		}
		// Failures (MISSING) are services deleted since ListServices:
		// nothing to restart.
		for _, s := range d.Services {
			if aws.ToString(s.Status) != "ACTIVE" {
				continue
			}
			out = append(out, toService(account, region, clusterARN, s))
		}
	}
	return out, nil
}

func toService(account, region, clusterARN string, s types.Service) fleet.Service {
	ctrl := "ECS"
	if s.DeploymentController != nil && s.DeploymentController.Type != "" {
		ctrl = string(s.DeploymentController.Type)
	}
	tags := make(map[string]string, len(s.Tags))
	for _, t := range s.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if s.ClusterArn != nil {
		clusterARN = *s.ClusterArn
	}
	arn, short := LongServiceARN(aws.ToString(s.ServiceArn), lastSegment(clusterARN))
	return fleet.Service{
		Account:              account,
		Region:               region,
		Cluster:              lastSegment(clusterARN),
		Service:              aws.ToString(s.ServiceName),
		ARN:                  arn,
		DesiredCount:         s.DesiredCount,
		SchedulingStrategy:   string(s.SchedulingStrategy),
		DeploymentController: ctrl,
		Tags:                 tags,
		ShortARN:             short,
	}
}

// LongServiceARN returns the long form of a service ARN and whether arn was
// in the short (pre-2018) format. A short ARN,
// arn:aws:ecs:<region>:<account>:service/<name>, names no cluster, so two
// clusters' services of the same name share it; the long form
// arn:aws:ecs:<region>:<account>:service/<cluster>/<name> keys the service
// uniquely ("Amazon Resource Names (ARNs) and IDs", Amazon ECS Developer
// Guide). A long ARN is returned unchanged.
func LongServiceARN(arn, cluster string) (string, bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || !strings.HasPrefix(p[5], "service/") || strings.Count(p[5], "/") != 1 || cluster == "" {
		return arn, false
	}
	return strings.Join(p[:5], ":") + ":service/" + cluster + "/" + strings.TrimPrefix(p[5], "service/"), true
}

// lastSegment returns the name at the end of an ARN ("...:cluster/name").
func lastSegment(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
