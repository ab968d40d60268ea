package plan

import (
	"encoding/base32"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// What AWS and the pulumi-aws provider give a resource when it is created:
// the name Pulumi picks when the program gives none, the id the provider
// returns, the ARN and the other outputs the program reads.
//
// ARN shapes are those of the resource types in the AWS Service
// Authorization Reference ("Actions, resources, and condition keys for
// <service>"), which is what IAM matches a policy's Resource against; ids
// and output names are the pulumi-aws provider's (v6, the Terraform AWS
// provider v5 underneath: its resource docs, "Import" and "Attribute
// Reference"). Where AWS itself makes up an opaque part (a key's UUID, a
// load balancer's hex id, a detector id), it is derived from the URN so
// that two recordings are identical.

// created is one resource as AWS answers its creation.
type created struct {
	name, urn                     string
	part, suffix, region, account string
	state                         resource.PropertyMap

	// id is the provider's id; arn the ARN AWS gives the resource, "" for
	// the ones that have none (attachments, policies of other resources).
	id, arn string
	// unknown is set when a value the ARN is built from is not known
	// during the preview, so that the ARN is not known either.
	unknown bool
}

// shape is how one resource type is named.
type shape struct {
	// autoName is the property Pulumi fills in with "<resource name>-<7
	// hex digits>" when the program leaves it unset (pulumi-aws's
	// autonaming), "" for types without a name.
	autoName string
	// prefix starts the autoname ("alias/" for KMS aliases).
	prefix string
	// lower: the service accepts lower-case names only, so Pulumi's
	// autoname is lower-cased (RDS identifiers, S3 buckets).
	lower bool
	// fill sets id, ARN and the computed outputs.
	fill func(c *created) error
}

// str returns a string property ("" when absent); an unknown one marks
// the resource's ARN unknown.
func (c *created) str(k string) string {
	v, ok := c.state[resource.PropertyKey(k)]
	if !ok {
		return ""
	}
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	switch {
	case v.IsComputed(), v.IsOutput() && !v.OutputValue().Known:
		c.unknown = true
		return ""
	case v.IsString():
		return v.StringValue()
	}
	return ""
}

// boolean returns a bool property (false when absent or unknown).
func (c *created) boolean(k string) bool {
	v, ok := c.state[resource.PropertyKey(k)]
	return ok && v.IsBool() && v.BoolValue()
}

// set sets an output.
func (c *created) set(k string, v any) {
	c.state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
}

// setDefault sets an output the program did not set.
func (c *created) setDefault(k string, v any) string {
	if s := c.str(k); s != "" || c.unknown {
		return s
	}
	c.set(k, v)
	s, _ := v.(string)
	return s
}

// withARN records the ARN and sets the provider's arn output.
func (c *created) withARN(arn string) {
	c.arn = arn
	c.set("arn", arn)
}

// regional is an ARN in this account and Region.
func (c *created) regional(service, res string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", c.part, service, c.region, c.account, res)
}

// global is an ARN of a service without Regions (IAM, CloudWatch
// dashboards).
func (c *created) global(service, res string) string {
	return fmt.Sprintf("arn:%s:%s::%s:%s", c.part, service, c.account, res)
}

// hexN is n hex digits derived from the URN; its first 16 are those the
// recorder has always used (the hex of offline ids).
func (c *created) hexN(n int) string { return hexOf(c.urn, n) }

func hexOf(seed string, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		h := fnv.New64a()
		h.Write([]byte(seed))
		if i > 0 {
			fmt.Fprintf(h, "\x00%d", i)
		}
		fmt.Fprintf(&b, "%016x", h.Sum64())
	}
	return b.String()[:n]
}

