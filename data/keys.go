// Package data holds the stack's data-at-rest pieces: the KMS keys every
// encrypted resource uses, the RDS MySQL database with its read replicas,
// and the database settings in SSM Parameter Store.
package data

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/iam"
)

// KeysArgs are what the keys need to know about where they live.
type KeysArgs struct {
	// Env scopes the key policies to this account and Region.
	Env account.Env
	// LogGroupARNPrefix limits the logs key to log groups whose ARN starts
	// with it (CloudWatch Logs passes the group's ARN as encryption context).
	LogGroupARNPrefix string
	// DatabaseLogGroupARNPrefix, when set, also admits the log groups RDS
	// exports the database's logs to, whose names RDS fixes
	// ("/aws/rds/instance/<identifier>/<log>").
	DatabaseLogGroupARNPrefix string
	// SecretsManager lets Secrets Manager use the parameters key too: RDS
	// keeps the master password there when the stack turns on
	// data.manageMasterUserPassword.
	SecretsManager bool
	Tags           map[string]string
}

// Keys is the set of customer-managed KMS keys of a stack.
type Keys struct {
	pulumi.ResourceState

	// LogsKeyARN encrypts CloudWatch log groups.
	LogsKeyARN pulumi.StringOutput
	// DatabaseKeyARN encrypts RDS storage, snapshots, read replicas and
	// Performance Insights data.
	DatabaseKeyARN pulumi.StringOutput
	// ParametersKeyARN encrypts the SecureString parameters (and, with
	// manageMasterUserPassword, the RDS-managed secret).
	ParametersKeyARN pulumi.StringOutput
	// FileSystemKeyARN encrypts the EFS file system.
	FileSystemKeyARN pulumi.StringOutput
}

// keyDeletionWindowDays is the longest wait KMS allows between scheduling a
// key's deletion and deleting it (ScheduleKeyDeletion: 7..30 days), so a
// mistaken `pulumi destroy` can still be undone with CancelKeyDeletion.
const keyDeletionWindowDays = 30

// NewKeys declares the stack's KMS keys: rotated yearly, 30-day deletion
// window, an alias each, and key policies that name the one service allowed
// to use each.
func NewKeys(ctx *pulumi.Context, name string, args KeysArgs, opts ...pulumi.ResourceOption) (*Keys, error) {
	k := &Keys{}
	if err := ctx.RegisterComponentResource("wordpress:data:Keys", name, k, opts...); err != nil {
		return nil, err
	}
	logsPolicy, err := logsKeyPolicy(args)
	if err != nil {
		return nil, err
	}
	parameterServices := []string{"ssm"}
	if args.SecretsManager {
		parameterServices = append(parameterServices, "secretsmanager")
	}
	keys := []struct {
		suffix, description string
		policy              func() (string, error)
		out                 *pulumi.StringOutput
	}{
		{"logs", "CloudWatch Logs encryption for " + name, func() (string, error) { return logsPolicy, nil }, &k.LogsKeyARN},
		// Performance Insights encrypts through RDS, so one service covers
		// storage, snapshots, replicas and Performance Insights.
		{"db", "RDS storage and Performance Insights encryption for " + name, func() (string, error) { return serviceKeyPolicy(args.Env, "rds") }, &k.DatabaseKeyARN},
		{"params", "SSM SecureString parameters of " + name, func() (string, error) { return serviceKeyPolicy(args.Env, parameterServices...) }, &k.ParametersKeyARN},
		{"efs", "EFS file system encryption for " + name, func() (string, error) { return serviceKeyPolicy(args.Env, "elasticfilesystem") }, &k.FileSystemKeyARN},
	}
	outputs := pulumi.Map{}
	for _, spec := range keys {
		policy, err := spec.policy()
		if err != nil {
			return nil, fmt.Errorf("%s key policy: %w", spec.suffix, err)
		}
		key, err := kms.NewKey(ctx, name+"-"+spec.suffix, &kms.KeyArgs{
			Description:          pulumi.String(spec.description),
			EnableKeyRotation:    pulumi.Bool(true),
			DeletionWindowInDays: pulumi.Int(keyDeletionWindowDays),
			Policy:               pulumi.String(policy),
			Tags:                 pulumi.ToStringMap(args.Tags),
		}, pulumi.Parent(k))
		if err != nil {
			return nil, fmt.Errorf("%s key: %w", spec.suffix, err)
		}
		if _, err := kms.NewAlias(ctx, name+"-"+spec.suffix, &kms.AliasArgs{
			Name:        pulumi.String("alias/" + name + "-" + spec.suffix),
			TargetKeyId: key.KeyId,
		}, pulumi.Parent(k)); err != nil {
			return nil, fmt.Errorf("%s key alias: %w", spec.suffix, err)
		}
		*spec.out = key.Arn
		outputs[spec.suffix+"KeyArn"] = key.Arn
	}
	return k, ctx.RegisterResourceOutputs(k, outputs)
}

// logsKeyPolicy lets the account administer the key through IAM, and lets
// CloudWatch Logs use it only for this stack's log groups.
func logsKeyPolicy(a KeysArgs) (string, error) {
	var groups any = a.LogGroupARNPrefix + "*"
	if a.DatabaseLogGroupARNPrefix != "" {
		groups = []string{a.LogGroupARNPrefix + "*", a.DatabaseLogGroupARNPrefix + "*"}
	}
	return iam.Resource(
		iam.AllowStatement("AccountAdministersKeyThroughIAM", []string{"kms:*"}, "*").By(iam.AWSPrincipal(a.Env.RootARN())),
		// CloudWatch Logs signs as the regional principal (CloudWatch Logs
		// guide, "Encrypt log data in CloudWatch Logs using AWS KMS").
		iam.AllowStatement("CloudWatchLogsUsesKeyForStackLogGroups",
			[]string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}, "*").
			By(iam.ServicePrincipal(a.Env.RegionalServicePrincipal("logs"))).
			If("ArnLike", "kms:EncryptionContext:aws:logs:arn", groups),
	).JSON()
}

// keyAdminActions are what the account's administrators may do to a key
// directly: manage it, never use it. They are the "key administrators"
// actions of the KMS guide's default key policy, less kms:Create* (which
// would include kms:CreateGrant, a way to use the key outside the
// service): KMS refuses a policy that does not let the account call
// kms:PutKeyPolicy afterwards (the lockout safety check), and kms:Put*
// keeps that.
var keyAdminActions = []string{
	"kms:CreateAlias", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
	"kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
	"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
}

// keyUseActions are what a service needs to encrypt with a key on a
// principal's behalf: RDS, EFS and Secrets Manager create grants for their
// own later use (RDS guide, "Overview of encrypting Amazon RDS resources";
// EFS guide, "Using AWS KMS keys for Amazon EFS").
var keyUseActions = []string{
	"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey",
}

// serviceKeyPolicy lets the account's IAM principals administer the key,
// and use it only through the named services in this account and Region
// (kms:ViaService, kms:CallerAccount): nobody can decrypt with it directly,
// and no principal gets kms:* on it.
func serviceKeyPolicy(env account.Env, services ...string) (string, error) {
	root := iam.AWSPrincipal(env.RootARN())
	return iam.Resource(
		iam.AllowStatement("AccountAdministersKey", keyAdminActions, "*").By(root),
		iam.AllowStatement("AccountUsesKeyOnlyThroughServices", keyUseActions, "*").By(root).
			If("StringEquals", "kms:ViaService", iam.ViaServices(env, services...)).
			If("StringEquals", "kms:CallerAccount", env.AccountID),
	).JSON()
}
