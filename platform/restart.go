package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/restart/pipeline"
)

// restartPipeline wires the nightly restart, when the stack enables it.
// The pipeline's alarms go to its own encrypted summary topic until the
// stack has a shared alarm topic: that is the one line to change here
// (Args.AlarmTopicARN).
func restartPipeline(ctx *pulumi.Context, cfg *config.Config, prefix string, env account.Env, alarmTopic pulumi.StringInput, tags map[string]string) error {
	r := cfg.Restart
	if !r.Enabled {
		return nil
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
	minInterval, _ := time.ParseDuration(r.MinInterval) // validated by config
	p, err := pipeline.NewPipeline(ctx, prefix, pipeline.Args{
		Env:            env,
		Code:           code,
		MemberAccounts: accounts,
		Regions:        r.Regions,
		MemberRole: pipeline.MemberRole{
			Name:                r.MemberRoleName,
			Deployment:          pipeline.Deployment(r.MemberRoleDeployment),
			OrganizationalUnits: r.OrganizationalUnits,
			OrganizationID:      r.OrganizationID,
			ExternalID:          r.ExternalID,
			CallAs:              r.StackSetCallAs,
		},
		Window:                 r.Window(),
		TimeZone:               r.TimeZone,
		MinInterval:            minInterval,
		OutsideWindow:          r.OutsideWindow,
		RecordTTLDays:          r.RecordTTLDays,
		Enrollment:             r.Enrollment,
		AccountRate:            r.AccountRate,
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