// uuid is a version-4 UUID derived from the URN (and salt, for a second
// one), as KMS, WAF, ACM and CloudFormation make them.
func (c *created) uuid(salt string) string {
	h := []byte(hexOf(c.urn+salt, 32))
	h[12] = '4'
	h[16] = "89ab"[h[16]%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// upper is n upper-case letters and digits derived from the URN, the
// alphabet of IAM unique ids and RDS resource ids.
func (c *created) upper(salt string, n int) string {
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(hexOf(c.urn+salt, n*2)))
	return s[:n]
}

// autoname fills in the name Pulumi gives a resource the program did not
// name.
func (c *created) autoname(sh shape) {
	if sh.autoName == "" {
		return
	}
	if s := c.str(sh.autoName); s != "" || c.unknown {
		return
	}
	n := sh.prefix + c.name + "-" + c.hexN(7)
	if sh.lower {
		n = strings.ToLower(n)
	}
	c.set(sh.autoName, n)
}

// arnTail is the part of an ARN after its resource type ("wordpress" of
// "arn:aws:ecs:...:cluster/wordpress"), or s itself when it is no ARN.
func arnTail(s, typ string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	if _, tail, ok := strings.Cut(s, ":"+typ); ok {
		return tail
	}
	return s
}

// shapes are the resource types the program declares, by type token.
// Types missing here get an "offline-" id and a made-up ARN, and
// TestNoARNOrIDIsAnOfflineStandIn fails for them.
var shapes = map[string]shape{
	// Amazon EC2 and Amazon VPC (service prefix ec2). The ids are
	// prefixed like AWS's (vpc-, subnet-, ...) by offlineID.
	"aws:ec2/vpc:Vpc": {fill: func(c *created) error {
		c.withARN(c.regional("ec2", "vpc/"+c.id))
		c.set("defaultSecurityGroupId", defaultSecurityGroupID(c.id))
		c.set("ownerId", c.account)
		return nil
	}},
	"aws:ec2/subnet:Subnet":                   {fill: ec2ARN("subnet")},
	"aws:ec2/routeTable:RouteTable":           {fill: ec2ARN("route-table")},
	"aws:ec2/internetGateway:InternetGateway": {fill: ec2ARN("internet-gateway")},
	// The provider has no arn output for a NAT gateway; AWS has one.
	"aws:ec2/natGateway:NatGateway": {fill: func(c *created) error {
		c.arn = c.regional("ec2", "natgateway/"+c.id)
		return nil
	}},
	"aws:ec2/eip:Eip": {fill: func(c *created) error {
		c.withARN(c.regional("ec2", "elastic-ip/"+c.id))
		c.set("allocationId", c.id)
		return nil
	}},
	"aws:ec2/securityGroup:SecurityGroup": {autoName: "name", fill: ec2ARN("security-group")},
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {fill: func(c *created) error {
		// AWS makes one default group per VPC; adopting it does not
		// create another, so its id is the one the VPC reports.
		c.id = defaultSecurityGroupID(c.str("vpcId"))
		c.set("name", "default")
		c.withARN(c.regional("ec2", "security-group/"+c.id))
		return nil
	}},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {fill: securityGroupRule},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   {fill: securityGroupRule},
	"aws:ec2/vpcEndpoint:VpcEndpoint": {fill: func(c *created) error {
		if c.str("vpcEndpointType") == "Gateway" {
			// A gateway endpoint routes the service's AWS-managed prefix
			// list (pl- and 8 hex digits, one per service and Region).
			c.set("prefixListId", "pl-"+hexOf(c.region+c.str("serviceName"), 8))
		}
		return ec2ARN("vpc-endpoint")(c)
	}},
	"aws:ec2/flowLog:FlowLog":   {fill: ec2ARN("vpc-flow-log")},
	"aws:ec2/instance:Instance": {fill: ec2ARN("instance")},
	// A route and an association have no ARN. The provider's route id
	// is "r-" + route table id + the CRC-32 of the destination.
	"aws:ec2/route:Route": {fill: func(c *created) error {
		dest := c.str("destinationCidrBlock") + c.str("destinationIpv6CidrBlock") + c.str("destinationPrefixListId")
		c.id = fmt.Sprintf("r-%s%d", c.str("routeTableId"), crc32.ChecksumIEEE([]byte(dest)))
		return nil
	}},
	"aws:ec2/routeTableAssociation:RouteTableAssociation": {fill: noARN},

	// AWS Identity and Access Management (iam): no Region in the ARN,
	// the path between the type and the name; roles, instance profiles
	// are known by name, policies by ARN.
	"aws:iam/role:Role": {autoName: "name", fill: func(c *created) error {
		name, path := c.str("name"), c.setDefault("path", "/")
		c.id = name
		c.withARN(c.global("iam", "role"+path+name))
		c.set("uniqueId", "AROA"+c.upper("unique", 17))
		c.set("createDate", createdAt)
		return nil
	}},
	"aws:iam/instanceProfile:InstanceProfile": {autoName: "name", fill: func(c *created) error {
		name, path := c.str("name"), c.setDefault("path", "/")
		c.id = name
		c.withARN(c.global("iam", "instance-profile"+path+name))
		c.set("uniqueId", "AIPA"+c.upper("unique", 17))
		c.set("createDate", createdAt)
		return nil
	}},
	"aws:iam/policy:Policy": {autoName: "name", fill: func(c *created) error {
		name, path := c.str("name"), c.setDefault("path", "/")
		c.withARN(c.global("iam", "policy"+path+name))
		c.id = c.arn
		c.set("policyId", "ANPA"+c.upper("unique", 17))
		return nil
	}},
	// A role's inline policy has no ARN; the provider's id is
	// "<role>:<policy name>".
	"aws:iam/rolePolicy:RolePolicy": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("role") + ":" + c.str("name")
		return nil
	}},
	// The provider names an attachment after the role and a unique
	// suffix (Terraform's PrefixedUniqueId).
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {fill: func(c *created) error {
		c.id = c.str("role") + "-" + uniqueSuffix(c.urn)
		return nil
	}},
	"aws:iam/serviceLinkedRole:ServiceLinkedRole": {fill: func(c *created) error {
		svc := c.str("awsServiceName")
		name, ok := serviceLinkedRoleNames[svc]
		if !ok {
			return fmt.Errorf("the offline plan does not know the name of the service-linked role of %q: add it to serviceLinkedRoleNames in plan/arns.go", svc)
		}
		if s := c.str("customSuffix"); s != "" {
			name += "_" + s
		}
		path := "/aws-service-role/" + svc + "/"
		c.set("name", name)
		c.set("path", path)
		c.withARN(c.global("iam", "role"+path+name))
		c.id = c.arn
		c.set("uniqueId", "AROA"+c.upper("unique", 17))
		return nil
	}},

	// AWS Key Management Service (kms): key/<key id>, the id a UUID.
	"aws:kms/key:Key": {fill: func(c *created) error {
		c.id = c.uuid("")
		c.set("keyId", c.id)
		c.withARN(c.regional("kms", "key/"+c.id))
		return nil
	}},
	"aws:kms/alias:Alias": {autoName: "name", prefix: "alias/", fill: func(c *created) error {
		c.id = c.str("name")
		c.withARN(c.regional("kms", c.id))
		if k := c.str("targetKeyId"); k != "" {
			if !strings.HasPrefix(k, "arn:") {
				k = c.regional("kms", "key/"+k)
			}
			c.set("targetKeyArn", k)
		}
		return nil
	}},

	// Amazon CloudWatch Logs (logs): log-group:<name>, the provider's
	// arn without the ":*" DescribeLogGroups adds.
	"aws:cloudwatch/logGroup:LogGroup": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		c.withARN(c.regional("logs", "log-group:"+c.id))
		return nil
	}},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		return nil
	}},
	// Amazon CloudWatch (cloudwatch): alarm:<name>; a dashboard has no
	// Region in its ARN and its provider output is dashboardArn.
	"aws:cloudwatch/metricAlarm:MetricAlarm": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		c.withARN(c.regional("cloudwatch", "alarm:"+c.id))
		return nil
	}},
	"aws:cloudwatch/dashboard:Dashboard": {fill: func(c *created) error {
		c.id = c.str("dashboardName")
		c.arn = c.global("cloudwatch", "dashboard/"+c.id)
		c.set("dashboardArn", c.arn)
		return nil
	}},
	// Amazon EventBridge (events): rule/<name> on the default bus,
	// rule/<bus>/<name> on another; the provider's id is "<bus>/<name>"
	// there and the name on the default bus.
	"aws:cloudwatch/eventRule:EventRule": {autoName: "name", fill: func(c *created) error {
		name, bus := c.str("name"), arnTail(c.str("eventBusName"), "event-bus/")
		c.id = name
		res := "rule/" + name
		if bus != "" && bus != "default" {
			c.id = bus + "/" + name
			res = "rule/" + bus + "/" + name
		}
		c.withARN(c.regional("events", res))
		return nil
	}},
	"aws:cloudwatch/eventTarget:EventTarget": {autoName: "targetId", fill: func(c *created) error {
		c.id = c.str("rule") + "-" + c.str("targetId")
		if bus := arnTail(c.str("eventBusName"), "event-bus/"); bus != "" && bus != "default" {
			c.id = bus + "/" + c.id
		}
		return nil
	}},

	// Amazon SNS (sns): the topic's name after the account, no type; the
	// provider's id is the ARN.
	"aws:sns/topic:Topic": {autoName: "name", fill: func(c *created) error {
		name := c.str("name")
		if c.boolean("fifoTopic") && !strings.HasSuffix(name, ".fifo") && !c.unknown {
			name += ".fifo"
			c.set("name", name)
		}
		c.withARN(c.regional("sns", name))
		c.id = c.arn
		c.set("owner", c.account)
		return nil
	}},
	"aws:sns/topicPolicy:TopicPolicy": {fill: func(c *created) error {
		c.id = c.str("arn")
		c.set("owner", c.account)
		return nil
	}},
	// A subscription's ARN is its topic's and a UUID (Subscribe with
	// ReturnSubscriptionArn, as the provider calls it).
	"aws:sns/topicSubscription:TopicSubscription": {fill: func(c *created) error {
		c.withARN(c.str("topic") + ":" + c.uuid(""))
		c.id = c.arn
		c.set("ownerId", c.account)
		return nil
	}},

	// Amazon SQS (sqs): the queue's name after the account; the
	// provider's id is the queue URL, as CreateQueue returns it.
	"aws:sqs/queue:Queue": {autoName: "name", fill: func(c *created) error {
		name := c.str("name")
		if c.boolean("fifoQueue") && !strings.HasSuffix(name, ".fifo") && !c.unknown {
			name += ".fifo"
			c.set("name", name)
		}
		c.withARN(c.regional("sqs", name))
		c.id = fmt.Sprintf("https://sqs.%s.%s/%s/%s", c.region, c.suffix, c.account, name)
		c.set("url", c.id)
		return nil
	}},

	// Amazon DynamoDB (dynamodb): table/<name>; a stream is
	// table/<name>/stream/<label>, an index table/<name>/index/<index>.
	"aws:dynamodb/table:Table": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		c.withARN(c.regional("dynamodb", "table/"+c.id))
		if c.boolean("streamEnabled") {
			const label = "2025-01-01T00:00:00.000"
			c.set("streamLabel", label)
			c.set("streamArn", c.arn+"/stream/"+label)
		} else {
			c.set("streamLabel", "")
			c.set("streamArn", "")
		}
		return nil
	}},

	// AWS Step Functions (states): stateMachine:<name>; the provider's
	// id is the ARN.
	"aws:sfn/stateMachine:StateMachine": {autoName: "name", fill: func(c *created) error {
		c.withARN(c.regional("states", "stateMachine:"+c.str("name")))
		c.id = c.arn
		c.set("status", "ACTIVE")
		c.set("creationDate", createdAt)
		c.set("revisionId", c.uuid("revision"))
		if c.boolean("publish") {
			c.set("stateMachineVersionArn", c.arn+":1")
		} else {
			c.set("stateMachineVersionArn", "")
		}
		return nil
	}},

	// AWS Lambda (lambda): function:<name>, qualified by its version
	// ($LATEST until one is published); the invoke ARN is API Gateway's
	// path to the function. The provider's id is the name.
	"aws:lambda/function:Function": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		c.withARN(c.regional("lambda", "function:"+c.id))
		version := "$LATEST"
		if c.boolean("publish") {
			version = "1"
		}
		qualified := c.arn + ":" + version
		invoke := func(arn string) string {
			return fmt.Sprintf("arn:%s:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", c.part, c.region, arn)
		}
		c.set("version", version)
		c.set("qualifiedArn", qualified)
		c.set("invokeArn", invoke(c.arn))
		c.set("qualifiedInvokeArn", invoke(qualified))
		c.set("lastModified", "2025-01-01T00:00:00.000+0000")
		return nil
	}},

	// Amazon ECS (ecs): cluster/<name>; a service in the long ARN format,
	// service/<cluster name>/<service name>; a task definition
	// family:revision. Cluster and service ids are their ARNs, a task
	// definition's its family.
	"aws:ecs/cluster:Cluster": {autoName: "name", fill: func(c *created) error {
		c.withARN(c.regional("ecs", "cluster/"+c.str("name")))
		c.id = c.arn
		return nil
	}},
	"aws:ecs/service:Service": {autoName: "name", fill: func(c *created) error {
		cluster := arnTail(c.str("cluster"), "cluster/")
		if cluster == "" {
			cluster = "default"
		}
		// The id is the ARN (pulumi-aws v6 has no arn output; v7 adds one).
		c.withARN(c.regional("ecs", "service/"+cluster+"/"+c.str("name")))
		c.id = c.arn
		return nil
	}},
	"aws:ecs/taskDefinition:TaskDefinition": {fill: func(c *created) error {
		family := c.str("family")
		c.id = family
		c.withARN(c.regional("ecs", fmt.Sprintf("task-definition/%s:1", family)))
		c.set("arnWithoutRevision", c.regional("ecs", "task-definition/"+family))
		c.set("revision", 1)
		return nil
	}},

	// Amazon EventBridge Scheduler (scheduler): schedule/<group>/<name>,
	// the group "default" unless named; the provider's id is
	// "<group>/<name>".
	"aws:scheduler/schedule:Schedule": {autoName: "name", fill: func(c *created) error {
		group := c.setDefault("groupName", "default")
		c.id = group + "/" + c.str("name")
		c.withARN(c.regional("scheduler", "schedule/"+c.id))
		return nil
	}},

	// AWS CloudFormation (cloudformation): stackset/<name>:<uuid>, the
	// StackSetId being "<name>:<uuid>"; the provider's id is the name.
	"aws:cloudformation/stackSet:StackSet": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		set := c.id + ":" + c.uuid("")
		c.set("stackSetId", set)
		c.withARN(c.regional("cloudformation", "stackset/"+set))
		return nil
	}},
	// An instance is a stack in the target account, with no ARN of its
	// own; the provider's id is "<stack set>,<account or OUs>,<region>".
	"aws:cloudformation/stackSetInstance:StackSetInstance": {fill: func(c *created) error {
		region := c.setDefault("region", c.region)
		target := c.str("accountId")
		if dt, ok := c.state["deploymentTargets"]; ok && dt.IsObject() {
			if ous, ok := dt.ObjectValue()["organizationalUnitIds"]; ok && ous.IsArray() {
				var ids []string
				for _, o := range ous.ArrayValue() {
					if o.IsString() {
						ids = append(ids, o.StringValue())
					}
				}
				target = strings.Join(ids, "/")
			}
		}
		if target == "" {
			target = c.setDefault("accountId", c.account)
			set := c.str("stackSetName")
			c.set("stackId", fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/StackSet-%s-%s/%s", c.part, region, target, set, c.uuid("stack"), c.uuid("stack-id")))
		}
		c.id = c.str("stackSetName") + "," + target + "," + region
		return nil
	}},

	// AWS Security Hub (securityhub): the hub is hub/default, the
	// provider's id the account; a standard's subscription is
	// subscription/<standard path>, its id.
	"aws:securityhub/account:Account": {fill: func(c *created) error {
		c.id = c.account
		c.withARN(c.regional("securityhub", "hub/default"))
		return nil
	}},
	"aws:securityhub/standardsSubscription:StandardsSubscription": {fill: func(c *created) error {
		std := c.str("standardsArn")
		path := std
		for _, t := range []string{":standards/", ":ruleset/"} {
			if _, p, ok := strings.Cut(std, t); ok {
				path = p
			}
		}
		c.arn = c.regional("securityhub", "subscription/"+path)
		c.id = c.arn
		return nil
	}},

	// Amazon GuardDuty (guardduty): detector/<detector id>, the id 32
	// hex digits.
	"aws:guardduty/detector:Detector": {fill: func(c *created) error {
		c.id = c.hexN(32)
		c.withARN(c.regional("guardduty", "detector/"+c.id))
		c.set("accountId", c.account)
		return nil
	}},
	"aws:guardduty/detectorFeature:DetectorFeature": {fill: func(c *created) error {
		c.id = c.str("detectorId") + "/" + c.str("name")
		return nil
	}},

	// AWS Config (config): a recorder is
	// configuration-recorder/<name>/<recorder id> (the provider has no
	// arn output), a rule config-rule/<rule id>. The recorder and the
	// delivery channel are "default" unless named (the provider's
	// default); their ids are their names.
	"aws:cfg/recorder:Recorder": {fill: func(c *created) error {
		c.id = c.setDefault("name", "default")
		c.arn = c.regional("config", "configuration-recorder/"+c.id+"/"+c.hexN(16))
		return nil
	}},
	"aws:cfg/recorderStatus:RecorderStatus": {fill: func(c *created) error {
		c.id = c.str("name")
		return nil
	}},
	"aws:cfg/deliveryChannel:DeliveryChannel": {fill: func(c *created) error {
		c.id = c.setDefault("name", "default")
		return nil
	}},
	"aws:cfg/rule:Rule": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		rule := "config-rule-" + strings.ToLower(c.upper("rule", 6))
		c.set("ruleId", rule)
		c.withARN(c.regional("config", "config-rule/"+rule))
		return nil
	}},

	// Amazon MWAA (airflow): environment/<name>; the provider's id is the
	// name. The web server's host is the environment's id under the
	// Region's airflow domain, "-vpce" when it is private.
	"aws:mwaa/environment:Environment": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		c.withARN(c.regional("airflow", "environment/"+c.id))
		host := c.uuid("webserver")
		if c.str("webserverAccessMode") == "PRIVATE_ONLY" {
			host += "-vpce"
		}
		c.set("webserverUrl", fmt.Sprintf("%s.c2.%s.airflow.%s", host, c.region, c.suffix))
		c.set("serviceRoleArn", c.global("iam", "role/aws-service-role/airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA"))
		c.set("status", "AVAILABLE")
		c.set("createdAt", createdAt)
		return nil
	}},

	// AWS WAF (wafv2): <scope>/webacl/<name>/<id>, the scope "regional"
	// or, for CloudFront, "global" in us-east-1; the id a UUID.
	"aws:wafv2/webAcl:WebAcl": {autoName: "name", fill: func(c *created) error {
		c.id = c.uuid("")
		scope, region := "regional", c.region
		if c.str("scope") == "CLOUDFRONT" {
			scope, region = "global", "us-east-1"
		}
		c.withARN(fmt.Sprintf("arn:%s:wafv2:%s:%s:%s/webacl/%s/%s", c.part, region, c.account, scope, c.str("name"), c.id))
		c.set("lockToken", c.uuid("lock"))
		return nil
	}},
	"aws:wafv2/webAclAssociation:WebAclAssociation": {fill: func(c *created) error {
		c.id = c.str("webAclArn") + "," + c.str("resourceArn")
		return nil
	}},
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": {fill: func(c *created) error {
		c.id = c.str("resourceArn")
		return nil
	}},

	// Elastic Load Balancing (elasticloadbalancing):
	// loadbalancer/app/<name>/<16 hex>, targetgroup/<name>/<16 hex>,
	// listener/app/<lb name>/<lb id>/<16 hex>; ids are the ARNs.
	"aws:lb/loadBalancer:LoadBalancer": {autoName: "name", fill: loadBalancer},
	"aws:lb/targetGroup:TargetGroup": {autoName: "name", fill: func(c *created) error {
		n := c.str("name")
		c.set("arnSuffix", fmt.Sprintf("targetgroup/%s/%s", n, c.hexN(16)))
		c.withARN(c.regional("elasticloadbalancing", "targetgroup/"+n+"/"+c.hexN(16)))
		c.id = c.arn
		return nil
	}},
	"aws:lb/listener:Listener": {fill: func(c *created) error {
		lb := arnTail(c.str("loadBalancerArn"), "loadbalancer/")
		c.withARN(c.regional("elasticloadbalancing", "listener/"+lb+"/"+c.hexN(16)))
		c.id = c.arn
		return nil
	}},
	"aws:lb/listenerRule:ListenerRule": {fill: func(c *created) error {
		l := arnTail(c.str("listenerArn"), "listener/")
		c.withARN(c.regional("elasticloadbalancing", "listener-rule/"+l+"/"+c.hexN(16)))
		c.id = c.arn
		return nil
	}},

	// AWS Certificate Manager (acm): certificate/<uuid>, the id the ARN.
	// Validation has no ARN; the provider's id is the issue time.
	"aws:acm/certificate:Certificate": {fill: func(c *created) error {
		// The validation record: "_<hex>.<domain>." pointing at
		// "_<hex>.<random label>.acm-validations.aws.".
		domain, hexID := c.str("domainName"), c.hexN(16)
		c.set("domainValidationOptions", []any{map[string]any{
			"domainName":          domain,
			"resourceRecordName":  fmt.Sprintf("_%s.%s.", hexID, domain),
			"resourceRecordType":  "CNAME",
			"resourceRecordValue": fmt.Sprintf("_%s.%s.acm-validations.aws.", c.hexN(32), strings.ToLower(c.upper("acm", 10))),
		}})
		c.withARN(c.regional("acm", "certificate/"+c.uuid("")))
		c.id = c.arn
		return nil
	}},
	"aws:acm/certificateValidation:CertificateValidation": {fill: func(c *created) error {
		c.id = "2025-01-01 00:00:00 +0000 UTC"
		return nil
	}},

	// Amazon Route 53: a record has no ARN; the provider's id is
	// "<zone>_<name>_<type>".
	"aws:route53/record:Record": {fill: func(c *created) error {
		name := strings.TrimSuffix(c.str("name"), ".")
		c.set("fqdn", name)
		c.id = strings.Join([]string{c.str("zoneId"), strings.ToLower(name), c.str("type")}, "_")
		if s := c.str("setIdentifier"); s != "" {
			c.id += "_" + s
		}
		return nil
	}},

	// Amazon S3 (s3): no Region or account in a bucket's ARN; the
	// provider's id is the bucket name, and a bucket's settings are known
	// by their bucket.
	"aws:s3/bucketV2:BucketV2": {autoName: "bucket", lower: true, fill: func(c *created) error {
		b := c.str("bucket")
		c.id = b
		c.withARN(fmt.Sprintf("arn:%s:s3:::%s", c.part, b))
		c.set("bucketDomainName", b+".s3."+c.suffix)
		c.set("bucketRegionalDomainName", fmt.Sprintf("%s.s3.%s.%s", b, c.region, c.suffix))
		c.set("region", c.region)
		return nil
	}},
	"aws:s3/bucketObjectv2:BucketObjectv2": {fill: func(c *created) error {
		c.id = c.str("key")
		c.withARN(fmt.Sprintf("arn:%s:s3:::%s/%s", c.part, c.str("bucket"), c.id))
		c.set("etag", c.hexN(32))
		return nil
	}},
	"aws:s3/bucketPolicy:BucketPolicy":                                                           {fill: bucketSetting},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     {fill: bucketSetting},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     {fill: bucketSetting},
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               {fill: bucketSetting},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {fill: bucketSetting},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       {fill: bucketSetting},
	"aws:s3/bucketLoggingV2:BucketLoggingV2":                                                     {fill: bucketSetting},
	"aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": {fill: func(c *created) error {
		c.id = c.setDefault("accountId", c.account)
		return nil
	}},

	// Amazon RDS (rds): db:<identifier>, pg:<name>, subgrp:<name>,
	// og:<name>; names lower case. An instance's provider id is its
	// resource id (DbiResourceId, since the Terraform AWS provider v5).
	"aws:rds/instance:Instance":             {autoName: "identifier", lower: true, fill: rdsInstance},
	"aws:rds/parameterGroup:ParameterGroup": {autoName: "name", lower: true, fill: rdsNamed("pg")},
	"aws:rds/subnetGroup:SubnetGroup":       {autoName: "name", lower: true, fill: rdsNamed("subgrp")},
	"aws:rds/optionGroup:OptionGroup":       {autoName: "name", lower: true, fill: rdsNamed("og")},

	// Amazon EFS (elasticfilesystem): file-system/<fs id>,
	// access-point/<fsap id>. Mount targets and the file system's
	// policies have no ARN; the policies are known by the file system.
	"aws:efs/fileSystem:FileSystem": {fill: func(c *created) error {
		c.withARN(c.regional("elasticfilesystem", "file-system/"+c.id))
		c.set("dnsName", fmt.Sprintf("%s.efs.%s.%s", c.id, c.region, c.suffix))
		c.set("ownerId", c.account)
		return nil
	}},
	"aws:efs/accessPoint:AccessPoint": {fill: func(c *created) error {
		c.withARN(c.regional("elasticfilesystem", "access-point/"+c.id))
		c.set("fileSystemArn", c.regional("elasticfilesystem", "file-system/"+c.str("fileSystemId")))
		c.set("ownerId", c.account)
		return nil
	}},
	"aws:efs/mountTarget:MountTarget": {fill: func(c *created) error {
		fs := c.str("fileSystemId")
		c.set("fileSystemArn", c.regional("elasticfilesystem", "file-system/"+fs))
		c.set("dnsName", fmt.Sprintf("%s.efs.%s.%s", fs, c.region, c.suffix))
		return nil
	}},
	"aws:efs/backupPolicy:BackupPolicy": {fill: func(c *created) error {
		c.id = c.str("fileSystemId")
		return nil
	}},
	"aws:efs/fileSystemPolicy:FileSystemPolicy": {fill: func(c *created) error {
		c.id = c.str("fileSystemId")
		return nil
	}},

	// AWS Systems Manager (ssm): parameter/<name without its leading
	// slash>, document/<name>; ids are the names.
	"aws:ssm/parameter:Parameter": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		c.withARN(c.regional("ssm", "parameter/"+strings.TrimPrefix(c.id, "/")))
		c.set("version", 1)
		return nil
	}},
	"aws:ssm/document:Document": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		c.withARN(c.regional("ssm", "document/"+c.id))
		return nil
	}},

	// AWS Secrets Manager (secretsmanager): secret:<name>-<6 random
	// characters>; the provider's id is the ARN.
	"aws:secretsmanager/secret:Secret": {autoName: "name", fill: func(c *created) error {
		c.withARN(c.regional("secretsmanager", "secret:"+c.str("name")+"-"+secretSuffix(c.urn)))
		c.id = c.arn
		return nil
	}},

	// Application Auto Scaling: scalable-target/<opaque id>; a policy is
	// Auto Scaling's scalingPolicy:<uuid>:resource/<namespace>/<resource
	// id>:policyName/<name>. A target's provider id is its resource id,
	// a policy's its name.
	"aws:appautoscaling/target:Target": {fill: func(c *created) error {
		c.id = c.str("resourceId")
		c.withARN(c.regional("application-autoscaling", "scalable-target/"+c.hexN(36)))
		return nil
	}},
	"aws:appautoscaling/policy:Policy": {autoName: "name", fill: func(c *created) error {
		c.id = c.str("name")
		c.withARN(c.regional("autoscaling", fmt.Sprintf("scalingPolicy:%s:resource/%s/%s:policyName/%s",
			c.uuid(""), c.str("serviceNamespace"), c.str("resourceId"), c.id)))
		return nil
	}},
}

