package platform_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/governance"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/platform"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

const (
	typeAlarm       = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeTopic       = "aws:sns/topic:Topic"
	typeTopicPolicy = "aws:sns/topicPolicy:TopicPolicy"
)

// accountWideTypes are what exists once per account and Region of the
// account-wide services: a stack that adopts them declares none.
var accountWideTypes = []string{
	"aws:securityhub/account:Account",
	"aws:securityhub/standardsSubscription:StandardsSubscription",
	"aws:guardduty/detector:Detector",
	"aws:guardduty/detectorFeature:DetectorFeature",
	"aws:cfg/recorder:Recorder",
	"aws:cfg/deliveryChannel:DeliveryChannel",
	"aws:cfg/recorderStatus:RecorderStatus",
	"aws:iam/serviceLinkedRole:ServiceLinkedRole",
	"aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
	"aws:ssm/document:Document",
}

// governanceCounts are the governance resources a stack must have, by type.
var governanceCounts = map[string]map[string]int{
	// prod adopts every account-wide service and still sends GuardDuty's
	// findings and its Config rules' non-compliance to the topic.
	"prod": {
		"aws:securityhub/account:Account":                          0,
		"aws:guardduty/detector:Detector":                          0,
		"aws:cfg/recorder:Recorder":                                0,
		"aws:cfg/rule:Rule":                                        len(governance.ConfigRules),
		"aws:cloudwatch/eventRule:EventRule":                       2,
		"aws:s3/bucketV2:BucketV2":                                 1, // the access-log bucket
		"aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": 0,
		"aws:cloudwatch/dashboard:Dashboard":                       1,
		typeTopic:                                                  1,
		// ALB 4, ECS 2, RDS 5 and one replica lag, EFS 1, WAF 1, PHP
		// errors 1, and two per NAT gateway.
		typeAlarm: 20,
	},
	// prod in an account where it owns them all.
	"prod-create": {
		"aws:securityhub/account:Account":                             1,
		"aws:securityhub/standardsSubscription:StandardsSubscription": 1,
		"aws:guardduty/detector:Detector":                             1,
		"aws:guardduty/detectorFeature:DetectorFeature":               3,
		"aws:cloudwatch/eventRule:EventRule":                          2,
		"aws:cfg/recorder:Recorder":                                   1,
		"aws:cfg/deliveryChannel:DeliveryChannel":                     1,
		"aws:cfg/recorderStatus:RecorderStatus":                       1,
		"aws:cfg/rule:Rule":                                           len(governance.ConfigRules),
		"aws:s3/bucketV2:BucketV2":                                    2,
		"aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock":    1,
		"aws:cloudwatch/dashboard:Dashboard":                          1,
		typeTopic:                                                     1,
		typeAlarm:                                                     20,
	},
	"dev": {
		"aws:securityhub/account:Account":                          0,
		"aws:guardduty/detector:Detector":                          0,
		"aws:cfg/recorder:Recorder":                                0,
		"aws:cfg/rule:Rule":                                        0,
		"aws:s3/bucketV2:BucketV2":                                 0,
		"aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": 0,
		"aws:cloudwatch/dashboard:Dashboard":                       0,
		typeTopic:                                                  1,
		// dev's groups: the ALB's 4, PHP errors, the shared NAT's two.
		typeAlarm: 7,
	},
}

// governed records a stack; "prod-create" is prod creating every
// account-wide service.
func governed(t *testing.T, stack string) *plan.Plan {
	t.Helper()
	if stack != "prod-create" {
		return stacktest.Stack(t, stack)
	}
	raw := stacktest.RawConfig(t, "prod")
	setGovernance(t, raw, map[string]any{"securityHub": map[string]any{"mode": "create"}, "guardDuty": map[string]any{"mode": "create"},
		"awsConfig": map[string]any{"mode": "create"}, "s3AccountPublicAccessBlock": map[string]any{"mode": "create"},
		"sessionManagerPreferences": map[string]any{"mode": "create"}})
	p, _ := stacktest.Record(t, "prod", raw)
	return p
}

// ofGovernance returns the resources of typ under a governance component:
// other tiers (the restart pipeline) have topics and alarms of their own.
func ofGovernance(p *plan.Plan, typ string) []plan.Resource {
	components := map[string]bool{}
	for _, r := range p.Resources {
		if strings.HasPrefix(r.Type, "wordpress:governance:") {
			components[r.URN] = true
		}
	}
	var out []plan.Resource
	for _, r := range p.OfType(typ) {
		if components[r.Parent] {
			out = append(out, r)
		}
	}
	return out
}

func TestEachStackHasItsGovernance(t *testing.T) {
	for stack, want := range governanceCounts {
		p := governed(t, stack)
		for typ, n := range want {
			if got := len(ofGovernance(p, typ)); got != n {
				t.Errorf("%s: %d %s, want %d", stack, got, typ, n)
			}
		}
	}
}

