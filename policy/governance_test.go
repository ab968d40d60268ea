package policy_test

import (
	"testing"

	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

func evaluate(t *testing.T, resources ...plan.Resource) []policy.Result {
	t.Helper()
	results, err := policy.Evaluate(&plan.Plan{Stack: "bad", Resources: resources}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return results
}

func res(typ, name, id string, inputs map[string]any) plan.Resource {
	return plan.Resource{URN: "urn:" + name, Type: typ, Name: name, ID: id, Inputs: inputs}
}

const tlsOnlyPolicy = `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

// A hand-made plan with each governance mistake, so every check is seen
// failing.
func TestGovernanceChecksCatchMistakes(t *testing.T) {
	results := evaluate(t,
		res("aws:guardduty/detector:Detector", "det", "d-1", map[string]any{"enable": false}),
		res("aws:cfg/recorder:Recorder", "rec", "r-1", map[string]any{
			"name": "rec", "roleArn": "arn:aws:iam::123456789012:role/my-config-role",
			"recordingGroup": map[string]any{"allSupported": true},
		}),
		res("aws:securityhub/account:Account", "hub", "h-1", map[string]any{}),
		res("aws:securityhub/standardsSubscription:StandardsSubscription", "cis", "s-1", map[string]any{
			"standardsArn": "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/3.0.0"}),
		res("aws:sns/topic:Topic", "plain", "t-1", map[string]any{}),
		res("aws:cloudwatch/metricAlarm:MetricAlarm", "silent", "a-1", map[string]any{}),
		res("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "acct", "p-1", map[string]any{
			"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": false}),
		res("aws:s3/bucketV2:BucketV2", "open", "open-bucket", map[string]any{"bucket": "open-bucket"}),
		res("aws:s3/bucketPolicy:BucketPolicy", "open", "bp-1", map[string]any{"bucket": "open-bucket",
			"policy": `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::open-bucket/*"}]}`}),
		res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "open", "pab-1", map[string]any{"bucket": "open-bucket", "blockPublicAcls": true}),
	)
	for _, id := range []string{"GuardDuty.1", "Config.1", "WP.GOV.1", "SNS.1", "CloudWatch.15", "WP.GOV.2", "S3.1", "S3.5", "S3.8", "S3.9"} {
		if s := statuses(results, id); s[policy.Fail] != 1 || s[policy.Pass] != 0 {
			t.Errorf("%s: %v, want one failure", id, s)
		}
	}
}

func TestAlarmWithoutAnOKActionFailsOnlyWPGOV2(t *testing.T) {
	results := evaluate(t, res("aws:cloudwatch/metricAlarm:MetricAlarm", "half", "a-1", map[string]any{
		"alarmActions": []any{"arn:aws:sns:us-east-1:123456789012:alarms"},
	}))
	if s := statuses(results, "CloudWatch.15"); s[policy.Pass] != 1 {
		t.Errorf("CloudWatch.15 (AWS asks for an alarm action only): %v", s)
	}
	if s := statuses(results, "WP.GOV.2"); s[policy.Fail] != 1 {
		t.Errorf("WP.GOV.2 with no OK action: %v", s)
	}
}

func TestResourceChecksAreNotApplicableWithoutResourcesButAccountChecksFail(t *testing.T) {
	results := evaluate(t)
	for _, id := range []string{"SNS.1", "CloudWatch.15", "WP.GOV.2", "S3.5", "S3.8", "S3.9"} {
		s := statuses(results, id)
		if s[policy.NotApplicable] != 1 || len(s) != 1 {
			t.Errorf("%s on an empty plan: %v, want one n/a", id, s)
		}
	}
	for _, r := range results {
		if r.Status == policy.NotApplicable && r.Detail == "" {
			t.Errorf("%s is n/a without saying why", r.ID)
		}
	}
	// AWS evaluates account-level controls in every account.
	for _, id := range []string{"GuardDuty.1", "Config.1", "WP.GOV.1", "S3.1"} {
		if s := statuses(results, id); s[policy.Fail] != 1 {
			t.Errorf("%s on an empty plan: %v, want a failure", id, s)
		}
	}
}

func TestBucketChecksFollowBucketsByIDOrName(t *testing.T) {
	// The compute tier may reference its bucket by id, governance by name.
	for _, ref := range []string{"offline-1", "logs-bucket"} {
		results := evaluate(t,
			res("aws:s3/bucketV2:BucketV2", "alb-logs", "offline-1", map[string]any{"bucket": "logs-bucket"}),
			res("aws:s3/bucketPolicy:BucketPolicy", "alb-logs", "bp", map[string]any{"bucket": ref, "policy": tlsOnlyPolicy}),
			res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "alb-logs", "pab", map[string]any{"bucket": ref,
				"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}),
			res("aws:s3/bucketLoggingV2:BucketLoggingV2", "alb-logs", "lg", map[string]any{"bucket": ref, "targetBucket": "access-logs"}),
		)
		for _, id := range []string{"S3.5", "S3.8", "S3.9"} {
			if s := statuses(results, id); s[policy.Pass] != 1 {
				t.Errorf("bucket referenced as %q: %s %v, want a pass", ref, id, s)
			}
		}
	}
}

func TestTheAccessLogBucketIsNotAskedToLogItself(t *testing.T) {
	results := evaluate(t,
		res("aws:s3/bucketV2:BucketV2", "data", "b-1", map[string]any{"bucket": "data"}),
		res("aws:s3/bucketV2:BucketV2", "access-logs", "b-2", map[string]any{"bucket": "access-logs"}),
		res("aws:s3/bucketLoggingV2:BucketLoggingV2", "data", "lg", map[string]any{"bucket": "data", "targetBucket": "access-logs"}),
	)
	if s := statuses(results, "S3.9"); s[policy.Pass] != 1 || s[policy.NotApplicable] != 1 || s[policy.Fail] != 0 {
		t.Errorf("S3.9: %v, want the data bucket passing and the log bucket n/a", s)
	}
}
