package network

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FlowLogArgs configures VPC flow logs to CloudWatch Logs.
type FlowLogArgs struct {
	// LogGroupName is fixed (not auto-named) so that the KMS key policy can
	// name it before the group exists.
	LogGroupName  string
	RetentionDays int
	KMSKeyARN     pulumi.StringInput
	// AccountID scopes the delivery role's trust to this account.
	AccountID string
}

func flowLogs(ctx *pulumi.Context, name string, args FlowLogArgs, vpc *ec2.Vpc, tags map[string]string, parent pulumi.ResourceOption) error {
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.LogGroupName),
		RetentionInDays: pulumi.Int(args.RetentionDays),
		KmsKeyId:        args.KMSKeyARN,
		Tags:            pulumi.ToStringMap(tags),
	}, parent)
	if err != nil {
		return err
	}
	trust, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "vpc-flow-logs.amazonaws.com"},
			"Action":    "sts:AssumeRole",
			// Only this account's flow logs may use the role (confused deputy).
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": args.AccountID}},
		}},
	})
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		Description:      pulumi.String("Delivers VPC flow logs of " + name + " to CloudWatch Logs"),
		AssumeRolePolicy: pulumi.String(string(trust)),
		Tags:             pulumi.ToStringMap(tags),
	}, parent)
	if err != nil {
		return err
	}
	policy := group.Arn.ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{{
				"Effect":   "Allow",
				"Action":   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
				"Resource": []string{arn, arn + ":*"},
			}},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, parent); err != nil {
		return err
	}
	_, err = ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
		Tags:                   pulumi.ToStringMap(tags),
	}, parent)
	return err
}