// createdAt is when the offline plan says everything was created.
const createdAt = "2025-01-01T00:00:00Z"

// serviceLinkedRoleNames are the roles AWS names for the services the
// program makes service-linked roles for ("AWS services that work with
// IAM", each service's "Using service-linked roles" page).
var serviceLinkedRoleNames = map[string]string{
	"config.amazonaws.com":                      "AWSServiceRoleForConfig",
	"ecs.amazonaws.com":                         "AWSServiceRoleForECS",
	"elasticloadbalancing.amazonaws.com":        "AWSServiceRoleForElasticLoadBalancing",
	"rds.amazonaws.com":                         "AWSServiceRoleForRDS",
	"ecs.application-autoscaling.amazonaws.com": "AWSServiceRoleForApplicationAutoScaling_ECSService",
	"guardduty.amazonaws.com":                   "AWSServiceRoleForAmazonGuardDuty",
	"securityhub.amazonaws.com":                 "AWSServiceRoleForSecurityHub",
	"airflow.amazonaws.com":                     "AWSServiceRoleForAmazonMWAA",
}

func noARN(*created) error { return nil }

// ec2ARN is the ARN of an EC2 resource known by its prefixed id.
func ec2ARN(typ string) func(*created) error {
	return func(c *created) error {
		c.withARN(c.regional("ec2", typ+"/"+c.id))
		c.set("ownerId", c.account)
		return nil
	}
}

