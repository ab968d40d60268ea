package governance

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/guardduty"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/securityhub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AccountServicesArgs say which account-wide services the stack creates,
// which it adopts from whoever runs them in the account (Existing), and
// which it leaves alone (nil). Each exists once per account and Region, so
// in an account governed by an organization's delegated administrator or
// Control Tower they are adopted, never created twice.
type AccountServicesArgs struct {
	AccountID string
	Region    string
	Partition string
	// TopicARN receives GuardDuty findings and the Config rules'
	// compliance changes.
	TopicARN pulumi.StringInput
	// SecurityHub, GuardDuty, Config and PublicAccessBlock are nil to
	// leave the service alone.
	SecurityHub       *SecurityHubArgs
	GuardDuty         *GuardDutyArgs
	Config            *ConfigArgs
	PublicAccessBlock *PublicAccessBlockArgs
	// AccessLogs keeps a bucket for the S3 server access logs of the
	// stack's buckets (S3.9), Config or not.
	AccessLogs bool
	// RetainOnDelete leaves what the stack creates of the account-wide
	// services in place when the stack is destroyed or stops creating
	// them: they serve the whole account.
	RetainOnDelete bool
	Tags           map[string]string
}

// SecurityHubArgs configure Security Hub.
type SecurityHubArgs struct {
	// Existing adopts the hub someone else enabled: nothing is created,
	// the hub is looked up.
	Existing bool
	// Standards are names from StandardARN ("fsbp", "cis-1.4.0", ...),
	// subscribed when the stack creates the hub.
	Standards []string
}

// GuardDutyArgs configure the GuardDuty detector.
type GuardDutyArgs struct {
	// Existing adopts the account's detector: nothing is created, the
	// detector is looked up and its findings still reach the topic.
	Existing bool
	// FindingSeverity is the lowest severity name (low, medium, high,
	// critical) routed to the topic.
	FindingSeverity string
}

// ConfigArgs configure AWS Config.
type ConfigArgs struct {
	// Existing adopts the account's recorder and delivery channel (Control
	// Tower's, say): none is created, and the stack's managed rules and
	// their compliance alarm still are.
	Existing bool
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

// PublicAccessBlockArgs configure the account's S3 Block Public Access.
type PublicAccessBlockArgs struct {
	// Existing leaves the account's setting to its owner and looks it up.
	Existing bool
}

// AccountServices is the account-level security tooling of a stack.
type AccountServices struct {
	pulumi.ResourceState

	// DetectorID is the GuardDuty detector, created or adopted (empty when
	// GuardDuty is left alone).
	DetectorID pulumi.StringOutput
	// ConfigBucket receives AWS Config history (empty unless the stack
	// creates the recorder).
	ConfigBucket pulumi.StringOutput
	// AccessLogBucket receives S3 server access logs of the stack's
	// buckets (empty without AccessLogs or a Config bucket of the stack's).
	AccessLogBucket pulumi.StringOutput
	// FargateAgent says whether GuardDuty adds its security agent to the
	// account's Fargate tasks: the stack turns that on when it creates the
	// detector, and an adopted detector says.
	FargateAgent bool
}

// MissingError says that an account-wide service the stack adopts could
// not be found in the account and Region: the preview stops before
// anything is created.
type MissingError struct {
	// Service is "securityHub", "guardDuty", "s3AccountPublicAccessBlock"
	// or "sessionManagerPreferences".
	Service string
	Err     error
}

func (e *MissingError) Error() string { return e.Err.Error() }
func (e *MissingError) Unwrap() error { return e.Err }

// NewAccountServices declares or looks up Security Hub, GuardDuty, AWS
// Config and the account-wide S3 Block Public Access, as args ask.
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
	var logs *bucket
	if (args.Config != nil && !args.Config.Existing) || args.AccessLogs {
		var err error
		if logs, err = a.accessLogs(ctx, name, args); err != nil {
			return nil, err
		}
		a.AccessLogBucket = logs.Bucket
	}
	if args.Config != nil {
		if err := a.awsConfig(ctx, name, args, logs); err != nil {
			return nil, err
		}
	}
	if pab := args.PublicAccessBlock; pab != nil {
		if err := a.publicAccessBlock(ctx, name, args); err != nil {
			return nil, err
		}
	}
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{
		"detectorId":      a.DetectorID,
		"configBucket":    a.ConfigBucket,
		"accessLogBucket": a.AccessLogBucket,
	})
}

// accountWide are the options of a resource that belongs to the whole
// account: kept in place when the stack lets go of it, if asked.
func (a *AccountServices) accountWide(args AccountServicesArgs, more ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Parent(a), pulumi.RetainOnDelete(args.RetainOnDelete)}, more...)
}

