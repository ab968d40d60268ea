// Package account describes the AWS account and Region a stack deploys
// into: the values every component needs to build ARNs, service names and
// service principals that are right in every partition (aws, aws-cn,
// aws-us-gov), instead of a hard-coded "arn:aws" or "amazonaws.com".
package account

import (
	"encoding/json"
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

// ServicePrincipal is the principal name of an AWS service in this Region,
// as the provider's aws_service_principal data source computes it: most
// are "<service>.amazonaws.com" everywhere, but some partitions use their
// own suffix, so it is never written by hand.
func ServicePrincipal(ctx *pulumi.Context, e Env, service string) (string, error) {
	res, err := aws.GetServicePrincipal(ctx, &aws.GetServicePrincipalArgs{
		ServiceName: service,
		Region:      pulumi.StringRef(e.Region),
	})
	if err != nil {
		return "", fmt.Errorf("service principal of %s in %s: %w", service, e.Region, err)
	}
	return res.Name, nil
}

// ServiceTrust is the trust policy of a role that an AWS service assumes for
// this account: only the principal, and only acting for this account
// (aws:SourceAccount) and, when sourceARN is set, for the resources it
// matches (aws:SourceArn) — the confused-deputy guard of the IAM user
// guide, "The confused deputy problem".
func (e Env) ServiceTrust(principal, sourceARN string) string {
	condition := map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": e.AccountID}}
	if sourceARN != "" {
		condition["ArnLike"] = map[string]any{"aws:SourceArn": sourceARN}
	}
	// Maps of strings always marshal.
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": principal},
			"Action":    "sts:AssumeRole",
			"Condition": condition,
		}},
	})
	return string(b)
}
