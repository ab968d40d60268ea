package governance

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cfg"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	awsiam "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/iam"
)

// globalIAMTypes are the global resource types AWS Config records in every
// region unless told not to ("Recording global resource types": with an
// exclusion list they must be excluded by name in the other regions).
var globalIAMTypes = []string{"AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::Role", "AWS::IAM::Policy"}

// ecsServiceType is excluded on request: the nightly restart changes every
// service's tags once a day, and each change is a recorded item.
const ecsServiceType = "AWS::ECS::Service"

// ConfigRule is an AWS Config managed rule that mirrors a policy check.
type ConfigRule struct {
	// Name is the rule's name after the stack prefix.
	Name string
	// Identifier is the managed rule's source identifier.
	Identifier string
	// Mirrors is the policy check (Security Hub control id) it matches.
	Mirrors string
	// Parameters are the rule's input parameters, if any.
	Parameters map[string]string
}

// ConfigRules are the managed rules the stack deploys: one per policy check
// of policy/ that AWS Config can evaluate on the deployed account, plus the
// data and compute tiers' controls (encrypted volumes, RDS, SSH, IMDSv2,
// ALB redirect, EFS).
var ConfigRules = []ConfigRule{
	{"encrypted-volumes", "ENCRYPTED_VOLUMES", "EC2.3", nil},
	{"rds-storage-encrypted", "RDS_STORAGE_ENCRYPTED", "RDS.3", nil},
	{"rds-instance-public-access", "RDS_INSTANCE_PUBLIC_ACCESS_CHECK", "RDS.2", nil},
	{"restricted-ssh", "INCOMING_SSH_DISABLED", "EC2.13", nil},
	{"ec2-imdsv2", "EC2_IMDSV2_CHECK", "EC2.8", nil},
	{"alb-http-to-https-redirection", "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK", "ELB.1", nil},
	{"efs-encrypted", "EFS_ENCRYPTED_CHECK", "EFS.1", nil},
	{"vpc-default-security-group-closed", "VPC_DEFAULT_SECURITY_GROUP_CLOSED", "EC2.2", nil},
	{"vpc-flow-logs-enabled", "VPC_FLOW_LOGS_ENABLED", "EC2.6", nil},
	{"subnet-auto-assign-public-ip-disabled", "SUBNET_AUTO_ASSIGN_PUBLIC_IP_DISABLED", "EC2.15", nil},
	{"cmk-backing-key-rotation-enabled", "CMK_BACKING_KEY_ROTATION_ENABLED", "KMS.4", nil},
	{"s3-account-level-public-access-blocks", "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC", "S3.1", nil},
	{"s3-bucket-ssl-requests-only", "S3_BUCKET_SSL_REQUESTS_ONLY", "S3.5", nil},
	{"s3-bucket-level-public-access-prohibited", "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", "S3.8", nil},
	{"s3-bucket-logging-enabled", "S3_BUCKET_LOGGING_ENABLED", "S3.9", nil},
	{"sns-encrypted-kms", "SNS_ENCRYPTED_KMS", "SNS.1", nil},
	{"cloudwatch-alarm-action-check", "CLOUDWATCH_ALARM_ACTION_CHECK", "CloudWatch.15", map[string]string{
		"alarmActionRequired": "true", "okActionRequired": "true", "insufficientDataActionRequired": "false",
	}},
	{"guardduty-enabled", "GUARDDUTY_ENABLED_CENTRALIZED", "GuardDuty.1", nil},
	{"securityhub-enabled", "SECURITYHUB_ENABLED", "WP.GOV.1", nil},
}

