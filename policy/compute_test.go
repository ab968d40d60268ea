package policy_test

import (
	"testing"

	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

// A hand-made compute tier with every mistake the program never makes, so
// that each compute check is seen failing.
func TestComputeChecksCatchInsecureResources(t *testing.T) {
	res := func(typ, name, id string, inputs map[string]any) plan.Resource {
		return plan.Resource{URN: "urn:" + name, Type: typ, Name: name, ID: id, Inputs: inputs}
	}
	p := &plan.Plan{Stack: "bad", Resources: []plan.Resource{
		res("aws:ec2/subnet:Subnet", "public-a", "subnet-a", map[string]any{"availabilityZone": "us-east-1a", "mapPublicIpOnLaunch": true, "tags": map[string]any{"Tier": "public"}}),
		res("aws:ecs/cluster:Cluster", "cluster", "c-1", map[string]any{}),
		res("aws:ecs/service:Service", "svc", "s-1", map[string]any{"launchType": "FARGATE", "platformVersion": "1.3.0",
			"networkConfiguration": map[string]any{"assignPublicIp": true}}),
		res("aws:ecs/taskSet:TaskSet", "ts", "ts-1", map[string]any{"networkConfiguration": map[string]any{"assignPublicIp": true}}),
		res("aws:ecs/taskDefinition:TaskDefinition", "td", "td-1", map[string]any{"containerDefinitions": `[{"name":"wp","privileged":true,
			"environment":[{"name":"WORDPRESS_DB_PASSWORD","value":"hunter2"}]}]`}),
		res("aws:lb/loadBalancer:LoadBalancer", "alb", "lb-1", map[string]any{"name": "alb", "subnets": []any{"subnet-a"}, "desyncMitigationMode": "monitor"}),
		res("aws:lb/listener:Listener", "http", "l-1", map[string]any{"loadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/alb/abc", "protocol": "HTTP",
			"defaultActions": []any{map[string]any{"type": "forward"}}}),
		res("aws:efs/fileSystem:FileSystem", "fs", "fs-1", map[string]any{}),
		res("aws:efs/accessPoint:AccessPoint", "ap", "fsap-1", map[string]any{"rootDirectory": map[string]any{"path": "/"}}),
		res("aws:efs/mountTarget:MountTarget", "mt", "fsmt-1", map[string]any{"subnetId": "subnet-a"}),
		res("aws:ec2/instance:Instance", "vm", "i-1", map[string]any{"associatePublicIpAddress": true, "subnetId": "subnet-a"}),
		res("aws:ec2/securityGroup:SecurityGroup", "sg", "sg-1", map[string]any{"ingress": []any{
			map[string]any{"protocol": "tcp", "fromPort": float64(22), "toPort": float64(22), "cidrBlocks": []any{"0.0.0.0/0"}}}}),
		res("aws:wafv2/webAcl:WebAcl", "acl", "acl-1", map[string]any{"visibilityConfig": map[string]any{"cloudwatchMetricsEnabled": false}}),
	}}
	results, err := policy.Evaluate(p, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ECS.2", "ECS.4", "ECS.5", "ECS.8", "ECS.9", "ECS.10", "ECS.12", "ECS.16",
		"ELB.1", "ELB.4", "ELB.5", "ELB.6", "ELB.12", "ELB.13",
		"EFS.1", "EFS.2", "EFS.3", "EFS.4", "EFS.6", "EC2.8", "EC2.9", "EC2.18", "EC2.19", "SSM.1", "WAF.10", "WAF.12"} {
		if s := statuses(results, id); s[policy.Fail] == 0 {
			t.Errorf("%s: %v, want a failure", id, s)
		}
	}
}

func TestComputeChecksWithNothingToCheckSaySo(t *testing.T) {
	results, err := policy.Evaluate(&plan.Plan{Stack: "empty"}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		switch r.ID {
		case "ECS.2", "ELB.1", "EFS.1", "EC2.8", "SSM.1", "WAF.10":
			if r.Status != policy.NotApplicable || r.Detail == "" {
				t.Errorf("%s on an empty plan: %+v, want n/a with its reason", r.ID, r)
			}
		}
	}
}