func TestProdSubscribesToFSBPInItsRegion(t *testing.T) {
	p := governed(t, "prod-create")
	subs := p.OfType("aws:securityhub/standardsSubscription:StandardsSubscription")
	want := "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0"
	if len(subs) != 1 || subs[0].String("standardsArn") != want {
		t.Errorf("prod standards = %v, want %s", subs, want)
	}
}

func TestEveryAlarmOfEveryStackNotifiesTheAlarmTopic(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stacktest.Stack(t, stack)
		pols := p.OfType(typeTopicPolicy)
		if len(pols) != 1 {
			t.Fatalf("%s: topic policies = %d, want the alarm topic's", stack, len(pols))
		}
		topic := pols[0].String("arn")
		alarms := p.OfType(typeAlarm)
		if len(alarms) == 0 {
			t.Fatalf("%s has no alarms", stack)
		}
		for _, a := range alarms {
			for _, key := range []string{"alarmActions", "okActions"} {
				if got := a.List(key); len(got) != 1 || got[0] != topic {
					t.Errorf("%s %s %s = %v, want the alarm topic %s", stack, a.Name, key, got, topic)
				}
			}
		}
	}
}

func TestTheAlarmTopicIsEncryptedWithACustomerManagedKey(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stacktest.Stack(t, stack)
		topic := p.OfType(typeTopic)[0]
		key, ok := p.Named(typeKey, "wordpress-"+stack+"-alarms")
		if !ok {
			t.Fatalf("%s has no alarm topic key", stack)
		}
		if topic.String("kmsMasterKeyId") != "arn:aws:kms:us-east-1:123456789012:key/"+key.ID {
			t.Errorf("%s alarm topic key = %q, want the stack's own key", stack, topic.String("kmsMasterKeyId"))
		}
	}
}

func TestNATAlarmsWatchTheNetworksGateways(t *testing.T) {
	p := stacktest.Stack(t, "prod")
	nats := map[string]bool{}
	for _, n := range p.OfType(typeNAT) {
		nats[n.ID] = true
	}
	watched := map[string]bool{}
	for _, a := range p.OfType(typeAlarm) {
		if dims, _ := a.Inputs["dimensions"].(map[string]any); dims["NatGatewayId"] != nil {
			id, _ := dims["NatGatewayId"].(string)
			if !nats[id] {
				t.Errorf("alarm %s watches %q, not a NAT gateway of the stack", a.Name, id)
			}
			watched[id] = true
		}
	}
	if len(watched) != len(nats) || len(nats) != 3 {
		t.Errorf("alarms watch %d of %d NAT gateways", len(watched), len(nats))
	}
}

