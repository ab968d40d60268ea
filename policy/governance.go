package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

// The governance checks. Account-level controls (GuardDuty.1, Config.1,
// WP.GOV.1, S3.1) are evaluated by AWS for every account whatever it runs,
// so a stack that leaves the service off fails them (and waives them with
// the reason); one that adopts the service someone else runs (mode
// existing) passes them as managed outside the stack (Options.ManagedOutside). Resource-level controls (SNS.1,
// CloudWatch.15, WP.GOV.2, S3.5, S3.8, S3.9) are n/a when the plan has no
// resource of their kind, as Security Hub reports no finding for them.
var governanceChecks = []Check{
	{ID: "GuardDuty.1", Title: "GuardDuty should be enabled", Run: checkGuardDuty},
	{ID: "Config.1", Title: "AWS Config should be enabled and use the service-linked role for resource recording", Run: checkConfigRecorder},
	{ID: "WP.GOV.1", Title: "Security Hub is enabled and subscribed to AWS Foundational Security Best Practices", Run: checkSecurityHub},
	{ID: "SNS.1", Title: "SNS topics should be encrypted at-rest using AWS KMS", Run: checkTopicEncryption},
	{ID: "CloudWatch.15", Title: "CloudWatch alarms should have specified actions configured", Run: checkAlarmActions},
	{ID: "WP.GOV.2", Title: "Every alarm notifies an SNS topic when it fires and when it recovers", Run: checkAlarmNotifies},
	{ID: "S3.1", Title: "S3 general purpose buckets should have block public access settings enabled (account level)", Run: checkAccountPublicAccessBlock},
	{ID: "S3.5", Title: "S3 general purpose buckets should require requests to use SSL", Run: checkBucketTLSOnly},
	{ID: "S3.8", Title: "S3 general purpose buckets should block public access", Run: checkBucketPublicAccessBlock},
	{ID: "S3.9", Title: "S3 general purpose buckets should have server access logging enabled", Run: checkBucketLogging},
}

// Appended here rather than listed in policy.go so that each family of
// checks lives in its own file.
func init() { Checks = append(Checks, governanceChecks...) }

const (
	typeSecurityHub          = "aws:securityhub/account:Account"
	typeStandardSubscription = "aws:securityhub/standardsSubscription:StandardsSubscription"
	typeDetector             = "aws:guardduty/detector:Detector"
	typeDetectorFeature      = "aws:guardduty/detectorFeature:DetectorFeature"
	typeRecorder             = "aws:cfg/recorder:Recorder"
	typeRecorderStatus       = "aws:cfg/recorderStatus:RecorderStatus"
	typeDeliveryChannel      = "aws:cfg/deliveryChannel:DeliveryChannel"
	typeTopic                = "aws:sns/topic:Topic"
	typeMetricAlarm          = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeCompositeAlarm       = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
	typeBucketV2             = "aws:s3/bucketV2:BucketV2"
	typeBucket               = "aws:s3/bucket:Bucket"
	typeBucketPAB            = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typeBucketPolicy         = "aws:s3/bucketPolicy:BucketPolicy"
	typeBucketLogging        = "aws:s3/bucketLoggingV2:BucketLoggingV2"
	typeAccountPAB           = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"

	fsbpPath   = "standards/aws-foundational-security-best-practices/"
	configSLR  = ":role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
	delegation = "or existing when an organization's delegated administrator or Control Tower runs it for this account (the check then passes, managed outside this stack)"
)

// accountFail is a failure of an account-level control that the stack does
// not manage at all.
func accountFail(format string, args ...any) Result {
	return Result{Status: Fail, Detail: fmt.Sprintf(format, args...)}
}

func checkGuardDuty(p *plan.Plan) []Result {
	detectors := p.OfType(typeDetector)
	if len(detectors) == 0 {
		return []Result{accountFail("no GuardDuty detector in this stack; set governance.guardDuty.mode: create, %s", delegation)}
	}
	var out []Result
	for _, d := range detectors {
		if on, set := d.Bool("enable"); set && !on {
			out = append(out, fail(d, "detector %s is declared but disabled; set enable: true", d.Name))
			continue
		}
		var features []string
		for _, f := range p.OfType(typeDetectorFeature) {
			if f.String("detectorId") == d.ID && f.String("status") == "ENABLED" {
				features = append(features, f.String("name"))
			}
		}
		slices.Sort(features)
		out = append(out, pass(d, "detector %s is enabled with %s", d.Name, orNone(features)))
	}
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "no extra features"
	}
	return strings.Join(s, ", ")
}

