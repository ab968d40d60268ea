package platform_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/governance"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

const (
	typeAlarm       = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeTopic       = "aws:sns/topic:Topic"
	typeTopicPolicy = "aws:sns/topicPolicy:TopicPolicy"
)

// governanceCounts are the governance resources a stack must have, by type.
var governanceCounts = map[string]map[string]int{
	"prod": {
		"aws:securityhub/account:Account":                             1,
		"aws:securityhub/standardsSubscription:StandardsSubscription": 1,
		"aws:guardduty/detector:Detector":                             1,
		"aws:guardduty/detectorFeature:DetectorFeature":               3,
		"aws:cloudwatch/eventRule:EventRule":                          1,
		"aws:cfg/recorder:Recorder":                                   1,
		"aws:cfg/deliveryChannel:DeliveryChannel":                     1,
		"aws:cfg/recorderStatus:RecorderStatus":                       1,
		"aws:cfg/rule:Rule":                                           len(governance.ConfigRules),
		"aws:s3/bucketV2:BucketV2":                                    2,
		"aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock":    1,
		"aws:cloudwatch/dashboard:Dashboard":                          1,
		typeTopic:                                                     1,
		// ALB 4, ECS 2, RDS 5 and one replica lag, EFS 1, WAF 1, PHP
		// errors 1, and two per NAT gateway.
		typeAlarm: 20,
	},
	"dev": {
		"aws:securityhub/account:Account":                          0,
		"aws:guardduty/detector:Detector":                          0,
		"aws:cfg/recorder:Recorder":                                0,
		"aws:s3/bucketV2:BucketV2":                                 0,
		"aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": 0,
		"aws:cloudwatch/dashboard:Dashboard":                       0,
		typeTopic:                                                  1,
		// dev's groups: the ALB's 4, PHP errors, the shared NAT's two.
		typeAlarm: 7,
	},
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
		p := stacktest.Stack(t, stack)
		for typ, n := range want {
			if got := len(ofGovernance(p, typ)); got != n {
				t.Errorf("%s: %d %s, want %d", stack, got, typ, n)
			}
		}
	}
}

func TestProdSubscribesToFSBPInItsRegion(t *testing.T) {
	p := stacktest.Stack(t, "prod")
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

func TestADelegatedAdministratorAccountDeclaresNoAccountServices(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	setGovernance(t, raw, map[string]any{
		"securityHub":                map[string]any{"enabled": false},
		"guardDuty":                  map[string]any{"enabled": false},
		"awsConfig":                  map[string]any{"enabled": false},
		"s3AccountPublicAccessBlock": false,
	})
	p, _ := stacktest.Record(t, "prod", raw)
	for _, r := range p.Resources {
		if r.Type == "wordpress:governance:AccountServices" {
			t.Errorf("account services component declared with every service off: %s", r.Name)
		}
	}
	// Without their waivers, the account-level controls fail.
	results, err := policy.Evaluate(p, policy.Options{Production: true})
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
			t.Errorf("%s does not fail when the stack leaves it to someone else; the waiver must say who", id)
		}
	}
}

func TestExcludingECSServicesFromConfigFailsConfig1(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	setGovernance(t, raw, map[string]any{"awsConfig": map[string]any{
		"enabled": true, "recordGlobalResources": true, "excludeEcsServices": true, "createServiceLinkedRole": true, "retentionDays": 730,
	}})
	p, _ := stacktest.Record(t, "prod", raw)
	results, err := policy.Evaluate(p, policy.Options{Production: true})
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
	p := stacktest.Stack(t, "prod")
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
