package governance

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/iam"
)

// bucketSpec describes one of the private buckets governance keeps.
type bucketSpec struct {
	// name is both the Pulumi name and the S3 bucket name.
	name      string
	partition string
	// kmsKeyARN encrypts objects with SSE-KMS; nil means SSE-S3, the only
	// default encryption a server access log destination bucket may have
	// (S3 user guide, "Enabling Amazon S3 server access logging").
	kmsKeyARN pulumi.StringInput
	// retentionDays expires current objects; noncurrent versions go 30
	// days after they are replaced.
	retentionDays int
	// logBucket receives this bucket's server access logs (S3.9); nil for
	// the log bucket itself, which must not log into itself.
	logBucket *bucket
	// allow are statements added to the bucket policy after the TLS-only
	// deny; they are built from the bucket's ARN.
	allow func(bucketARN string) []iam.Statement
	tags  map[string]string
	// retain keeps the bucket and its settings when the stack lets go of
	// it (what it holds outlives the stack: a retained recorder's history).
	retain bool
}

// bucket is a declared private bucket and the settings a writer must wait
// for: a service that checks the bucket's permissions when it is configured
// (AWS Config's PutDeliveryChannel does) depends on ready.
type bucket struct {
	*s3.BucketV2
	ready []pulumi.Resource
}

// privateBucket declares a bucket that is owner-enforced (no ACLs), blocks
// every form of public access, is encrypted by default, versioned, expires
// old objects and refuses requests without TLS.
func privateBucket(ctx *pulumi.Context, spec bucketSpec, parent pulumi.Resource) (*bucket, error) {
	opt := pulumi.Composite(pulumi.Parent(parent), pulumi.RetainOnDelete(spec.retain))
	b, err := s3.NewBucketV2(ctx, spec.name, &s3.BucketV2Args{
		Bucket: pulumi.String(spec.name),
		Tags:   pulumi.ToStringMap(spec.tags),
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", spec.name, err)
	}
	out := &bucket{BucketV2: b}
	own, err := s3.NewBucketOwnershipControls(ctx, spec.name, &s3.BucketOwnershipControlsArgs{
		Bucket: b.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("bucket %s ownership: %w", spec.name, err)
	}
	pab, err := s3.NewBucketPublicAccessBlock(ctx, spec.name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                b.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("bucket %s public access block: %w", spec.name, err)
	}
	sse := &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")}
	if spec.kmsKeyARN != nil {
		sse = &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm:   pulumi.String("aws:kms"),
			KmsMasterKeyId: spec.kmsKeyARN,
		}
	}
	enc, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, spec.name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: b.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: sse,
			// A bucket key cuts SSE-KMS request costs by up to 99% (S3
			// Bucket Keys).
			BucketKeyEnabled: pulumi.Bool(spec.kmsKeyARN != nil),
		}},
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("bucket %s encryption: %w", spec.name, err)
	}
	if _, err := s3.NewBucketVersioningV2(ctx, spec.name, &s3.BucketVersioningV2Args{
		Bucket:                  b.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, opt); err != nil {
		return nil, fmt.Errorf("bucket %s versioning: %w", spec.name, err)
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, spec.name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: b.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:                             pulumi.String("expire"),
			Status:                         pulumi.String("Enabled"),
			Filter:                         &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
			Expiration:                     &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(spec.retentionDays)},
			NoncurrentVersionExpiration:    &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(30)},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(7)},
		}},
	}, opt); err != nil {
		return nil, fmt.Errorf("bucket %s lifecycle: %w", spec.name, err)
	}
	// The name is fixed, so the ARN is known without waiting for AWS.
	arn := fmt.Sprintf("arn:%s:s3:::%s", spec.partition, spec.name)
	// Security Hub S3.5: no request without TLS.
	statements := []iam.Statement{iam.DenyInsecureTransport("s3", arn, arn+"/*")}
	if spec.allow != nil {
		statements = append(statements, spec.allow(arn)...)
	}
	policy, err := iam.Resource(statements...).JSON()
	if err != nil {
		return nil, err
	}
	// After the public access block, so that S3 never sees the policy on a
	// bucket whose block is still being set.
	pol, err := s3.NewBucketPolicy(ctx, spec.name, &s3.BucketPolicyArgs{
		Bucket: b.ID(),
		Policy: pulumi.String(policy),
	}, opt, pulumi.DependsOn([]pulumi.Resource{pab}))
	if err != nil {
		return nil, fmt.Errorf("bucket %s policy: %w", spec.name, err)
	}
	out.ready = []pulumi.Resource{own, pab, enc, pol}
	if spec.logBucket != nil {
		if _, err := s3.NewBucketLoggingV2(ctx, spec.name, &s3.BucketLoggingV2Args{
			Bucket:       b.ID(),
			TargetBucket: spec.logBucket.Bucket,
			TargetPrefix: pulumi.String(spec.name + "/"),
		}, opt, pulumi.DependsOn(spec.logBucket.ready)); err != nil {
			return nil, fmt.Errorf("bucket %s access logging: %w", spec.name, err)
		}
	}
	return out, nil
}
