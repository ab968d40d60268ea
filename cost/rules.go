package cost

import (
	"fmt"
	"math"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

// free are the types AWS does not bill for existing; what flows through
// them is billed on another resource (a flow log's volume on its log
// group, a target group's traffic on its load balancer).
var free = map[string]bool{}

func init() {
	for _, t := range []string{
		"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/route:Route", "aws:ec2/routeTable:RouteTable",
		"aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/internetGateway:InternetGateway",
		"aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
		"aws:ec2/securityGroupRule:SecurityGroupRule", "aws:ec2/flowLog:FlowLog",
		"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
		"aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy",
		"aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/instanceProfile:InstanceProfile",
		"aws:kms/alias:Alias",
		"aws:cloudwatch/logMetricFilter:LogMetricFilter", "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
		"aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget",
		"aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule",
		"aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
		"aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy",
		"aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation",
		"aws:route53/record:Record",
		"aws:efs/mountTarget:MountTarget", "aws:efs/accessPoint:AccessPoint", "aws:efs/fileSystemPolicy:FileSystemPolicy",
		"aws:wafv2/webAclAssociation:WebAclAssociation", "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
		"aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup", "aws:rds/optionGroup:OptionGroup",
		"aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
		"aws:s3/bucketVersioningV2:BucketVersioningV2", "aws:s3/bucketVersioning:BucketVersioning",
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
		"aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
		"aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
		"aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketObjectv2:BucketObjectv2",
		"aws:s3/bucketObject:BucketObject", "aws:s3/bucketLoggingV2:BucketLoggingV2",
		"aws:ssm/document:Document",
		"aws:sns/topic:Topic", "aws:sns/topicSubscription:TopicSubscription", "aws:sns/topicPolicy:TopicPolicy",
		"aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy", "aws:sqs/redrivePolicy:RedrivePolicy",
		"aws:scheduler/schedule:Schedule", "aws:scheduler/scheduleGroup:ScheduleGroup",
		"aws:lambda/permission:Permission", "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
		"aws:cloudformation/stackSet:StackSet", "aws:cloudformation/stackSetInstance:StackSetInstance",
		"aws:cfg/deliveryChannel:DeliveryChannel", "aws:cfg/recorderStatus:RecorderStatus",
		"aws:securityhub/standardsSubscription:StandardsSubscription",
		"aws:guardduty/detectorFeature:DetectorFeature", "aws:guardduty/organizationConfiguration:OrganizationConfiguration",
		"aws:iam/serviceLinkedRole:ServiceLinkedRole", "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
		"aws:cfg/conformancePack:ConformancePack", "aws:cfg/configurationRecorderStatus:ConfigurationRecorderStatus",
		"aws:securityhub/standardsControl:StandardsControl",
	} {
		free[t] = true
	}
}

// rules price the billed types. Each names the dimension AWS bills by.
var rules = map[string]func(e *estimator, r plan.Resource) []Line{
	"aws:ec2/natGateway:NatGateway": func(e *estimator, r plan.Resource) []Line {
		share := e.usage.NATGBPerMonth / float64(max(1, e.count(r.Type)))
		return []Line{
			e.line(r, "NAT gateway hours", "natGatewayHour", HoursPerMonth, ""),
			e.line(r, "data processed", "natGatewayGB", share, "usage.natGbPerMonth shared by the NAT gateways"),
		}
	},
	"aws:ec2/eip:Eip": func(e *estimator, r plan.Resource) []Line {
		return []Line{e.line(r, "public IPv4 address hours", "publicIPv4Hour", HoursPerMonth, "")}
	},
	"aws:ec2/vpcEndpoint:VpcEndpoint": func(e *estimator, r plan.Resource) []Line {
		if !strings.EqualFold(r.String("vpcEndpointType"), "Interface") {
			return nil // gateway endpoints (S3, DynamoDB) are free
		}
		azs := float64(len(r.List("subnetIds")))
		return []Line{
			e.line(r, "endpoint hours, one per AZ", "interfaceEndpointHour", azs*HoursPerMonth, ""),
			e.line(r, "data processed", "interfaceEndpointGB", e.usage.EndpointGBPerMonth, "usage.endpointGbPerMonth"),
		}
	},
	"aws:kms/key:Key": func(e *estimator, r plan.Resource) []Line {
		return []Line{e.line(r, "customer-managed key", "kmsKeyMonth", 1, "requests within the stack's volume are not counted")}
	},
	"aws:cloudwatch/logGroup:LogGroup": func(e *estimator, r plan.Resource) []Line {
		kept := e.usage.LogsGBPerGroup * math.Min(number(r, "retentionInDays", 3653)/30, 12)
		return []Line{
			e.line(r, "log data ingested", "logsIngestGB", e.usage.LogsGBPerGroup, "usage.logsGbPerGroup"),
			e.line(r, "log data stored", "logsStorageGBMonth", kept, "a month's volume per month of retention, at most a year's"),
		}
	},
	"aws:cloudwatch/metricAlarm:MetricAlarm": func(e *estimator, r plan.Resource) []Line {
		return []Line{e.line(r, "standard-resolution alarm", "alarmMonth", 1, "")}
	},
	"aws:cloudwatch/dashboard:Dashboard": func(e *estimator, r plan.Resource) []Line {
		return []Line{e.line(r, "dashboard", "dashboardMonth", 1, "")}
	},
	"aws:lb/loadBalancer:LoadBalancer": func(e *estimator, r plan.Resource) []Line {
		if t := r.String("loadBalancerType"); t != "" && t != "application" {
			return []Line{e.notPriced(r, t+" load balancer", "only application load balancers are priced")}
		}
		return []Line{
			e.line(r, "load balancer hours", "albHour", HoursPerMonth, ""),
			e.line(r, "capacity units", "albLCUHour", e.usage.ALBLCUs*HoursPerMonth, "usage.albLcus on average"),
		}
	},
	"aws:ecs/cluster:Cluster": func(e *estimator, r plan.Resource) []Line {
		for _, s := range r.List("settings") {
			if m, ok := s.(map[string]any); ok && m["name"] == "containerInsights" && m["value"] != "disabled" {
				return []Line{e.line(r, "Container Insights metrics", "customMetricMonth", e.usage.ContainerInsightsMetrics, "usage.containerInsightsMetrics")}
			}
		}
		return nil
	},
	"aws:ecs/service:Service":   fargateService,
	"aws:rds/instance:Instance": rdsInstance,
	"aws:efs/fileSystem:FileSystem": func(e *estimator, r plan.Resource) []Line {
		return []Line{e.line(r, "Standard storage", "efsStandardGBMonth", e.usage.EFSGB, "usage.efsGb")}
	},
	"aws:efs/backupPolicy:BackupPolicy": func(e *estimator, r plan.Resource) []Line {
		if p, ok := r.Inputs["backupPolicy"].(map[string]any); ok && p["status"] == "ENABLED" {
			return []Line{e.line(r, "AWS Backup warm storage", "backupEFSGBMonth", e.usage.EFSGB, "one copy of usage.efsGb; daily increments are small")}
		}
		return nil
	},
	"aws:ec2/instance:Instance": func(e *estimator, r plan.Resource) []Line {
		typ := r.String("instanceType")
		size := 8.0 // the AL2023 AMI's root volume
		if root, ok := r.Inputs["rootBlockDevice"].(map[string]any); ok {
			if v, ok := root["volumeSize"].(float64); ok {
				size = v
			}
		}
		return []Line{
			e.line(r, typ+" instance hours", "ec2:"+typ, HoursPerMonth, ""),
			e.line(r, "gp3 root volume", "ebsGp3GBMonth", size, ""),
		}
	},
	"aws:wafv2/webAcl:WebAcl": func(e *estimator, r plan.Resource) []Line {
		return []Line{
			e.line(r, "web ACL", "wafWebACLMonth", 1, ""),
			e.line(r, "rules and rule groups", "wafRuleMonth", float64(len(r.List("rules"))), ""),
			e.line(r, "requests inspected", "wafRequestsMillion", e.usage.WAFRequestsMillions, "usage.wafRequestsMillions"),
		}
	},
	"aws:secretsmanager/secret:Secret": func(e *estimator, r plan.Resource) []Line {
		return []Line{e.line(r, "secret", "secretMonth", 1, "")}
	},
	"aws:ssm/parameter:Parameter": func(e *estimator, r plan.Resource) []Line {
		if r.String("tier") == "Advanced" {
			return []Line{e.line(r, "advanced parameter", "ssmAdvancedParameterMonth", 1, "")}
		}
		return nil // standard parameters are free
	},
	"aws:sfn/stateMachine:StateMachine": func(e *estimator, r plan.Resource) []Line {
		n := e.usage.StateTransitionsPerNight * e.usage.NightsPerMonth / 1000
		return []Line{e.line(r, "state transitions", "sfnTransitionsThousand", n, "usage.stateTransitionsPerNight x usage.nightsPerMonth")}
	},
	"aws:lambda/function:Function": func(e *estimator, r plan.Resource) []Line {
		calls := e.usage.LambdaInvocationsPerNight * e.usage.NightsPerMonth / float64(max(1, e.count(r.Type)))
		gbs := calls * e.usage.LambdaSecondsPerInvocation * number(r, "memorySize", 128) / 1024
		// A function without architectures runs on x86_64 (Lambda's
		// default, CreateFunction API reference).
		key := "lambdaX86GBSecond"
		if archs := r.List("architectures"); len(archs) > 0 && archs[0] == "arm64" {
			key = "lambdaArmGBSecond"
		}
		return []Line{
			e.line(r, "requests", "lambdaRequestsMillion", calls/1e6, "the night's invocations shared by the functions"),
			e.line(r, "compute", key, gbs, "usage.lambdaSecondsPerInvocation"),
		}
	},
	"aws:dynamodb/table:Table": func(e *estimator, r plan.Resource) []Line {
		perNight := e.usage.RestartServices / float64(max(1, e.count(r.Type)))
		// Measured by `make nightcost` (BENCHMARKS.md, "Cost of a night"):
		// a night takes 3.8 WRU and 3.7-4.0 RRU per service of the fleet
		// (the inventory, the batch manifests, the claim, the deployment
		// id, the outcome, and reading them back).
		writes := perNight * 4 * e.usage.NightsPerMonth / 1e6
		reads := perNight * 4 * e.usage.NightsPerMonth / 1e6
		gb := perNight * 90 / 1e6 // ~1 KB an item, kept 90 days
		lines := []Line{
			e.line(r, "on-demand writes", "dynamodbWriteMillion", writes, "four write units per service per night"),
			e.line(r, "on-demand reads", "dynamodbReadMillion", reads, "four read units per service per night"),
			e.line(r, "storage", "dynamodbStorageGBMonth", gb, "~1 KB per item, 90 days kept"),
		}
		if pitr, ok := r.Inputs["pointInTimeRecovery"].(map[string]any); ok && pitr["enabled"] == true {
			lines = append(lines, e.line(r, "point-in-time recovery", "dynamodbPITRGBMonth", gb, ""))
		}
		return lines
	},
	"aws:s3/bucket:Bucket":     s3Bucket,
	"aws:s3/bucketV2:BucketV2": s3Bucket,
	"aws:route53/zone:Zone": func(e *estimator, r plan.Resource) []Line {
		return []Line{e.line(r, "hosted zone", "route53ZoneMonth", 1, "")}
	},
	"aws:cfg/recorder:Recorder": func(e *estimator, r plan.Resource) []Line {
		return []Line{e.line(r, "configuration items", "configItem", e.usage.ConfigItemsPerMonth, "usage.configItemsPerMonth")}
	},
	"aws:cfg/rule:Rule": func(e *estimator, r plan.Resource) []Line {
		n := e.usage.ConfigRuleEvaluationsPerMonth / float64(max(1, e.count(r.Type)))
		return []Line{e.line(r, "rule evaluations", "configRuleEvaluation", n, "usage.configRuleEvaluationsPerMonth shared by the rules")}
	},
	"aws:securityhub/account:Account": func(e *estimator, r plan.Resource) []Line {
		return []Line{e.line(r, "security checks", "securityHubCheck", e.usage.SecurityHubChecksPerMonth, "usage.securityHubChecksPerMonth")}
	},
	"aws:guardduty/detector:Detector": func(e *estimator, r plan.Resource) []Line {
		return []Line{
			e.line(r, "CloudTrail events analysed", "guardDutyEventsMillion", e.usage.GuardDutyEventsMillions, "usage.guardDutyEventsMillions"),
			e.line(r, "VPC flow and DNS logs analysed", "guardDutyLogsGB", e.usage.GuardDutyLogsGB, "usage.guardDutyLogsGb"),
		}
	},
	"aws:mwaa/environment:Environment": func(e *estimator, r plan.Resource) []Line {
		class := r.String("environmentClass")
		if class == "" {
			class = "mw1.small"
		}
		return []Line{e.line(r, class+" environment hours", "mwaa:"+class, HoursPerMonth, "additional workers and schedulers are not counted")}
	},
}

func s3Bucket(e *estimator, r plan.Resource) []Line {
	return []Line{e.line(r, "Standard storage", "s3StandardGBMonth", e.usage.S3GBPerBucket, "usage.s3GbPerBucket")}
}

// fargateService prices the service's tasks: desired count x the task
// definition's CPU and memory, around the clock.
func fargateService(e *estimator, r plan.Resource) []Line {
	if lt := r.String("launchType"); lt != "" && lt != "FARGATE" {
		return []Line{e.notPriced(r, lt+" tasks", "only Fargate tasks are priced; EC2 capacity is billed on its instances")}
	}
	td, ok := e.plan.ByARN(r.String("taskDefinition"))
	if !ok {
		return []Line{e.notPriced(r, "Fargate tasks", "the task definition is not in the plan")}
	}
	tasks := number(r, "desiredCount", 1)
	vcpu := number(td, "cpu", 0) / 1024
	gb := number(td, "memory", 0) / 1024
	cpuKey, memKey := "fargateVCPUHour", "fargateGBHour"
	if rp, ok := td.Inputs["runtimePlatform"].(map[string]any); ok && rp["cpuArchitecture"] == "ARM64" {
		cpuKey, memKey = "fargateArmVCPUHour", "fargateArmGBHour"
	}
	note := fmt.Sprintf("%g tasks of %g vCPU / %g GB", tasks, vcpu, gb)
	return []Line{
		e.line(r, "Fargate vCPU", cpuKey, tasks*vcpu*HoursPerMonth, note),
		e.line(r, "Fargate memory", memKey, tasks*gb*HoursPerMonth, note+"; autoscaling above the desired count is not counted"),
	}
}

// rdsInstance prices the instance class and its storage; Multi-AZ runs a
// standby of the same class with its own storage, so both double.
func rdsInstance(e *estimator, r plan.Resource) []Line {
	class := r.String("instanceClass")
	copies := 1.0
	note := ""
	if on, _ := r.Bool("multiAz"); on {
		copies, note = 2, "Multi-AZ: primary and standby"
	}
	lines := []Line{e.line(r, class+" instance hours", "rds:"+class, copies*HoursPerMonth, note)}
	if storage := number(r, "allocatedStorage", 0); storage > 0 {
		lines = append(lines, e.line(r, "storage", "rdsStorageGBMonth", copies*storage, note))
	}
	if on, _ := r.Bool("manageMasterUserPassword"); on {
		lines = append(lines, e.line(r, "RDS-managed master password secret", "secretMonth", 1, ""))
	}
	return lines
}
