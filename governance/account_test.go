package governance_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/governance"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

func accountServices(mutate func(a *governance.AccountServicesArgs)) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		args := governance.AccountServicesArgs{
			AccountID: account, Region: region, Partition: "aws",
			TopicARN:    str("arn:aws:sns:us-east-1:123456789012:wp-test-alarms"),
			SecurityHub: &governance.SecurityHubArgs{Standards: []string{"fsbp", "cis-3.0.0"}},
			GuardDuty:   &governance.GuardDutyArgs{FindingSeverity: "high"},
			Config:      &governance.ConfigArgs{RecordGlobalResources: true, CreateServiceLinkedRole: true, RetentionDays: 400},
		}
		if mutate != nil {
			mutate(&args)
		}
		_, err := governance.NewAccountServices(ctx, "wp-test", args)
		return err
	}
}

func TestStandardARNsAreBuiltForTheRegionAndPartition(t *testing.T) {
	for _, std := range config.SecurityHubStandards {
		arn, err := governance.StandardARN("aws-us-gov", "us-gov-west-1", std)
		if err != nil {
			t.Errorf("config accepts standard %q but governance has no ARN for it: %v", std, err)
			continue
		}
		if !strings.HasPrefix(arn, "arn:aws-us-gov:securityhub:us-gov-west-1::standards/") {
			t.Errorf("%s ARN = %q", std, arn)
		}
	}
	got, _ := governance.StandardARN("aws", "eu-west-1", "fsbp")
	if want := "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0"; got != want {
		t.Errorf("FSBP ARN = %q, want %q", got, want)
	}
	if _, err := governance.StandardARN("aws", "eu-west-1", "pci"); err == nil {
		t.Error("an unknown standard has an ARN")
	}
}

func TestSecurityHubSubscribesToTheConfiguredStandards(t *testing.T) {
	p := record(t, accountServices(nil))
	var got []string
	for _, s := range p.OfType(typeStandard) {
		got = append(got, s.String("standardsArn"))
	}
	want := []string{
		"arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0",
		"arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/3.0.0",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("subscriptions = %v, want %v", got, want)
	}
	hub, ok := p.Named("aws:securityhub/account:Account", "wp-test-securityhub")
	if !ok {
		t.Fatal("no Security Hub account")
	}
	if on, _ := hub.Bool("enableDefaultStandards"); on {
		t.Error("default standards are on, so removing one from config would not unsubscribe it")
	}
}

func TestGuardDutyWatchesFargateRDSAndS3AndRoutesFindings(t *testing.T) {
	p := record(t, accountServices(nil))
	dets := p.OfType(typeDetector)
	if len(dets) != 1 {
		t.Fatalf("detectors = %d, want 1", len(dets))
	}
	features := map[string][]any{}
	for _, f := range p.OfType(typeFeature) {
		if f.String("detectorId") != dets[0].ID || f.String("status") != "ENABLED" {
			t.Errorf("feature %s is not enabled on the detector: %v", f.Name, f.Inputs)
		}
		features[f.String("name")] = f.List("additionalConfigurations")
	}
	for _, want := range []string{"S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "RUNTIME_MONITORING"} {
		if _, ok := features[want]; !ok {
			t.Errorf("GuardDuty feature %s is not enabled", want)
		}
	}
	agent := false
	for _, c := range features["RUNTIME_MONITORING"] {
		m := c.(map[string]any)
		agent = agent || (m["name"] == "ECS_FARGATE_AGENT_MANAGEMENT" && m["status"] == "ENABLED")
	}
	if !agent {
		t.Error("runtime monitoring does not manage the Fargate agent")
	}
	target, ok := p.Named(typeEventTarget, "wp-test-guardduty-findings")
	if !ok || target.String("arn") != "arn:aws:sns:us-east-1:123456789012:wp-test-alarms" {
		t.Errorf("findings are not routed to the topic: %v", target)
	}
}

func TestFindingsAtOrAboveTheSeverityReachTheTopic(t *testing.T) {
	for severity, floor := range map[string]float64{"low": 1, "medium": 4, "high": 7, "critical": 9} {
		p := record(t, accountServices(func(a *governance.AccountServicesArgs) { a.GuardDuty.FindingSeverity = severity }))
		var pattern struct {
			Source     []string `json:"source"`
			DetailType []string `json:"detail-type"`
			Detail     struct {
				Severity []struct {
					Numeric []any `json:"numeric"`
				} `json:"severity"`
			} `json:"detail"`
		}
		rule, ok := p.Named(typeEventRule, "wp-test-guardduty-findings")
		if !ok {
			t.Fatalf("%s: no findings rule", severity)
		}
		if err := json.Unmarshal([]byte(rule.String("eventPattern")), &pattern); err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(pattern.Detail.Severity)
		if want := fmt.Sprintf("[{[>= %g]}]", floor); got != want || pattern.Source[0] != "aws.guardduty" || pattern.DetailType[0] != "GuardDuty Finding" {
			t.Errorf("%s: pattern %+v, want severity %s", severity, pattern, want)
		}
	}
}

