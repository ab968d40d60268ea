// Package awsfleet is the daily restart's adapter to AWS: it assumes the
// member role in every account, discovers the ECS services, restarts them
// with forceNewDeployment and checks the deployments it started, over
// aws-sdk-go-v2 clients built from one aws.Config. The same code runs
// against AWS and against the local fleet (BaseEndpoint).
package awsfleet

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/nequi-platform/wordpress-ecs/restart/calllog"
)

// ECS is the part of the ECS client the engine uses.
type ECS interface {
	ecs.ListClustersAPIClient
	ecs.ListServicesAPIClient
	ecs.DescribeServicesAPIClient
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	TagResource(ctx context.Context, in *ecs.TagResourceInput, optFns ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
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
	// noHistory holds, per account/Region, why the service deployment
	// history could not be read; it is not asked again.
	noHistory sync.Map
}

// Option configures a Fleet.
type Option func(*Fleet)

// WithLimits sets the per-account request rates (default DefaultLimits).
func WithLimits(l Limits) Option { return func(f *Fleet) { f.limiters.limits = l } }

// WithParallelism bounds how many account/Region pairs are discovered at
// once (default 64) and how many clusters of one pair (default 4).
//
// Each pair has its own ECS buckets and waits on them or on the network,
// not on the CPU, so many pairs at once cost little (64 x 4 calls in
// flight at most); with few, the busiest pair, which alone decides how
// long discovery takes, may only start after hundreds of small ones.
func WithParallelism(accounts, clustersPerAccount int) Option {
	return func(f *Fleet) { f.parallel, f.clusterPar = max(1, accounts), max(1, clustersPerAccount) }
}

// WithClients replaces the client factory (tests).
func WithClients(fn ClientFunc) Option { return func(f *Fleet) { f.clients = fn } }

// New returns a Fleet whose clients come from fn.
func New(fn ClientFunc, opts ...Option) *Fleet {
	f := &Fleet{clients: fn, parallel: 64, clusterPar: 4}
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
	// RefreshBefore is how long before a session expires it is replaced
	// (DefaultRefreshBefore): the credentials cache's expiry window.
	RefreshBefore time.Duration
	// CallLog, when set, records every STS request (as Hub) and every
	// member request (as the member role's session).
	CallLog *calllog.Recorder
	// Hub is whose credentials the STS requests are signed with.
	Hub calllog.Caller
}

// DefaultRefreshBefore renews member sessions five minutes before they
// expire. A chained role session (hub role -> member role) lasts at most
// one hour whatever the role allows ("Role chaining limits your AWS CLI or
// AWS API role session to a maximum of one hour", IAM User Guide, Roles
// terms), and a night lasts six: every account's session is renewed
// several times, and a call never leaves with credentials about to lapse.
const DefaultRefreshBefore = 5 * time.Minute

// AssumeRoleClients returns a ClientFunc that builds one ECS client per
// account and Region from cfg (the hub's credentials, retryer and
// endpoint), with credentials from AssumeRole into the member role, cached
// for the run: AssumeRole is called once per account, not per call or per
// Region.
func AssumeRoleClients(cfg aws.Config, roles Roles) ClientFunc {
	stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.APIOptions = append(o.APIOptions, roles.CallLog.Options(roles.Hub))
	})
	partition := roles.Partition
	if partition == "" {
		partition = "aws"
	}
	session := SessionName(roles.SessionName)
	window := roles.RefreshBefore
	if window <= 0 {
		window = DefaultRefreshBefore
	}
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
		arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, roles.Name)
		cc, ok := creds[account]
		if !ok {
			provider := stscreds.NewAssumeRoleProvider(stsClient, arn, func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = session
				if roles.ExternalID != "" {
					o.ExternalID = aws.String(roles.ExternalID)
				}
			})
			cc = aws.NewCredentialsCache(shortSessions{provider, window}, func(o *aws.CredentialsCacheOptions) {
				// No jitter: it scales with the window and could carry
				// a short session past its end. Each account's session
				// started at its own time anyway.
				o.ExpiryWindow = window
			})
			creds[account] = cc
		}
		c := ecs.NewFromConfig(cfg, func(o *ecs.Options) {
			o.Region = region
			o.Credentials = cc
			o.APIOptions = append(o.APIOptions, refreshOnExpiredToken(cc),
				roles.CallLog.Options(calllog.Caller{Principal: arn, Account: account, Partition: partition}))
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

// shortSessions keeps the expiry window from swallowing a session shorter
// than four windows: the cache would count it expired as soon as it came
// and assume the role again for every call. Such a session is renewed once
// three quarters of it have passed instead: its expiry, as the cache sees
// it, is moved so that the window starts there. (Real member sessions last
// 15 minutes at least, three windows; short ones come from a local fleet or
// short hub credentials.)
type shortSessions struct {
	aws.CredentialsProvider
	window time.Duration
}

func (s shortSessions) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := s.CredentialsProvider.Retrieve(ctx)
	if err != nil || !c.CanExpire {
		return c, err
	}
	if life := time.Until(c.Expires); life < 4*s.window {
		c.Expires = time.Now().Add(life*3/4 + s.window)
	}
	return c, nil
}

// refreshOnExpiredToken drops the cached session when ECS answers
// ExpiredTokenException (clocks disagree, or the session was shorter than
// the expiry window), so that the retry, which the retryer allows for that
// code (NewRetryer), signs with a new session. It sits after the retry
// middleware, before the credentials are fetched for the attempt.
func refreshOnExpiredToken(cc *aws.CredentialsCache) func(*middleware.Stack) error {
	mw := middleware.FinalizeMiddlewareFunc("DailyRestartRefreshExpired", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleFinalize(ctx, in)
		var ae smithy.APIError
		if err != nil && errors.As(err, &ae) && ae.ErrorCode() == ErrCodeExpiredToken {
			cc.Invalidate()
		}
		return out, md, err
	})
	return func(s *middleware.Stack) error { return s.Finalize.Insert(mw, "Retry", middleware.After) }
}

// ErrCodeExpiredToken is the error code AWS JSON services (ECS) answer
// when the session in the signature has expired.
const ErrCodeExpiredToken = "ExpiredTokenException"