// securityGroupRule: a rule of the VPC rule resources is
// security-group-rule/sgr-..., its id.
func securityGroupRule(c *created) error {
	c.id = "sgr-" + c.hexN(17)
	c.set("securityGroupRuleId", c.id)
	c.withARN(c.regional("ec2", "security-group-rule/"+c.id))
	return nil
}

// bucketSetting is a bucket's policy or configuration: known by the
// bucket (and the expected owner, when given).
func bucketSetting(c *created) error {
	c.id = c.str("bucket")
	if o := c.str("expectedBucketOwner"); o != "" {
		c.id += "," + o
	}
	return nil
}

func rdsNamed(typ string) func(*created) error {
	return func(c *created) error {
		c.id = c.str("name")
		c.withARN(c.regional("rds", typ+":"+c.id))
		return nil
	}
}

func loadBalancer(c *created) error {
	n, hexID := c.str("name"), c.hexN(16)
	kind := "app"
	switch c.str("loadBalancerType") {
	case "network":
		kind = "net"
	case "gateway":
		kind = "gwy"
	}
	c.set("arnSuffix", fmt.Sprintf("%s/%s/%s", kind, n, hexID))
	c.set("dnsName", fmt.Sprintf("%s-%d.%s.elb.%s", n, len(hexID)*7919, c.region, c.suffix))
	zone := albZoneIDs[c.region]
	if zone == "" {
		zone = "Z00OFFLINEALBZONE"
	}
	c.set("zoneId", zone)
	c.withARN(c.regional("elasticloadbalancing", fmt.Sprintf("loadbalancer/%s/%s/%s", kind, n, hexID)))
	c.id = c.arn
	return nil
}

