// Package account describes the AWS account and Region a stack deploys
// into: the values every component needs to build ARNs, service names and
// service principals that are right in every partition (aws, aws-cn,
// aws-us-gov), instead of a hard-coded "arn:aws" or "amazonaws.com".
package account

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Env is where a stack deploys. The zero value is not usable: build it with
// Lookup (or by hand in tests).
type Env struct {
	AccountID string
	Region    string
	// Partition is "aws", "aws-cn" or "aws-us-gov".
	Partition string
	// DNSSuffix is the partition's domain ("amazonaws.com", "amazonaws.com.cn").
	DNSSuffix string
	// ReverseDNSPrefix starts endpoint service names ("com.amazonaws",
	// "cn.com.amazonaws").
	ReverseDNSPrefix string
}

// Lookup asks the provider who the credentials belong to and which
// partition the Region is in.
func Lookup(ctx *pulumi.Context, region string) (Env, error) {
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return Env{}, fmt.Errorf("look up the AWS account: %w", err)
	}
	part, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return Env{}, fmt.Errorf("look up the AWS partition: %w", err)
	}
	return Env{
		AccountID:        caller.AccountId,
		Region:           region,
		Partition:        part.Partition,
		DNSSuffix:        part.DnsSuffix,
		ReverseDNSPrefix: part.ReverseDnsPrefix,
	}, nil
}

// ARN builds an ARN in this account and Region; pass region or account as
// "" where the service leaves them out (IAM, S3).
func (e Env) ARN(service, region, accountID, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", e.Partition, service, region, accountID, resource)
}

// RootARN is the account's root principal, the one principal a key policy
// grants kms:* so that IAM policies can administer the key.
func (e Env) RootARN() string { return e.ARN("iam", "", e.AccountID, "root") }

// EndpointService is the VPC endpoint service name of an AWS service in
// this Region ("com.amazonaws.us-east-1.s3").
func (e Env) EndpointService(service string) string {
	return fmt.Sprintf("%s.%s.%s", e.ReverseDNSPrefix, e.Region, service)
}

// ServicePrincipal is the principal name of an AWS service in this
// partition: "<service>.amazonaws.com" in every partition, except the few
// services that use the partition's own suffix there. The table is the
// one the AWS provider's aws_service_principal data source and the AWS
// CDK's region-info (lib/default.ts) keep: in aws-cn, codedeploy,
// elasticmapreduce and logs end in amazonaws.com.cn.
func (e Env) ServicePrincipal(service string) string {
	suffix := "amazonaws.com"
	if e.Partition == "aws-cn" {
		switch service {
		case "codedeploy", "elasticmapreduce", "logs":
			suffix = e.DNSSuffix
		}
	}
	return service + "." + suffix
}

// RegionalServicePrincipal is the Region-qualified principal some services
// sign as ("logs.<region>.amazonaws.com": CloudWatch Logs User Guide,
// "Encrypt log data in CloudWatch Logs using AWS KMS"), in the partition's
// suffix where ServicePrincipal uses it.
func (e Env) RegionalServicePrincipal(service string) string {
	name := e.ServicePrincipal(service)
	return service + "." + e.Region + name[len(service):]
}
