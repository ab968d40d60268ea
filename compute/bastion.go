package compute

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	awsiam "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/iam"
)

// BastionArgs configure the Session Manager host.
type BastionArgs struct {
	InstanceType string
	// Architecture is the AMI's: arm64 or x86_64, matching InstanceType.
	Architecture            string
	SessionLogRetentionDays int
	// SessionPreferences says what the bastion does with the Region's
	// Session Manager preferences (the SSM-SessionManagerRunShell
	// document, one per account and Region): create them, so that every
	// shell session is logged to the bastion's group; adopt the ones the
	// account has (looked up; the preview stops when there are none); or
	// leave them alone.
	SessionPreferences Ownership
	// RetainSessionPreferences keeps a created document when the stack
	// lets go of it: every stack of the account and Region uses it.
	RetainSessionPreferences bool
}

// Ownership says whether a stack creates an account-wide setting, adopts
// the one the account has, or leaves it alone.
type Ownership string

// The ownerships.
const (
	Create   Ownership = "create"
	Existing Ownership = "existing"
	Off      Ownership = "off"
)

// ErrNoSessionPreferences is returned (wrapped) when the bastion adopts the
// account's Session Manager preferences and there are none.
var ErrNoSessionPreferences = errors.New("the account has no Session Manager preferences in this Region (no " + SessionPreferencesDocument + " document)")

// AMIParameter is the public SSM parameter holding the latest Amazon Linux
// 2023 AMI for an architecture (Amazon Linux 2023 User Guide, "Get the
// latest AL2023 AMI ID using Systems Manager").
func AMIParameter(arch string) string {
	return "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-" + arch
}

// SessionPreferencesDocument is the document Session Manager reads its
// preferences from.
const SessionPreferencesDocument = "SSM-SessionManagerRunShell"

type bastion struct {
	pulumi.ResourceState

	InstanceID pulumi.StringOutput
}

