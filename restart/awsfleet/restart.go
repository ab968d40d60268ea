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
func (f *Fleet) Restart(ctx context.Context, t Target) (string, error) {
	client, err := f.clients(ctx, t.Account, t.Region)
	if err != nil {
		return "", fmt.Errorf("restart %s: %w: %w", t.ARN, ErrNotStarted, err)
	}
	out, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster:            aws.String(t.Cluster),
		Service:            aws.String(t.Service),
		ForceNewDeployment: true,
	}, f.paced(t.Account, t.Region, limitModify))
	if err != nil {
		return "", fmt.Errorf("restart %s: %w", t.ARN, classify(err))
	}
	if out.Service != nil {
		if d := primary(out.Service.Deployments); d != nil {
			return aws.ToString(d.Id), nil
		}
	}
	return "", fmt.Errorf("restart %s: UpdateService returned no PRIMARY deployment", t.ARN)
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
