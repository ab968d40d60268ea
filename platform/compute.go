package platform

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/compute"
	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/data"
	"github.com/nequi-platform/wordpress-ecs/network"
	"github.com/nequi-platform/wordpress-ecs/security"
)

// newCompute declares the WordPress tier over the network, in the shared
// security groups, reading the database settings the data tier stored.
func newCompute(ctx *pulumi.Context, cfg *config.Config, env account.Env, prefix, logGroupPrefix string, tags map[string]string,
	net *network.Network, groups *security.Groups, keys *data.Keys, db *data.Database, serverAccessLogs pulumi.StringInput, guardDutyAgent bool) (*compute.WordPress, error) {
	c := cfg.Compute
	authKeys, err := data.NewAuthKeys(ctx, prefix+"-wordpress", data.AuthKeysArgs{
		Env:           env,
		ParameterPath: WordPressParameterPath(cfg),
		KeyARN:        keys.ParametersKeyARN,
		Tags:          tags,
	})
	if err != nil {
		return nil, err
	}
	authSecrets, err := authKeySecrets(authKeys)
	if err != nil {
		return nil, err
	}
	args := compute.Args{
		Env:               env,
		VpcID:             net.VpcID.ToStringOutput(),
		AvailabilityZones: net.AvailabilityZones,
		PublicSubnetIDs:   stringIDs(net.PublicSubnetIDs),
		PrivateSubnetIDs:  stringIDs(net.PrivateSubnetIDs),
		DataSubnetIDs:     stringIDs(net.DataSubnetIDs),
		SecurityGroups: compute.SecurityGroups{
			LoadBalancer: groups.LoadBalancer.ToStringOutput(),
			Tasks:        groups.Tasks.ToStringOutput(),
			Bastion:      groups.Bastion.ToStringOutput(),
			FileSystem:   groups.FileSystem.ToStringOutput(),
		},
		LogsKeyARN:     keys.LogsKeyARN,
		LogGroupPrefix: logGroupPrefix,
		AppPort:        wordpressPort,
		LoadBalancer: compute.LoadBalancerArgs{
			DeletionProtection: c.DeletionProtection,
			HealthCheckPath:    c.HealthCheckPath,
			AdminCIDRs:         c.AdminCIDRs,
		},
		Service: compute.ServiceArgs{
			Image:                         c.Image + ":" + c.ImageTag,
			CPU:                           c.CPU,
			Memory:                        c.Memory,
			CPUArchitecture:               c.CPUArchitecture,
			DesiredCount:                  c.DesiredCount,
			HealthCheckGracePeriodSeconds: c.HealthCheckGracePeriodSeconds,
			EnableExecuteCommand:          c.EnableExecuteCommand,
			LogRetentionDays:              c.LogRetentionDays,
			Database:                      databaseSecrets(db, keys),
			AuthKeys:                      authSecrets,
			WordPress: compute.WordPressArgs{
				DisallowFileEdit: c.WordPress.DisallowFileEdit,
				DisallowFileMods: c.WordPress.DisallowFileMods,
				UploadMaxMB:      c.WordPress.UploadMaxMB,
			},
			GuardDutyAgent: guardDutyAgent,
		},
		FileSystem: compute.FileSystemArgs{
			KeyARN:         keys.FileSystemKeyARN,
			ThroughputMode: c.FileSystem.ThroughputMode,
			TransitionToIA: c.FileSystem.TransitionToIA,
		},
		Tags: tags,
	}
	if c.Stickiness {
		args.LoadBalancer.StickinessSeconds = c.StickinessSeconds
	}
	if h := c.HTTPS; h.Enabled {
		args.LoadBalancer.HTTPS = &compute.HTTPSArgs{
			CertificateARN: h.CertificateARN,
			DomainName:     h.DomainName,
			HostedZoneID:   h.HostedZoneID,
			SSLPolicy:      h.SSLPolicy,
		}
	}
	if c.AccessLogs {
		args.LoadBalancer.AccessLogs = &compute.AccessLogArgs{RetentionDays: c.AccessLogRetentionDays, ServerAccessLogBucket: serverAccessLogs}
	}
	if c.WAF.Enabled {
		args.WAF = &compute.WAFArgs{RateLimit: c.WAF.RateLimit, LogRetentionDays: c.WAF.LogRetentionDays}
	}
	if a := c.Autoscaling; a.Enabled {
		args.Service.Autoscaling = &compute.AutoscalingArgs{
			MinCapacity:       a.MinCapacity,
			MaxCapacity:       a.MaxCapacity,
			CPUTargetPercent:  a.CPUTargetPercent,
			RequestsPerTarget: a.RequestsPerTarget,
		}
	}
	if b := c.Bastion; b.Enabled {
		args.Bastion = &compute.BastionArgs{
			InstanceType:             b.InstanceType,
			Architecture:             b.Architecture(),
			SessionLogRetentionDays:  b.SessionLogRetentionDays,
			SessionPreferences:       compute.Ownership(cfg.Governance.SessionManagerPreferences.Mode),
			RetainSessionPreferences: cfg.Governance.RetainOnDelete,
		}
	}
	wp, err := compute.NewWordPress(ctx, prefix, args)
	if errors.Is(err, compute.ErrNoSessionPreferences) {
		return nil, fmt.Errorf("governance.sessionManagerPreferences.mode is existing, but %v; set it to create to have this stack own them (and log every session to its bastion's group), or to off to leave them alone (%w)", compute.ErrNoSessionPreferences, err)
	}
	if err != nil {
		return nil, fmt.Errorf("compute tier: %w", err)
	}
	for name, value := range computeExports(wp) {
		ctx.Export(name, value)
	}
	// For the README's rotation commands.
	ctx.Export("wordpressParameterPath", pulumi.String(WordPressParameterPath(cfg)))
	return wp, nil
}

