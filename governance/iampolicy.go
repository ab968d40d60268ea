package governance

import "github.com/nequi-platform/wordpress-ecs/account"

// envOf is the account, Region and partition the account-wide services
// are in, for the principals and ARNs of their policies (package iam).
func envOf(accountID, region, partition string) account.Env {
	suffix := "amazonaws.com"
	if partition == "aws-cn" {
		suffix = "amazonaws.com.cn"
	}
	return account.Env{AccountID: accountID, Region: region, Partition: partition, DNSSuffix: suffix}
}
