package awsfleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// Target is one service to restart, check or stamp.
type Target struct {
	Account string
	Region  string
	Cluster string
	Service string
	ARN     string
	// DeploymentID is the deployment the restart started; empty for a
	// claim whose UpdateService outcome is unknown.
	DeploymentID string
	// Since is when the restart was claimed: a deployment created after it
	// can only be the restart's.
	Since time.Time
}

// ErrGone means the service (or its cluster) no longer exists or is being
// deleted: there is nothing to restart.
var ErrGone = errors.New("service no longer exists")

// ErrNotStarted means ECS certainly did not start a deployment: the call was
// refused with a client error or throttled past every retry. Other errors
// (5xx, a lost connection) leave the outcome unknown.
var ErrNotStarted = errors.New("no deployment started")

// Restart forces a new deployment of the service, paced by the account's
// UpdateService limiter, and returns the deployment's id.
//
// An UpdateService that failed without a clear answer (HTTP 5xx, a lost
// connection, a timeout) may have been applied: ECS can start the
// deployment and still answer 500. Retrying it blindly would start a
// second deployment, so the SDK retries UpdateService only after answers
// that prove nothing was done (throttling, an expired token); otherwise
// Restart looks at the service's deployments first: a PRIMARY created
// since t.Since is the restart's, and only when there is none is
// UpdateService called again.
func (f *Fleet) Restart(ctx context.Context, t Target) (string, error) {
	client, err := f.clients(ctx, t.Account, t.Region)
	if err != nil {
		return "", fmt.Errorf("restart %s: %w: %w", t.ARN, ErrNotStarted, err)
	}
	var lastErr error
	for attempt := range maxUpdateAttempts {
		if attempt > 0 {
			id, found, err := f.startedSince(ctx, client, t)
			switch {
			case err != nil:
				// Cannot tell: leave it to the verifier, which adopts a
				// deployment created after the claim.
				return "", fmt.Errorf("restart %s: %w (and the check for a deployment failed: %v)", t.ARN, lastErr, err)
			case found:
				return id, nil
			}
		}
		out, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster:            aws.String(t.Cluster),
			Service:            aws.String(t.Service),
			ForceNewDeployment: true,
		}, f.paced(t.Account, t.Region, limitModify), retryOnlyUnapplied)
		if err == nil {
			if out.Service != nil {
				if d := primary(out.Service.Deployments); d != nil {
					return aws.ToString(d.Id), nil
				}
			}
			return "", fmt.Errorf("restart %s: UpdateService returned no PRIMARY deployment", t.ARN)
		}
		lastErr = classify(err)
		if errors.Is(lastErr, ErrGone) || errors.Is(lastErr, ErrNotStarted) || ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("restart %s: %w", t.ARN, lastErr)
}

// maxUpdateAttempts bounds the UpdateService calls of one restart whose
// earlier answers were lost (each one checked first).
const maxUpdateAttempts = 5

// startedSince looks for the deployment an UpdateService with a lost answer
// may have started: the PRIMARY deployment, when it was created since the
// claim.
func (f *Fleet) startedSince(ctx context.Context, client ECS, t Target) (string, bool, error) {
	d, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(t.Cluster), Services: []string{t.Service}},
		f.paced(t.Account, t.Region, limitServiceRead))
	if err != nil {
		return "", false, err
	}
	if len(d.Services) == 0 {
		return "", false, nil // UpdateService will say the service is gone
	}
	p := primary(d.Services[0].Deployments)
	if p == nil || t.Since.IsZero() || aws.ToTime(p.CreatedAt).Before(t.Since.Add(-historySlack)) {
		return "", false, nil
	}
	return aws.ToString(p.Id), true, nil
}

// retryOnlyUnapplied lets the SDK retry an UpdateService only after an
// answer that proves ECS did nothing: a throttle or another client error
// the retryer retries (an expired token). A 5xx or a lost connection may
// follow an applied call.
func retryOnlyUnapplied(o *ecs.Options) {
	o.Retryer = unappliedRetryer{o.Retryer}
}

// unappliedRetryer is the client's retryer (backoff, attempts) with a
// stricter idea of what is retryable.
type unappliedRetryer struct{ aws.Retryer }

func (r unappliedRetryer) IsErrorRetryable(err error) bool {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() < 400 || re.HTTPStatusCode() >= 500 {
		return false
	}
	return r.Retryer.IsErrorRetryable(err)
}

// classify wraps err with ErrGone or ErrNotStarted when its kind is certain.
func classify(err error) error {
	if errors.As(err, new(*types.ServiceNotFoundException)) ||
		errors.As(err, new(*types.ServiceNotActiveException)) ||
		errors.As(err, new(*types.ClusterNotFoundException)) {
		return fmt.Errorf("%w: %w", ErrGone, err)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500 {
		// Throttled past the retries, access denied, invalid parameters:
		// ECS answered and did nothing.
		return fmt.Errorf("%w: %w", ErrNotStarted, err)
	}
	return err
}

func primary(ds []types.Deployment) *types.Deployment {
	for i := range ds {
		if aws.ToString(ds[i].Status) == "PRIMARY" {
			return &ds[i]
		}
	}
	return nil
}

// Stamp writes fleet.RestartTag = at (RFC 3339, UTC) on the service.
func (f *Fleet) Stamp(ctx context.Context, t Target, at time.Time) error {
	client, err := f.clients(ctx, t.Account, t.Region)
	if err != nil {
		return fmt.Errorf("stamp %s: %w", t.ARN, err)
	}
	_, err = client.TagResource(ctx, &ecs.TagResourceInput{
		ResourceArn: aws.String(t.ARN),
		Tags:        []types.Tag{{Key: aws.String(fleet.RestartTag), Value: aws.String(at.UTC().Format(time.RFC3339))}},
	}, f.paced(t.Account, t.Region, limitTag))
	if err != nil {
		return fmt.Errorf("stamp %s: %w", t.ARN, err)
	}
	return nil
}
