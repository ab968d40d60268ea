package airflow

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"unicode/utf8"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/mwaa"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
)

// DAGFolder is the bucket prefix the environment reads DAGs from.
const DAGFolder = "dags"

// LogModules are the Airflow components MWAA logs, each to its own group
// named airflow-<environment>-<module>.
var LogModules = []string{"DAGProcessing", "Scheduler", "Task", "WebServer", "Worker"}

// EnvironmentArgs is everything the environment is built from. The values
// are assumed valid (config/ checks them against what MWAA accepts).
type EnvironmentArgs struct {
	// EnvironmentName is the MWAA environment's name; its log groups are
	// airflow-<EnvironmentName>-<module>.
	EnvironmentName string
	// AirflowVersion, EnvironmentClass and WebserverAccessMode are passed
	// to MWAA as they are.
	AirflowVersion      string
	EnvironmentClass    string
	WebserverAccessMode string
	// WebserverClientCIDRs may reach the web server's VPC endpoint on 443.
	WebserverClientCIDRs []string
	// LogLevel applies to every module: CRITICAL, ERROR, WARNING, INFO or
	// DEBUG.
	LogLevel         string
	LogRetentionDays int

	// VpcID is the network's VPC; SubnetIDs are two of its private subnets
	// in different AZs (MWAA takes exactly two).
	VpcID     pulumi.StringInput
	SubnetIDs [2]pulumi.StringInput

	// DAGs are uploaded to the bucket under dags/, one object per file.
	DAGs fs.FS

	// Env scopes the policies to this account, Region and partition.
	Env  account.Env
	Tags map[string]string
}

// Environment is an MWAA environment with its own DAG bucket, KMS key,
// security group and execution role.
type Environment struct {
	pulumi.ResourceState

	// Arn is the environment's ARN; WebserverURL the Airflow UI's host.
	Arn          pulumi.StringOutput
	WebserverURL pulumi.StringOutput
	// BucketName is the DAG bucket; DAGs live under DAGFolder in it.
	BucketName pulumi.StringOutput
	// ExecutionRoleArn is the role Airflow's tasks run as: grant it what
	// new DAGs need.
	ExecutionRoleArn pulumi.StringOutput
	// KeyArn is the environment's own KMS key.
	KeyArn pulumi.StringOutput
}

func (a EnvironmentArgs) check() error {
	switch {
	case a.EnvironmentName == "":
		return errors.New("no environment name")
	case a.VpcID == nil || a.SubnetIDs[0] == nil || a.SubnetIDs[1] == nil:
		return errors.New("the VPC and two private subnets are required")
	case a.DAGs == nil:
		return errors.New("no DAG folder")
	}
	return nil
}