// checkConfigRecorder follows Security Hub's Config.1: Config is on,
// records every type that an enabled control evaluates, and records with
// the service-linked role AWSServiceRoleForConfig (Security Hub user
// guide, "Security Hub controls for AWS Config").
func checkConfigRecorder(p *plan.Plan) []Result {
	recorders := p.OfType(typeRecorder)
	if len(recorders) == 0 {
		return []Result{accountFail("no AWS Config recorder in this stack; set governance.awsConfig.mode: create, %s", delegation)}
	}
	var out []Result
	for _, r := range recorders {
		name := r.String("name")
		if name == "" {
			name = r.Name
		}
		var problems []string
		if !strings.HasSuffix(r.String("roleArn"), configSLR) {
			problems = append(problems, fmt.Sprintf("it records as %q, not AWS Config's service-linked role AWSServiceRoleForConfig", r.String("roleArn")))
		}
		if excluded := nonGlobalExclusions(r); len(excluded) > 0 {
			problems = append(problems, fmt.Sprintf("it does not record %s, which Security Hub controls evaluate; set governance.awsConfig.excludeEcsServices: false", strings.Join(excluded, ", ")))
		} else if group, _ := r.Inputs["recordingGroup"].(map[string]any); group != nil {
			if all, _ := group["allSupported"].(bool); !all && group["exclusionByResourceTypes"] == nil {
				problems = append(problems, "it records a chosen list of types instead of every supported type")
			}
		}
		if !slices.ContainsFunc(p.OfType(typeRecorderStatus), func(s plan.Resource) bool {
			on, _ := s.Bool("isEnabled")
			return on && (s.String("name") == name || s.String("name") == "")
		}) {
			problems = append(problems, "no recorder status turns it on (aws:cfg/recorderStatus with isEnabled: true)")
		}
		if len(p.OfType(typeDeliveryChannel)) == 0 {
			problems = append(problems, "it has no delivery channel, so it cannot start")
		}
		if len(problems) > 0 {
			out = append(out, fail(r, "recorder %s: %s", name, strings.Join(problems, "; ")))
			continue
		}
		out = append(out, pass(r, "recorder %s records every supported type with the service-linked role and is on", name))
	}
	return out
}

// nonGlobalExclusions are the types a recorder excludes other than IAM's
// global types (which one region of the account records for all).
func nonGlobalExclusions(r plan.Resource) []string {
	group, _ := r.Inputs["recordingGroup"].(map[string]any)
	exclusions, _ := group["exclusionByResourceTypes"].([]any)
	var out []string
	for _, e := range exclusions {
		m, _ := e.(map[string]any)
		types, _ := m["resourceTypes"].([]any)
		for _, t := range types {
			if s, _ := t.(string); s != "" && !strings.HasPrefix(s, "AWS::IAM::") {
				out = append(out, s)
			}
		}
	}
	return out
}

func checkSecurityHub(p *plan.Plan) []Result {
	hubs := p.OfType(typeSecurityHub)
	if len(hubs) == 0 {
		return []Result{accountFail("Security Hub is not enabled by this stack; set governance.securityHub.mode: create, %s", delegation)}
	}
	var subscribed []string
	for _, s := range p.OfType(typeStandardSubscription) {
		subscribed = append(subscribed, s.String("standardsArn"))
	}
	var out []Result
	for _, h := range hubs {
		if !slices.ContainsFunc(subscribed, func(arn string) bool { return strings.Contains(arn, fsbpPath) }) {
			out = append(out, fail(h, "Security Hub is on but not subscribed to AWS Foundational Security Best Practices; add \"fsbp\" to governance.securityHub.standards"))
			continue
		}
		out = append(out, pass(h, "Security Hub is on, subscribed to %d standard(s) including FSBP", len(subscribed)))
	}
	return out
}

func checkTopicEncryption(p *plan.Plan) []Result {
	topics := p.OfType(typeTopic)
	if len(topics) == 0 {
		return []Result{notApplicable("the stack has no SNS topics")}
	}
	var out []Result
	for _, t := range topics {
		if t.String("kmsMasterKeyId") == "" {
			out = append(out, fail(t, "topic %s is not encrypted; set kmsMasterKeyId to a KMS key", t.Name))
			continue
		}
		out = append(out, pass(t, "topic %s is encrypted with %s", t.Name, t.String("kmsMasterKeyId")))
	}
	return out
}

