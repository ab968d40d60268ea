package platform

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/data"
	"github.com/nequi-platform/wordpress-ecs/network"
	"github.com/nequi-platform/wordpress-ecs/security"
)

// newKeys declares the stack's KMS keys. They come first: the network's
// flow logs, the database, its parameters and the file system all encrypt
// with them.
func newKeys(ctx *pulumi.Context, cfg *config.Config, env account.Env, prefix, logGroupPrefix string, tags map[string]string) (*data.Keys, error) {
	return data.NewKeys(ctx, prefix, data.KeysArgs{
		Env:               env,
		LogGroupARNPrefix: env.ARN("logs", env.Region, env.AccountID, "log-group:"+logGroupPrefix),
		// The primary and its replicas ("<id>-replica-N") share the prefix.
		DatabaseLogGroupARNPrefix: env.ARN("logs", env.Region, env.AccountID, "log-group:"+data.RDSLogGroupPrefix+cfg.DBIdentifier()),
		SecretsManager:            cfg.Data.ManageMasterUserPassword,
		Tags:                      tags,
	})
}

// newDatabase declares the data tier on the network's data subnets, behind
// the database group that package security made (with its ingress from the
// tasks and the bastion) before this tier and compute.
func newDatabase(ctx *pulumi.Context, cfg *config.Config, env account.Env, prefix string, tags map[string]string, net *network.Network, groups *security.Groups, keys *data.Keys) (*data.Database, error) {
	d := cfg.Data
	args := data.DatabaseArgs{
		Env:                              env,
		Identifier:                       cfg.DBIdentifier(),
		SubnetIDs:                        stringIDs(net.DataSubnetIDs),
		AvailabilityZones:                net.AvailabilityZones,
		SecurityGroupID:                  groups.Database.ToStringOutput(),
		KeyARN:                           keys.DatabaseKeyARN,
		ParametersKeyARN:                 keys.ParametersKeyARN,
		ParameterPath:                    DBParameterPath(cfg),
		EngineVersion:                    d.EngineVersion,
		ParameterGroupFamily:             config.EngineVersions[d.EngineVersion],
		InstanceClass:                    d.InstanceClass,
		ReplicaInstanceClass:             d.ReplicaClass(),
		StorageType:                      d.StorageType,
		AllocatedStorage:                 d.AllocatedStorage,
		MaxAllocatedStorage:              d.MaxAllocatedStorage,
		Port:                             d.Port,
		DatabaseName:                     d.DatabaseName,
		Username:                         d.Username,
		ManageMasterUserPassword:         d.ManageMasterUserPassword,
		MultiAZ:                          d.MultiAZ,
		BackupRetentionDays:              d.BackupRetentionDays,
		BackupWindow:                     d.BackupWindow,
		MaintenanceWindow:                d.MaintenanceWindow,
		DeletionProtection:               d.DeletionProtection,
		FinalSnapshot:                    d.FinalSnapshot,
		LogExports:                       d.LogExports,
		LogRetentionDays:                 d.LogRetentionDays,
		LogsKeyARN:                       keys.LogsKeyARN,
		MonitoringInterval:               d.MonitoringInterval,
		PerformanceInsights:              d.PerformanceInsights,
		PerformanceInsightsRetentionDays: d.PerformanceInsightsRetentionDays,
		ReadReplicas:                     d.ReadReplicas,
		Tags:                             tags,
	}
	if !d.ManageMasterUserPassword {
		// A Pulumi secret from the stack config to every input.
		args.Password = cfg.DBPassword.Output()
	}
	db, err := data.NewDatabase(ctx, prefix+"-db", args)
	if err != nil {
		return nil, fmt.Errorf("data tier: %w", err)
	}
	for name, value := range dataExports(db, args.ParameterPath) {
		ctx.Export(name, value)
	}
	return db, nil
}

// DBParameterPath is where the database settings live in Parameter Store.
func DBParameterPath(cfg *config.Config) string {
	return fmt.Sprintf("/%s/%s/db/", cfg.Project, cfg.Stack)
}

// dataExports are the data tier's stack outputs: where the database is,
// never its password.
func dataExports(db *data.Database, parameterPath string) map[string]pulumi.Input {
	return map[string]pulumi.Input{
		"dbEndpoint":         pulumi.Sprintf("%s:%d", db.Address, db.Port),
		"dbAddress":          db.Address,
		"dbPort":             pulumi.Int(db.Port),
		"dbName":             pulumi.String(db.Name),
		"dbIdentifier":       db.Identifier,
		"dbReplicaAddresses": db.ReplicaAddresses,
		// For `aws ssm get-parameters-by-path --path ... --with-decryption`.
		"dbParameterPath": pulumi.String(parameterPath),
	}
}

// stringIDs is a list of resource ids as the strings most inputs take.
func stringIDs(ids pulumi.IDArrayOutput) pulumi.StringArrayOutput {
	return ids.ApplyT(func(ids []pulumi.ID) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = string(id)
		}
		return out
	}).(pulumi.StringArrayOutput)
}