// setGovernance changes settings of wordpress:governance in raw.
func setGovernance(t *testing.T, raw map[string]string, settings map[string]any) {
	t.Helper()
	g := map[string]any{}
	if s := raw["wordpress:governance"]; s != "" {
		if err := json.Unmarshal([]byte(s), &g); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range settings {
		g[k] = v
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	raw["wordpress:governance"] = string(b)
}

// prod with every account-wide service adopted declares none of them and
// passes the account-level checks as managed outside the stack; left off,
// they fail unless waived.
func TestProdAdoptingEveryAccountServiceDeclaresNoneAndPasses(t *testing.T) {
	p, cfg := stacktest.Record(t, "prod", stacktest.RawConfig(t, "prod"))
	for _, typ := range accountWideTypes {
		if n := len(p.OfType(typ)); n != 0 {
			t.Errorf("prod adopts the account's services but declares %d %s", n, typ)
		}
	}
	results, err := policy.Evaluate(p, stacktest.PolicyOptions(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if policy.Failed(results) {
		t.Errorf("prod fails policy: %+v", results)
	}
	for _, r := range results {
		switch r.ID {
		case "GuardDuty.1", "Config.1", "WP.GOV.1", "S3.1":
			if r.Status != policy.Pass || !strings.Contains(r.Detail, "managed outside this stack") {
				t.Errorf("%s: %s %q, want a pass managed outside the stack", r.ID, r.Status, r.Detail)
			}
		}
	}

	raw := stacktest.RawConfig(t, "prod")
	setGovernance(t, raw, map[string]any{
		"securityHub": map[string]any{"mode": "off"}, "guardDuty": map[string]any{"mode": "off"}, "awsConfig": map[string]any{"mode": "off"},
		"s3AccountPublicAccessBlock": map[string]any{"mode": "off"}, "sessionManagerPreferences": map[string]any{"mode": "off"},
	})
	p, cfg = stacktest.Record(t, "prod", raw)
	for _, r := range p.Resources {
		if r.Type != "wordpress:governance:AccountServices" {
			continue
		}
		// Only the bucket for the load balancer's logs' access logs.
		for _, c := range p.Children(r.URN) {
			if c.Service() != "s3" || !strings.HasPrefix(c.Name, "wordpress-prod-s3-logs-") {
				t.Errorf("with every account service off, the stack declares %s", c.Label())
			}
		}
	}
	results, err = policy.Evaluate(p, stacktest.PolicyOptions(cfg))
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, r := range results {
		if r.Status == policy.Fail {
			failed[r.ID] = true
		}
	}
	for _, id := range []string{"GuardDuty.1", "Config.1", "WP.GOV.1", "S3.1"} {
		if !failed[id] {
			t.Errorf("%s does not fail when the stack leaves it off; the waiver must say who runs it", id)
		}
	}
}

// An account that lacks a service the stack adopts stops the plan before
// anything is created, naming the key and the ways out.
func TestAnAccountWithoutAnAdoptedServiceStopsThePlanWithTheKey(t *testing.T) {
	cases := []struct {
		account plan.Account
		want    string
	}{
		{plan.Account{NoGuardDuty: true}, "governance.guardDuty.mode is existing, but account 123456789012 has no GuardDuty detector in us-east-1 to adopt"},
		{plan.Account{NoSecurityHub: true}, "governance.securityHub.mode is existing, but account 123456789012 has no Security Hub enabled in us-east-1 to adopt"},
		{plan.Account{NoPublicAccessBlock: true}, "governance.s3AccountPublicAccessBlock.mode is existing, but account 123456789012 has no S3 Block Public Access setting to adopt"},
	}
	raw := stacktest.RawConfig(t, "prod")
	for _, c := range cases {
		_, err := plan.Record(platform.DeployOffline, plan.Options{Project: "wordpress", Stack: "prod", Config: raw, RootDirectory: stacktest.Root(t), Account: c.account})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "set it to create to have this stack turn it on in this account and Region, or to off to go without") {
			t.Errorf("%+v: err = %v", c.account, err)
		}
	}
}

// What a stack creates for the whole account stays in place on destroy.
func TestCreatedAccountWideServicesOutliveTheStack(t *testing.T) {
	p := governed(t, "prod-create")
	for _, typ := range accountWideTypes {
		rs := p.OfType(typ)
		if len(rs) == 0 {
			t.Errorf("prod-create declares no %s", typ)
		}
		for _, r := range rs {
			if !r.RetainOnDelete {
				t.Errorf("%s is deleted with the stack", r.Label())
			}
		}
	}
	raw := stacktest.RawConfig(t, "prod")
	setGovernance(t, raw, map[string]any{"guardDuty": map[string]any{"mode": "create"}, "retainOnDelete": false})
	p, _ = stacktest.Record(t, "prod", raw)
	for _, d := range p.OfType("aws:guardduty/detector:Detector") {
		if d.RetainOnDelete {
			t.Error("retainOnDelete: false still retains the detector")
		}
	}
}

func TestExcludingECSServicesFromConfigFailsConfig1(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	setGovernance(t, raw, map[string]any{"awsConfig": map[string]any{
		"mode": "create", "recordGlobalResources": true, "excludeEcsServices": true, "createServiceLinkedRole": true, "retentionDays": 730,
	}})
	p, cfg := stacktest.Record(t, "prod", raw)
	results, err := policy.Evaluate(p, stacktest.PolicyOptions(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var detail []string
	for _, r := range results {
		if r.ID == "Config.1" && r.Status == policy.Fail {
			detail = append(detail, r.Detail)
		}
	}
	if len(detail) != 1 || !strings.Contains(detail[0], "AWS::ECS::Service") {
		t.Errorf("Config.1 with ECS services excluded: %v", detail)
	}
}

func TestDashboardIsOnlyWhereConfigAsksForIt(t *testing.T) {
	for stack, want := range map[string]int{"dev": 0, "prod": 1} {
		p := stacktest.Stack(t, stack)
		boards := ofGovernance(p, "aws:cloudwatch/dashboard:Dashboard")
		if len(boards) != want {
			t.Errorf("%s dashboards = %d, want %d", stack, len(boards), want)
		}
		for _, b := range boards {
			var body map[string]any
			if err := json.Unmarshal([]byte(b.String("dashboardBody")), &body); err != nil {
				t.Errorf("%s dashboard body: %v", stack, err)
			}
		}
	}
}

// The governance resources hang under their components, not at the top.
func TestGovernanceResourcesSitInTheirComponents(t *testing.T) {
	p := governed(t, "prod-create")
	components := map[string]string{}
	for _, r := range p.Resources {
		if strings.HasPrefix(r.Type, "wordpress:governance:") {
			components[r.URN] = r.Type
		}
	}
	if len(components) != 3 {
		t.Errorf("governance components = %v, want AlarmTopic, AccountServices and Alarms", components)
	}
	for _, typ := range []string{typeAlarm, typeTopic, "aws:guardduty/detector:Detector", "aws:cfg/recorder:Recorder"} {
		for _, r := range p.OfType(typ) {
			if r.Parent == "" {
				t.Errorf("%s is not parented to a component", r.Label())
			}
		}
	}
	for _, typ := range []string{"aws:guardduty/detector:Detector", "aws:cfg/recorder:Recorder"} {
		for _, r := range p.OfType(typ) {
			if _, ok := components[r.Parent]; !ok {
				t.Errorf("%s is not parented to a governance component", r.Label())
			}
		}
	}
}
