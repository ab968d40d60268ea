package airflow

import (
	"fmt"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/iam"
)

// where names the environment's place in AWS, for ARNs.
type where struct {
	partition, region, account, dnsSuffix, envName string
}

func (w where) env() account.Env {
	return account.Env{AccountID: w.account, Region: w.region, Partition: w.partition, DNSSuffix: w.dnsSuffix}
}

func (w where) environmentARN() string {
	return fmt.Sprintf("arn:%s:airflow:%s:%s:environment/%s", w.partition, w.region, w.account, w.envName)
}

// logGroupARNPattern matches the environment's log groups, which MWAA names
// airflow-<environment>-<module>.
func (w where) logGroupARNPattern() string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:airflow-%s-*", w.partition, w.region, w.account, w.envName)
}

// trustPolicy lets MWAA assume the execution role for this environment only:
// the two service principals and the aws:SourceArn / aws:SourceAccount
// conditions of "Cross-service confused deputy prevention"
// (https://docs.aws.amazon.com/mwaa/latest/userguide/cross-service-confused-deputy-prevention.html).
func trustPolicy(w where) (string, error) {
	env := w.env()
	return iam.Trust(iam.Statement{Effect: iam.Allow, Actions: []string{"sts:AssumeRole"}}.
		By(iam.ServicePrincipal(env.ServicePrincipal("airflow"), env.ServicePrincipal("airflow-env"))).
		If("ArnLike", "aws:SourceArn", w.environmentARN()).
		If("StringEquals", "aws:SourceAccount", w.account),
	).JSON()
}

// executionPolicy is the execution role's policy: the statements of "Sample
// policy for a customer managed key" in "Amazon MWAA execution role"
// (https://docs.aws.amazon.com/mwaa/latest/userguide/mwaa-create-role.html),
// each narrowed to this environment's bucket, log groups and key.
func executionPolicy(w where, bucketARN, keyARN string) (string, error) {
	return iam.Identity(
		iam.AllowStatement("PublishEnvironmentHealthMetrics", []string{"airflow:PublishMetrics"}, w.environmentARN()),
		// From AWS's sample: keeps DAG code from listing the account's
		// buckets through this bucket.
		iam.DenyStatement("NoBucketListing", []string{"s3:ListAllMyBuckets"}, bucketARN, bucketARN+"/*"),
		iam.AllowStatement("ReadDAGBucket", []string{"s3:GetObject*", "s3:GetBucket*", "s3:List*"}, bucketARN, bucketARN+"/*"),
		// MWAA refuses a bucket it cannot prove private; with an
		// account-level block it checks that too ("Grant access to Amazon
		// S3 bucket with account-level public access block"). The action
		// has no resource-level form.
		iam.AllowStatement("CheckAccountPublicAccessBlock", []string{"s3:GetAccountPublicAccessBlock"}, "*"),
		iam.AllowStatement("WriteOwnLogGroups", []string{
			"logs:CreateLogStream", "logs:CreateLogGroup", "logs:PutLogEvents", "logs:GetLogEvents",
			"logs:GetLogRecord", "logs:GetLogGroupFields", "logs:GetQueryResults",
		}, w.logGroupARNPattern()),
		// Neither action supports resource-level permissions.
		iam.AllowStatement("DescribeLogGroupsAndPutMetrics", []string{"logs:DescribeLogGroups", "cloudwatch:PutMetricData"}, "*"),
		// The Celery queues live in an account MWAA owns, so the account
		// part of the ARN has to be a wildcard (AWS's sample does the
		// same); the queue name prefix is fixed by MWAA.
		iam.AllowStatement("UseCeleryQueues", []string{
			"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
			"sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:SendMessage",
		}, fmt.Sprintf("arn:%s:sqs:%s:*:airflow-celery-*", w.partition, w.region)),
		iam.AllowStatement("UseEnvironmentKeyThroughSQSAndS3", []string{"kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"}, keyARN).
			If("StringLike", "kms:ViaService", iam.ViaServices(w.env(), "sqs", "s3")),
	).JSON()
}

// keyPolicy lets the account administer the key through IAM (which is also
// how the person deploying gets kms:CreateGrant for the four grants MWAA
// attaches, "Customer managed keys for data encryption",
// https://docs.aws.amazon.com/mwaa/latest/userguide/custom-keys-certs.html)
// and lets CloudWatch Logs use it for this environment's log groups only.
// AWS's sample admits every log group of the account; the encryption
// context names the group, so this one admits airflow-<environment>-*.
func keyPolicy(w where) (string, error) {
	env := w.env()
	return iam.Resource(
		iam.AllowStatement("AccountAdministersKeyThroughIAM", []string{"kms:*"}, "*").By(iam.AWSPrincipal(env.RootARN())),
		iam.AllowStatement("CloudWatchLogsUsesKeyForEnvironmentLogGroups",
			[]string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}, "*").
			By(iam.ServicePrincipal(env.RegionalServicePrincipal("logs"))).
			If("ArnLike", "kms:EncryptionContext:aws:logs:arn", w.logGroupARNPattern()),
	).JSON()
}

// bucketPolicy refuses every request to the DAG bucket that does not use
// TLS (Security Hub S3.5).
func bucketPolicy(bucketARN string) (string, error) {
	return iam.Resource(iam.DenyInsecureTransport("s3", bucketARN, bucketARN+"/*")).JSON()
}