// newBastion declares an instance with no way in but Session Manager: a
// private subnet, no public address, the bastion group (which has no
// inbound rule), IMDSv2 only, an encrypted root volume, and a role that
// can do no more than talk to Systems Manager and write its session logs.
func newBastion(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*bastion, error) {
	b := &bastion{}
	if err := ctx.RegisterComponentResource("wordpress:compute:Bastion", name, b, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(b)
	a := args.Bastion
	env := args.Env

	ami, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: AMIParameter(a.Architecture)})
	if err != nil {
		return nil, err
	}

	sessionLogName := args.LogGroupPrefix + "ssm-sessions"
	sessionLogs, err := cloudwatch.NewLogGroup(ctx, name+"-ssm-sessions", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(sessionLogName),
		RetentionInDays: pulumi.Int(a.SessionLogRetentionDays),
		KmsKeyId:        args.LogsKeyARN,
		Tags:            tagged(args.Tags, sessionLogName),
	}, parent)
	if err != nil {
		return nil, err
	}
	switch a.SessionPreferences {
	case Existing:
		if err := adoptSessionPreferences(ctx, sessionLogName); err != nil {
			return nil, err
		}
	case Create:
		content, err := marshal(map[string]any{
			"schemaVersion": "1.0",
			"description":   "Session Manager preferences: every session logged to an encrypted log group",
			"sessionType":   "Standard_Stream",
			"inputs": map[string]any{
				"cloudWatchLogGroupName": sessionLogName,
				// Session Manager refuses to log to a group that is not
				// encrypted when this is on.
				"cloudWatchEncryptionEnabled": true,
				"cloudWatchStreamingEnabled":  true,
				"s3BucketName":                "",
				"s3KeyPrefix":                 "",
				"s3EncryptionEnabled":         true,
				"kmsKeyId":                    "",
				"idleSessionTimeout":          "20",
				"maxSessionDuration":          "60",
				"runAsEnabled":                false,
				"runAsDefaultUser":            "",
				"shellProfile":                map[string]any{"linux": "", "windows": ""},
			},
		})
		if err != nil {
			return nil, err
		}
		if _, err := ssm.NewDocument(ctx, name+"-session-preferences", &ssm.DocumentArgs{
			Name:           pulumi.String(SessionPreferencesDocument),
			DocumentType:   pulumi.String("Session"),
			DocumentFormat: pulumi.String("JSON"),
			Content:        pulumi.String(content),
			Tags:           tagged(args.Tags, SessionPreferencesDocument),
		}, parent, pulumi.RetainOnDelete(a.RetainSessionPreferences)); err != nil {
			return nil, err
		}
	}

	trust, err := iam.Trust(iam.Statement{Effect: iam.Allow, Actions: []string{"sts:AssumeRole"}}.
		By(iam.ServicePrincipal(env.ServicePrincipal("ec2")))).JSON()
	if err != nil {
		return nil, err
	}
	role, err := awsiam.NewRole(ctx, name+"-bastion", &awsiam.RoleArgs{
		Description:      pulumi.String("Bastion: Systems Manager agent only"),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             tagged(args.Tags, name+"-bastion"),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := awsiam.NewRolePolicyAttachment(ctx, name+"-bastion-ssm", &awsiam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String(env.ARN("iam", "", "aws", "policy/AmazonSSMManagedInstanceCore")),
	}, parent); err != nil {
		return nil, err
	}
	// The agent itself uploads session logs, and checks the group is
	// encrypted first (Session Manager guide, "Logging session data using
	// Amazon CloudWatch Logs"): the one permission beyond the managed
	// policy, limited to the session log group.
	if _, err := awsiam.NewRolePolicy(ctx, name+"-bastion-session-logs", &awsiam.RolePolicyArgs{
		Role: role.Name,
		Policy: iam.Output(func(v []string) iam.Policy {
			return iam.Identity(
				iam.AllowStatement("WriteSessionLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, v[0], v[0]+":log-stream:*"),
				// DescribeLogGroups takes no resource narrower than *.
				iam.AllowStatement("CheckSessionLogEncryption", []string{"logs:DescribeLogGroups"}, "*"),
			)
		}, sessionLogs.Arn),
	}, parent); err != nil {
		return nil, err
	}
	profile, err := awsiam.NewInstanceProfile(ctx, name+"-bastion", &awsiam.InstanceProfileArgs{
		Role: role.Name,
		Tags: tagged(args.Tags, name+"-bastion"),
	}, parent)
	if err != nil {
		return nil, err
	}

	inst, err := ec2.NewInstance(ctx, name+"-bastion", &ec2.InstanceArgs{
		// A new AL2023 release replaces the bastion on the next `pulumi
		// up`: it keeps no state, and a fresh image is a patched one.
		Ami:                      pulumi.String(ami.Value),
		InstanceType:             pulumi.String(a.InstanceType),
		SubnetId:                 args.PrivateSubnetIDs.ToStringArrayOutput().Index(pulumi.Int(0)),
		VpcSecurityGroupIds:      pulumi.StringArray{args.SecurityGroups.Bastion},
		AssociatePublicIpAddress: pulumi.Bool(false),
		IamInstanceProfile:       profile.Name,
		MetadataOptions: &ec2.InstanceMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(1),
		},
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			Encrypted:           pulumi.Bool(true),
			VolumeType:          pulumi.String("gp3"),
			DeleteOnTermination: pulumi.Bool(true),
		},
		Tags: tagged(args.Tags, name+"-bastion"),
	}, parent)
	if err != nil {
		return nil, err
	}
	b.InstanceID = inst.ID().ToStringOutput()
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{"instanceId": b.InstanceID})
}

// adoptSessionPreferences looks up the account's Session Manager
// preferences, and warns when they log shell sessions nowhere or somewhere
// other than the bastion's group.
func adoptSessionPreferences(ctx *pulumi.Context, sessionLogName string) error {
	doc, err := ssm.LookupDocument(ctx, &ssm.LookupDocumentArgs{Name: SessionPreferencesDocument, DocumentFormat: pulumi.StringRef("JSON")})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoSessionPreferences, err)
	}
	var prefs struct {
		Inputs struct {
			CloudWatchLogGroupName string `json:"cloudWatchLogGroupName"`
			S3BucketName           string `json:"s3BucketName"`
		} `json:"inputs"`
	}
	_ = json.Unmarshal([]byte(doc.Content), &prefs)
	switch in := prefs.Inputs; {
	case in.CloudWatchLogGroupName == "" && in.S3BucketName == "":
		_ = ctx.Log.Warn("the account's Session Manager preferences log shell sessions nowhere: the bastion's sessions go unrecorded until their owner sets a log group or bucket", nil)
	case in.CloudWatchLogGroupName != sessionLogName:
		_ = ctx.Log.Info(fmt.Sprintf("shell sessions are logged where the account's Session Manager preferences say (log group %q, bucket %q), not to %s", in.CloudWatchLogGroupName, in.S3BucketName, sessionLogName), nil)
	}
	return nil
}