func TestConfigBucketIsPrivateEncryptedVersionedAndTLSOnly(t *testing.T) {
	p := record(t, accountServices(nil))
	bucketName := "wp-test-config-" + account
	b, ok := p.Named(typeBucket, bucketName)
	if !ok {
		t.Fatalf("no Config bucket %s", bucketName)
	}
	of := func(typ string) plan.Resource {
		t.Helper()
		for _, r := range p.OfType(typ) {
			if r.String("bucket") == b.ID {
				return r
			}
		}
		t.Fatalf("the Config bucket has no %s", typ)
		return plan.Resource{}
	}
	pab := of(typePAB)
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if on, _ := pab.Bool(k); !on {
			t.Errorf("public access block leaves %s off", k)
		}
	}
	sse := of(typeSSE).List("rules")[0].(map[string]any)["applyServerSideEncryptionByDefault"].(map[string]any)
	configKey, _ := p.Named(typeKey, "wp-test-config")
	if sse["sseAlgorithm"] != "aws:kms" || sse["kmsMasterKeyId"] != "arn:aws:kms:us-east-1:123456789012:key/"+configKey.ID {
		t.Errorf("bucket encryption = %v, want SSE-KMS with the Config key", sse)
	}
	if v := of(typeVersioning).Inputs["versioningConfiguration"].(map[string]any); v["status"] != "Enabled" {
		t.Errorf("versioning = %v", v)
	}
	rule := of(typeLifecycle).List("rules")[0].(map[string]any)
	if exp := rule["expiration"].(map[string]any); exp["days"] != float64(400) || rule["status"] != "Enabled" {
		t.Errorf("lifecycle = %v, want expiry after the 400 retention days", rule)
	}
	if l := of(typeBucketLog); l.String("targetBucket") != "wp-test-s3-logs-"+account {
		t.Errorf("access logs go to %q", l.String("targetBucket"))
	}

	tlsOnly, configDelivers := false, false
	for _, s := range parsePolicy(t, of(typeBucketPolicy).String("policy")).Statement {
		if s.Effect == "Deny" && s.Principal == "*" && slices.Contains(actions(s.Action), "s3:*") && s.Condition["Bool"]["aws:SecureTransport"] == "false" {
			tlsOnly = true
		}
		if m, ok := s.Principal.(map[string]any); ok && m["Service"] == "config.amazonaws.com" && slices.Contains(actions(s.Action), "s3:PutObject") {
			configDelivers = s.Condition["StringEquals"]["aws:SourceAccount"] == account &&
				s.Resource == "arn:aws:s3:::"+bucketName+"/AWSLogs/"+account+"/Config/*"
		}
	}
	if !tlsOnly {
		t.Error("bucket policy does not refuse requests without TLS")
	}
	if !configDelivers {
		t.Error("bucket policy does not let this account's AWS Config deliver to AWSLogs/<account>/Config/")
	}
}

func TestRecorderRecordsEverythingWithTheServiceLinkedRole(t *testing.T) {
	p := record(t, accountServices(nil))
	recs := p.OfType(typeRecorder)
	if len(recs) != 1 {
		t.Fatalf("recorders = %d", len(recs))
	}
	r := recs[0]
	if r.String("roleArn") != "arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig" {
		t.Errorf("recorder role = %q", r.String("roleArn"))
	}
	if g := r.Inputs["recordingGroup"].(map[string]any); g["allSupported"] != true || g["includeGlobalResourceTypes"] != true {
		t.Errorf("recording group = %v", g)
	}
	status := p.OfType("aws:cfg/recorderStatus:RecorderStatus")
	if len(status) != 1 || status[0].String("name") != r.String("name") {
		t.Errorf("recorder status = %v", status)
	} else if on, _ := status[0].Bool("isEnabled"); !on {
		t.Error("the recorder is not turned on")
	}
	if ch := p.OfType("aws:cfg/deliveryChannel:DeliveryChannel"); len(ch) != 1 || ch[0].String("s3BucketName") != "wp-test-config-"+account {
		t.Errorf("delivery channel = %v", ch)
	}
	if n := len(p.OfType(typeRule)); n != len(governance.ConfigRules) {
		t.Errorf("config rules = %d, want %d", n, len(governance.ConfigRules))
	}
	if len(p.OfType("aws:iam/serviceLinkedRole:ServiceLinkedRole")) != 1 {
		t.Error("the service-linked role is not created")
	}
}

