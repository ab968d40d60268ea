package policy_test

import (
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

// Each row is one description EC2 would refuse, and exactly WP.NET.3 fails
// on it, naming the field and the character.
func TestSecurityGroupDescriptionsOutsideEC2sCharacterSetFail(t *testing.T) {
	cases := []struct {
		name     string
		resource plan.Resource
		want     string
	}{
		{"an apostrophe in a group", res("aws:ec2/securityGroup:SecurityGroup", "mwaa", "sg-1", map[string]any{
			"description": "MWAA environment x: its own members and the UI's clients"}),
			`mwaa: description "MWAA environment x: its own members and the UI's clients" has '\'', which EC2 refuses`},
		{"an accent in an inline rule", res("aws:ec2/securityGroup:SecurityGroup", "alb", "sg-2", map[string]any{
			"description": "load balancer", "ingress": []any{map[string]any{"description": "visitors from Bogotá"}}}),
			`ingress[0].description "visitors from Bogotá" has 'á'`},
		{"a quote in a rule resource", res("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "out", "sgr-1", map[string]any{
			"description": `the "internet"`}), `description "the \"internet\"" has '"'`},
		{"too long", res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "in", "sgr-2", map[string]any{
			"description": strings.Repeat("a", 256)}), "is 256 characters, EC2 takes 255"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			results := evaluate(t, c.resource)
			var failed []policy.Result
			for _, r := range results {
				if r.Status == policy.Fail && !accountLevel[r.ID] {
					failed = append(failed, r)
				}
			}
			if len(failed) != 1 || failed[0].ID != "WP.NET.3" || !strings.Contains(failed[0].Detail, c.want) {
				t.Errorf("failures = %+v, want WP.NET.3 saying %q", failed, c.want)
			}
		})
	}
	ok := evaluate(t, res("aws:ec2/securityGroup:SecurityGroup", "db", "sg-3", map[string]any{
		"description": "Database: from the WordPress tasks (and the bastion) only; port 3307 #1 [a+b=c] & {x} $* @ !"}))
	if s := statuses(ok, "WP.NET.3"); s[policy.Pass] != 1 {
		t.Errorf("every character EC2 allows: %v", s)
	}
}

// accountLevel are the checks an empty hand-made plan fails anyway.
var accountLevel = map[string]bool{"GuardDuty.1": true, "Config.1": true, "WP.GOV.1": true, "S3.1": true}

func TestATrustPolicyWithAResourceFailsEvenWhenNull(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"null resource", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"airflow.amazonaws.com"},"Action":"sts:AssumeRole","Resource":null}]}`,
			`statement 0 of its trust policy carries "Resource": null, which IAM refuses in a trust policy (MalformedPolicyDocument)`},
		{"a resource", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Resource":"*"}}`,
			`carries "Resource": "*"`},
		{"NotResource", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","NotResource":"x"}]}`,
			`statement 1 of its trust policy carries "NotResource"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			results := evaluate(t, res("aws:iam/role:Role", "mwaa-execution", "r-1", map[string]any{"assumeRolePolicy": c.doc}))
			var failed []policy.Result
			for _, r := range results {
				if r.Status == policy.Fail && !accountLevel[r.ID] {
					failed = append(failed, r)
				}
			}
			if len(failed) != 1 || failed[0].ID != "WP.IAM.1" || !strings.Contains(failed[0].Detail, c.want) {
				t.Errorf("failures = %+v, want WP.IAM.1 saying %q", failed, c.want)
			}
		})
	}
}

// With Airflow on, the MWAA group's description and the execution role's
// trust are what EC2 and IAM accept, like every other group and role of
// every stack, the StackSet's member role included.
func TestEveryStacksGroupsAndTrustPoliciesAreWhatAWSAccepts(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "hub"} {
		raw := stacktest.RawConfig(t, stack)
		if stack == "dev" {
			raw["wordpress:airflow"] = `{"enabled":true}`
		}
		p, cfg := stacktest.Record(t, stack, raw)
		results, err := policy.Evaluate(p, stacktest.PolicyOptions(cfg))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"WP.NET.3", "WP.IAM.1"} {
			s := statuses(results, id)
			if s[policy.Fail] > 0 {
				for _, r := range results {
					if r.ID == id && r.Status == policy.Fail {
						t.Errorf("%s %s: %s", stack, id, r.Detail)
					}
				}
			}
		}
		if stack == "hub" {
			if got := statuses(results, "WP.IAM.1")[policy.Pass]; got < 8 {
				t.Errorf("hub: WP.IAM.1 passes %d roles; want the 7 hub roles and the StackSet's member role", got)
			}
		}
	}
}

// An account-wide service the stack adopts passes its check as managed
// outside the stack; the same plan with the service off fails it.
func TestAdoptedAccountServicesPassAsManagedOutsideTheStack(t *testing.T) {
	reason := "managed outside this stack (governance.guardDuty.mode: existing)"
	opts := policy.Options{ManagedOutside: map[string]string{"GuardDuty.1": reason}}
	results, err := policy.Evaluate(&plan.Plan{Stack: "x"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.ID == "GuardDuty.1" && (r.Status != policy.Pass || r.Detail != reason) {
			t.Errorf("adopted GuardDuty: %+v", r)
		}
		if r.ID == "Config.1" && r.Status != policy.Fail {
			t.Errorf("Config.1, neither created nor adopted: %+v", r)
		}
	}
	// A detector declared anyway is judged as declared.
	results, _ = policy.Evaluate(&plan.Plan{Stack: "x", Resources: []plan.Resource{
		res("aws:guardduty/detector:Detector", "det", "d-1", map[string]any{"enable": false})}}, opts)
	if s := statuses(results, "GuardDuty.1"); s[policy.Fail] != 1 {
		t.Errorf("a disabled detector in the plan of an adopting stack: %v", s)
	}
}