// rdsInstance fills in what RDS computes for a DB instance: its endpoint,
// the zone it picked when the program left that to RDS (the Region's first
// zone, as for a subnet group that starts there), and the secret it keeps
// the master password in when asked to manage it.
func rdsInstance(c *created) error {
	ident := c.str("identifier")
	port := 3306.0
	if v, ok := c.state["port"]; ok && v.IsNumber() {
		port = v.NumberValue()
	}
	address := fmt.Sprintf("%s.c0ffee0ff1in.%s.rds.%s", ident, c.region, c.suffix)
	c.set("address", address)
	c.set("endpoint", fmt.Sprintf("%s:%d", address, int(port)))
	c.withARN(c.regional("rds", "db:"+ident))
	c.id = "db-" + c.upper("resource", 26)
	c.set("resourceId", c.id)
	if v, ok := c.state["availabilityZone"]; !ok || !v.IsString() || v.StringValue() == "" {
		if zones, err := zonesOf(c.region, "available", nil); err == nil && len(zones) > 0 {
			c.set("availabilityZone", zones[0].name)
		}
	}
	if c.boolean("manageMasterUserPassword") {
		secret := map[string]any{
			"secretArn":    c.regional("secretsmanager", "secret:rds!db-"+c.uuid("secret")+"-"+secretSuffix(c.urn)),
			"secretStatus": "active",
		}
		if k := c.str("masterUserSecretKmsKeyId"); k != "" {
			secret["kmsKeyId"] = k
		}
		c.set("masterUserSecrets", []any{secret})
	}
	return nil
}

// secretSuffix is the six random characters Secrets Manager ends a
// secret's ARN with.
func secretSuffix(seed string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	h := hexOf(seed+"secret-suffix", 12)
	out := make([]byte, 6)
	for i := range out {
		var v byte
		fmt.Sscanf(h[2*i:2*i+2], "%02x", &v)
		out[i] = alphabet[int(v)%len(alphabet)]
	}
	return string(out)
}

// uniqueSuffix is Terraform's PrefixedUniqueId: a timestamp and a counter,
// 26 digits.
func uniqueSuffix(seed string) string {
	h := fnv.New64a()
	h.Write([]byte(seed))
	return fmt.Sprintf("20250101000000%012d", h.Sum64()%1_000_000_000_000)
}