func TestRecordingExclusions(t *testing.T) {
	cases := []struct {
		name       string
		global     bool
		excludeECS bool
		want       []string
	}{
		{"everything", true, false, nil},
		{"without ECS services", true, true, []string{"AWS::ECS::Service"}},
		{"without ECS services, IAM recorded elsewhere", false, true,
			[]string{"AWS::ECS::Service", "AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::Role", "AWS::IAM::Policy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := record(t, accountServices(func(a *governance.AccountServicesArgs) {
				a.Config.RecordGlobalResources, a.Config.ExcludeECSServices = c.global, c.excludeECS
			}))
			g := p.OfType(typeRecorder)[0].Inputs["recordingGroup"].(map[string]any)
			var got []string
			if ex, ok := g["exclusionByResourceTypes"].([]any); ok {
				for _, t := range ex[0].(map[string]any)["resourceTypes"].([]any) {
					got = append(got, t.(string))
				}
				if g["allSupported"] != false || fmt.Sprint(g["recordingStrategies"]) != "[map[useOnly:EXCLUSION_BY_RESOURCE_TYPES]]" {
					t.Errorf("an exclusion list needs allSupported false and the exclusion strategy: %v", g)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("excluded = %v, want %v", got, c.want)
			}
		})
	}
}

func TestAccountServicesCanBeTurnedOffOneByOne(t *testing.T) {
	p := record(t, accountServices(func(a *governance.AccountServicesArgs) {
		a.SecurityHub, a.Config = nil, nil
	}))
	if len(p.OfType(typeDetector)) != 1 || len(p.OfType(typeRecorder)) != 0 || len(p.OfType(typeStandard)) != 0 || len(p.OfType(typeBucket)) != 0 {
		t.Errorf("with only GuardDuty on: detectors %d, recorders %d, standards %d, buckets %d",
			len(p.OfType(typeDetector)), len(p.OfType(typeRecorder)), len(p.OfType(typeStandard)), len(p.OfType(typeBucket)))
	}
}

// recordIn records the program in an account of the given shape.
func recordIn(t *testing.T, account plan.Account, program pulumi.RunFunc) (*plan.Plan, error) {
	t.Helper()
	return plan.Record(program, plan.Options{Project: "wordpress", Stack: "test", Config: map[string]string{"aws:region": region}, Account: account})
}

func adoptAll(a *governance.AccountServicesArgs) {
	a.SecurityHub.Existing, a.GuardDuty.Existing, a.Config.Existing = true, true, true
	a.PublicAccessBlock = &governance.PublicAccessBlockArgs{Existing: true}
}

