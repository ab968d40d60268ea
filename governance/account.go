package governance

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/guardduty"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/securityhub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AccountServicesArgs say which account-level services to turn on. Each is
// one per account and region: an account whose services an organization's
// delegated administrator manages leaves them nil.
type AccountServicesArgs struct {
	AccountID string
	Region    string
	Partition string
	// TopicARN receives GuardDuty findings.
	TopicARN pulumi.StringInput
	// SecurityHub, GuardDuty and Config are nil to leave the service off.
	SecurityHub *SecurityHubArgs
	GuardDuty   *GuardDutyArgs
	Config      *ConfigArgs
	// S3AccountPublicAccessBlock turns on S3 Block Public Access for the
	// whole account (Security Hub S3.1).
	S3AccountPublicAccessBlock bool
	Tags                       map[string]string
}

// SecurityHubArgs configure Security Hub.
type SecurityHubArgs struct {
	// Standards are names from StandardARN ("fsbp", "cis-1.4.0", ...).
	Standards []string
}

// GuardDutyArgs configure the GuardDuty detector.
type GuardDutyArgs struct {
	// FindingSeverity is the lowest severity name (low, medium, high,
	// critical) routed to the topic.
	FindingSeverity string
}

// ConfigArgs configure AWS Config.
type ConfigArgs struct {
	// RecordGlobalResources records IAM resources; true in one region only.
	RecordGlobalResources bool
	// ExcludeECSServices stops recording AWS::ECS::Service.
	ExcludeECSServices bool
	// CreateServiceLinkedRole creates AWSServiceRoleForConfig; false when
	// the account already has it.
	CreateServiceLinkedRole bool
	// RetentionDays expires delivered history and snapshots.
	RetentionDays int
}

// AccountServices is the account-level security tooling of a stack.
type AccountServices struct {
	pulumi.ResourceState

	// DetectorID is the GuardDuty detector (empty when GuardDuty is off).
	DetectorID pulumi.StringOutput
	// ConfigBucket receives AWS Config history (empty when Config is off).
	ConfigBucket pulumi.StringOutput
	// AccessLogBucket receives S3 server access logs of the stack's
	// buckets (empty when Config is off, as it is its only user today).
	AccessLogBucket pulumi.StringOutput
}

// NewAccountServices declares Security Hub, GuardDuty, AWS Config and the
// account-wide S3 public access block, as args ask.
func NewAccountServices(ctx *pulumi.Context, name string, args AccountServicesArgs, opts ...pulumi.ResourceOption) (*AccountServices, error) {
	a := &AccountServices{
		DetectorID:      pulumi.String("").ToStringOutput(),
		ConfigBucket:    pulumi.String("").ToStringOutput(),
		AccessLogBucket: pulumi.String("").ToStringOutput(),
	}
	if err := ctx.RegisterComponentResource("wordpress:governance:AccountServices", name, a, opts...); err != nil {
		return nil, err
	}
	if args.SecurityHub != nil {
		if err := a.securityHub(ctx, name, args); err != nil {
			return nil, err
		}
	}
	if args.GuardDuty != nil {
		if err := a.guardDuty(ctx, name, args); err != nil {
			return nil, err
		}
	}
	if args.Config != nil {
		if err := a.awsConfig(ctx, name, args); err != nil {
			return nil, err
		}
	}
	if args.S3AccountPublicAccessBlock {
		if _, err := s3.NewAccountPublicAccessBlock(ctx, name+"-s3-account", &s3.AccountPublicAccessBlockArgs{
			AccountId:             pulumi.String(args.AccountID),
			BlockPublicAcls:       pulumi.Bool(true),
			BlockPublicPolicy:     pulumi.Bool(true),
			IgnorePublicAcls:      pulumi.Bool(true),
			RestrictPublicBuckets: pulumi.Bool(true),
		}, pulumi.Parent(a)); err != nil {
			return nil, fmt.Errorf("s3 account public access block: %w", err)
		}
	}
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{
		"detectorId":      a.DetectorID,
		"configBucket":    a.ConfigBucket,
		"accessLogBucket": a.AccessLogBucket,
	})
}

// standardPaths are the Security Hub standards by config name, as the path
// of their ARN (DescribeStandards).
var standardPaths = map[string]string{
	"fsbp":      "standards/aws-foundational-security-best-practices/v/1.0.0",
	"cis-1.4.0": "standards/cis-aws-foundations-benchmark/v/1.4.0",
	"cis-3.0.0": "standards/cis-aws-foundations-benchmark/v/3.0.0",
}

// StandardARN is the ARN of a Security Hub standard in a region and
// partition. Standards ARNs are regional and have no account:
// arn:aws:securityhub:us-east-1::standards/... (DescribeStandards).
func StandardARN(partition, region, standard string) (string, error) {
	path, ok := standardPaths[standard]
	if !ok {
		return "", fmt.Errorf("unknown Security Hub standard %q", standard)
	}
	return fmt.Sprintf("arn:%s:securityhub:%s::%s", partition, region, path), nil
}

