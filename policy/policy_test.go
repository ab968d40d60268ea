package policy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/cost"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

func statuses(results []policy.Result, id string) map[policy.Status]int {
	out := map[policy.Status]int{}
	for _, r := range results {
		if r.ID == id {
			out[r.Status]++
		}
	}
	return out
}

var prod = policy.Options{Production: true}

func TestProdPassesEveryCheck(t *testing.T) {
	p, cfg := stacktest.Record(t, "prod", stacktest.RawConfig(t, "prod"))
	prices, err := cost.LoadPrices(cfg.Region)
	if err != nil {
		t.Fatal(err)
	}
	est := cost.Compute(p, prices, cfg.Cost.Usage)
	budget := &policy.Budget{EstimateUSD: est.MonthlyUSD, BudgetUSD: cfg.Cost.MonthlyBudgetUSD, NotPriced: est.NotPriced}
	opts := stacktest.PolicyOptions(cfg)
	opts.Cost = budget
	results, err := policy.Evaluate(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	// What prod has nothing of (no task sets; the nightly restart runs
	// from the hub), and what it waives with a reason.
	notApplicable := []string{"ECS.16", "Lambda.1", "Lambda.2", "DynamoDB.2", "SQS.1", "StepFunctions.1"}
	waived := []string{"ECS.5"}
	for _, c := range policy.Checks {
		s := statuses(results, c.ID)
		switch {
		case s[policy.Fail] > 0:
			t.Errorf("%s fails on prod: %v", c.ID, s)
		case slices.Contains(notApplicable, c.ID):
			if s[policy.NotApplicable] == 0 {
				t.Errorf("%s on prod: %v, want n/a", c.ID, s)
			}
		case slices.Contains(waived, c.ID):
			if s[policy.Waived] == 0 {
				t.Errorf("%s on prod: %v, want waived", c.ID, s)
			}
		case s[policy.Pass] == 0 || s[policy.Waived] > 0:
			t.Errorf("%s on prod: %v, want pass", c.ID, s)
		}
	}
}

// The hub passes what it has (the pipeline, its topic, the adopted
// account-wide services) and has nothing of WordPress: its missing VPC is
// on purpose, not a lost network.
func TestHubPassesEveryCheckAndHasNoWordPressToCheck(t *testing.T) {
	p, cfg := stacktest.Record(t, "hub", stacktest.RawConfig(t, "hub"))
	results, err := policy.Evaluate(p, stacktest.PolicyOptions(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if policy.Failed(results) {
		for _, r := range results {
			if r.Status == policy.Fail {
				t.Errorf("%s fails on hub: %s", r.ID, r.Detail)
			}
		}
	}
	for _, id := range []string{"Lambda.1", "Lambda.2", "DynamoDB.2", "SQS.1", "StepFunctions.1", "SNS.1", "CloudWatch.15",
		"GuardDuty.1", "Config.1", "WP.GOV.1", "S3.1", "WP.IAM.1", "KMS.4"} {
		if s := statuses(results, id); s[policy.Pass] == 0 {
			t.Errorf("%s on hub: %v, want pass", id, s)
		}
	}
	for _, id := range []string{"EC2.2", "EC2.6", "WP.NET.2", "RDS.3", "ECS.2", "ELB.1", "EFS.1", "WP.NET.3"} {
		if s := statuses(results, id); s[policy.NotApplicable] != 1 || len(s) != 1 {
			t.Errorf("%s on hub: %v, want n/a", id, s)
		}
	}
}

// devWaivers are the checks dev accepts failing, each with a word its
// reason must contain.
var devWaivers = map[string]string{
	"EC2.6":       "cost",
	"GuardDuty.1": "cost",
	"Config.1":    "cost",
	"WP.GOV.1":    "cost",
	"S3.1":        "account",
	"RDS.5":       "dev",
	"RDS.6":       "dev",
	"RDS.8":       "dev",
	"RDS.9":       "dev",
	"RDS.23":      "dev",
	"ELB.1":       "dev",
	"ELB.5":       "dev",
	"ELB.6":       "dev",
	"ECS.5":       "wordpress image",
}

func TestDevWaivesOnlyWhatItExplains(t *testing.T) {
	raw := stacktest.RawConfig(t, "dev")
	p, cfg := stacktest.Record(t, "dev", raw)
	results, err := policy.Evaluate(p, policy.Options{Waivers: cfg.Policy.Waivers})
	if err != nil {
		t.Fatal(err)
	}
	if policy.Failed(results) {
		t.Fatalf("dev fails policy: %+v", results)
	}
	for _, r := range results {
		if word, ok := devWaivers[r.ID]; r.Status == policy.Waived && (!ok || !strings.Contains(r.Waiver, word)) {
			t.Errorf("unexpected waiver %+v", r)
		}
	}
	for id := range devWaivers {
		if statuses(results, id)[policy.Waived] == 0 {
			t.Errorf("dev's %s is not reported as waived", id)
		}
	}
	// Without the waiver the same plan fails.
	if results, _ := policy.Evaluate(p, policy.Options{}); !policy.Failed(results) {
		t.Error("dev without flow logs passes policy without a waiver")
	}
}

func TestSingleNATInProductionFailsNATPerAZ(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	stacktest.SetNetwork(t, raw, map[string]any{"natStrategy": "single", "singleNatReason": "test"})
	p, _ := stacktest.Record(t, "prod", raw)
	results, err := policy.Evaluate(p, prod)
	if err != nil {
		t.Fatal(err)
	}
	s := statuses(results, "WP.NET.2")
	// The NAT's own AZ passes; the other two egress through it.
	if s[policy.Fail] != 2 || s[policy.Pass] != 1 {
		t.Errorf("WP.NET.2 with a single NAT in prod: %v, want 2 fail 1 pass", s)
	}
}

func TestWaiverForAnUnknownCheckIsAnError(t *testing.T) {
	p := stacktest.Stack(t, "dev")
	_, err := policy.Evaluate(p, policy.Options{Waivers: map[string]string{"EC2.66": "typo"}})
	if err == nil || !strings.Contains(err.Error(), "policy.waivers.EC2.66: no such check") {
		t.Errorf("err = %v", err)
	}
}

// A hand-made plan with the mistakes the real program never makes, so each
// check is seen failing.
func TestChecksCatchInsecureNetworks(t *testing.T) {
	p := &plan.Plan{Stack: "bad", Resources: []plan.Resource{
		{URN: "vpc", Type: "aws:ec2/vpc:Vpc", Name: "vpc", ID: "vpc-1", Inputs: map[string]any{}},
		{URN: "sn", Type: "aws:ec2/subnet:Subnet", Name: "data-a", ID: "subnet-1", Inputs: map[string]any{
			"mapPublicIpOnLaunch": true, "cidrBlock": "10.0.0.0/24", "tags": map[string]any{"Tier": "data"}}},
		{URN: "rt", Type: "aws:ec2/routeTable:RouteTable", Name: "rt", ID: "rtb-1", Inputs: map[string]any{
			"routes": []any{map[string]any{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}}}},
		{URN: "as", Type: "aws:ec2/routeTableAssociation:RouteTableAssociation", Name: "as", ID: "a-1", Inputs: map[string]any{
			"subnetId": "subnet-1", "routeTableId": "rtb-1"}},
		{URN: "key", Type: "aws:kms/key:Key", Name: "key", ID: "k-1", Inputs: map[string]any{}},
	}}
	results, err := policy.Evaluate(p, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"EC2.2", "EC2.6", "EC2.15", "KMS.4", "WP.NET.1"} {
		if s := statuses(results, id); s[policy.Fail] != 1 {
			t.Errorf("%s: %v, want one failure", id, s)
		}
	}
}

func TestACheckWithNothingToCheckSaysNotApplicableAndWhy(t *testing.T) {
	empty := &plan.Plan{Stack: "empty"}
	results, err := policy.Evaluate(empty, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Account-level controls are findings whenever the service is off,
	// as Security Hub reports them in every account; the rest have nothing
	// to look at.
	accountLevel := map[string]bool{"GuardDuty.1": true, "Config.1": true, "WP.GOV.1": true, "S3.1": true}
	for _, c := range policy.Checks {
		s := statuses(results, c.ID)
		switch {
		case accountLevel[c.ID] && s[policy.Fail] != 1:
			t.Errorf("%s on an empty plan: %v, want a failure (the service is off)", c.ID, s)
		case !accountLevel[c.ID] && (s[policy.NotApplicable] != 1 || s[policy.Pass] != 0):
			t.Errorf("%s on an empty development plan: %v, want one n/a and no pass", c.ID, s)
		}
	}
	for _, r := range results {
		if r.Status == policy.NotApplicable && len(r.Detail) < 15 {
			t.Errorf("%s n/a without a reason: %q", r.ID, r.Detail)
		}
	}
}

func TestChecksThatMustApplyInProductionFailWhenTheirResourcesAreMissing(t *testing.T) {
	results, err := policy.Evaluate(&plan.Plan{Stack: "empty"}, prod)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"EC2.6", "WP.NET.2"} {
		if s := statuses(results, id); s[policy.Fail] != 1 {
			t.Errorf("%s on a production plan with no VPC: %v, want a failure", id, s)
		}
	}
	if s := statuses(results, "KMS.4"); s[policy.NotApplicable] != 1 {
		t.Errorf("KMS.4 with no keys: %v, want n/a", s)
	}
}

func TestProductionComesFromConfigNotTags(t *testing.T) {
	// A development stack that tags itself "production" is still held to
	// development rules, and WP.NET.2 says why it does not apply.
	raw := stacktest.RawConfig(t, "dev")
	p, cfg := stacktest.Record(t, "dev", raw)
	results, err := policy.Evaluate(p, policy.Options{Production: cfg.Production(), Waivers: cfg.Policy.Waivers})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.ID == "WP.NET.2" && (r.Status != policy.NotApplicable || !strings.Contains(r.Detail, "production")) {
			t.Errorf("WP.NET.2 on dev = %s %q, want n/a for production stacks only", r.Status, r.Detail)
		}
	}
}

func TestDefaultSecurityGroupWithAnAttachedRuleFailsEC22(t *testing.T) {
	vpcID := "vpc-1"
	sgID := plan.DefaultSecurityGroupID(vpcID)
	for _, typ := range []string{
		"aws:ec2/securityGroupRule:SecurityGroupRule",
		"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
		"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
	} {
		p := &plan.Plan{Stack: "x", Resources: []plan.Resource{
			{URN: "vpc", Type: "aws:ec2/vpc:Vpc", Name: "vpc", ID: vpcID, Inputs: map[string]any{}},
			{URN: "dsg", Type: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", Name: "default", ID: sgID, Inputs: map[string]any{"vpcId": vpcID}},
			{URN: "rule", Type: typ, Name: "sneaky", ID: "sgr-1", Inputs: map[string]any{"securityGroupId": sgID, "cidrIpv4": "0.0.0.0/0"}},
		}}
		results, err := policy.Evaluate(p, policy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s := statuses(results, "EC2.2"); s[policy.Fail] != 1 {
			t.Errorf("%s on the default group: EC2.2 %v, want a failure", typ, s)
		}
	}
}

func TestFlowLogTrafficTypeDecidesEC26(t *testing.T) {
	for traffic, want := range map[string]policy.Status{"ALL": policy.Pass, "REJECT": policy.Pass, "ACCEPT": policy.Fail} {
		p := &plan.Plan{Stack: "x", Resources: []plan.Resource{
			{URN: "vpc", Type: "aws:ec2/vpc:Vpc", Name: "vpc", ID: "vpc-1", Inputs: map[string]any{}},
			{URN: "fl", Type: "aws:ec2/flowLog:FlowLog", Name: "fl", ID: "fl-1", Inputs: map[string]any{"vpcId": "vpc-1", "trafficType": traffic}},
		}}
		results, err := policy.Evaluate(p, policy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s := statuses(results, "EC2.6"); s[want] != 1 {
			t.Errorf("flow log of %s traffic: EC2.6 %v, want %s", traffic, s, want)
		}
	}
}

func TestProdWithFlowLogsOffAndNoWaiverFails(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	stacktest.SetNetwork(t, raw, map[string]any{"flowLogs": false})
	p, cfg := stacktest.Record(t, "prod", raw)
	results, err := policy.Evaluate(p, policy.Options{Production: cfg.Production(), Waivers: cfg.Policy.Waivers})
	if err != nil {
		t.Fatal(err)
	}
	if !policy.Failed(results) || statuses(results, "EC2.6")[policy.Fail] != 1 {
		t.Errorf("prod without flow logs: EC2.6 %v", statuses(results, "EC2.6"))
	}
}

func TestBudgetCheckFailsAndPassesAsConfigured(t *testing.T) {
	p := &plan.Plan{Stack: "x"}
	for _, c := range []struct {
		budget policy.Budget
		want   policy.Status
	}{
		{policy.Budget{EstimateUSD: 120, BudgetUSD: 100}, policy.Fail},
		{policy.Budget{EstimateUSD: 80, BudgetUSD: 100}, policy.Pass},
		{policy.Budget{EstimateUSD: 80}, policy.NotApplicable},
	} {
		results, err := policy.Evaluate(p, policy.Options{Cost: &c.budget})
		if err != nil {
			t.Fatal(err)
		}
		if s := statuses(results, "WP.COST.1"); s[c.want] != 1 {
			t.Errorf("budget %+v: WP.COST.1 %v, want %s", c.budget, s, c.want)
		}
	}
	// Waivable like any other check.
	results, _ := policy.Evaluate(p, policy.Options{Cost: &policy.Budget{EstimateUSD: 120, BudgetUSD: 100}, Waivers: map[string]string{"WP.COST.1": "launch month"}})
	if s := statuses(results, "WP.COST.1"); s[policy.Waived] != 1 {
		t.Errorf("waived budget: %v", s)
	}
}
