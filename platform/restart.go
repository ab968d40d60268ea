package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/organizations"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/restart/pipeline"
)

// restartPipeline wires the nightly restart, when the stack enables it.
// The pipeline's alarms go to its own encrypted summary topic until the
// stack has a shared alarm topic: that is the one line to change here
// (Args.AlarmTopicARN).
func restartPipeline(ctx *pulumi.Context, cfg *config.Config, prefix string, env account.Env, alarmTopic pulumi.StringInput, clusters []string, tags map[string]string) error {
	r := cfg.Restart
	if !r.Enabled {
		return nil
	}
	if r.MemberRoleDeployment == config.DeployStackSet {
		if err := checkOrganization(ctx, r, env); err != nil {
			return err
		}
	}
	// The project's directory under the engine and the offline plan; the
	// working directory otherwise.
	root, err := pipeline.ModuleRoot(ctx.RootDirectory())
	if err != nil {
		return fmt.Errorf("restart pipeline: %w", err)
	}
	code, err := pipeline.BuildLambda(context.Background(), root)
	if err != nil {
		return err
	}
	accounts := r.MemberAccounts
	if r.MemberRoleDeployment == config.DeployDirect {
		accounts = []string{env.AccountID}
	}
	var own []string
	if r.MemberRoleDeployment == config.DeployDirect {
		// Direct shares the account with whatever else runs there: the
		// engine and the member role reach this stack's cluster only.
		own = clusters
	}
	minInterval, _ := time.ParseDuration(r.MinInterval) // validated by config
	p, err := pipeline.NewPipeline(ctx, prefix, pipeline.Args{
		Env:            env,
		Code:           code,
		Clusters:       own,
		MemberAccounts: accounts,
		Regions:        r.Regions,
		Stack:          cfg.Stack,
		MemberRole: pipeline.MemberRole{
			Name:                r.MemberRoleName,
			Deployment:          pipeline.Deployment(r.MemberRoleDeployment),
			OrganizationalUnits: r.OrganizationalUnits,
			OrganizationID:      r.OrganizationID,
			ExternalID:          r.ExternalID,
			CallAs:              r.StackSetCallAs,
		},
		Window:              r.Window(),
		TimeZone:            r.TimeZone,
		MinInterval:         minInterval,
		OutsideWindow:       r.OutsideWindow,
		RecordTTLDays:       r.RecordTTLDays,
		Enrollment:          r.Enrollment,
		BucketShare:         r.BucketShare,
		AccountBucketShares: r.AccountBucketShares,
		AccountRate:         r.AccountRate,
		Breaker: pipeline.Breaker{
			MaxFailed: r.Breaker.MaxFailed, MaxFailedPercent: r.Breaker.MaxFailedPercent,
			AccountMaxFailed: r.Breaker.AccountMaxFailed, AccountMaxFailedPercent: r.Breaker.AccountMaxFailedPercent,
		},
		ScheduleDisabled:       !r.ScheduleOn(),
		ExpectedDeploymentTime: r.DeploymentTime(),
		MemoryMB:               r.LambdaMemoryMB,
		TimeoutSeconds:         r.LambdaTimeoutSeconds,
		LogRetentionDays:       r.LogRetentionDays,
		Tracing:                r.Tracing,
		DeletionProtection:     r.DeletionProtection,
		// The stack's alarm topic: the night's alarms reach the same people
		// as every other alarm of the stack.
		AlarmTopicARN: alarmTopic,
		Tags:          tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("restartStateMachineArn", p.StateMachineARN)
	ctx.Export("restartSummaryTopicArn", p.SummaryTopicARN)
	ctx.Export("restartOwnerTopicArn", p.OwnerTopicARN)
	ctx.Export("restartLambdaArchiveSha256", pulumi.String(code.SHA256))
	return nil
}

// checkOrganization asks AWS Organizations where the hub runs, and refuses
// what CloudFormation would refuse at apply: a service-managed StackSet
// created with callAs SELF outside the management account, or with
// DELEGATED_ADMIN from the management account itself ("Activate trusted
// access ... / Register a delegated administrator", CloudFormation user
// guide), and member accounts that include the management account, to
// which a service-managed StackSet never deploys.
func checkOrganization(ctx *pulumi.Context, r config.Restart, env account.Env) error {
	org, err := organizations.LookupOrganization(ctx)
	if err != nil {
		return fmt.Errorf("restart.memberRoleDeployment is stackSet, which needs the hub's account %s in an AWS Organization: %w; use memberRoleDeployment direct for a single account", env.AccountID, err)
	}
	mgmt := org.MasterAccountId
	switch {
	case r.StackSetCallAs == config.CallAsSelf && env.AccountID != mgmt:
		return fmt.Errorf("restart.stackSetCallAs is SELF, which only the organization's management account (%s) may use, and the hub runs in %s; set stackSetCallAs: DELEGATED_ADMIN and register %s as a delegated administrator for CloudFormation StackSets (aws organizations register-delegated-administrator --service-principal member.org.stacksets.cloudformation.amazonaws.com --account-id %s, from the management account)", mgmt, env.AccountID, env.AccountID, env.AccountID)
	case r.StackSetCallAs == config.CallAsDelegatedAdmin && env.AccountID == mgmt:
		return fmt.Errorf("restart.stackSetCallAs is DELEGATED_ADMIN, but the hub runs in the organization's management account %s, which calls as SELF; set stackSetCallAs: SELF, or move the hub to an operations account registered as a delegated administrator for StackSets", mgmt)
	}
	if org.Id != "" && r.OrganizationID != "" && org.Id != r.OrganizationID {
		return fmt.Errorf("restart.organizationId is %s, but the hub's account %s is in organization %s: the member role would trust principals of an organization the hub's roles are not in; set restart.organizationId to %s", r.OrganizationID, env.AccountID, org.Id, org.Id)
	}
	for i, a := range r.MemberAccounts {
		if a == mgmt {
			return fmt.Errorf("restart.memberAccounts[%d] is %s, the organization's management account, to which a service-managed StackSet never deploys the member role, so its services would fail discovery every night; remove it (README, \"The management account\")", i, a)
		}
	}
	return nil
}