func (a *AccountServices) securityHub(ctx *pulumi.Context, name string, args AccountServicesArgs) error {
	hub, err := securityhub.NewAccount(ctx, name+"-securityhub", &securityhub.AccountArgs{
		// Subscriptions are declared below, so that removing one from
		// config unsubscribes it.
		EnableDefaultStandards: pulumi.Bool(false),
		// One finding per control across standards, not one per standard.
		ControlFindingGenerator: pulumi.String("SECURITY_CONTROL"),
		AutoEnableControls:      pulumi.Bool(true),
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("security hub: %w", err)
	}
	for _, std := range args.SecurityHub.Standards {
		arn, err := StandardARN(args.Partition, args.Region, std)
		if err != nil {
			return err
		}
		if _, err := securityhub.NewStandardsSubscription(ctx, name+"-standard-"+std, &securityhub.StandardsSubscriptionArgs{
			StandardsArn: pulumi.String(arn),
		}, pulumi.Parent(a), pulumi.DependsOn([]pulumi.Resource{hub})); err != nil {
			return fmt.Errorf("security hub standard %s: %w", std, err)
		}
	}
	return nil
}

// severityFloor is the lowest score of each GuardDuty severity level
// (GuardDuty "Severity levels of findings": low 1.0-3.9, medium 4.0-6.9,
// high 7.0-8.9, critical 9.0-10.0).
var severityFloor = map[string]float64{"low": 1, "medium": 4, "high": 7, "critical": 9}

// guardDutyFeatures are what a WordPress-on-Fargate + RDS account needs:
// S3 data events (the stack's buckets), RDS login activity, and runtime
// monitoring of Fargate tasks with GuardDuty managing the agent sidecar.
var guardDutyFeatures = []struct {
	name       string
	additional []string
}{
	{"S3_DATA_EVENTS", nil},
	{"RDS_LOGIN_EVENTS", nil},
	{"RUNTIME_MONITORING", []string{"ECS_FARGATE_AGENT_MANAGEMENT"}},
}

func (a *AccountServices) guardDuty(ctx *pulumi.Context, name string, args AccountServicesArgs) error {
	floor, ok := severityFloor[args.GuardDuty.FindingSeverity]
	if !ok {
		return fmt.Errorf("guardduty: unknown finding severity %q", args.GuardDuty.FindingSeverity)
	}
	det, err := guardduty.NewDetector(ctx, name+"-guardduty", &guardduty.DetectorArgs{
		Enable: pulumi.Bool(true),
		// New findings are exported within 5 minutes whatever this says;
		// it is how soon updates of an existing finding follow.
		FindingPublishingFrequency: pulumi.String("FIFTEEN_MINUTES"),
		Tags:                       pulumi.ToStringMap(args.Tags),
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("guardduty detector: %w", err)
	}
	for _, f := range guardDutyFeatures {
		var extra guardduty.DetectorFeatureAdditionalConfigurationArray
		for _, c := range f.additional {
			extra = append(extra, guardduty.DetectorFeatureAdditionalConfigurationArgs{Name: pulumi.String(c), Status: pulumi.String("ENABLED")})
		}
		if _, err := guardduty.NewDetectorFeature(ctx, name+"-guardduty-"+f.name, &guardduty.DetectorFeatureArgs{
			DetectorId:               det.ID().ToStringOutput(),
			Name:                     pulumi.String(f.name),
			Status:                   pulumi.String("ENABLED"),
			AdditionalConfigurations: extra,
		}, pulumi.Parent(a)); err != nil {
			return fmt.Errorf("guardduty feature %s: %w", f.name, err)
		}
	}

	pattern, err := json.Marshal(map[string]any{
		"source":      []string{"aws.guardduty"},
		"detail-type": []string{"GuardDuty Finding"},
		"detail":      map[string]any{"severity": []any{map[string]any{"numeric": []any{">=", floor}}}},
	})
	if err != nil {
		return err
	}
	rule, err := cloudwatch.NewEventRule(ctx, name+"-guardduty-findings", &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(name + "-guardduty-findings"),
		Description:  pulumi.String(fmt.Sprintf("GuardDuty findings of severity %s (%g) or higher to the alarm topic", args.GuardDuty.FindingSeverity, floor)),
		EventPattern: pulumi.String(string(pattern)),
		Tags:         pulumi.ToStringMap(args.Tags),
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("guardduty findings rule: %w", err)
	}
	if _, err := cloudwatch.NewEventTarget(ctx, name+"-guardduty-findings", &cloudwatch.EventTargetArgs{
		Rule: rule.Name,
		Arn:  args.TopicARN,
		// A sentence for the email, not the raw event.
		InputTransformer: &cloudwatch.EventTargetInputTransformerArgs{
			InputPaths: pulumi.StringMap{
				"severity": pulumi.String("$.detail.severity"),
				"type":     pulumi.String("$.detail.type"),
				"title":    pulumi.String("$.detail.title"),
				"account":  pulumi.String("$.detail.accountId"),
				"region":   pulumi.String("$.region"),
				"id":       pulumi.String("$.detail.id"),
			},
			InputTemplate: pulumi.String(`"GuardDuty finding (severity <severity>) <type> in account <account>, <region>: <title>. Finding id <id>."`),
		},
	}, pulumi.Parent(a)); err != nil {
		return fmt.Errorf("guardduty findings target: %w", err)
	}
	a.DetectorID = det.ID().ToStringOutput()
	return nil
}