func alarms(p *plan.Plan) []plan.Resource {
	return append(p.OfType(typeMetricAlarm), p.OfType(typeCompositeAlarm)...)
}

func checkAlarmActions(p *plan.Plan) []Result {
	all := alarms(p)
	if len(all) == 0 {
		return []Result{notApplicable("the stack has no CloudWatch alarms")}
	}
	var out []Result
	for _, a := range all {
		enabled, set := a.Bool("actionsEnabled")
		switch {
		case set && !enabled:
			out = append(out, fail(a, "alarm %s has its actions disabled; set actionsEnabled: true", a.Name))
		case len(a.List("alarmActions")) == 0:
			out = append(out, fail(a, "alarm %s has no alarm action, so nobody hears it fire; add the alarm topic to alarmActions", a.Name))
		default:
			out = append(out, pass(a, "alarm %s has %d alarm action(s)", a.Name, len(a.List("alarmActions"))))
		}
	}
	return out
}

func checkAlarmNotifies(p *plan.Plan) []Result {
	all := alarms(p)
	if len(all) == 0 {
		return []Result{notApplicable("the stack has no CloudWatch alarms")}
	}
	var out []Result
	for _, a := range all {
		var problems []string
		for _, key := range []string{"alarmActions", "okActions"} {
			actions := a.List(key)
			if len(actions) == 0 {
				problems = append(problems, "no "+key)
			}
			for _, act := range actions {
				if s, _ := act.(string); !strings.Contains(s, ":sns:") {
					problems = append(problems, fmt.Sprintf("%s includes %v, which is not an SNS topic", key, act))
				}
			}
		}
		if len(problems) > 0 {
			out = append(out, fail(a, "alarm %s: %s; notify the alarm topic on ALARM and on OK", a.Name, strings.Join(problems, "; ")))
			continue
		}
		out = append(out, pass(a, "alarm %s notifies SNS on ALARM and on OK", a.Name))
	}
	return out
}

var publicAccessSettings = []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"}

// offSettings lists the public access block settings not set to true.
func offSettings(r plan.Resource) []string {
	var off []string
	for _, k := range publicAccessSettings {
		if on, _ := r.Bool(k); !on {
			off = append(off, k)
		}
	}
	return off
}

func checkAccountPublicAccessBlock(p *plan.Plan) []Result {
	blocks := p.OfType(typeAccountPAB)
	if len(blocks) == 0 {
		return []Result{accountFail("the stack does not turn on S3 Block Public Access for the account; set governance.s3AccountPublicAccessBlock.mode: create, or existing when the account's owner sets it (the check then passes, managed outside this stack)")}
	}
	var out []Result
	for _, b := range blocks {
		if off := offSettings(b); len(off) > 0 {
			out = append(out, fail(b, "account public access block leaves %s off", strings.Join(off, ", ")))
			continue
		}
		out = append(out, pass(b, "all four account-level public access settings are on"))
	}
	return out
}

// buckets are the general purpose buckets of the plan, in either of the
// provider's bucket resources.
func buckets(p *plan.Plan) []plan.Resource {
	return append(p.OfType(typeBucketV2), p.OfType(typeBucket)...)
}

// bucketName is the bucket's name when the program chose it, else its
// resource name.
func bucketName(b plan.Resource) string {
	if n := b.String("bucket"); n != "" {
		return n
	}
	return b.Name
}

// refersTo reports whether a bucket-scoped resource's value (its "bucket"
// or "targetBucket" input) names bucket b, by id or by name.
func refersTo(value string, b plan.Resource) bool {
	return value != "" && (value == b.ID || value == b.String("bucket"))
}

func bucketResource(p *plan.Plan, typ string, b plan.Resource) (plan.Resource, bool) {
	for _, r := range p.OfType(typ) {
		if refersTo(r.String("bucket"), b) {
			return r, true
		}
	}
	return plan.Resource{}, false
}

func checkBucketPublicAccessBlock(p *plan.Plan) []Result {
	all := buckets(p)
	if len(all) == 0 {
		return []Result{notApplicable("the stack has no S3 buckets")}
	}
	var out []Result
	for _, b := range all {
		pab, ok := bucketResource(p, typeBucketPAB, b)
		switch {
		case !ok:
			out = append(out, fail(b, "bucket %s has no public access block; declare an aws:s3/bucketPublicAccessBlock with all four settings true", bucketName(b)))
		case len(offSettings(pab)) > 0:
			out = append(out, fail(b, "bucket %s's public access block leaves %s off", bucketName(b), strings.Join(offSettings(pab), ", ")))
		default:
			out = append(out, pass(b, "bucket %s blocks every form of public access", bucketName(b)))
		}
	}
	return out
}

