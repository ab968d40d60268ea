package compute

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/iam"
)

// FileSystemArgs configure the EFS file system for wp-content.
type FileSystemArgs struct {
	// KeyARN is the stack's KMS key for EFS.
	KeyARN pulumi.StringInput
	// ThroughputMode is elastic or bursting.
	ThroughputMode string
	// TransitionToIA is an EFS lifecycle value such as AFTER_30_DAYS.
	TransitionToIA string
}

// wwwData is the uid and gid of www-data in the official wordpress image
// (Debian's), which Apache and PHP run as.
const wwwData = 33

// wpContentPath is where WordPress keeps uploads, themes and plugins.
const wpContentPath = "/var/www/html/wp-content"

type fileSystem struct {
	pulumi.ResourceState

	ID             pulumi.StringOutput
	ARN            pulumi.StringOutput
	AccessPointID  pulumi.StringOutput
	AccessPointARN pulumi.StringOutput
	// MountTargets must exist before a task can mount the file system.
	MountTargets []pulumi.Resource
}

// newFileSystem declares the encrypted file system, a mount target in the
// data subnet of every AZ, the access point the tasks mount through, the
// backup policy and a file-system policy that refuses clients without TLS.
// The task role's own permission to mount through the access point is
// granted where the role is made (service.go).
func newFileSystem(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*fileSystem, error) {
	f := &fileSystem{}
	if err := ctx.RegisterComponentResource("wordpress:compute:FileSystem", name, f, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(f)
	a := args.FileSystem

	fs, err := efs.NewFileSystem(ctx, name+"-wp-content", &efs.FileSystemArgs{
		Encrypted:       pulumi.Bool(true),
		KmsKeyId:        a.KeyARN,
		PerformanceMode: pulumi.String("generalPurpose"),
		ThroughputMode:  pulumi.String(a.ThroughputMode),
		LifecyclePolicies: efs.FileSystemLifecyclePolicyArray{
			&efs.FileSystemLifecyclePolicyArgs{TransitionToIa: pulumi.String(a.TransitionToIA)},
			// A file read again comes back to Standard, so themes and
			// popular uploads are not billed IA access fees every visit.
			&efs.FileSystemLifecyclePolicyArgs{TransitionToPrimaryStorageClass: pulumi.String("AFTER_1_ACCESS")},
		},
		Tags: tagged(args.Tags, name+"-wp-content"),
	}, parent)
	if err != nil {
		return nil, err
	}

	for i, az := range args.AvailabilityZones {
		mt, err := efs.NewMountTarget(ctx, fmt.Sprintf("%s-wp-content-%s", name, azSuffix(az, args.Env.Region)), &efs.MountTargetArgs{
			FileSystemId:   fs.ID(),
			SubnetId:       args.DataSubnetIDs.ToStringArrayOutput().Index(pulumi.Int(i)),
			SecurityGroups: pulumi.StringArray{args.SecurityGroups.FileSystem},
		}, parent)
		if err != nil {
			return nil, err
		}
		f.MountTargets = append(f.MountTargets, mt)
	}

	ap, err := efs.NewAccessPoint(ctx, name+"-wp-content", &efs.AccessPointArgs{
		FileSystemId: fs.ID(),
		// Every file is written as www-data whatever the client claims
		// (Security Hub EFS.4) ...
		PosixUser: &efs.AccessPointPosixUserArgs{Uid: pulumi.Int(wwwData), Gid: pulumi.Int(wwwData)},
		// ... below a directory of its own (EFS.3), created owned by
		// www-data on first mount.
		RootDirectory: &efs.AccessPointRootDirectoryArgs{
			Path: pulumi.String("/wp-content"),
			CreationInfo: &efs.AccessPointRootDirectoryCreationInfoArgs{
				OwnerUid:    pulumi.Int(wwwData),
				OwnerGid:    pulumi.Int(wwwData),
				Permissions: pulumi.String("0755"),
			},
		},
		Tags: tagged(args.Tags, name+"-wp-content"),
	}, parent)
	if err != nil {
		return nil, err
	}

	// AWS Backup's default plan for EFS: daily, kept 35 days (EFS.2).
	if _, err := efs.NewBackupPolicy(ctx, name+"-wp-content", &efs.BackupPolicyArgs{
		FileSystemId: fs.ID(),
		BackupPolicy: &efs.BackupPolicyBackupPolicyArgs{Status: pulumi.String("ENABLED")},
	}, parent); err != nil {
		return nil, err
	}

	if _, err := efs.NewFileSystemPolicy(ctx, name+"-wp-content", &efs.FileSystemPolicyArgs{
		FileSystemId: fs.ID(),
		Policy: iam.Output(func(v []string) iam.Policy {
			fsARN, apARN := v[0], v[1]
			everyone := iam.AWSPrincipal("*")
			return iam.Resource(
				iam.DenyStatement("DenyClientsWithoutTLS", []string{"*"}, fsARN).By(everyone).
					If("Bool", "aws:SecureTransport", "false"),
				// Only through the access point: a client mounting the
				// file system's root would bypass the www-data identity.
				iam.DenyStatement("DenyMountsOutsideTheAccessPoint",
					[]string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"}, fsARN).By(everyone).
					If("StringNotEquals", "elasticfilesystem:AccessPointArn", apARN),
			)
		}, fs.Arn, ap.Arn),
	}, parent); err != nil {
		return nil, err
	}

	f.ID, f.ARN, f.AccessPointID, f.AccessPointARN = fs.ID().ToStringOutput(), fs.Arn, ap.ID().ToStringOutput(), ap.Arn
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{
		"id": f.ID, "arn": f.ARN, "accessPointId": f.AccessPointID, "accessPointArn": f.AccessPointARN,
	})
}