// NewEnvironment declares the environment. It holds its own customer
// managed key rather than taking the stack's logs key: MWAA names its log
// groups airflow-<environment>-*, outside the /<project>/<stack>/ groups the
// stack key admits, and attaches four grants to whatever key it is given; a
// key of its own keeps those grants off the shared key and is scheduled for
// deletion with the environment.
func NewEnvironment(ctx *pulumi.Context, name string, args EnvironmentArgs, opts ...pulumi.ResourceOption) (*Environment, error) {
	if err := args.check(); err != nil {
		return nil, fmt.Errorf("airflow %s: %w", name, err)
	}
	e := &Environment{}
	if err := ctx.RegisterComponentResource("wordpress:airflow:Environment", name, e, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(e)
	w := where{partition: args.Env.Partition, region: args.Env.Region, account: args.Env.AccountID, dnsSuffix: args.Env.DNSSuffix, envName: args.EnvironmentName}
	tags := func(resourceName string) pulumi.StringMap {
		m := pulumi.ToStringMap(args.Tags)
		m["Name"] = pulumi.String(resourceName)
		return m
	}

	kp, err := keyPolicy(w)
	if err != nil {
		return nil, err
	}
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String("MWAA environment " + args.EnvironmentName + ": DAG bucket, logs, queues and metadata"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(kp),
		Tags:                 tags(name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("airflow key: %w", err)
	}
	if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{
		Name:        pulumi.String("alias/" + name),
		TargetKeyId: key.KeyId,
	}, parent); err != nil {
		return nil, fmt.Errorf("airflow key alias: %w", err)
	}

	bucket, ready, err := dagBucket(ctx, name+"-dags", key, tags, parent)
	if err != nil {
		return nil, err
	}
	objects, err := uploadDAGs(ctx, name+"-dags", args.DAGs, bucket, append(ready, parent)...)
	if err != nil {
		return nil, err
	}

	// MWAA creates these groups itself when they are missing, with no
	// retention and no key; made here first, it uses them as they are.
	var groups []pulumi.Resource
	for _, module := range LogModules {
		g, err := cloudwatch.NewLogGroup(ctx, name+"-"+module, &cloudwatch.LogGroupArgs{
			Name:            pulumi.String(fmt.Sprintf("airflow-%s-%s", args.EnvironmentName, module)),
			RetentionInDays: pulumi.Int(args.LogRetentionDays),
			KmsKeyId:        key.Arn,
			Tags:            tags(name + "-" + module),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("airflow log group %s: %w", module, err)
		}
		groups = append(groups, g)
	}

	// "About networking on Amazon MWAA": the group must admit all traffic
	// from itself and allow all outbound traffic
	// (https://docs.aws.amazon.com/mwaa/latest/userguide/networking-about.html).
	ingress := ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
		Description: pulumi.String("MWAA workers, schedulers, web server and database endpoint"),
		Protocol:    pulumi.String("-1"),
		FromPort:    pulumi.Int(0),
		ToPort:      pulumi.Int(0),
		Self:        pulumi.Bool(true),
	}}
	// A private web server's endpoint carries this group too, so a browser
	// behind a bastion or VPN needs its own rule ("Configuring private
	// network access using a Linux Bastion Host", step three).
	if len(args.WebserverClientCIDRs) > 0 {
		ingress = append(ingress, ec2.SecurityGroupIngressArgs{
			Description: pulumi.String("Airflow UI from the bastion or VPN"),
			Protocol:    pulumi.String("tcp"),
			FromPort:    pulumi.Int(443),
			ToPort:      pulumi.Int(443),
			CidrBlocks:  pulumi.ToStringArray(args.WebserverClientCIDRs),
		})
	}
	// EC2 takes only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* in a
	// description (CreateSecurityGroup): no apostrophe (policy WP.NET.3).
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		Description: pulumi.String("MWAA environment " + args.EnvironmentName + ": its own members and the clients of the UI"),
		VpcId:       args.VpcID,
		Ingress:     ingress,
		Egress: ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
			Description: pulumi.String("AWS APIs through the NAT gateway, as MWAA requires"),
			Protocol:    pulumi.String("-1"),
			FromPort:    pulumi.Int(0),
			ToPort:      pulumi.Int(0),
			CidrBlocks:  pulumi.StringArray{pulumi.String("0.0.0.0/0")},
		}},
		Tags: tags(name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("airflow security group: %w", err)
	}

	tp, err := trustPolicy(w)
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Description:      pulumi.String("Execution role of MWAA environment " + args.EnvironmentName),
		AssumeRolePolicy: pulumi.String(tp),
		Tags:             tags(name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("airflow execution role: %w", err)
	}
	policy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: pulumi.All(bucket.Arn, key.Arn).ApplyT(func(v []any) (string, error) {
			return executionPolicy(w, v[0].(string), v[1].(string))
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("airflow execution policy: %w", err)
	}

	on, level := pulumi.Bool(true), pulumi.String(args.LogLevel)
	deps := append([]pulumi.Resource{policy}, groups...)
	deps = append(deps, objects...)
	env, err := mwaa.NewEnvironment(ctx, name, &mwaa.EnvironmentArgs{
		Name:                pulumi.String(args.EnvironmentName),
		AirflowVersion:      pulumi.String(args.AirflowVersion),
		EnvironmentClass:    pulumi.String(args.EnvironmentClass),
		WebserverAccessMode: pulumi.String(args.WebserverAccessMode),
		SourceBucketArn:     bucket.Arn,
		DagS3Path:           pulumi.String(DAGFolder),
		ExecutionRoleArn:    role.Arn,
		KmsKey:              key.Arn,
		NetworkConfiguration: mwaa.EnvironmentNetworkConfigurationArgs{
			SubnetIds:        pulumi.StringArray{args.SubnetIDs[0], args.SubnetIDs[1]},
			SecurityGroupIds: pulumi.StringArray{sg.ID().ToStringOutput()},
		},
		LoggingConfiguration: mwaa.EnvironmentLoggingConfigurationArgs{
			DagProcessingLogs: mwaa.EnvironmentLoggingConfigurationDagProcessingLogsArgs{Enabled: on, LogLevel: level},
			SchedulerLogs:     mwaa.EnvironmentLoggingConfigurationSchedulerLogsArgs{Enabled: on, LogLevel: level},
			TaskLogs:          mwaa.EnvironmentLoggingConfigurationTaskLogsArgs{Enabled: on, LogLevel: level},
			WebserverLogs:     mwaa.EnvironmentLoggingConfigurationWebserverLogsArgs{Enabled: on, LogLevel: level},
			WorkerLogs:        mwaa.EnvironmentLoggingConfigurationWorkerLogsArgs{Enabled: on, LogLevel: level},
		},
		Tags: pulumi.ToStringMap(args.Tags),
	}, parent, pulumi.DependsOn(deps))
	if err != nil {
		return nil, fmt.Errorf("airflow environment: %w", err)
	}

	e.Arn = env.Arn
	e.WebserverURL = env.WebserverUrl
	e.BucketName = bucket.Bucket
	e.ExecutionRoleArn = role.Arn
	e.KeyArn = key.Arn
	return e, ctx.RegisterResourceOutputs(e, pulumi.Map{
		"arn":              env.Arn,
		"webserverUrl":     env.WebserverUrl,
		"bucketName":       bucket.Bucket,
		"executionRoleArn": role.Arn,
		"keyArn":           key.Arn,
	})
}

