package policy_test

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

func setData(t *testing.T, raw map[string]string, settings map[string]any) {
	t.Helper()
	d := map[string]any{}
	if err := json.Unmarshal([]byte(raw["wordpress:data"]), &d); err != nil {
		t.Fatal(err)
	}
	maps.Copy(d, settings)
	b, _ := json.Marshal(d)
	raw["wordpress:data"] = string(b)
}

func TestWeakeningADatabaseSettingFailsItsCheck(t *testing.T) {
	cases := []struct {
		id       string
		settings map[string]any
	}{
		{"RDS.5", map[string]any{"multiAz": false}},
		{"RDS.6", map[string]any{"monitoringInterval": 0}},
		{"RDS.8", map[string]any{"deletionProtection": false}},
		{"RDS.9", map[string]any{"logExports": []string{"error", "slowquery"}}},
		{"RDS.23", map[string]any{"port": 3306}},
		{"RDS.25", map[string]any{"username": "admin"}},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			raw := stacktest.RawConfig(t, "prod")
			setData(t, raw, c.settings)
			p, cfg := stacktest.Record(t, "prod", raw)
			// prod's own waivers (ECS.5), so only the weakened check fails.
			results, err := policy.Evaluate(p, stacktest.PolicyOptions(cfg))
			if err != nil {
				t.Fatal(err)
			}
			if statuses(results, c.id)[policy.Fail] == 0 {
				t.Errorf("%s passes with %v", c.id, c.settings)
			}
			for _, r := range results {
				if r.Status == policy.Fail && r.ID != c.id {
					t.Errorf("%v also fails %s: %s", c.settings, r.ID, r.Detail)
				}
			}
		})
	}
}

// dbPlan is a stack with one database in a group with one ingress rule.
func dbPlan(db map[string]any, rule map[string]any) *plan.Plan {
	inputs := map[string]any{
		"publiclyAccessible": false, "storageEncrypted": true, "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k1",
		"autoMinorVersionUpgrade": true, "copyTagsToSnapshot": true, "vpcSecurityGroupIds": []any{"sg-db"},
	}
	maps.Copy(inputs, db)
	ruleInputs := map[string]any{"securityGroupId": "sg-db", "referencedSecurityGroupId": "sg-tasks"}
	maps.Copy(ruleInputs, rule)
	return &plan.Plan{Stack: "t", Resources: []plan.Resource{
		{URN: "urn:key", Type: "aws:kms/key:Key", Name: "k", ID: "k1", Inputs: map[string]any{"enableKeyRotation": true}},
		{URN: "urn:db", Type: "aws:rds/instance:Instance", Name: "db", ID: "db-1", Inputs: inputs},
		{URN: "urn:sg", Type: "aws:ec2/securityGroup:SecurityGroup", Name: "db", ID: "sg-db", Inputs: map[string]any{}},
		{URN: "urn:rule", Type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", Name: "in", Inputs: ruleInputs},
	}}
}

func TestDatabaseChecksFailWhatTheProgramNeverDeclares(t *testing.T) {
	cases := []struct {
		id       string
		db, rule map[string]any
	}{
		{"RDS.2", map[string]any{"publiclyAccessible": true}, nil},
		{"RDS.2", map[string]any{"publiclyAccessible": nil}, nil},
		{"RDS.3", map[string]any{"storageEncrypted": false}, nil},
		{"RDS.13", map[string]any{"autoMinorVersionUpgrade": false}, nil},
		{"RDS.17", map[string]any{"copyTagsToSnapshot": false}, nil},
		{"WP.DATA.1", nil, map[string]any{"referencedSecurityGroupId": nil, "cidrIpv4": "10.0.0.0/16"}},
		{"WP.DATA.1", map[string]any{"vpcSecurityGroupIds": []any{}}, nil},
		{"WP.DATA.2", map[string]any{"kmsKeyId": nil}, nil},
		{"WP.DATA.2", map[string]any{"performanceInsightsEnabled": true, "performanceInsightsKmsKeyId": nil}, nil},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			p := dbPlan(c.db, c.rule)
			for _, check := range policy.Checks {
				if check.ID != c.id {
					continue
				}
				failed := false
				for _, r := range check.Run(p) {
					failed = failed || r.Status == policy.Fail
				}
				if !failed {
					t.Errorf("%s passes a database with %v and rule %v", c.id, c.db, c.rule)
				}
			}
		})
	}
	// And the same checks pass the sound database.
	p := dbPlan(nil, nil)
	for _, id := range []string{"RDS.2", "RDS.3", "RDS.13", "RDS.17", "WP.DATA.1", "WP.DATA.2"} {
		for _, check := range policy.Checks {
			if check.ID == id {
				for _, r := range check.Run(p) {
					if r.Status != policy.Pass {
						t.Errorf("%s on a sound database: %+v", id, r)
					}
				}
			}
		}
	}
}

func TestDatabaseChecksWithNothingToCheckSaySo(t *testing.T) {
	p := &plan.Plan{Stack: "t"}
	results, err := policy.Evaluate(p, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"RDS.2", "RDS.5", "RDS.25", "WP.DATA.1", "WP.DATA.2"} {
		s := statuses(results, id)
		if s[policy.NotApplicable] != 1 || s[policy.Pass]+s[policy.Fail] != 0 {
			t.Errorf("%s on a stack without a database: %v, want one n/a", id, s)
		}
	}
}