// Adopting creates nothing that exists once per account, and still wires
// the findings and the Config rules' compliance to the topic.
func TestAdoptedServicesAreLookedUpNotCreatedAndStillReachTheTopic(t *testing.T) {
	p, err := recordIn(t, plan.Account{}, accountServices(adoptAll))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{typeDetector, typeFeature, typeRecorder, typeStandard, typeBucket, typeKey,
		"aws:securityhub/account:Account", "aws:cfg/deliveryChannel:DeliveryChannel", "aws:cfg/recorderStatus:RecorderStatus",
		"aws:iam/serviceLinkedRole:ServiceLinkedRole", "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"} {
		if n := len(p.OfType(typ)); n != 0 {
			t.Errorf("adopting everything declares %d %s", n, typ)
		}
	}
	if n := len(p.OfType(typeRule)); n != len(governance.ConfigRules) {
		t.Errorf("config rules = %d, want the %d mirrors on the account's recorder", n, len(governance.ConfigRules))
	}
	for _, name := range []string{"wp-test-guardduty-findings", "wp-test-config-noncompliant"} {
		target, ok := p.Named(typeEventTarget, name)
		if !ok || target.String("arn") != "arn:aws:sns:us-east-1:123456789012:wp-test-alarms" {
			t.Errorf("%s does not reach the topic: %+v", name, target)
		}
	}
	rule, _ := p.Named(typeEventRule, "wp-test-config-noncompliant")
	var pattern struct {
		Detail struct {
			ConfigRuleName      []string `json:"configRuleName"`
			NewEvaluationResult struct {
				ComplianceType []string `json:"complianceType"`
			} `json:"newEvaluationResult"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(rule.String("eventPattern")), &pattern); err != nil {
		t.Fatal(err)
	}
	if len(pattern.Detail.ConfigRuleName) != len(governance.ConfigRules) || !slices.Equal(pattern.Detail.NewEvaluationResult.ComplianceType, []string{"NON_COMPLIANT"}) {
		t.Errorf("compliance pattern = %+v", pattern)
	}
}

// An account that lacks an adopted service stops the plan, saying which
// one, the way AWS answers the lookup.
func TestAnAdoptedServiceTheAccountLacksStopsThePlan(t *testing.T) {
	cases := []struct {
		account plan.Account
		service string
		want    string
	}{
		{plan.Account{NoGuardDuty: true}, "guardDuty", "account 123456789012 has no GuardDuty detector in us-east-1 to adopt"},
		{plan.Account{NoSecurityHub: true}, "securityHub", "account 123456789012 has no Security Hub enabled in us-east-1 to adopt: "},
		{plan.Account{NoPublicAccessBlock: true}, "s3AccountPublicAccessBlock", "NoSuchPublicAccessBlockConfiguration"},
	}
	for _, c := range cases {
		t.Run(c.service, func(t *testing.T) {
			_, err := recordIn(t, c.account, accountServices(adoptAll))
			var missing *governance.MissingError
			if !errors.As(err, &missing) || missing.Service != c.service || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want a MissingError of %s saying %q", err, c.service, c.want)
			}
		})
	}
}

// What a stack creates for the whole account stays when the stack is
// destroyed, unless told otherwise; the stack's own rules and alarms go.
func TestCreatedAccountWideServicesAreRetainedOnDelete(t *testing.T) {
	for _, retain := range []bool{true, false} {
		p := record(t, accountServices(func(a *governance.AccountServicesArgs) {
			a.RetainOnDelete = retain
			a.PublicAccessBlock = &governance.PublicAccessBlockArgs{}
		}))
		for _, typ := range []string{"aws:securityhub/account:Account", typeStandard, typeDetector, typeFeature, typeRecorder,
			"aws:cfg/deliveryChannel:DeliveryChannel", "aws:cfg/recorderStatus:RecorderStatus", "aws:iam/serviceLinkedRole:ServiceLinkedRole",
			"aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", typeBucket, typeKey} {
			rs := p.OfType(typ)
			if len(rs) == 0 {
				t.Errorf("no %s", typ)
			}
			for _, r := range rs {
				if r.RetainOnDelete != retain {
					t.Errorf("retain %v: %s retainOnDelete = %v", retain, r.Label(), r.RetainOnDelete)
				}
			}
		}
		for _, typ := range []string{typeRule, typeEventRule, typeEventTarget} {
			for _, r := range p.OfType(typ) {
				if r.RetainOnDelete {
					t.Errorf("the stack's own %s is left behind on destroy", r.Label())
				}
			}
		}
	}
}

// An adopted detector says whether GuardDuty adds its agent to Fargate
// tasks (the execution role then needs to pull it).
func TestAnAdoptedDetectorSaysWhetherItManagesTheFargateAgent(t *testing.T) {
	var got *governance.AccountServices
	if _, err := recordIn(t, plan.Account{}, func(ctx *pulumi.Context) error {
		var err error
		got, err = governance.NewAccountServices(ctx, "wp-test", governance.AccountServicesArgs{
			AccountID: account, Region: region, Partition: "aws", TopicARN: str("arn:aws:sns:us-east-1:123456789012:t"),
			GuardDuty: &governance.GuardDutyArgs{Existing: true, FindingSeverity: "high"},
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !got.FargateAgent {
		t.Error("the governed account's detector runs the Fargate agent, and the component says it does not")
	}
}

// The Config bucket is encrypted with the stack's own key, whose policy
// lets Config (for this account only) encrypt deliveries with it.
func TestConfigDeliversUnderTheStacksKey(t *testing.T) {
	p := record(t, accountServices(nil))
	key, ok := p.Named(typeKey, "wp-test-config")
	if !ok {
		t.Fatal("no Config key")
	}
	var doc struct {
		Statement []struct {
			Sid       string
			Principal map[string]any
			Action    any
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(key.String("policy")), &doc); err != nil {
		t.Fatal(err)
	}
	config := false
	for _, s := range doc.Statement {
		if s.Principal["Service"] == "config.amazonaws.com" && strings.Contains(fmt.Sprint(s.Action), "kms:GenerateDataKey") && s.Condition["StringEquals"]["aws:SourceAccount"] == account {
			config = true
		}
	}
	if !config {
		t.Errorf("the key policy does not let Config encrypt for this account: %s", key.String("policy"))
	}
	channel := p.OfType("aws:cfg/deliveryChannel:DeliveryChannel")
	if len(channel) != 1 || channel[0].String("s3KmsKeyArn") != "arn:aws:kms:us-east-1:123456789012:key/"+key.ID {
		t.Errorf("delivery channel = %+v, want the stack's key", channel)
	}
}