// dagBucket declares the private, versioned, KMS-encrypted, TLS-only bucket
// MWAA reads DAGs from. MWAA requires versioning and blocked public access
// ("Create an Amazon S3 bucket for Amazon MWAA",
// https://docs.aws.amazon.com/mwaa/latest/userguide/mwaa-s3-bucket.html),
// and the bucket's key to be the environment's. It returns the bucket and
// the settings objects must wait for, so that no object is ever stored
// before the bucket's encryption is in place.
func dagBucket(ctx *pulumi.Context, name string, key *kms.Key, tags func(string) pulumi.StringMap, parent pulumi.ResourceOption) (*s3.BucketV2, []pulumi.ResourceOption, error) {
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		// Everything in it is a copy of files in the repository, so
		// turning Airflow off may delete it with all its versions.
		ForceDestroy: pulumi.Bool(true),
		Tags:         tags(name),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("airflow bucket: %w", err)
	}
	block, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("airflow bucket public access block: %w", err)
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("airflow bucket ownership: %w", err)
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("airflow bucket versioning: %w", err)
	}
	encryption, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm:   pulumi.String("aws:kms"),
				KmsMasterKeyId: key.Arn,
			},
			// One data key per bucket instead of one KMS call per object.
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("airflow bucket encryption: %w", err)
	}
	tls, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: bucket.Arn.ApplyT(func(arn string) (string, error) { return bucketPolicy(arn) }).(pulumi.StringOutput),
		// S3 rejects a policy while the public access block is being
		// written.
	}, parent, pulumi.DependsOn([]pulumi.Resource{block}))
	if err != nil {
		return nil, nil, fmt.Errorf("airflow bucket policy: %w", err)
	}
	return bucket, []pulumi.ResourceOption{pulumi.DependsOn([]pulumi.Resource{block, versioning, encryption, tls})}, nil
}

// uploadDAGs puts every file of dags into the bucket under DAGFolder. The
// object's sourceHash is the MD5 of the file (the provider's filemd5
// convention): the etag cannot serve, since S3 does not report an MD5 etag
// for SSE-KMS objects, and an unchanged file gives unchanged inputs, hence
// no diff.
func uploadDAGs(ctx *pulumi.Context, name string, dags fs.FS, bucket *s3.BucketV2, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	var objects []pulumi.Resource
	err := fs.WalkDir(dags, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(dags, p)
		if err != nil {
			return err
		}
		sum := md5.Sum(body)
		args := &s3.BucketObjectv2Args{
			Bucket:      bucket.ID(),
			Key:         pulumi.String(path.Join(DAGFolder, p)),
			ContentType: pulumi.String(contentType(p)),
			SourceHash:  pulumi.String(hex.EncodeToString(sum[:])),
		}
		if utf8.Valid(body) {
			args.Content = pulumi.String(string(body))
		} else {
			args.ContentBase64 = pulumi.String(base64.StdEncoding.EncodeToString(body))
		}
		o, err := s3.NewBucketObjectv2(ctx, name+"-"+p, args, opts...)
		if err != nil {
			return err
		}
		objects = append(objects, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("airflow DAG upload: %w", err)
	}
	if len(objects) == 0 {
		return nil, errors.New("airflow DAG upload: the DAG folder is empty")
	}
	return objects, nil
}

func contentType(p string) string {
	if path.Ext(p) == ".py" {
		return "text/x-python"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}
