package platform

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/airflow"
	"github.com/nequi-platform/wordpress-ecs/config"
)

// deployAirflow declares the managed Airflow environment when the stack
// turns it on. From the other tiers it takes only the VPC and the private
// subnets of the first two AZs: MWAA takes exactly two subnets, in
// different AZs, which the network guarantees by putting one private
// subnet in each of its distinct zones.
func deployAirflow(ctx *pulumi.Context, cfg *config.Config, prefix string, tags map[string]string, awsEnv account.Env, vpcID pulumi.IDOutput, privateSubnetIDs pulumi.IDArrayOutput) error {
	a := cfg.Airflow
	if !a.Enabled {
		return nil
	}
	subnet := func(i int) pulumi.StringInput { return privateSubnetIDs.Index(pulumi.Int(i)).ToStringOutput() }
	env, err := airflow.NewEnvironment(ctx, prefix+"-airflow", airflow.EnvironmentArgs{
		EnvironmentName:      a.Name(cfg.Project, cfg.Stack),
		AirflowVersion:       a.AirflowVersion,
		EnvironmentClass:     a.EnvironmentClass,
		WebserverAccessMode:  a.WebserverAccessMode,
		WebserverClientCIDRs: a.WebserverClientCIDRs,
		LogLevel:             "INFO",
		LogRetentionDays:     a.LogRetentionDays,
		VpcID:                vpcID.ToStringOutput(),
		SubnetIDs:            [2]pulumi.StringInput{subnet(0), subnet(1)},
		DAGs:                 airflow.DAGs,
		Env:                  awsEnv,
		Tags:                 tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("airflowWebserverUrl", env.WebserverURL)
	ctx.Export("airflowDagBucket", env.BucketName)
	return nil
}