// accessLogs declares the bucket that receives the S3 server access logs
// of the stack's buckets. It keeps the Config bucket's logs too, so it is
// kept with it when the stack lets go of a recorder it created.
func (a *AccountServices) accessLogs(ctx *pulumi.Context, name string, args AccountServicesArgs) (*bucket, error) {
	retention := 365
	retain := false
	if c := args.Config; c != nil && !c.Existing {
		retention, retain = c.RetentionDays, args.RetainOnDelete
	}
	env := envOf(args.AccountID, args.Region, args.Partition)
	// Bucket names are global: the account id keeps two accounts' stacks
	// of the same name apart. Prefix (<= 32) + suffix stays under S3's 63.
	return privateBucket(ctx, bucketSpec{
		name: fmt.Sprintf("%s-s3-logs-%s", name, args.AccountID), partition: args.Partition, retentionDays: retention, tags: args.Tags,
		retain: retain,
		// S3 server access logging delivers as logging.s3.amazonaws.com;
		// a bucket-owner-enforced target grants it by policy, never ACL.
		allow: func(arn string) []iam.Statement {
			return []iam.Statement{
				iam.AllowStatement("S3ServerAccessLogsDelivery", []string{"s3:PutObject"}, arn+"/*").
					By(iam.ServicePrincipal(env.ServicePrincipal("logging.s3"))).
					If("StringEquals", "aws:SourceAccount", args.AccountID).
					If("ArnLike", "aws:SourceArn", fmt.Sprintf("arn:%s:s3:::%s-*", args.Partition, name)),
			}
		},
	}, a)
}

func (a *AccountServices) awsConfig(ctx *pulumi.Context, name string, args AccountServicesArgs, logs *bucket) error {
	c := args.Config
	var rulesAfter []pulumi.Resource
	if !c.Existing {
		status, err := a.recorder(ctx, name, args, logs)
		if err != nil {
			return err
		}
		// PutConfigRule fails without a recorder; evaluations need it on.
		rulesAfter = []pulumi.Resource{status}
	}
	// An adopted recorder is someone else's; the rules are this stack's,
	// and AWS refuses the first of them (NoAvailableConfigurationRecorder)
	// in an account that has no recorder at all.
	var ruleNames []string
	for _, r := range ConfigRules {
		ruleArgs := &cfg.RuleArgs{
			Name:        pulumi.String(name + "-" + r.Name),
			Description: pulumi.String("Mirrors policy check " + r.Mirrors),
			Source: &cfg.RuleSourceArgs{
				Owner:            pulumi.String("AWS"),
				SourceIdentifier: pulumi.String(r.Identifier),
			},
			Tags: pulumi.ToStringMap(args.Tags),
		}
		if r.Parameters != nil {
			p, err := json.Marshal(r.Parameters)
			if err != nil {
				return err
			}
			ruleArgs.InputParameters = pulumi.String(string(p))
		}
		if _, err := cfg.NewRule(ctx, name+"-"+r.Name, ruleArgs, pulumi.Parent(a), pulumi.DependsOn(rulesAfter)); err != nil {
			return fmt.Errorf("config rule %s: %w", r.Name, err)
		}
		ruleNames = append(ruleNames, name+"-"+r.Name)
	}
	return a.complianceAlarm(ctx, name, args, ruleNames)
}

// complianceAlarm sends every change of one of the stack's Config rules to
// NON_COMPLIANT to the alarm topic (EventBridge "Config Rules Compliance
// Change" events, which Config emits whoever owns the recorder).
func (a *AccountServices) complianceAlarm(ctx *pulumi.Context, name string, args AccountServicesArgs, ruleNames []string) error {
	pattern, err := json.Marshal(map[string]any{
		"source":      []string{"aws.config"},
		"detail-type": []string{"Config Rules Compliance Change"},
		"detail": map[string]any{
			"configRuleName":      ruleNames,
			"newEvaluationResult": map[string]any{"complianceType": []string{"NON_COMPLIANT"}},
		},
	})
	if err != nil {
		return err
	}
	rn := name + "-config-noncompliant"
	rule, err := cloudwatch.NewEventRule(ctx, rn, &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(rn),
		Description:  pulumi.String("Resources that one of the stack's AWS Config rules finds non-compliant, to the alarm topic"),
		EventPattern: pulumi.String(string(pattern)),
		Tags:         pulumi.ToStringMap(args.Tags),
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("config compliance rule: %w", err)
	}
	if _, err := cloudwatch.NewEventTarget(ctx, rn, &cloudwatch.EventTargetArgs{
		Rule: rule.Name,
		Arn:  args.TopicARN,
		InputTransformer: &cloudwatch.EventTargetInputTransformerArgs{
			InputPaths: pulumi.StringMap{
				"rule":     pulumi.String("$.detail.configRuleName"),
				"type":     pulumi.String("$.detail.resourceType"),
				"resource": pulumi.String("$.detail.resourceId"),
				"account":  pulumi.String("$.detail.awsAccountId"),
				"region":   pulumi.String("$.detail.awsRegion"),
			},
			InputTemplate: pulumi.String(`"AWS Config rule <rule> finds <type> <resource> non-compliant in account <account>, <region>."`),
		},
	}, pulumi.Parent(a)); err != nil {
		return fmt.Errorf("config compliance target: %w", err)
	}
	return nil
}

