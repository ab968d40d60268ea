package pipeline

import "fmt"

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
func keyPolicy(a Args, logGroupARNs []string) Policy {
	root := fmt.Sprintf("arn:%s:iam::%s:root", a.Partition, a.AccountID)
	via := func(svc string) string { return fmt.Sprintf("%s.%s.amazonaws.com", svc, a.Region) }
	admin := Statement{
		Sid: "AccountAdministersKeyThroughIAM", Effect: "Allow",
		Principal: map[string]any{"AWS": root}, Action: []string{"kms:*"}, Resource: "*",
	}
	services := Statement{
		Sid: "PipelineServicesInThisAccount", Effect: "Allow",
		Principal: map[string]any{"AWS": "*"},
		Action:    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"},
		Resource:  "*",
		Condition: map[string]any{"StringEquals": map[string]any{
			"kms:CallerAccount": a.AccountID,
			"kms:ViaService":    []string{via("dynamodb"), via("sqs"), via("sns")},
		}},
	}
	logs := Statement{
		Sid: "CloudWatchLogsForPipelineLogGroups", Effect: "Allow",
		Principal: map[string]any{"Service": via("logs")},
		Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
		Resource:  "*",
		Condition: map[string]any{"ArnEquals": map[string]any{"kms:EncryptionContext:aws:logs:arn": logGroupARNs}},
	}
	alarms := Statement{
		Sid: "CloudWatchAlarmsPublishToEncryptedTopics", Effect: "Allow",
		Principal: map[string]any{"Service": "cloudwatch.amazonaws.com"},
		Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
		Resource:  "*",
		Condition: map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": a.AccountID}},
	}
	return policy(admin, services, logs, alarms)
}
