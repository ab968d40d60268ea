package policy

import (
	"slices"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

const (
	typeLambda       = "aws:lambda/function:Function"
	typePermission   = "aws:lambda/permission:Permission"
	typeTable        = "aws:dynamodb/table:Table"
	typeQueue        = "aws:sqs/queue:Queue"
	typeStateMachine = "aws:sfn/stateMachine:StateMachine"
)

// restartChecks are the AWS Foundational Security Best Practices controls
// over the restart pipeline's resources.
var restartChecks = []Check{
	{ID: "Lambda.1", Title: "Lambda function policies should prohibit public access", Run: checkLambdaNotPublic},
	{ID: "Lambda.2", Title: "Lambda functions should use supported runtimes", Run: checkLambdaRuntime},
	{ID: "DynamoDB.2", Title: "DynamoDB tables should have point-in-time recovery enabled", Run: checkTablePITR},
	{ID: "SQS.1", Title: "Amazon SQS queues should be encrypted at rest", Run: checkQueueEncrypted},
	{ID: "StepFunctions.1", Title: "Step Functions state machines should have logging turned on", Run: checkStateMachineLogging},
}

// SupportedLambdaRuntimes are the runtimes Lambda has not deprecated
// (Lambda developer guide, "Lambda runtimes", supported runtimes; the same
// list Security Hub's Lambda.2 checks against).
var SupportedLambdaRuntimes = []string{
	"provided.al2023", "provided.al2",
	"nodejs22.x", "nodejs20.x",
	"python3.13", "python3.12", "python3.11", "python3.10",
	"java21", "java17", "java11", "java8.al2",
	"dotnet8", "ruby3.4", "ruby3.3",
}

// functionOf finds the function a permission names (by name or ARN).
func functionOf(p *plan.Plan, ref string) (plan.Resource, bool) {
	for _, f := range p.OfType(typeLambda) {
		if ref == f.Name || ref == f.String("name") || ref == f.ID || ref == f.String("arn") {
			return f, true
		}
	}
	return plan.Resource{}, false
}

// checkLambdaNotPublic fails a function whose resource policy lets anyone
// invoke it: a permission for principal "*", or for an AWS service with no
// source account or ARN to pin the caller.
func checkLambdaNotPublic(p *plan.Plan) []Result {
	fns := p.OfType(typeLambda)
	if len(fns) == 0 {
		return []Result{notApplicable("the stack has no Lambda functions")}
	}
	public := map[string]string{}
	for _, perm := range p.OfType(typePermission) {
		principal := perm.String("principal")
		pinned := perm.String("sourceAccount") != "" || perm.String("sourceArn") != "" || perm.String("principalOrgId") != ""
		if principal == "*" || (!pinned && !isAccountPrincipal(principal)) {
			if f, ok := functionOf(p, perm.String("function")); ok {
				public[f.URN] = perm.Name
			}
		}
	}
	var out []Result
	for _, f := range fns {
		if perm, ok := public[f.URN]; ok {
			out = append(out, fail(f, "permission %s lets any caller invoke %s; name the caller's account or ARN (sourceAccount/sourceArn)", perm, f.Name))
			continue
		}
		out = append(out, pass(f, "%s is invoked only by principals named in IAM or pinned permissions", f.Name))
	}
	return out
}

func isAccountPrincipal(principal string) bool {
	if len(principal) == 12 {
		for _, c := range principal {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	return len(principal) > 13 && principal[:13] == "arn:aws:iam::"
}

func checkLambdaRuntime(p *plan.Plan) []Result {
	fns := p.OfType(typeLambda)
	if len(fns) == 0 {
		return []Result{notApplicable("the stack has no Lambda functions")}
	}
	var out []Result
	for _, f := range fns {
		rt := f.String("runtime")
		if f.String("packageType") == "Image" {
			out = append(out, pass(f, "%s is a container image; its runtime is the image's", f.Name))
			continue
		}
		if !slices.Contains(SupportedLambdaRuntimes, rt) {
			out = append(out, fail(f, "%s runs on %q, not a supported runtime; use one of %v", f.Name, rt, SupportedLambdaRuntimes))
			continue
		}
		out = append(out, pass(f, "%s runs on %s", f.Name, rt))
	}
	return out
}

func checkTablePITR(p *plan.Plan) []Result {
	tables := p.OfType(typeTable)
	if len(tables) == 0 {
		return []Result{notApplicable("the stack has no DynamoDB tables")}
	}
	var out []Result
	for _, t := range tables {
		pitr, _ := t.Inputs["pointInTimeRecovery"].(map[string]any)
		if on, _ := pitr["enabled"].(bool); !on {
			out = append(out, fail(t, "table %s has no point-in-time recovery; set pointInTimeRecovery.enabled", t.Name))
			continue
		}
		out = append(out, pass(t, "table %s has point-in-time recovery", t.Name))
	}
	return out
}

func checkQueueEncrypted(p *plan.Plan) []Result {
	queues := p.OfType(typeQueue)
	if len(queues) == 0 {
		return []Result{notApplicable("the stack has no SQS queues")}
	}
	var out []Result
	for _, q := range queues {
		sse, _ := q.Bool("sqsManagedSseEnabled")
		// An unknown key ARN (null offline) still means a key is set:
		// the input is present.
		_, kms := q.Inputs["kmsMasterKeyId"]
		switch {
		case kms:
			out = append(out, pass(q, "queue %s is encrypted with a KMS key", q.Name))
		case sse:
			out = append(out, pass(q, "queue %s is encrypted with SQS-managed keys", q.Name))
		default:
			out = append(out, fail(q, "queue %s is not encrypted at rest; set kmsMasterKeyId", q.Name))
		}
	}
	return out
}

func checkStateMachineLogging(p *plan.Plan) []Result {
	machines := p.OfType(typeStateMachine)
	if len(machines) == 0 {
		return []Result{notApplicable("the stack has no Step Functions state machines")}
	}
	var out []Result
	for _, m := range machines {
		lc, _ := m.Inputs["loggingConfiguration"].(map[string]any)
		level, _ := lc["level"].(string)
		_, dest := lc["logDestination"]
		if !slices.Contains([]string{"ALL", "ERROR", "FATAL"}, level) || !dest {
			out = append(out, fail(m, "state machine %s does not log (level %q); set loggingConfiguration.level to ERROR and a log group", m.Name, level))
			continue
		}
		out = append(out, pass(m, "state machine %s logs at %s", m.Name, level))
	}
	return out
}
