package policy_test

import (
	"slices"
	"strings"
	"testing"

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

func TestProdPassesEveryCheck(t *testing.T) {
	p, cfg := stacktest.Record(t, "prod", stacktest.RawConfig(t, "prod"))
	results, err := policy.Evaluate(p, cfg.Policy.Waivers)
	if err != nil {
		t.Fatal(err)
	}
	// What prod has nothing of, and what it waives with a reason.
	notApplicable := []string{"ECS.16"}
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

func TestDevWaivesOnlyWhatItsConfigExplains(t *testing.T) {
	raw := stacktest.RawConfig(t, "dev")
	p, cfg := stacktest.Record(t, "dev", raw)
	results, err := policy.Evaluate(p, cfg.Policy.Waivers)
	if err != nil {
		t.Fatal(err)
	}
	if policy.Failed(results) {
		t.Fatalf("dev fails policy: %+v", results)
	}
	want := []string{"EC2.6", "RDS.5", "RDS.6", "RDS.8", "RDS.9", "RDS.23", "ELB.1", "ELB.5", "ELB.6", "ECS.5"}
	for _, r := range results {
		if r.Status == policy.Waived && (!slices.Contains(want, r.ID) || !(strings.Contains(r.Waiver, "dev") || r.ID == "ECS.5")) {
			t.Errorf("unexpected waiver %+v", r)
		}
	}
	for _, id := range want {
		if statuses(results, id)[policy.Waived] == 0 {
			t.Errorf("dev's %s is not reported as waived", id)
		}
	}
	// Without the waivers the same plan fails.
	if results, _ := policy.Evaluate(p, nil); !policy.Failed(results) {
		t.Error("dev passes policy without its waivers")
	}
}

func TestSingleNATInProductionFailsNATPerAZ(t *testing.T) {
	raw := stacktest.RawConfig(t, "prod")
	stacktest.SetNetwork(t, raw, map[string]any{"natStrategy": "single", "singleNatReason": "test"})
	p, _ := stacktest.Record(t, "prod", raw)
	results, err := policy.Evaluate(p, nil)
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
	_, err := policy.Evaluate(p, map[string]string{"EC2.66": "typo"})
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
	results, err := policy.Evaluate(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"EC2.2", "EC2.6", "EC2.15", "KMS.4", "WP.NET.1"} {
		if s := statuses(results, id); s[policy.Fail] != 1 {
			t.Errorf("%s: %v, want one failure", id, s)
		}
	}
}
