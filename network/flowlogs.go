package network

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	awsiam "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/iam"
)

// FlowLogArgs configures VPC flow logs to CloudWatch Logs.
type FlowLogArgs struct {
	// LogGroupName is fixed (not auto-named) so that the KMS key policy can
	// name it before the group exists.
	LogGroupName  string
	RetentionDays int
	KMSKeyARN     pulumi.StringInput
}

func flowLogs(ctx *pulumi.Context, name string, args FlowLogArgs, env account.Env, vpc *ec2.Vpc, tags map[string]string, parent pulumi.ResourceOption) error {
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.LogGroupName),
		RetentionInDays: pulumi.Int(args.RetentionDays),
		KmsKeyId:        args.KMSKeyARN,
		Tags:            pulumi.ToStringMap(tags),
	}, parent)
	if err != nil {
		return err
	}
	// Only this account's flow logs may use the role, so another account
	// cannot make the service deliver into our group (VPC guide, "IAM role
	// for publishing flow logs to CloudWatch Logs").
	trust, err := iam.ServiceTrust(env, "vpc-flow-logs", env.ARN("ec2", env.Region, env.AccountID, "vpc-flow-log/*")).JSON()
	if err != nil {
		return err
	}
	role, err := awsiam.NewRole(ctx, name+"-flow-logs", &awsiam.RoleArgs{
		Description:      pulumi.String("Delivers VPC flow logs of " + name + " to CloudWatch Logs"),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             pulumi.ToStringMap(tags),
	}, parent)
	if err != nil {
		return err
	}
	// The actions the VPC guide lists for the delivery role, scoped to our
	// group but for DescribeLogGroups, which takes no resource.
	policy := iam.Output(func(v []string) iam.Policy {
		arn := v[0]
		return iam.Identity(
			iam.AllowStatement("DeliverToTheFlowLogGroup", []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, arn, arn+":*"),
			// DescribeLogGroups takes no resource (Service Authorization
			// Reference, CloudWatch Logs): a statement naming log groups
			// would never match it.
			iam.AllowStatement("FindTheFlowLogGroup", []string{"logs:DescribeLogGroups"}, "*"),
		)
	}, group.Arn)
	rolePolicy, err := awsiam.NewRolePolicy(ctx, name+"-flow-logs", &awsiam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, parent)
	if err != nil {
		return err
	}
	// Without the policy in place first, the flow log is created but its
	// first deliveries fail with an access error.
	_, err = ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
		Tags:                   pulumi.ToStringMap(tags),
	}, parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}))
	return err
}
