// Package awsfleet is the daily restart's adapter to AWS: it assumes the
// member role in every account, discovers the ECS services, restarts them
// with forceNewDeployment and checks the deployments it started, over
// aws-sdk-go-v2 clients built from one aws.Config. The same code runs
// against AWS and against the local fleet (BaseEndpoint).
package awsfleet

import (
	"context"
	"fmt"
	"regexp"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ECS is the part of the ECS client the engine uses.
type ECS interface {
	ecs.ListClustersAPIClient
	ecs.ListServicesAPIClient
	ecs.DescribeServicesAPIClient
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	TagResource(ctx context.Context, in *ecs.TagResourceInput, optFns ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
}

// ClientFunc returns the ECS client for an account and Region.
type ClientFunc func(ctx context.Context, account, region string) (ECS, error)

// Fleet reaches the member accounts. Its methods are safe for concurrent
// use; clients and credentials are cached for the Fleet's lifetime (one run).
type Fleet struct {
	clients    ClientFunc
	limiters   limiters
	parallel   int
	clusterPar int
}

// Option configures a Fleet.
type Option func(*Fleet)

// WithLimits sets the per-account request rates (default DefaultLimits).
func WithLimits(l Limits) Option { return func(f *Fleet) { f.limiters.limits = l } }

// WithParallelism bounds how many account/Region pairs are discovered at
// once (default 16) and how many clusters of one pair (default 4).
func WithParallelism(accounts, clustersPerAccount int) Option {
	return func(f *Fleet) { f.parallel, f.clusterPar = max(1, accounts), max(1, clustersPerAccount) }
}

// WithClients replaces the client factory (tests).
func WithClients(fn ClientFunc) Option { return func(f *Fleet) { f.clients = fn } }

// New returns a Fleet whose clients come from fn.
func New(fn ClientFunc, opts ...Option) *Fleet {
	f := &Fleet{clients: fn, parallel: 16, clusterPar: 4}
	f.limiters.limits = DefaultLimits()
	for _, o := range opts {
		o(f)
	}
	return f
}

// Roles says which role to assume in the member accounts.
type Roles struct {
	// Name is the role's name in every member account; the ARN is
	// arn:<Partition>:iam::<account>:role/<Name>.
	Name string
	// Partition defaults to "aws".
	Partition string
	// ExternalID is sent with AssumeRole when set.
	ExternalID string
	// SessionName names the sessions, e.g. "daily-restart-<run id>", so
	// that CloudTrail shows which run made a call.
	SessionName string
}

// AssumeRoleClients returns a ClientFunc that builds one ECS client per
// account and Region from cfg (the hub's credentials, retryer and
// endpoint), with credentials from AssumeRole into the member role, cached
// for the run: AssumeRole is called once per account, not per call or per
// Region.
func AssumeRoleClients(cfg aws.Config, roles Roles) ClientFunc {
	stsClient := sts.NewFromConfig(cfg)
	partition := roles.Partition
	if partition == "" {
		partition = "aws"
	}
	session := SessionName(roles.SessionName)
	var (
		mu      sync.Mutex
		creds   = map[string]*aws.CredentialsCache{}
		clients = map[string]ECS{}
	)
	return func(_ context.Context, account, region string) (ECS, error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[account+"/"+region]; ok {
			return c, nil
		}
		cc, ok := creds[account]
		if !ok {
			arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, roles.Name)
			cc = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, arn, func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = session
				if roles.ExternalID != "" {
					o.ExternalID = aws.String(roles.ExternalID)
				}
			}))
			creds[account] = cc
		}
		c := ecs.NewFromConfig(cfg, func(o *ecs.Options) {
			o.Region = region
			o.Credentials = cc
		})
		clients[account+"/"+region] = c
		return c, nil
	}
}

var sessionChars = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName makes s a valid role session name (2-64 characters of
// [\w+=,.@-]).
func SessionName(s string) string {
	s = sessionChars.ReplaceAllString(s, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	for len(s) < 2 {
		s += "-"
	}
	return s
}