func checkBucketTLSOnly(p *plan.Plan) []Result {
	all := buckets(p)
	if len(all) == 0 {
		return []Result{notApplicable("the stack has no S3 buckets")}
	}
	var out []Result
	for _, b := range all {
		doc := b.String("policy")
		if pol, ok := bucketResource(p, typeBucketPolicy, b); ok {
			doc = pol.String("policy")
		}
		if doc == "" {
			out = append(out, fail(b, "bucket %s has no bucket policy; add one that denies s3:* when aws:SecureTransport is false", bucketName(b)))
			continue
		}
		if !deniesInsecureTransport(doc) {
			out = append(out, fail(b, "bucket %s's policy does not deny s3:* to every principal when aws:SecureTransport is false", bucketName(b)))
			continue
		}
		out = append(out, pass(b, "bucket %s refuses requests without TLS", bucketName(b)))
	}
	return out
}

// deniesInsecureTransport reports whether a policy document denies every
// S3 action to every principal over plain HTTP, the form AWS's S3.5 (rule
// s3-bucket-ssl-requests-only) accepts.
func deniesInsecureTransport(doc string) bool {
	var pol struct {
		Statement []struct {
			Effect    string
			Principal any
			Action    any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(doc), &pol); err != nil {
		return false
	}
	for _, s := range pol.Statement {
		if s.Effect != "Deny" || !anyPrincipal(s.Principal) || !slices.Contains(stringsOf(s.Action), "s3:*") {
			continue
		}
		for op, cond := range s.Condition {
			if op != "Bool" {
				continue
			}
			for k, v := range cond {
				if strings.EqualFold(k, "aws:SecureTransport") && slices.Contains(stringsOf(v), "false") {
					return true
				}
			}
		}
	}
	return false
}

func anyPrincipal(p any) bool {
	if s, ok := p.(string); ok {
		return s == "*"
	}
	m, _ := p.(map[string]any)
	return slices.Contains(stringsOf(m["AWS"]), "*")
}

// stringsOf reads a policy value that is a string, a bool or a list of them.
func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case bool:
		return []string{fmt.Sprint(x)}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, stringsOf(e)...)
		}
		return out
	}
	return nil
}

func checkBucketLogging(p *plan.Plan) []Result {
	all := buckets(p)
	if len(all) == 0 {
		return []Result{notApplicable("the stack has no S3 buckets")}
	}
	var out []Result
	for _, b := range all {
		if target, ok := loggingOf(p, b); ok {
			out = append(out, pass(b, "bucket %s logs requests to %s", bucketName(b), target))
			continue
		}
		if source, ok := logsInto(p, b); ok {
			out = append(out, Result{Resource: b.URN, Status: NotApplicable,
				Detail: fmt.Sprintf("bucket %s receives the server access logs of %s; logging a log bucket into itself would loop, and into another only moves the question", bucketName(b), source)})
			continue
		}
		out = append(out, fail(b, "bucket %s has no server access logging; declare an aws:s3/bucketLoggingV2 to the stack's access-log bucket", bucketName(b)))
	}
	return out
}

// loggingOf returns where a bucket's server access logs go, declared as
// aws:s3/bucketLoggingV2 or inline on the bucket.
func loggingOf(p *plan.Plan, b plan.Resource) (string, bool) {
	if l, ok := bucketResource(p, typeBucketLogging, b); ok {
		return l.String("targetBucket"), true
	}
	for _, key := range []string{"loggings", "logging"} {
		switch v := b.Inputs[key].(type) {
		case []any:
			if len(v) > 0 {
				m, _ := v[0].(map[string]any)
				t, _ := m["targetBucket"].(string)
				return t, true
			}
		case map[string]any:
			t, _ := v["targetBucket"].(string)
			return t, t != ""
		}
	}
	return "", false
}

// logsInto returns a bucket whose server access logs go to b.
func logsInto(p *plan.Plan, b plan.Resource) (string, bool) {
	for _, other := range buckets(p) {
		if other.URN == b.URN {
			continue
		}
		if target, ok := loggingOf(p, other); ok && refersTo(target, b) {
			return bucketName(other), true
		}
	}
	return "", false
}
