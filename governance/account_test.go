package governance_test

import (
	"encoding/json"
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
	targets := p.OfType(typeEventTarget)
	if len(targets) != 1 || targets[0].String("arn") != "arn:aws:sns:us-east-1:123456789012:wp-test-alarms" {
		t.Errorf("findings are not routed to the topic: %v", targets)
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
		rules := p.OfType(typeEventRule)
		if len(rules) != 1 {
			t.Fatalf("%s: event rules = %d", severity, len(rules))
		}
		if err := json.Unmarshal([]byte(rules[0].String("eventPattern")), &pattern); err != nil {
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
