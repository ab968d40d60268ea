package pipeline

import "github.com/nequi-platform/wordpress-ecs/iam"

// keyPolicy is the pipeline key's policy. The account administers the key
// through IAM (the root statement, without which a key can become
// unmanageable: KMS developer guide, "Default key policy"); every other
// use is by AWS services on the account's behalf:
//   - DynamoDB (the tables), SQS (the dead-letter queues) and SNS (the
//     topics), called by principals of this account, in this Region
//     (kms:ViaService, kms:CallerAccount);
//   - CloudWatch Logs, for this pipeline's log groups only (the log
//     group's ARN is the encryption context: CloudWatch Logs user guide,
//     "Encrypt log data in CloudWatch Logs using AWS KMS");
//   - CloudWatch alarms publishing to the encrypted topics (SNS developer
//     guide, "Configure AWS KMS permissions for AWS services": the
//     cloudwatch.amazonaws.com principal needs Decrypt and GenerateDataKey*).
func keyPolicy(a Args, logGroupARNs []string) iam.Policy {
	env := a.Env
	return iam.Resource(
		iam.AllowStatement("AccountAdministersKeyThroughIAM", []string{"kms:*"}, "*").By(iam.AWSPrincipal(env.RootARN())),
		iam.AllowStatement("PipelineServicesInThisAccount",
			[]string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"}, "*").
			By(iam.AWSPrincipal("*")).
			If("StringEquals", "kms:CallerAccount", env.AccountID).
			If("StringEquals", "kms:ViaService", iam.ViaServices(env, "dynamodb", "sqs", "sns")),
		iam.AllowStatement("CloudWatchLogsForPipelineLogGroups",
			[]string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}, "*").
			By(iam.ServicePrincipal(env.RegionalServicePrincipal("logs"))).
			If("ArnEquals", "kms:EncryptionContext:aws:logs:arn", logGroupARNs),
		iam.AllowStatement("CloudWatchAlarmsPublishToEncryptedTopics", []string{"kms:Decrypt", "kms:GenerateDataKey*"}, "*").
			By(iam.ServicePrincipal(env.ServicePrincipal("cloudwatch"))).
			If("StringEquals", "aws:SourceAccount", env.AccountID),
	)
}
