// Package calllog records the AWS requests the restart engine sends, one
// JSON line each: who sent it (the hub or a member role), the IAM action,
// the resource ARNs it targets as the Service Authorization Reference
// defines them for that action, the Region and the request's condition
// keys. A real IAM evaluator then judges every line against the policies
// the stack declares (internal/iamjudge). It also counts the requests AWS
// refused for lack of permission, so that an access denial that a step
// survives (an account it skips, a check it gives up) is still counted.
package calllog

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// Hub is the Principal of requests made with the hub's own credentials
// (the step's Lambda role).
const Hub = "hub"

// Entry is one request.
type Entry struct {
	// Step is the engine step that sent it.
	Step string `json:"step,omitempty"`
	// Principal is Hub, or the ARN of the member role whose session sent it.
	Principal string `json:"principal"`
	// Account is the account of the credentials.
	Account string `json:"account"`
	// Action is the IAM action, service:Operation.
	Action string `json:"action"`
	// Resources are the ARNs the action is authorized against ("*" for an
	// action that takes no resource).
	Resources []string `json:"resources"`
	Region    string   `json:"region"`
	// Context holds the request's condition keys the policies may test
	// (aws:RequestedRegion, aws:TagKeys, sts:ExternalId, ecs:cluster...).
	Context map[string]any `json:"context,omitempty"`
	// Unmapped is set when this package does not know the action's
	// resources: the judge refuses such a line.
	Unmapped bool `json:"unmapped,omitempty"`
	// Error is the error code AWS answered with, if any.
	Error string `json:"error,omitempty"`
}

// Caller is whose credentials a client signs with.
type Caller struct {
	// Principal is Hub or the member role's ARN.
	Principal string
	// Account and Partition build the ARNs of resources named by name
	// (tables, services by short name).
	Account, Partition string
}

// Recorder writes entries and counts access denials. The zero value counts
// only; it is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	enc    *json.Encoder
	denied sync.Map // step -> *atomic.Int64
}

// New returns a Recorder writing one JSON line per request to w (nil: count
// denials only).
func New(w io.Writer) *Recorder {
	r := &Recorder{}
	if w != nil {
		r.enc = json.NewEncoder(w)
	}
	return r
}

// Denied is how many requests of a step (fleet.WithStep; "" for requests
// made outside any step) AWS has refused for lack of permission.
func (r *Recorder) Denied(step string) int64 {
	if r == nil {
		return 0
	}
	if c, ok := r.denied.Load(step); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// deniedCodes are the error codes with which AWS services refuse a request
// that IAM did not allow: AccessDenied (STS, query protocol),
// AccessDeniedException (DynamoDB, ECS and most JSON services),
// AuthorizationError (SNS), and the KMS denials SNS and DynamoDB pass on
// when the caller may not use a topic's or table's key.
var deniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "AuthorizationError": true,
	"AuthorizationErrorException": true, "UnauthorizedOperation": true,
	"KMSAccessDeniedException": true, "KMSAccessDenied": true,
}

// IsAccessDenied reports whether err is AWS refusing a request for lack of
// permission.
func IsAccessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && deniedCodes[ae.ErrorCode()]
}

// Options returns the client option (for aws.Config.APIOptions or a
// client's Options.APIOptions) that records every request a client sends
// for caller. A Recorder that is nil records nothing.
func (r *Recorder) Options(c Caller) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		if r == nil {
			return nil
		}
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CallLog", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			r.record(ctx, c, in.Parameters, err)
			return out, md, err
		}), middleware.After)
	}
}

func (r *Recorder) record(ctx context.Context, c Caller, params any, err error) {
	if err != nil && IsAccessDenied(err) {
		c, _ := r.denied.LoadOrStore(fleet.Step(ctx), new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
	}
	if r.enc == nil {
		return
	}
	region := awsmiddleware.GetRegion(ctx)
	e := Entry{
		Step: fleet.Step(ctx), Principal: c.Principal, Account: c.Account, Region: region,
		Action: actionPrefix(awsmiddleware.GetServiceID(ctx)) + ":" + awsmiddleware.GetOperationName(ctx),
	}
	res, cond, ok := resources(arnBuilder{partition: c.Partition, region: region, account: c.Account}, e.Action, params)
	e.Resources, e.Unmapped = res, !ok
	e.Context = map[string]any{"aws:RequestedRegion": region}
	for k, v := range cond {
		e.Context[k] = v
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.Error = ae.ErrorCode()
	} else if err != nil {
		e.Error = "client: " + err.Error()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.enc.Encode(e) // a log that cannot be written must not fail the call
}

// actionPrefix is the IAM service prefix of an SDK service id.
func actionPrefix(serviceID string) string {
	switch serviceID {
	case "DynamoDB":
		return "dynamodb"
	case "ECS":
		return "ecs"
	case "STS":
		return "sts"
	case "SNS":
		return "sns"
	case "CloudWatch":
		return "cloudwatch"
	case "Organizations":
		return "organizations"
	case "SSM":
		return "ssm"
	}
	return serviceID
}

// Read parses a call log.
func Read(r io.Reader) ([]Entry, error) {
	var out []Entry
	dec := json.NewDecoder(r)
	for {
		var e Entry
		if err := dec.Decode(&e); err == io.EOF {
			return out, nil
		} else if err != nil {
			return out, err
		}
		out = append(out, e)
	}
}
