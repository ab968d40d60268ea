// Package data holds the stack's data-at-rest pieces: the KMS keys every
// encrypted resource uses, and (as the stack grows) RDS and its settings.
package data

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
)

// KeysArgs are what the keys need to know about where they live.
type KeysArgs struct {
	// Env scopes the key policies to this account and Region.
	Env account.Env
	// LogGroupARNPrefix limits the logs key to log groups whose ARN starts
	// with it (CloudWatch Logs passes the group's ARN as encryption context).
	LogGroupARNPrefix string
	Tags              map[string]string
}

// Keys is the set of customer-managed KMS keys of a stack.
type Keys struct {
	pulumi.ResourceState

	// LogsKeyARN encrypts CloudWatch log groups.
	LogsKeyARN pulumi.StringOutput
}

// NewKeys declares the stack's KMS keys: rotated yearly, 30-day deletion
// window, and key policies that name the one service allowed to use each.
func NewKeys(ctx *pulumi.Context, name string, args KeysArgs, opts ...pulumi.ResourceOption) (*Keys, error) {
	k := &Keys{}
	if err := ctx.RegisterComponentResource("wordpress:data:Keys", name, k, opts...); err != nil {
		return nil, err
	}
	policy, err := logsKeyPolicy(args)
	if err != nil {
		return nil, err
	}
	logs, err := kms.NewKey(ctx, name+"-logs", &kms.KeyArgs{
		Description:          pulumi.String("CloudWatch Logs encryption for " + name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(policy),
		Tags:                 pulumi.ToStringMap(args.Tags),
	}, pulumi.Parent(k))
	if err != nil {
		return nil, fmt.Errorf("logs key: %w", err)
	}
	if _, err := kms.NewAlias(ctx, name+"-logs", &kms.AliasArgs{
		Name:        pulumi.String("alias/" + name + "-logs"),
		TargetKeyId: logs.KeyId,
	}, pulumi.Parent(k)); err != nil {
		return nil, fmt.Errorf("logs key alias: %w", err)
	}
	k.LogsKeyARN = logs.Arn
	return k, ctx.RegisterResourceOutputs(k, pulumi.Map{"logsKeyArn": logs.Arn})
}

// logsKeyPolicy lets the account administer the key through IAM, and lets
// CloudWatch Logs use it only for this stack's log groups.
func logsKeyPolicy(a KeysArgs) (string, error) {
	root := a.Env.RootARN()
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Sid":       "AccountAdministersKeyThroughIAM",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": root},
				"Action":    "kms:*",
				"Resource":  "*",
			},
			{
				"Sid":    "CloudWatchLogsUsesKeyForStackLogGroups",
				"Effect": "Allow",
				// CloudWatch Logs signs as the regional principal
				// (CloudWatch Logs guide, "Encrypt log data in CloudWatch
				// Logs using AWS KMS").
				"Principal": map[string]any{"Service": fmt.Sprintf("logs.%s.%s", a.Env.Region, a.Env.DNSSuffix)},
				"Action":    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
				"Resource":  "*",
				"Condition": map[string]any{
					"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": a.LogGroupARNPrefix + "*"},
				},
			},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