// publicAccessBlock turns on S3 Block Public Access for the account, or
// reads the owner's setting and warns about what it leaves off (Security
// Hub S3.1 fails on it, in the owner's findings).
func (a *AccountServices) publicAccessBlock(ctx *pulumi.Context, name string, args AccountServicesArgs) error {
	if args.PublicAccessBlock.Existing {
		got, err := s3.LookupAccountPublicAccessBlock(ctx, &s3.LookupAccountPublicAccessBlockArgs{AccountId: pulumi.StringRef(args.AccountID)})
		if err != nil {
			return &MissingError{Service: "s3AccountPublicAccessBlock", Err: fmt.Errorf("account %s has no S3 Block Public Access setting to adopt: %w", args.AccountID, err)}
		}
		var off []string
		for k, on := range map[string]bool{"BlockPublicAcls": got.BlockPublicAcls, "BlockPublicPolicy": got.BlockPublicPolicy, "IgnorePublicAcls": got.IgnorePublicAcls, "RestrictPublicBuckets": got.RestrictPublicBuckets} {
			if !on {
				off = append(off, k)
			}
		}
		if len(off) > 0 {
			slices.Sort(off)
			_ = ctx.Log.Warn(fmt.Sprintf("the account's S3 Block Public Access leaves %s off (Security Hub S3.1 fails); its owner manages it", strings.Join(off, ", ")), nil)
		}
		return nil
	}
	if _, err := s3.NewAccountPublicAccessBlock(ctx, name+"-s3-account", &s3.AccountPublicAccessBlockArgs{
		AccountId:             pulumi.String(args.AccountID),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, a.accountWide(args)...); err != nil {
		return fmt.Errorf("s3 account public access block: %w", err)
	}
	return nil
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

// fsbpControl is a control of AWS Foundational Security Best Practices
// whose standards associations show whether an adopted hub runs FSBP.
const fsbpControl = "GuardDuty.1"

func (a *AccountServices) securityHub(ctx *pulumi.Context, name string, args AccountServicesArgs) error {
	if args.SecurityHub.Existing {
		// Security Hub answers only in an account it is enabled in
		// (InvalidAccessException otherwise), so this is the lookup.
		got, err := securityhub.GetStandardsControlAssociations(ctx, &securityhub.GetStandardsControlAssociationsArgs{SecurityControlId: fsbpControl})
		if err != nil {
			return &MissingError{Service: "securityHub", Err: fmt.Errorf("account %s has no Security Hub enabled in %s to adopt: %w", args.AccountID, args.Region, err)}
		}
		fsbp, _ := StandardARN(args.Partition, args.Region, "fsbp")
		if !slices.ContainsFunc(got.StandardsControlAssociations, func(s securityhub.GetStandardsControlAssociationsStandardsControlAssociation) bool {
			return s.StandardsArn == fsbp && s.AssociationStatus == "ENABLED"
		}) {
			_ = ctx.Log.Warn("the account's Security Hub does not run AWS Foundational Security Best Practices (its control "+fsbpControl+" is not enabled there); its owner manages the standards", nil)
		}
		return nil
	}
	hub, err := securityhub.NewAccount(ctx, name+"-securityhub", &securityhub.AccountArgs{
		// Subscriptions are declared below, so that removing one from
		// config unsubscribes it.
		EnableDefaultStandards: pulumi.Bool(false),
		// One finding per control across standards, not one per standard.
		ControlFindingGenerator: pulumi.String("SECURITY_CONTROL"),
		AutoEnableControls:      pulumi.Bool(true),
	}, a.accountWide(args)...)
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
		}, a.accountWide(args, pulumi.DependsOn([]pulumi.Resource{hub}))...); err != nil {
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
	if args.GuardDuty.Existing {
		// GetDetector without an id finds the account's one detector in
		// the Region, and fails when there is none.
		got, err := guardduty.LookupDetector(ctx, &guardduty.LookupDetectorArgs{})
		if err != nil {
			return &MissingError{Service: "guardDuty", Err: fmt.Errorf("account %s has no GuardDuty detector in %s to adopt: %w", args.AccountID, args.Region, err)}
		}
		if got.Status != "ENABLED" {
			_ = ctx.Log.Warn(fmt.Sprintf("the account's GuardDuty detector %s is %s: it reports no findings until its owner enables it", got.Id, got.Status), nil)
		}
		a.DetectorID = pulumi.String(got.Id).ToStringOutput()
		a.FargateAgent = fargateAgentManaged(got.Features)
	} else {
		det, err := guardduty.NewDetector(ctx, name+"-guardduty", &guardduty.DetectorArgs{
			Enable: pulumi.Bool(true),
			// New findings are exported within 5 minutes whatever this
			// says; it is how soon updates of an existing finding follow.
			FindingPublishingFrequency: pulumi.String("FIFTEEN_MINUTES"),
			Tags:                       pulumi.ToStringMap(args.Tags),
		}, a.accountWide(args)...)
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
			}, a.accountWide(args)...); err != nil {
				return fmt.Errorf("guardduty feature %s: %w", f.name, err)
			}
		}
		a.DetectorID = det.ID().ToStringOutput()
		a.FargateAgent = true
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
	return nil
}

// fargateAgentManaged reports whether a detector's runtime monitoring adds
// GuardDuty's agent to Fargate tasks (feature RUNTIME_MONITORING with
// ECS_FARGATE_AGENT_MANAGEMENT, "Managing automated security agent for
// Fargate").
func fargateAgentManaged(features []guardduty.GetDetectorFeatureType) bool {
	for _, f := range features {
		if f.Name != "RUNTIME_MONITORING" || f.Status != "ENABLED" {
			continue
		}
		for _, c := range f.AdditionalConfigurations {
			if c.Name == "ECS_FARGATE_AGENT_MANAGEMENT" && c.Status == "ENABLED" {
				return true
			}
		}
	}
	return false
}
