package iam

import (
	"fmt"

	"github.com/nequi-platform/wordpress-ecs/account"
)

// ServiceTrust is the trust policy of a role an AWS service assumes for
// this account: the service's principal in the stack's partition, only
// when it acts for this account (aws:SourceAccount) and, with sourceARN,
// for the resources that pattern matches (aws:SourceArn): the
// confused-deputy guard of the IAM User Guide, "The confused deputy
// problem". service is the short name ("lambda", "ecs-tasks").
func ServiceTrust(env account.Env, service, sourceARN string) Policy {
	st := Statement{Effect: Allow, Actions: []string{"sts:AssumeRole"}}.
		By(ServicePrincipal(env.ServicePrincipal(service))).
		If("StringEquals", "aws:SourceAccount", env.AccountID)
	if sourceARN != "" {
		st = st.If("ArnLike", "aws:SourceArn", sourceARN)
	}
	return Trust(st)
}

// ViaService is the kms:ViaService value of a service in the stack's
// Region: "<service>.<region>.<dns suffix>" (KMS Developer Guide,
// "kms:ViaService": the service's endpoint name, so amazonaws.com.cn in
// China).
func ViaService(env account.Env, service string) string {
	return fmt.Sprintf("%s.%s.%s", service, env.Region, env.DNSSuffix)
}

// ViaServices is ViaService for each service.
func ViaServices(env account.Env, services ...string) []string {
	out := make([]string, len(services))
	for i, s := range services {
		out[i] = ViaService(env, s)
	}
	return out
}
