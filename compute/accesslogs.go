package compute

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/iam"
)

// accessLogPrefix is where in the bucket the load balancer writes.
const accessLogPrefix = "alb"

// elbLogAccounts are the Elastic Load Balancing accounts that deliver
// access logs in the Regions opened before August 2022. Newer Regions
// deliver as the log delivery service principal instead. Source: Elastic
// Load Balancing User Guide for Application Load Balancers, "Enable access
// logs for your Application Load Balancer", step 2 (bucket policy).
var elbLogAccounts = map[string]string{
	"us-east-1":      "127311923021",
	"us-east-2":      "033677994240",
	"us-west-1":      "027434742980",
	"us-west-2":      "797873946194",
	"af-south-1":     "098369216593",
	"ap-east-1":      "754344448648",
	"ap-southeast-3": "589379963580",
	"ap-south-1":     "718504428378",
	"ap-northeast-3": "383597477331",
	"ap-northeast-2": "600734575887",
	"ap-southeast-1": "114774131450",
	"ap-southeast-2": "783225319266",
	"ap-northeast-1": "582318560864",
	"ca-central-1":   "985666609251",
	"eu-central-1":   "054676820928",
	"eu-west-1":      "156460612806",
	"eu-west-2":      "652711504416",
	"eu-south-1":     "635631232127",
	"eu-west-3":      "009996457667",
	"eu-north-1":     "897822967062",
	"me-south-1":     "076674570225",
	"sa-east-1":      "507241528517",
	"us-gov-west-1":  "048591011584",
	"us-gov-east-1":  "190560391635",
	"cn-north-1":     "638102146993",
	"cn-northwest-1": "037604701340",
}

type accessLogBucket struct {
	bucket pulumi.StringOutput
	policy pulumi.Resource
}

// newAccessLogBucket declares the bucket the load balancer writes its
// access logs to: private, versioned, encrypted, expiring after the
// retention, and writable only by Elastic Load Balancing's log delivery
// for this account's prefix.
func newAccessLogBucket(ctx *pulumi.Context, name string, args Args, parent pulumi.ResourceOption) (*accessLogBucket, error) {
	b, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		Tags: tagged(args.Tags, name),
	}, parent)
	if err != nil {
		return nil, err
	}
	pab, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                b.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, err
	}
	// ACLs off: every object belongs to the bucket owner, whoever wrote it.
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: b.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, parent); err != nil {
		return nil, err
	}
	// Load balancer access logs support only SSE-S3 (ALB guide, "Access
	// logs": "The only server-side encryption option that's supported is
	// Amazon S3-managed keys"), so not the stack's KMS key.
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: b.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("AES256"),
			},
		}},
	}, parent); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  b.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, parent); err != nil {
		return nil, err
	}
	days := args.LoadBalancer.AccessLogs.RetentionDays
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: b.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:                             pulumi.String("expire-access-logs"),
			Status:                         pulumi.String("Enabled"),
			Filter:                         &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
			Expiration:                     &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(days)},
			NoncurrentVersionExpiration:    &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(30)},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(7)},
		}},
	}, parent); err != nil {
		return nil, err
	}
	writer := logDeliveryPrincipal(args.Env)
	policy, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: b.ID(),
		Policy: iam.Output(func(v []string) iam.Policy {
			bucketARN := fmt.Sprintf("arn:%s:s3:::%s", args.Env.Partition, v[0])
			return iam.Resource(
				iam.AllowStatement("ElasticLoadBalancingWritesThisAccountsLogs", []string{"s3:PutObject"},
					fmt.Sprintf("%s/%s/AWSLogs/%s/*", bucketARN, accessLogPrefix, args.Env.AccountID)).By(writer),
				iam.DenyInsecureTransport("s3", bucketARN, bucketARN+"/*"),
			)
		}, b.ID()),
		// After the public access block, so S3 never weighs the policy
		// against a half-set block.
	}, parent, pulumi.DependsOn([]pulumi.Resource{pab}))
	if err != nil {
		return nil, err
	}
	if target := args.LoadBalancer.AccessLogs.ServerAccessLogBucket; target != nil {
		if _, err := s3.NewBucketLoggingV2(ctx, name, &s3.BucketLoggingV2Args{
			Bucket:       b.ID(),
			TargetBucket: target,
			TargetPrefix: pulumi.String(name + "/"),
		}, parent); err != nil {
			return nil, err
		}
	}
	return &accessLogBucket{bucket: b.ID().ToStringOutput(), policy: policy}, nil
}

// logDeliveryPrincipal is who writes the access logs in the stack's
// Region: the Region's Elastic Load Balancing account, or the log
// delivery service principal where AWS has no such account.
func logDeliveryPrincipal(env account.Env) iam.Principal {
	if id, ok := elbLogAccounts[env.Region]; ok {
		return iam.AWSPrincipal(env.ARN("iam", "", id, "root"))
	}
	return iam.ServicePrincipal(env.ServicePrincipal("logdelivery.elasticloadbalancing"))
}
