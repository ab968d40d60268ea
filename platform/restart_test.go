package platform_test

import (
	"encoding/json"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/platform"
)

// allows evaluates an identity policy the way IAM matches Allow
// statements ("Policy evaluation logic": an action and resource match a
// statement's patterns, * and ? as wildcards); conditions are out of its
// scope, so the test passes only requests they would allow (this Region,
// the restart tag).
func allows(t *testing.T, doc, action, resource string) bool {
	t.Helper()
	var d struct {
		Statement []struct {
			Effect   string
			Action   any
			Resource any
		}
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	list := func(v any) []string {
		switch x := v.(type) {
		case string:
			return []string{x}
		case []any:
			var out []string
			for _, e := range x {
				s, _ := e.(string)
				out = append(out, s)
			}
			return out
		}
		return nil
	}
	match := func(patterns []string, s string) bool {
		return slices.ContainsFunc(patterns, func(p string) bool {
			// path.Match's * stops at "/", IAM's does not.
			ok, _ := path.Match(strings.ReplaceAll(p, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
			return ok
		})
	}
	allowed := false
	for _, s := range d.Statement {
		if !match(list(s.Action), action) || !match(list(s.Resource), resource) {
			continue
		}
		if s.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

// dev and prod in one account: dev's member role (and dev's engine) reach
// dev's cluster only, so dev's night never restarts prod's WordPress.
func TestDevsMemberRoleCannotRestartAServiceOutsideDevsCluster(t *testing.T) {
	dev := stacktest.Stack(t, "dev")
	pol, ok := dev.Named("aws:iam/rolePolicy:RolePolicy", "wordpress-dev-member")
	if !ok {
		t.Fatal("dev has no direct member role")
	}
	doc := pol.String("policy")
	cluster, _ := dev.Named("aws:ecs/cluster:Cluster", "wordpress-dev")
	prodCluster, _ := stacktest.Stack(t, "prod").Named("aws:ecs/cluster:Cluster", "wordpress-prod")
	// Long-format service ARNs: service/<cluster>/<service>.
	own := strings.Replace(cluster.ARN, ":cluster/", ":service/", 1) + "/wordpress"
	prods := strings.Replace(prodCluster.ARN, ":cluster/", ":service/", 1) + "/wordpress"
	other := "arn:aws:ecs:us-east-1:123456789012:service/payments/api"
	for _, action := range []string{"ecs:UpdateService", "ecs:TagResource"} {
		if !allows(t, doc, action, own) {
			t.Errorf("dev's member role may not %s its own service %s", action, own)
		}
		for _, svc := range []string{prods, other} {
			if allows(t, doc, action, svc) {
				t.Errorf("dev's member role may %s %s, outside dev's cluster", action, svc)
			}
		}
	}
	// Reading is harmless and discovery lists every cluster.
	if !allows(t, doc, "ecs:DescribeServices", prods) {
		t.Error("dev's member role may not describe the account's services")
	}

	// The engine skips the same services before the role is even asked.
	for _, fn := range dev.OfType("aws:lambda/function:Function") {
		env, _ := fn.Inputs["environment"].(map[string]any)
		vars, _ := env["variables"].(map[string]any)
		if vars["CLUSTERS"] != cluster.ARN || vars["STACK"] != "dev" {
			t.Errorf("%s: CLUSTERS=%v STACK=%v, want dev's cluster %s and dev", fn.Name, vars["CLUSTERS"], vars["STACK"], cluster.ARN)
		}
	}
}

// Two stacks' member roles never share a name in one account.
func TestEachStacksMemberRoleCarriesItsName(t *testing.T) {
	for stack, want := range map[string]string{"dev": "wordpress-dev-restart-member", "hub": "wordpress-hub-restart-member"} {
		p := stacktest.Stack(t, stack)
		fn, _ := p.Named("aws:lambda/function:Function", "wordpress-"+stack+"-restart-discover")
		env, _ := fn.Inputs["environment"].(map[string]any)
		vars, _ := env["variables"].(map[string]any)
		if vars["ROLE_NAME"] != want {
			t.Errorf("%s: ROLE_NAME = %v, want %s", stack, vars["ROLE_NAME"], want)
		}
	}
}

// Every alarm on the engine's metrics looks at this stack's nights only.
func TestTheEnginesAlarmsCarryTheStack(t *testing.T) {
	for _, stack := range []string{"dev", "hub"} {
		p := stacktest.Stack(t, stack)
		n := 0
		for _, a := range p.OfType(typeAlarm) {
			if a.String("namespace") != "DailyRestart" {
				continue
			}
			n++
			if dims, _ := a.Inputs["dimensions"].(map[string]any); dims["Stack"] != stack {
				t.Errorf("%s: alarm %s has dimensions %v, want Stack=%s", stack, a.Name, dims, stack)
			}
		}
		if n == 0 {
			t.Errorf("%s has no alarm on the engine's metrics", stack)
		}
	}
}

// The hub is the pipeline, its key, topics and alarms, and nothing of
// WordPress.
func TestTheHubHasThePipelineAndNoWordPress(t *testing.T) {
	p := stacktest.Stack(t, "hub")
	for _, typ := range []string{"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup", "aws:rds/instance:Instance",
		"aws:ecs/cluster:Cluster", "aws:ecs/service:Service", "aws:lb/loadBalancer:LoadBalancer", "aws:efs/fileSystem:FileSystem",
		"aws:ec2/instance:Instance", "aws:ssm/parameter:Parameter", "aws:ec2/natGateway:NatGateway"} {
		if n := len(p.OfType(typ)); n != 0 {
			t.Errorf("hub declares %d %s", n, typ)
		}
	}
	for _, r := range p.Resources {
		if strings.HasPrefix(r.Type, "wordpress:network:") || strings.HasPrefix(r.Type, "wordpress:compute:") || strings.HasPrefix(r.Type, "wordpress:data:") {
			t.Errorf("hub declares the component %s", r.Label())
		}
	}
	want := map[string]int{
		"wordpress:restart:Pipeline":           1,
		"aws:sfn/stateMachine:StateMachine":    1,
		"aws:lambda/function:Function":         5,
		"aws:dynamodb/table:Table":             2,
		"aws:scheduler/schedule:Schedule":      1,
		"aws:cloudformation/stackSet:StackSet": 1,
		"aws:sns/topic:Topic":                  3, // the alarm topic, the summary and the owners
	}
	for typ, n := range want {
		if got := len(p.OfType(typ)); got != n {
			t.Errorf("hub: %d %s, want %d", got, typ, n)
		}
	}
	if len(p.OfType(typeAlarm)) < 10 {
		t.Errorf("hub: only %d alarms", len(p.OfType(typeAlarm)))
	}
	set := p.OfType("aws:cloudformation/stackSet:StackSet")[0]
	if set.String("callAs") != "DELEGATED_ADMIN" {
		t.Errorf("hub's StackSet calls as %q, want DELEGATED_ADMIN", set.String("callAs"))
	}
}

// What CloudFormation and Organizations would refuse at apply stops the
// plan of a StackSet pipeline, with the key to change.
func TestTheStackSetsPlaceInTheOrganizationIsChecked(t *testing.T) {
	cases := []struct {
		name    string
		change  func(r map[string]any)
		account plan.Account
		want    string
	}{
		{"SELF outside the management account", func(r map[string]any) { r["stackSetCallAs"] = "SELF" }, plan.Account{},
			"restart.stackSetCallAs is SELF, which only the organization's management account (210987654321) may use, and the hub runs in 123456789012; set stackSetCallAs: DELEGATED_ADMIN"},
		{"DELEGATED_ADMIN from the management account", nil, plan.Account{ManagementAccountID: "123456789012"},
			"restart.stackSetCallAs is DELEGATED_ADMIN, but the hub runs in the organization's management account 123456789012, which calls as SELF"},
		{"the management account as a member", func(r map[string]any) { r["memberAccounts"] = []string{"111111111111", "210987654321"} }, plan.Account{},
			"restart.memberAccounts[1] is 210987654321, the organization's management account, to which a service-managed StackSet never deploys the member role"},
		{"another organization", nil, plan.Account{OrganizationID: "o-zzzzzzzzzz"},
			"restart.organizationId is o-exampleorgid, but the hub's account 123456789012 is in organization o-zzzzzzzzzz"},
		{"no organization", nil, plan.Account{NoOrganization: true},
			"restart.memberRoleDeployment is stackSet, which needs the hub's account 123456789012 in an AWS Organization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := stacktest.RawConfig(t, "hub")
			r := map[string]any{}
			if err := json.Unmarshal([]byte(raw["wordpress:restart"]), &r); err != nil {
				t.Fatal(err)
			}
			if c.change != nil {
				c.change(r)
			}
			b, _ := json.Marshal(r)
			raw["wordpress:restart"] = string(b)
			if _, err := config.Load(raw, config.Namespace, "hub", config.Offline()); err != nil {
				t.Fatal(err)
			}
			_, err := plan.Record(platform.DeployOffline, plan.Options{Project: config.Namespace, Stack: "hub", Config: raw, RootDirectory: stacktest.Root(t), Account: c.account})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant %q", err, c.want)
			}
		})
	}
}
