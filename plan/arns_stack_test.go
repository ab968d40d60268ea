package plan_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

// The stacks' plans, recorded once for all the tests of this file.
var (
	plansOnce sync.Once
	plans     map[string]*plan.Plan
)

// stackPlans records dev, prod, the hub, dev with Airflow on, prod
// creating every account-wide service, and prod and the hub in
// cn-north-1.
func stackPlans(t *testing.T) map[string]*plan.Plan {
	t.Helper()
	plansOnce.Do(func() {
		plans = map[string]*plan.Plan{}
		for _, s := range []string{"dev", "prod", "hub"} {
			plans[s] = stacktest.Stack(t, s)
		}
		raw := stacktest.RawConfig(t, "dev")
		raw["wordpress:airflow"] = `{"enabled":true}`
		plans["dev+airflow"], _ = stacktest.Record(t, "dev", raw)
		raw = stacktest.RawConfig(t, "prod")
		raw["aws:region"] = "cn-north-1"
		stacktest.SetNetwork(t, raw, map[string]any{"azCount": 3})
		plans["prod@cn-north-1"], _ = stacktest.Record(t, "prod", raw)
		raw = stacktest.RawConfig(t, "hub")
		raw["aws:region"] = "cn-north-1"
		stacktest.Set(t, raw, "restart", map[string]any{"regions": []string{"cn-north-1"}})
		plans["hub@cn-north-1"], _ = stacktest.Record(t, "hub", raw)
		raw = stacktest.RawConfig(t, "prod")
		stacktest.Set(t, raw, "governance", map[string]any{
			"securityHub": map[string]any{"mode": "create"}, "guardDuty": map[string]any{"mode": "create"}, "awsConfig": map[string]any{"mode": "create"},
			"s3AccountPublicAccessBlock": map[string]any{"mode": "create"}, "sessionManagerPreferences": map[string]any{"mode": "create"},
		})
		plans["prod+create"], _ = stacktest.Record(t, "prod", raw)
	})
	if len(plans) != 7 {
		t.Fatal("an earlier test failed to record the stacks")
	}
	return plans
}