// recorder declares the stack's own recorder, its service-linked role,
// delivery channel and bucket, and turns it on; it returns the recorder's
// status, which the rules wait for.
func (a *AccountServices) recorder(ctx *pulumi.Context, name string, args AccountServicesArgs, logs *bucket) (pulumi.Resource, error) {
	c := args.Config
	root := fmt.Sprintf("arn:%s:iam::%s:root", args.Partition, args.AccountID)

	// Config.1 asks for the service-linked role; with it, Config writes to
	// the bucket and uses the key as config.amazonaws.com, so the bucket
	// and key policies name that principal for this account only ("Permissions
	// for the Amazon S3 Bucket" / "Permissions for the KMS Key" of the AWS
	// Config developer guide).
	// The role's ARN is fixed by AWS, so the recorder names it whether this
	// stack creates the role or finds it.
	roleARN := fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig", args.Partition, args.AccountID)
	var deps []pulumi.Resource
	if c.CreateServiceLinkedRole {
		slr, err := awsiam.NewServiceLinkedRole(ctx, name+"-config", &awsiam.ServiceLinkedRoleArgs{
			AwsServiceName: pulumi.String("config.amazonaws.com"),
		}, a.accountWide(args)...)
		if err != nil {
			return nil, fmt.Errorf("config service-linked role: %w", err)
		}
		deps = append(deps, slr)
	}

	env := envOf(args.AccountID, args.Region, args.Partition)
	config := iam.ServicePrincipal(env.ServicePrincipal("config"))
	keyPolicy, err := iam.Resource(
		iam.AllowStatement("AccountAdministersKeyThroughIAM", []string{"kms:*"}, "*").By(iam.AWSPrincipal(root)),
		iam.AllowStatement("ConfigEncryptsDeliveries", []string{"kms:Decrypt", "kms:GenerateDataKey"}, "*").By(config).
			If("StringEquals", "aws:SourceAccount", args.AccountID),
	).JSON()
	if err != nil {
		return nil, err
	}
	// The recorder's history stays readable after the stack lets go of it,
	// so its key and bucket stay with it.
	key, err := kms.NewKey(ctx, name+"-config", &kms.KeyArgs{
		Description:          pulumi.String("AWS Config delivery encryption for " + name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(keyPolicy),
		Tags:                 pulumi.ToStringMap(args.Tags),
	}, a.accountWide(args)...)
	if err != nil {
		return nil, fmt.Errorf("config key: %w", err)
	}
	if _, err := kms.NewAlias(ctx, name+"-config", &kms.AliasArgs{
		Name:        pulumi.String("alias/" + name + "-config"),
		TargetKeyId: key.KeyId,
	}, a.accountWide(args)...); err != nil {
		return nil, fmt.Errorf("config key alias: %w", err)
	}

	store, err := privateBucket(ctx, bucketSpec{
		name: fmt.Sprintf("%s-config-%s", name, args.AccountID), partition: args.Partition, kmsKeyARN: key.Arn, retentionDays: c.RetentionDays,
		logBucket: logs, tags: args.Tags, retain: args.RetainOnDelete,
		allow: func(arn string) []iam.Statement {
			return []iam.Statement{
				iam.AllowStatement("AWSConfigBucketPermissionsCheck", []string{"s3:GetBucketAcl"}, arn).By(config).
					If("StringEquals", "aws:SourceAccount", args.AccountID),
				iam.AllowStatement("AWSConfigBucketExistenceCheck", []string{"s3:ListBucket"}, arn).By(config).
					If("StringEquals", "aws:SourceAccount", args.AccountID),
				iam.AllowStatement("AWSConfigBucketDelivery", []string{"s3:PutObject"}, fmt.Sprintf("%s/AWSLogs/%s/Config/*", arn, args.AccountID)).By(config).
					If("StringEquals", "aws:SourceAccount", args.AccountID).
					If("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),
			}
		},
	}, a)
	if err != nil {
		return nil, err
	}

	recorder, err := cfg.NewRecorder(ctx, name, &cfg.RecorderArgs{
		Name:           pulumi.String(name),
		RoleArn:        pulumi.String(roleARN),
		RecordingGroup: recordingGroup(c),
	}, a.accountWide(args, pulumi.DependsOn(deps))...)
	if err != nil {
		return nil, fmt.Errorf("config recorder: %w", err)
	}
	// PutDeliveryChannel checks that Config may write to the bucket, so the
	// bucket's policy and encryption come first.
	channel, err := cfg.NewDeliveryChannel(ctx, name, &cfg.DeliveryChannelArgs{
		Name:         pulumi.String(name),
		S3BucketName: store.Bucket,
		S3KmsKeyArn:  key.Arn,
		SnapshotDeliveryProperties: &cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs{
			DeliveryFrequency: pulumi.String("TwentyFour_Hours"),
		},
	}, a.accountWide(args, pulumi.DependsOn(append([]pulumi.Resource{recorder}, store.ready...)))...)
	if err != nil {
		return nil, fmt.Errorf("config delivery channel: %w", err)
	}
	// StartConfigurationRecorder needs a delivery channel.
	status, err := cfg.NewRecorderStatus(ctx, name, &cfg.RecorderStatusArgs{
		Name:      recorder.Name,
		IsEnabled: pulumi.Bool(true),
	}, a.accountWide(args, pulumi.DependsOn([]pulumi.Resource{channel}))...)
	if err != nil {
		return nil, fmt.Errorf("config recorder status: %w", err)
	}
	a.ConfigBucket = store.Bucket
	return status, nil
}

// recordingGroup records every supported type, minus IAM's global types
// outside the one region that records them, minus ECS services when asked.
func recordingGroup(c *ConfigArgs) *cfg.RecorderRecordingGroupArgs {
	var excluded []string
	if c.ExcludeECSServices {
		excluded = append(excluded, ecsServiceType)
	}
	if len(excluded) == 0 {
		return &cfg.RecorderRecordingGroupArgs{
			AllSupported:               pulumi.Bool(true),
			IncludeGlobalResourceTypes: pulumi.Bool(c.RecordGlobalResources),
		}
	}
	// includeGlobalResourceTypes only goes with allSupported; with an
	// exclusion list, global types are recorded unless excluded by name
	// (PutConfigurationRecorder, RecordingGroup).
	if !c.RecordGlobalResources {
		excluded = append(excluded, globalIAMTypes...)
	}
	return &cfg.RecorderRecordingGroupArgs{
		AllSupported: pulumi.Bool(false),
		ExclusionByResourceTypes: cfg.RecorderRecordingGroupExclusionByResourceTypeArray{
			cfg.RecorderRecordingGroupExclusionByResourceTypeArgs{ResourceTypes: pulumi.ToStringArray(excluded)},
		},
		RecordingStrategies: cfg.RecorderRecordingGroupRecordingStrategyArray{
			cfg.RecorderRecordingGroupRecordingStrategyArgs{UseOnly: pulumi.String("EXCLUSION_BY_RESOURCE_TYPES")},
		},
	}
}