// databaseSecrets maps the official image's WORDPRESS_DB_* variables to
// the data tier's parameters, and gives the execution role exactly what
// reading them takes.
func databaseSecrets(db *data.Database, keys *data.Keys) compute.DatabaseArgs {
	p := db.Parameters
	out := compute.DatabaseArgs{
		Secrets: map[string]pulumi.StringInput{
			"WORDPRESS_DB_HOST":     p.HostARN,
			"WORDPRESS_DB_PORT":     p.PortARN,
			"WORDPRESS_DB_USER":     p.UserARN,
			"WORDPRESS_DB_PASSWORD": p.PasswordARN,
			"WORDPRESS_DB_NAME":     p.NameARN,
		},
		// The path ARN ends with "/": every parameter below it.
		ParameterPathARN: p.ParameterPathARN + "*",
		KeyARNs:          []pulumi.StringInput{keys.ParametersKeyARN},
	}
	if p.PasswordFromSecretsManager {
		// valueFrom is "<secret arn>:password::"; IAM wants the secret.
		out.SecretARNs = []pulumi.StringInput{p.PasswordARN.ApplyT(func(v string) string {
			return strings.TrimSuffix(v, ":password::")
		}).(pulumi.StringOutput)}
	}
	return out
}

// WordPressParameterPath is where WordPress's own secrets (its keys and
// salts) live in Parameter Store.
func WordPressParameterPath(cfg *config.Config) string {
	return fmt.Sprintf("/%s/%s/wordpress/", cfg.Project, cfg.Stack)
}

// authKeySecrets maps the image's WORDPRESS_*_KEY and _SALT variables to
// the parameters that hold them: WORDPRESS_NONCE_SALT reads nonce-salt.
func authKeySecrets(k *data.AuthKeys) (compute.AuthKeysArgs, error) {
	out := compute.AuthKeysArgs{Secrets: map[string]pulumi.StringInput{}, ParameterPathARN: k.ParameterPathARN}
	for _, v := range compute.AuthKeyVariables {
		name := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(v, "WORDPRESS_")), "_", "-")
		arn, ok := k.ARNs[name]
		if !ok {
			return out, fmt.Errorf("no parameter %s for %s", name, v)
		}
		out.Secrets[v] = arn
	}
	return out, nil
}

// computeExports are the compute tier's stack outputs: where the site
// answers and the names the README's commands take.
func computeExports(wp *compute.WordPress) map[string]pulumi.Input {
	out := map[string]pulumi.Input{
		"siteUrl":             wp.URL,
		"loadBalancerDnsName": wp.LoadBalancerDNSName,
		"clusterName":         wp.ClusterName,
		"serviceName":         wp.ServiceName,
		"fileSystemId":        wp.FileSystemID,
		"wordpressLogGroup":   wp.LogGroupName,
	}
	if wp.HasBastion {
		out["bastionInstanceId"] = wp.BastionInstanceID
	}
	return out
}