// shapeRE turns a wanted ARN or id into a regular expression: {uuid},
// {hex:N}, {upper:N}, {lower:N} and {digits:N} stand for the opaque parts AWS makes up,
// {ec2:prefix} for an EC2 id; everything else is literal.
func shapeRE(want string) *regexp.Regexp {
	parts := regexp.MustCompile(`\{[a-z0-9:-]+\}`)
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range parts.FindAllStringIndex(want, -1) {
		b.WriteString(regexp.QuoteMeta(want[last:loc[0]]))
		kind, n, _ := strings.Cut(want[loc[0]+1:loc[1]-1], ":")
		switch kind {
		case "uuid":
			b.WriteString(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
		case "hex":
			b.WriteString(`[0-9a-f]{` + n + `}`)
		case "upper":
			b.WriteString(`[A-Z0-9]{` + n + `}`)
		case "lower":
			b.WriteString(`[a-z0-9]{` + n + `}`)
		case "digits":
			b.WriteString(`[0-9]{` + n + `}`)
		case "ec2":
			b.WriteString(regexp.QuoteMeta(n) + `-[0-9a-f]{17}`)
		default:
			panic("unknown placeholder " + kind)
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(want[last:]) + "$")
	return regexp.MustCompile(b.String())
}

const (
	acct = "123456789012"
	use1 = "us-east-1:" + acct
)

// TestEachResourceHasTheARNAndIDAWSGivesIt pins one resource of each type
// of the dev and prod plans to the ARN of its resource type in the Service
// Authorization Reference and to the id the pulumi-aws provider returns
// ("=arn": the id is the ARN; an empty arn: AWS gives the resource none).
func TestEachResourceHasTheARNAndIDAWSGivesIt(t *testing.T) {
	cases := []struct {
		stack, typ, name string
		arn, id          string
	}{
		// Systems Manager: the parameter's name without its leading slash.
		{"dev", "aws:ssm/parameter:Parameter", "wordpress-dev-db-host", "arn:aws:ssm:" + use1 + ":parameter/wordpress/dev/db/host", "/wordpress/dev/db/host"},
		{"prod+create", "aws:ssm/document:Document", "wordpress-prod-session-preferences", "arn:aws:ssm:" + use1 + ":document/SSM-SessionManagerRunShell", "SSM-SessionManagerRunShell"},
		// SNS and SQS: the name right after the account.
		{"dev", "aws:sns/topic:Topic", "wordpress-dev-alarms", "arn:aws:sns:" + use1 + ":wordpress-dev-alarms", "=arn"},
		{"hub", "aws:sns/topic:Topic", "wordpress-hub-restart-summary", "arn:aws:sns:" + use1 + ":wordpress-hub-restart-summary", "=arn"},
		{"dev", "aws:sns/topicPolicy:TopicPolicy", "wordpress-dev-alarms", "", "arn:aws:sns:" + use1 + ":wordpress-dev-alarms"},
		{"dev", "aws:sqs/queue:Queue", "wordpress-dev-restart-dlq", "arn:aws:sqs:" + use1 + ":wordpress-dev-restart-dlq", "https://sqs.us-east-1.amazonaws.com/" + acct + "/wordpress-dev-restart-dlq"},
		// IAM: by the role's name (not the Pulumi name), with its path.
		{"dev", "aws:iam/role:Role", "wordpress-dev-daily-restart", "arn:aws:iam::" + acct + ":role/wordpress-dev-daily-restart-sfn", "wordpress-dev-daily-restart-sfn"},
		{"dev", "aws:iam/role:Role", "wordpress-dev-member", "arn:aws:iam::" + acct + ":role/wordpress-dev-restart-member", "wordpress-dev-restart-member"},
		{"dev", "aws:iam/role:Role", "wordpress-dev-bastion", "arn:aws:iam::" + acct + ":role/wordpress-dev-bastion-{hex:7}", "wordpress-dev-bastion-{hex:7}"},
		{"hub", "aws:iam/role:Role", "wordpress-hub-restart-report", "arn:aws:iam::" + acct + ":role/wordpress-hub-restart-report", "wordpress-hub-restart-report"},
		{"dev", "aws:iam/instanceProfile:InstanceProfile", "wordpress-dev-bastion", "arn:aws:iam::" + acct + ":instance-profile/wordpress-dev-bastion-{hex:7}", "wordpress-dev-bastion-{hex:7}"},
		{"dev", "aws:iam/rolePolicy:RolePolicy", "wordpress-dev-restart-plan", "", "wordpress-dev-restart-plan:plan"},
		{"dev", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "wordpress-dev-bastion-ssm", "", "wordpress-dev-bastion-{hex:7}-20250101000000{digits:12}"},
		{"prod+create", "aws:iam/serviceLinkedRole:ServiceLinkedRole", "wordpress-prod-config", "arn:aws:iam::" + acct + ":role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig", "=arn"},
		// KMS: key/<key id>, the id a UUID; aliases by name.
		{"dev", "aws:kms/key:Key", "wordpress-dev-params", "arn:aws:kms:" + use1 + ":key/{uuid}", "{uuid}"},
		{"dev", "aws:kms/alias:Alias", "wordpress-dev-params", "arn:aws:kms:" + use1 + ":alias/wordpress-dev-params", "alias/wordpress-dev-params"},
		// CloudWatch Logs and CloudWatch.
		{"dev", "aws:cloudwatch/logGroup:LogGroup", "wordpress-dev-restart-plan", "arn:aws:logs:" + use1 + ":log-group:/aws/lambda/wordpress-dev-restart-plan", "/aws/lambda/wordpress-dev-restart-plan"},
		{"dev", "aws:cloudwatch/logMetricFilter:LogMetricFilter", "wordpress-dev-php-fatal-errors", "", "wordpress-dev-php-fatal-errors"},
		{"dev", "aws:cloudwatch/metricAlarm:MetricAlarm", "wordpress-dev-restart-plan-errors", "arn:aws:cloudwatch:" + use1 + ":alarm:wordpress-dev-restart-plan-errors", "wordpress-dev-restart-plan-errors"},
		{"dev", "aws:cloudwatch/dashboard:Dashboard", "wordpress-dev-restart", "arn:aws:cloudwatch::" + acct + ":dashboard/wordpress-dev-daily-restart", "wordpress-dev-daily-restart"},
		{"prod", "aws:cloudwatch/eventRule:EventRule", "wordpress-prod-guardduty-findings", "arn:aws:events:" + use1 + ":rule/wordpress-prod-guardduty-findings", "wordpress-prod-guardduty-findings"},
		{"prod", "aws:cloudwatch/eventTarget:EventTarget", "wordpress-prod-guardduty-findings", "", "wordpress-prod-guardduty-findings-wordpress-prod-guardduty-findings-{hex:7}"},
		// DynamoDB, Step Functions, Lambda, Scheduler.
		{"dev", "aws:dynamodb/table:Table", "wordpress-dev-restart-runs", "arn:aws:dynamodb:" + use1 + ":table/wordpress-dev-restart-runs", "wordpress-dev-restart-runs"},
		{"dev", "aws:sfn/stateMachine:StateMachine", "wordpress-dev-daily-restart", "arn:aws:states:" + use1 + ":stateMachine:wordpress-dev-daily-restart", "=arn"},
		{"dev", "aws:lambda/function:Function", "wordpress-dev-restart-verify", "arn:aws:lambda:" + use1 + ":function:wordpress-dev-restart-verify", "wordpress-dev-restart-verify"},
		{"dev", "aws:scheduler/schedule:Schedule", "wordpress-dev-daily-restart", "arn:aws:scheduler:" + use1 + ":schedule/default/wordpress-dev-daily-restart", "default/wordpress-dev-daily-restart"},
		// ECS: the service in the long format, under its cluster's name.
		{"dev", "aws:ecs/cluster:Cluster", "wordpress-dev", "arn:aws:ecs:" + use1 + ":cluster/wordpress-dev", "=arn"},
		{"prod", "aws:ecs/service:Service", "wordpress-prod", "arn:aws:ecs:" + use1 + ":service/wordpress-prod/wordpress", "=arn"},
		{"dev", "aws:ecs/taskDefinition:TaskDefinition", "wordpress-dev", "arn:aws:ecs:" + use1 + ":task-definition/wordpress-dev-wordpress:1", "wordpress-dev-wordpress"},
		// CloudFormation, Security Hub, GuardDuty, Config.
		{"hub", "aws:cloudformation/stackSet:StackSet", "wordpress-hub-member-role", "arn:aws:cloudformation:" + use1 + ":stackset/wordpress-hub-member-role:{uuid}", "wordpress-hub-member-role"},
		{"hub", "aws:cloudformation/stackSetInstance:StackSetInstance", "wordpress-hub-member-role", "", "wordpress-hub-member-role,ou-examplerootid111-exampleouid111/ou-examplerootid111-exampleouid222,us-east-1"},
		{"prod+create", "aws:securityhub/account:Account", "wordpress-prod-securityhub", "arn:aws:securityhub:" + use1 + ":hub/default", acct},
		{"prod+create", "aws:securityhub/standardsSubscription:StandardsSubscription", "wordpress-prod-standard-fsbp", "arn:aws:securityhub:" + use1 + ":subscription/aws-foundational-security-best-practices/v/1.0.0", "=arn"},
		{"prod+create", "aws:guardduty/detector:Detector", "wordpress-prod-guardduty", "arn:aws:guardduty:" + use1 + ":detector/{hex:32}", "{hex:32}"},
		{"prod+create", "aws:guardduty/detectorFeature:DetectorFeature", "wordpress-prod-guardduty-S3_DATA_EVENTS", "", "{hex:32}/S3_DATA_EVENTS"},
		{"prod+create", "aws:cfg/recorder:Recorder", "wordpress-prod", "arn:aws:config:" + use1 + ":configuration-recorder/wordpress-prod/{hex:16}", "wordpress-prod"},
		{"prod+create", "aws:cfg/recorderStatus:RecorderStatus", "wordpress-prod", "", "wordpress-prod"},
		{"prod+create", "aws:cfg/deliveryChannel:DeliveryChannel", "wordpress-prod", "", "wordpress-prod"},
		{"prod", "aws:cfg/rule:Rule", "wordpress-prod-restricted-ssh", "arn:aws:config:" + use1 + ":config-rule/config-rule-{lower:6}", "wordpress-prod-restricted-ssh"},
		// WAF, load balancing, ACM, Route 53.
		{"prod", "aws:wafv2/webAcl:WebAcl", "wordpress-prod", "arn:aws:wafv2:" + use1 + ":regional/webacl/wordpress-prod/{uuid}", "{uuid}"},
		{"prod", "aws:wafv2/webAclAssociation:WebAclAssociation", "wordpress-prod", "", "arn:aws:wafv2:" + use1 + ":regional/webacl/wordpress-prod/{uuid},arn:aws:elasticloadbalancing:" + use1 + ":loadbalancer/app/wordpress-prod-alb/{hex:16}"},
		{"prod", "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "wordpress-prod", "", "arn:aws:wafv2:" + use1 + ":regional/webacl/wordpress-prod/{uuid}"},
		{"dev", "aws:lb/loadBalancer:LoadBalancer", "wordpress-dev", "arn:aws:elasticloadbalancing:" + use1 + ":loadbalancer/app/wordpress-dev-alb/{hex:16}", "=arn"},
		{"dev", "aws:lb/targetGroup:TargetGroup", "wordpress-dev-wordpress", "arn:aws:elasticloadbalancing:" + use1 + ":targetgroup/wp80-wordpress-dev/{hex:16}", "=arn"},
		{"prod", "aws:lb/listener:Listener", "wordpress-prod-https", "arn:aws:elasticloadbalancing:" + use1 + ":listener/app/wordpress-prod-alb/{hex:16}/{hex:16}", "=arn"},
		{"prod", "aws:acm/certificate:Certificate", "wordpress-prod-site", "arn:aws:acm:" + use1 + ":certificate/{uuid}", "=arn"},
		{"prod", "aws:route53/record:Record", "wordpress-prod-site", "", "Z0EXAMPLE0WORDPRESS_wordpress.example.com_A"},
		// S3: no Region or account; settings known by their bucket.
		{"prod", "aws:s3/bucketV2:BucketV2", "wordpress-prod-alb-logs", "arn:aws:s3:::wordpress-prod-alb-logs-{hex:7}", "wordpress-prod-alb-logs-{hex:7}"},
		{"prod+create", "aws:s3/bucketV2:BucketV2", "wordpress-prod-config-" + acct, "arn:aws:s3:::wordpress-prod-config-" + acct, "wordpress-prod-config-" + acct},
		{"prod", "aws:s3/bucketPolicy:BucketPolicy", "wordpress-prod-alb-logs", "", "wordpress-prod-alb-logs-{hex:7}"},
		{"prod+create", "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "wordpress-prod-s3-account", "", acct},
		// RDS: db:, pg:, og:, subgrp:; the instance's id its resource id.
		{"prod", "aws:rds/instance:Instance", "wordpress-prod-db-replica-1", "arn:aws:rds:" + use1 + ":db:wordpress-prod-db-replica-1", "db-{upper:26}"},
		{"prod", "aws:rds/parameterGroup:ParameterGroup", "wordpress-prod-db", "arn:aws:rds:" + use1 + ":pg:wordpress-prod-db-mysql8-4", "wordpress-prod-db-mysql8-4"},
		{"prod", "aws:rds/optionGroup:OptionGroup", "wordpress-prod-db", "arn:aws:rds:" + use1 + ":og:wordpress-prod-db-audit-mysql8-4", "wordpress-prod-db-audit-mysql8-4"},
		{"dev", "aws:rds/subnetGroup:SubnetGroup", "wordpress-dev-db", "arn:aws:rds:" + use1 + ":subgrp:wordpress-dev-db", "wordpress-dev-db"},
		// EFS.
		{"dev", "aws:efs/fileSystem:FileSystem", "wordpress-dev-wp-content", "arn:aws:elasticfilesystem:" + use1 + ":file-system/{ec2:fs}", "{ec2:fs}"},
		{"dev", "aws:efs/accessPoint:AccessPoint", "wordpress-dev-wp-content", "arn:aws:elasticfilesystem:" + use1 + ":access-point/{ec2:fsap}", "{ec2:fsap}"},
		{"dev", "aws:efs/mountTarget:MountTarget", "wordpress-dev-wp-content-a", "", "{ec2:fsmt}"},
		{"dev", "aws:efs/backupPolicy:BackupPolicy", "wordpress-dev-wp-content", "", "{ec2:fs}"},
		// EC2 and VPC.
		{"dev", "aws:ec2/vpc:Vpc", "wordpress-dev", "arn:aws:ec2:" + use1 + ":vpc/{ec2:vpc}", "{ec2:vpc}"},
		{"dev", "aws:ec2/subnet:Subnet", "wordpress-dev-private-a", "arn:aws:ec2:" + use1 + ":subnet/{ec2:subnet}", "{ec2:subnet}"},
		{"dev", "aws:ec2/routeTable:RouteTable", "wordpress-dev-public", "arn:aws:ec2:" + use1 + ":route-table/{ec2:rtb}", "{ec2:rtb}"},
		{"dev", "aws:ec2/route:Route", "wordpress-dev-public-internet", "", "r-{ec2:rtb}1080289494"},
		{"dev", "aws:ec2/routeTableAssociation:RouteTableAssociation", "wordpress-dev-public-a", "", "{ec2:rtbassoc}"},
		{"dev", "aws:ec2/internetGateway:InternetGateway", "wordpress-dev", "arn:aws:ec2:" + use1 + ":internet-gateway/{ec2:igw}", "{ec2:igw}"},
		{"dev", "aws:ec2/natGateway:NatGateway", "wordpress-dev-nat-a", "arn:aws:ec2:" + use1 + ":natgateway/{ec2:nat}", "{ec2:nat}"},
		{"dev", "aws:ec2/eip:Eip", "wordpress-dev-nat-a", "arn:aws:ec2:" + use1 + ":elastic-ip/{ec2:eipalloc}", "{ec2:eipalloc}"},
		{"dev", "aws:ec2/securityGroup:SecurityGroup", "wordpress-dev-tasks", "arn:aws:ec2:" + use1 + ":security-group/{ec2:sg}", "{ec2:sg}"},
		{"dev", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "wordpress-dev-default", "arn:aws:ec2:" + use1 + ":security-group/{ec2:sg}", "{ec2:sg}"},
		{"dev", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "wordpress-dev-tasks-to-db-in", "arn:aws:ec2:" + use1 + ":security-group-rule/{ec2:sgr}", "{ec2:sgr}"},
		{"dev", "aws:ec2/vpcEndpoint:VpcEndpoint", "wordpress-dev-s3", "arn:aws:ec2:" + use1 + ":vpc-endpoint/{ec2:vpce}", "{ec2:vpce}"},
		{"prod", "aws:ec2/flowLog:FlowLog", "wordpress-prod", "arn:aws:ec2:" + use1 + ":vpc-flow-log/{ec2:fl}", "{ec2:fl}"},
		{"dev", "aws:ec2/instance:Instance", "wordpress-dev-bastion", "arn:aws:ec2:" + use1 + ":instance/{ec2:i}", "{ec2:i}"},
		// Application Auto Scaling.
		{"prod", "aws:appautoscaling/target:Target", "wordpress-prod", "arn:aws:application-autoscaling:" + use1 + ":scalable-target/{hex:36}", "service/wordpress-prod/wordpress"},
		{"prod", "aws:appautoscaling/policy:Policy", "wordpress-prod-cpu", "arn:aws:autoscaling:" + use1 + ":scalingPolicy:{uuid}:resource/ecs/service/wordpress-prod/wordpress:policyName/wordpress-prod-cpu-{hex:7}", "wordpress-prod-cpu-{hex:7}"},
		// MWAA, with Airflow on.
		{"dev+airflow", "aws:mwaa/environment:Environment", "wordpress-dev-airflow", "arn:aws:airflow:" + use1 + ":environment/wordpress-dev", "wordpress-dev"},
		{"dev+airflow", "aws:s3/bucketObjectv2:BucketObjectv2", "wordpress-dev-airflow-dags-hello_nequi_dag.py", "arn:aws:s3:::wordpress-dev-airflow-dags-{hex:7}/dags/hello_nequi_dag.py", "dags/hello_nequi_dag.py"},
		// Another partition: the same shapes under arn:aws-cn.
		{"hub@cn-north-1", "aws:sqs/queue:Queue", "wordpress-hub-restart-dlq", "arn:aws-cn:sqs:cn-north-1:" + acct + ":wordpress-hub-restart-dlq", "https://sqs.cn-north-1.amazonaws.com.cn/" + acct + "/wordpress-hub-restart-dlq"},
		{"hub@cn-north-1", "aws:iam/role:Role", "wordpress-hub-restart-plan", "arn:aws-cn:iam::" + acct + ":role/wordpress-hub-restart-plan", "wordpress-hub-restart-plan"},
		{"prod@cn-north-1", "aws:s3/bucketV2:BucketV2", "wordpress-prod-alb-logs", "arn:aws-cn:s3:::wordpress-prod-alb-logs-{hex:7}", "wordpress-prod-alb-logs-{hex:7}"},
	}
	ps := stackPlans(t)
	for _, c := range cases {
		t.Run(c.stack+"/"+c.typ+"/"+c.name, func(t *testing.T) {
			r, ok := ps[c.stack].Named(c.typ, c.name)
			if !ok {
				t.Fatalf("the %s plan has no %s %s", c.stack, c.typ, c.name)
			}
			if c.arn == "" && r.ARN != "" {
				t.Errorf("ARN = %q; AWS gives a %s none", r.ARN, c.typ)
			}
			if c.arn != "" && !shapeRE(c.arn).MatchString(r.ARN) {
				t.Errorf("ARN = %q, want %s", r.ARN, c.arn)
			}
			wantID := c.id
			if wantID == "=arn" {
				wantID = r.ARN
				if r.ID != wantID {
					t.Errorf("id = %q, want the ARN %q", r.ID, wantID)
				}
				return
			}
			if !shapeRE(wantID).MatchString(r.ID) {
				t.Errorf("id = %q, want %s", r.ID, wantID)
			}
		})
	}
}

// TestAutonamedResourcesCarryTheirNameInNameAndARN: a resource the program
// does not name gets Pulumi's "<resource name>-<7 hex>", and that one name
// is its name input, its id and its ARN.
func TestAutonamedResourcesCarryTheirNameInNameAndARN(t *testing.T) {
	p := stackPlans(t)["prod"]
	for _, c := range []struct{ typ, name, arnType string }{
		{"aws:iam/role:Role", "wordpress-prod-task-execution", ":role/"},
		{"aws:iam/role:Role", "wordpress-prod-flow-logs", ":role/"},
		{"aws:iam/instanceProfile:InstanceProfile", "wordpress-prod-bastion", ":instance-profile/"},
		{"aws:ec2/securityGroup:SecurityGroup", "wordpress-prod-db", ""},
		{"aws:iam/rolePolicy:RolePolicy", "wordpress-prod-task", ""},
		{"aws:s3/bucketV2:BucketV2", "wordpress-prod-alb-logs", ":::"},
	} {
		r, ok := p.Named(c.typ, c.name)
		if !ok {
			t.Fatalf("no %s %s", c.typ, c.name)
		}
		key := "name"
		if c.typ == "aws:s3/bucketV2:BucketV2" {
			key = "bucket"
		}
		got := r.String(key)
		if !regexp.MustCompile("^" + regexp.QuoteMeta(c.name) + "-[0-9a-f]{7}$").MatchString(got) {
			t.Errorf("%s %s: %s = %q, want %s-<7 hex>", c.typ, c.name, key, got, c.name)
		}
		if c.arnType != "" && !strings.HasSuffix(r.ARN, c.arnType+got) {
			t.Errorf("%s %s: ARN %s does not end in %s%s", c.typ, c.name, r.ARN, c.arnType, got)
		}
	}
	// What the program reads back is that name: the instance profile's
	// role, the role policies' role.
	role, _ := p.Named("aws:iam/role:Role", "wordpress-prod-bastion")
	profile, _ := p.Named("aws:iam/instanceProfile:InstanceProfile", "wordpress-prod-bastion")
	if profile.String("role") != role.String("name") || role.ID != role.String("name") {
		t.Errorf("profile's role %q, role's name %q, role's id %q: want one name", profile.String("role"), role.String("name"), role.ID)
	}
}

// TestNoARNOrIDIsAnOfflineStandIn: every ARN and id of every plan is one
// AWS could return, with the opaque parts AWS makes up derived from the
// URN, and no "offline" anywhere in the plan.
func TestNoARNOrIDIsAnOfflineStandIn(t *testing.T) {
	for stack, p := range stackPlans(t) {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if i := strings.Index(string(b), "offline"); i >= 0 {
			t.Errorf("%s: the plan says %q", stack, string(b)[max(0, i-120):min(len(b), i+40)])
		}
		for _, r := range p.Resources {
			if strings.HasPrefix(r.Type, "wordpress:") {
				continue
			}
			if strings.Contains(r.ARN, "offline") {
				t.Errorf("%s: %s has ARN %s", stack, r.Label(), r.ARN)
			}
			// A type the recorder does not know gets an "offline-" id:
			// teach plan/arns.go its naming.
			if strings.Contains(r.ID, "offline") || r.ID == "" {
				t.Errorf("%s: %s has id %q: plan/arns.go does not know how AWS names a %s", stack, r.Label(), r.ID, r.Type)
			}
		}
	}
}

// arnParts splits an ARN into partition, service, Region, account and
// resource.
func arnParts(s string) (part, svc, region, account, res string, ok bool) {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" {
		return "", "", "", "", "", false
	}
	return f[1], f[2], f[3], f[4], f[5], true
}

// resourceType is the resource type part of an ARN's resource ("role" of
// "role/x", "log-group" of "log-group:x", "" for SNS and SQS names).
func resourceType(svc, res string) string {
	if svc == "sns" || svc == "sqs" || svc == "s3" {
		return ""
	}
	if i := strings.IndexAny(res, "/:"); i >= 0 {
		return res[:i]
	}
	return res
}

// policyReferences are the ARNs a policy document in the plan names, in
// the Resource, NotResource, Principal.AWS and condition values of its
// statements, by where they are.
func policyReferences(p *plan.Plan) map[string][]string {
	refs := map[string][]string{}
	var walkDoc func(where string, v any)
	add := func(where string, v any) {
		switch x := v.(type) {
		case string:
			if strings.HasPrefix(x, "arn:") {
				refs[x] = append(refs[x], where)
			}
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok && strings.HasPrefix(s, "arn:") {
					refs[s] = append(refs[s], where)
				}
			}
		case []string:
			for _, s := range x {
				if strings.HasPrefix(s, "arn:") {
					refs[s] = append(refs[s], where)
				}
			}
		}
	}
	walkDoc = func(where string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if st, ok := x["Statement"]; ok {
				sts, _ := st.([]any)
				if m, ok := st.(map[string]any); ok {
					sts = []any{m}
				}
				for _, s := range sts {
					m, _ := s.(map[string]any)
					add(where, m["Resource"])
					add(where, m["NotResource"])
					if pr, ok := m["Principal"].(map[string]any); ok {
						add(where, pr["AWS"])
					}
					if cond, ok := m["Condition"].(map[string]any); ok {
						for _, kv := range cond {
							if kv, ok := kv.(map[string]any); ok {
								for _, v := range kv {
									add(where, v)
								}
							}
						}
					}
				}
			}
			for _, e := range x {
				walkDoc(where, e)
			}
		case []any:
			for _, e := range x {
				walkDoc(where, e)
			}
		case string:
			if strings.HasPrefix(strings.TrimSpace(x), "{") {
				var doc any
				if json.Unmarshal([]byte(x), &doc) == nil {
					walkDoc(where, doc)
				}
			}
		}
	}
	for _, r := range p.Resources {
		for k, v := range r.Inputs {
			walkDoc(r.Label()+" "+k, v)
		}
		// The member role's template takes the hub roles it trusts as a
		// parameter, a comma-separated list.
		if r.Type == "aws:cloudformation/stackSet:StackSet" {
			params, _ := r.Inputs["parameters"].(map[string]any)
			for k, v := range params {
				if s, ok := v.(string); ok {
					add(r.Label()+" parameter "+k, strings.Split(s, ","))
				}
			}
		}
	}
	return refs
}

// allReferences are every ARN any input of the plan holds, also inside
// JSON documents (a state machine's definition, container definitions)
// and comma-separated lists.
func allReferences(p *plan.Plan) map[string][]string {
	refs := map[string][]string{}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(where, e)
			}
		case []any:
			for _, e := range x {
				walk(where, e)
			}
		case string:
			t := strings.TrimSpace(x)
			if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
				var doc any
				if json.Unmarshal([]byte(t), &doc) == nil {
					walk(where, doc)
					return
				}
			}
			for _, s := range strings.Split(x, ",") {
				if strings.HasPrefix(s, "arn:") {
					refs[s] = append(refs[s], where)
				}
			}
		}
	}
	for _, r := range p.Resources {
		for k, v := range r.Inputs {
			walk(r.Label()+" "+k, v)
		}
	}
	return refs
}

