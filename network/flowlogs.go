package network

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
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
	principal, err := account.ServicePrincipal(ctx, env, "vpc-flow-logs")
	if err != nil {
		return err
	}
	// Only this account's flow logs may use the role, so another account
	// cannot make the service deliver into our group (VPC guide, "IAM role
	// for publishing flow logs to CloudWatch Logs").
	trust := env.ServiceTrust(principal, env.ARN("ec2", env.Region, env.AccountID, "vpc-flow-log/*"))
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		Description:      pulumi.String("Delivers VPC flow logs of " + name + " to CloudWatch Logs"),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             pulumi.ToStringMap(tags),
	}, parent)
	if err != nil {
		return err
	}
	// The actions the VPC guide lists for the delivery role, scoped to our
	// group; DescribeLogGroups cannot name one group, so it gets this
	// account's groups in this Region.
	policy := group.Arn.ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{
				{
					"Effect":   "Allow",
					"Action":   []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
					"Resource": []string{arn, arn + ":*"},
				},
				{
					"Effect":   "Allow",
					"Action":   "logs:DescribeLogGroups",
					"Resource": env.ARN("logs", env.Region, env.AccountID, "log-group:*"),
				},
			},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{
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
