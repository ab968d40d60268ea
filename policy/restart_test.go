package policy_test

import (
	"testing"

	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

func resource(typ, name string, inputs map[string]any) plan.Resource {
	return plan.Resource{URN: "urn:" + typ + "::" + name, Type: typ, Name: name, ID: "id-" + name, Inputs: inputs}
}

func result(t *testing.T, p *plan.Plan, id string) []policy.Result {
	t.Helper()
	results, err := policy.Evaluate(p, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []policy.Result
	for _, r := range results {
		if r.ID == id {
			out = append(out, r)
		}
	}
	return out
}

func TestRestartChecksFailWhatFSBPFails(t *testing.T) {
	fn := func(runtime string) plan.Resource {
		return resource("aws:lambda/function:Function", "fn", map[string]any{"name": "fn", "runtime": runtime})
	}
	cases := []struct {
		id        string
		resources []plan.Resource
		want      policy.Status
	}{
		{"Lambda.1", []plan.Resource{fn("provided.al2023"), resource("aws:lambda/permission:Permission", "public", map[string]any{"function": "fn", "principal": "*"})}, policy.Fail},
		{"Lambda.1", []plan.Resource{fn("provided.al2023"), resource("aws:lambda/permission:Permission", "s3", map[string]any{"function": "fn", "principal": "s3.amazonaws.com"})}, policy.Fail},
		{"Lambda.1", []plan.Resource{fn("provided.al2023"), resource("aws:lambda/permission:Permission", "s3", map[string]any{"function": "fn", "principal": "s3.amazonaws.com", "sourceAccount": "123456789012"})}, policy.Pass},
		{"Lambda.1", nil, policy.NotApplicable},
		{"Lambda.2", []plan.Resource{fn("go1.x")}, policy.Fail},
		{"Lambda.2", []plan.Resource{fn("provided.al2023")}, policy.Pass},
		{"DynamoDB.2", []plan.Resource{resource("aws:dynamodb/table:Table", "t", map[string]any{})}, policy.Fail},
		{"DynamoDB.2", []plan.Resource{resource("aws:dynamodb/table:Table", "t", map[string]any{"pointInTimeRecovery": map[string]any{"enabled": true}})}, policy.Pass},
		{"DynamoDB.2", nil, policy.NotApplicable},
		{"SQS.1", []plan.Resource{resource("aws:sqs/queue:Queue", "q", map[string]any{})}, policy.Fail},
		{"SQS.1", []plan.Resource{resource("aws:sqs/queue:Queue", "q", map[string]any{"sqsManagedSseEnabled": true})}, policy.Pass},
		{"SNS.1", []plan.Resource{resource("aws:sns/topic:Topic", "t", map[string]any{})}, policy.Fail},
		{"SNS.1", []plan.Resource{resource("aws:sns/topic:Topic", "t", map[string]any{"kmsMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/k"})}, policy.Pass},
		{"StepFunctions.1", []plan.Resource{resource("aws:sfn/stateMachine:StateMachine", "sm", map[string]any{"loggingConfiguration": map[string]any{"level": "OFF"}})}, policy.Fail},
		{"StepFunctions.1", []plan.Resource{resource("aws:sfn/stateMachine:StateMachine", "sm", map[string]any{"loggingConfiguration": map[string]any{"level": "ERROR", "logDestination": "arn:...:*"}})}, policy.Pass},
		{"StepFunctions.1", nil, policy.NotApplicable},
	}
	for _, c := range cases {
		got := result(t, &plan.Plan{Resources: c.resources}, c.id)
		if len(got) != 1 || got[0].Status != c.want {
			t.Errorf("%s over %d resources: %+v, want one %s", c.id, len(c.resources), got, c.want)
		}
		if c.want == policy.NotApplicable && got[0].Detail == "" {
			t.Errorf("%s n/a without its reason", c.id)
		}
	}
}