// ownedARNs are the ARNs under a plan resource a policy may name: a
// table's indexes and stream, a bucket's objects, a log group's streams.
func ownedARNs(r plan.Resource) []string {
	out := []string{r.ARN}
	switch r.Type {
	case "aws:dynamodb/table:Table":
		for _, key := range []string{"globalSecondaryIndexes", "localSecondaryIndexes"} {
			for _, ix := range r.List(key) {
				if m, ok := ix.(map[string]any); ok {
					out = append(out, fmt.Sprintf("%s/index/%v", r.ARN, m["name"]))
				}
			}
		}
	}
	return out
}

// matches says whether an ARN or ARN pattern (IAM's * and ?) of a policy
// names arn, or something under it: its literal part goes on past arn and
// a "/" or ":" (a table's index/*, a log group's :*, a bucket's objects).
func matches(pattern, arn string) bool {
	var re strings.Builder
	re.WriteString("^")
	for _, c := range pattern {
		switch c {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	if regexp.MustCompile(re.String()).MatchString(arn) {
		return true
	}
	literal := pattern
	if i := strings.IndexAny(pattern, "*?"); i >= 0 {
		literal = pattern[:i]
	}
	return strings.HasPrefix(literal, arn+"/") || strings.HasPrefix(literal, arn+":")
}

// checkReferences fails for every ARN of refs that is of a type the plan
// declares in its account and Region but matches none of the plan's ARNs
// of that type; it returns how many it checked.
func checkReferences(t *testing.T, stack string, p *plan.Plan, refs map[string][]string) int {
	t.Helper()
	// The ARNs of the plan by partition, service, Region, account and
	// resource type.
	byType := map[string][]string{}
	for _, r := range p.Resources {
		if r.ARN == "" {
			continue
		}
		part, svc, region, account, res, ok := arnParts(r.ARN)
		if !ok {
			t.Errorf("%s: %s has ARN %q", stack, r.Label(), r.ARN)
			continue
		}
		key := strings.Join([]string{part, svc, region, account, resourceType(svc, res)}, ":")
		byType[key] = append(byType[key], ownedARNs(r)...)
	}
	var names []string
	for ref := range refs {
		names = append(names, ref)
	}
	sort.Strings(names)
	checked := 0
	for _, ref := range names {
		part, svc, region, account, res, ok := arnParts(ref)
		if !ok {
			continue
		}
		typ := resourceType(svc, res)
		if strings.ContainsAny(typ, "*?") {
			continue // any type of the service
		}
		arns, declared := byType[strings.Join([]string{part, svc, region, account, typ}, ":")]
		if !declared {
			continue // another account, Region, or a type the stack does not make
		}
		if svc == "s3" && !strings.HasPrefix(res, "wordpress-"+p.Stack+"-") {
			continue // S3 ARNs name no account: a bucket of AWS's (yum repositories, ECR layers)
		}
		checked++
		found := false
		for _, a := range arns {
			if matches(ref, a) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: %s names %s, which is no ARN of the plan's %s resources %v", stack, strings.Join(refs[ref], "; "), ref, typ, arns)
		}
	}
	return checked
}

// TestPoliciesNameThePlansResourcesByTheirARNs: every ARN a policy
// document of the plan names (role and key policies, topic and bucket
// policies, trust policies, the member role's StackSet template and the
// hub roles it is given) that is of a type the plan declares in the same
// account and Region matches the ARN of one of the plan's resources of
// that type, exactly or as a pattern. A policy built with a Pulumi name
// where AWS uses the real one fails here.
func TestPoliciesNameThePlansResourcesByTheirARNs(t *testing.T) {
	for stack, p := range stackPlans(t) {
		n := checkReferences(t, stack, p, policyReferences(p))
		if n == 0 {
			t.Errorf("%s: no policy names a resource of the plan; the test would prove nothing", stack)
		}
		t.Logf("%s: %d ARNs named by policies match the plan's resources", stack, n)
	}
}

// TestEveryReferenceByARNFollowsToItsResource: the same for every ARN any
// input holds (a function's role, a task definition's parameters, an
// alarm's topic, the state machine's tasks), so that no ARN is built by
// hand in a shape AWS does not use.
func TestEveryReferenceByARNFollowsToItsResource(t *testing.T) {
	for stack, p := range stackPlans(t) {
		n := checkReferences(t, stack, p, allReferences(p))
		t.Logf("%s: %d ARNs in inputs match the plan's resources", stack, n)
	}
}
