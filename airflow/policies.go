package airflow

import (
	"encoding/json"
	"fmt"
)

// policyDoc is an IAM or KMS policy document.
type policyDoc struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	// Resource is left out when nil: a trust policy takes none, and IAM
	// refuses one even as null (MalformedPolicyDocument).
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

func render(d policyDoc) (string, error) {
	d.Version = "2012-10-17"
	b, err := json.Marshal(d)
	return string(b), err
}

// where names the environment's place in AWS, for ARNs.
type where struct {
	partition, region, account, dnsSuffix, envName string
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
	return render(policyDoc{Statement: []statement{{
		Effect:    "Allow",
		Principal: map[string]any{"Service": []string{"airflow." + w.dnsSuffix, "airflow-env." + w.dnsSuffix}},
		Action:    "sts:AssumeRole",
		Condition: map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": w.environmentARN()},
			"StringEquals": map[string]any{"aws:SourceAccount": w.account},
		},
	}}})
}

// executionPolicy is the execution role's policy: the statements of "Sample
// policy for a customer managed key" in "Amazon MWAA execution role"
// (https://docs.aws.amazon.com/mwaa/latest/userguide/mwaa-create-role.html),
// each narrowed to this environment's bucket, log groups and key.
func executionPolicy(w where, bucketARN, keyARN string) (string, error) {
	return render(policyDoc{Statement: []statement{
		{
			Sid: "PublishEnvironmentHealthMetrics", Effect: "Allow",
			Action: "airflow:PublishMetrics", Resource: w.environmentARN(),
		},
		{
			// From AWS's sample: keeps DAG code from listing the account's
			// buckets through this bucket.
			Sid: "NoBucketListing", Effect: "Deny",
			Action: "s3:ListAllMyBuckets", Resource: []string{bucketARN, bucketARN + "/*"},
		},
		{
			Sid: "ReadDAGBucket", Effect: "Allow",
			Action:   []string{"s3:GetObject*", "s3:GetBucket*", "s3:List*"},
			Resource: []string{bucketARN, bucketARN + "/*"},
		},
		{
			// MWAA refuses a bucket it cannot prove private; with an
			// account-level block it checks that too ("Grant access to
			// Amazon S3 bucket with account-level public access block").
			// The action has no resource-level form.
			Sid: "CheckAccountPublicAccessBlock", Effect: "Allow",
			Action: "s3:GetAccountPublicAccessBlock", Resource: "*",
		},
		{
			Sid: "WriteOwnLogGroups", Effect: "Allow",
			Action: []string{
				"logs:CreateLogStream", "logs:CreateLogGroup", "logs:PutLogEvents", "logs:GetLogEvents",
				"logs:GetLogRecord", "logs:GetLogGroupFields", "logs:GetQueryResults",
			},
			Resource: w.logGroupARNPattern(),
		},
		{
			// Neither action supports resource-level permissions.
			Sid: "DescribeLogGroupsAndPutMetrics", Effect: "Allow",
			Action: []string{"logs:DescribeLogGroups", "cloudwatch:PutMetricData"}, Resource: "*",
		},
		{
			// The Celery queues live in an account MWAA owns, so the account
			// part of the ARN has to be a wildcard (AWS's sample does the
			// same); the queue name prefix is fixed by MWAA.
			Sid: "UseCeleryQueues", Effect: "Allow",
			Action: []string{
				"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
				"sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:SendMessage",
			},
			Resource: fmt.Sprintf("arn:%s:sqs:%s:*:airflow-celery-*", w.partition, w.region),
		},
		{
			Sid: "UseEnvironmentKeyThroughSQSAndS3", Effect: "Allow",
			Action:   []string{"kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"},
			Resource: keyARN,
			Condition: map[string]any{"StringLike": map[string]any{"kms:ViaService": []string{
				fmt.Sprintf("sqs.%s.%s", w.region, w.dnsSuffix),
				fmt.Sprintf("s3.%s.%s", w.region, w.dnsSuffix),
			}}},
		},
	}})
}

// keyPolicy lets the account administer the key through IAM (which is also
// how the person deploying gets kms:CreateGrant for the four grants MWAA
// attaches, "Customer managed keys for data encryption",
// https://docs.aws.amazon.com/mwaa/latest/userguide/custom-keys-certs.html)
// and lets CloudWatch Logs use it for this environment's log groups only.
// AWS's sample admits every log group of the account; the encryption
// context names the group, so this one admits airflow-<environment>-*.
func keyPolicy(w where) (string, error) {
	return render(policyDoc{Statement: []statement{
		{
			Sid:       "AccountAdministersKeyThroughIAM",
			Effect:    "Allow",
			Principal: map[string]any{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", w.partition, w.account)},
			Action:    "kms:*",
			Resource:  "*",
		},
		{
			Sid:       "CloudWatchLogsUsesKeyForEnvironmentLogGroups",
			Effect:    "Allow",
			Principal: map[string]any{"Service": fmt.Sprintf("logs.%s.%s", w.region, w.dnsSuffix)},
			Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
			Resource:  "*",
			Condition: map[string]any{"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": w.logGroupARNPattern()}},
		},
	}})
}

// bucketPolicy refuses every request to the DAG bucket that does not use
// TLS (Security Hub S3.5).
func bucketPolicy(bucketARN string) (string, error) {
	return render(policyDoc{Statement: []statement{{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: map[string]any{"AWS": "*"},
		Action:    "s3:*",
		Resource:  []string{bucketARN, bucketARN + "/*"},
		Condition: map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}}})
}
