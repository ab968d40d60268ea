// Package platform is the whole program: it reads the stack config once and
// wires the components together. It is the only package that knows every
// part.
package platform

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/data"
	"github.com/nequi-platform/wordpress-ecs/governance"
	"github.com/nequi-platform/wordpress-ecs/network"
	"github.com/nequi-platform/wordpress-ecs/security"
)

// Deploy is the Pulumi program, as `pulumi preview` and `pulumi up` run it.
func Deploy(ctx *pulumi.Context) error { return deploy(ctx, false) }

// DeployOffline is the program as the offline plan and the tests run it:
// there is no secrets provider, so a secret the stack needs but has not set
// becomes a placeholder instead of stopping the run.
func DeployOffline(ctx *pulumi.Context) error { return deploy(ctx, true) }

func deploy(ctx *pulumi.Context, offline bool) error {
	cfg, err := loadConfig(ctx, offline)
	if err != nil {
		return err
	}
	return Build(ctx, cfg)
}

// loadConfig reads the stack config once. Under the Pulumi engine the whole
// stack config arrives in PULUMI_CONFIG, so a misspelled key is caught
// there too; otherwise (tests, the offline plan) the known keys are read
// from the context, whose config the caller has already checked with
// config.Load. Secretness comes from the engine (PULUMI_CONFIG_SECRET_KEYS,
// which the SDK exposes as ctx.IsConfigSecret), so a value set with
// --secret stays a secret in every input built from it.
func loadConfig(ctx *pulumi.Context, offline bool) (*config.Config, error) {
	raw := map[string]string{}
	if env := os.Getenv(pulumi.EnvConfig); env != "" {
		if err := json.Unmarshal([]byte(env), &raw); err != nil {
			return nil, fmt.Errorf("read %s: %w", pulumi.EnvConfig, err)
		}
	}
	keys := []string{"aws:region"}
	for _, k := range config.Keys() {
		keys = append(keys, ctx.Project()+":"+k)
	}
	for _, k := range keys {
		if v, ok := ctx.GetConfig(k); ok {
			raw[k] = v
		}
	}
	var secret []string
	for k := range raw {
		if ctx.IsConfigSecret(k) {
			secret = append(secret, k)
		}
	}
	opts := []config.Option{config.WithSecretKeys(secret...)}
	if offline {
		opts = append(opts, config.Offline())
	}
	return config.Load(raw, ctx.Project(), ctx.Stack(), opts...)
}

// Build declares the stack described by cfg.
func Build(ctx *pulumi.Context, cfg *config.Config) error {
	prefix := fmt.Sprintf("%s-%s", cfg.Project, cfg.Stack)
	// Config refuses user tags with these keys, so they always say what the
	// stack is.
	tags := maps.Clone(cfg.Tags)
	maps.Copy(tags, map[string]string{
		"Project":     cfg.Project,
		"Stack":       cfg.Stack,
		"Environment": string(cfg.Environment),
		"ManagedBy":   "pulumi",
	})

	env, err := account.Lookup(ctx, cfg.Region)
	if err != nil {
		return err
	}
	gov := where{prefix: prefix, env: env, tags: tags}
	topic, err := newAlarmTopic(ctx, cfg, gov)
	if err != nil {
		return err
	}
	ctx.Export("alarmTopicArn", topic.TopicARN)
	// Its AccessLogBucket receives the S3 server access logs of the compute
	// tier's buckets (S3.9).
	services, err := newAccountServices(ctx, cfg, gov, topic)
	if err != nil {
		return err
	}

	// The WordPress tiers, unless the stack is the hub (site: false). The
	// network comes with them, or alone for Airflow.
	var clusters []string
	if cfg.Site || cfg.Airflow.Enabled {
		logGroupPrefix := fmt.Sprintf("/%s/%s/", cfg.Project, cfg.Stack)
		keys, err := newKeys(ctx, cfg, env, prefix, logGroupPrefix, tags)
		if err != nil {
			return err
		}
		net, err := newNetwork(ctx, cfg, env, prefix, logGroupPrefix, tags, keys)
		if err != nil {
			return err
		}
		if cfg.Site {
			if err := site(ctx, cfg, env, prefix, logGroupPrefix, tags, net, keys, services, gov, topic); err != nil {
				return err
			}
			// The WordPress cluster is named after the prefix (compute's
			// ecs.Cluster): the only cluster a direct member role restarts.
			clusters = []string{env.ARN("ecs", env.Region, env.AccountID, "cluster/"+prefix)}
		}
		if err := deployAirflow(ctx, cfg, prefix, tags, env, net.VpcID, net.PrivateSubnetIDs); err != nil {
			return err
		}
	}

	return restartPipeline(ctx, cfg, prefix, env, topic.TopicARN, clusters, tags)
}

// newNetwork declares the VPC and its tiers.
func newNetwork(ctx *pulumi.Context, cfg *config.Config, env account.Env, prefix, logGroupPrefix string, tags map[string]string, keys *data.Keys) (*network.Network, error) {
	azs, err := availabilityZones(ctx, cfg)
	if err != nil {
		return nil, err
	}
	subnets := cfg.Network.Subnets()
	netArgs := network.NetworkArgs{
		Env:                env,
		CIDR:               cfg.Network.CIDR,
		AvailabilityZones:  azs,
		PublicSubnetCIDRs:  subnets.Public,
		PrivateSubnetCIDRs: subnets.Private,
		DataSubnetCIDRs:    subnets.Data,
		NATStrategy:        network.NATStrategy(cfg.Network.NATStrategy),
		InterfaceEndpoints: cfg.Network.InterfaceEndpoints,
		Tags:               tags,
	}
	if cfg.Network.FlowLogs {
		netArgs.FlowLogs = &network.FlowLogArgs{
			LogGroupName:  logGroupPrefix + "vpc-flow-logs",
			RetentionDays: cfg.Network.FlowLogRetentionDays,
			KMSKeyARN:     keys.LogsKeyARN,
		}
	}
	net, err := network.NewNetwork(ctx, prefix, netArgs)
	if err != nil {
		return nil, err
	}
	ctx.Export("vpcId", net.VpcID)
	ctx.Export("availabilityZones", pulumi.ToStringArray(azs))
	ctx.Export("publicSubnetIds", net.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", net.PrivateSubnetIDs)
	ctx.Export("dataSubnetIds", net.DataSubnetIDs)
	return net, nil
}

// site declares WordPress over the network: the security groups the tiers
// share, the database, the compute tier and the alarms over all of them.
func site(ctx *pulumi.Context, cfg *config.Config, env account.Env, prefix, logGroupPrefix string, tags map[string]string,
	net *network.Network, keys *data.Keys, services *governance.AccountServices, gov where, topic *governance.AlarmTopic) error {
	// The groups that data and compute both refer to, made before either
	// (see package security).
	groupArgs := security.GroupsArgs{
		VpcID:   net.VpcID.ToStringOutput(),
		AppPort: wordpressPort,
		DBPort:  cfg.Data.Port,
		// 443 opens on the load balancer only when there is a listener.
		HTTPS: cfg.Compute.HTTPS.Enabled,
		Tags:  tags,
	}
	if cfg.Network.InterfaceEndpoints {
		// The bastion then reaches AWS through the endpoints and S3's
		// gateway only, not the internet (trivy AWS-0104).
		groupArgs.Endpoints = &security.EndpointsArgs{
			SecurityGroupID: net.EndpointSecurityGroupID.ToStringOutput(),
			S3PrefixListID:  net.S3PrefixListID,
		}
	}
	groups, err := security.NewGroups(ctx, prefix, groupArgs)
	if err != nil {
		return err
	}

	db, err := newDatabase(ctx, cfg, env, prefix, tags, net, groups, keys)
	if err != nil {
		return err
	}
	var serverAccessLogs pulumi.StringInput
	if services != nil && cfg.Compute.AccessLogs {
		serverAccessLogs = services.AccessLogBucket
	}
	wp, err := newCompute(ctx, cfg, env, prefix, logGroupPrefix, tags, net, groups, keys, db, serverAccessLogs, guardDutyAgent(cfg, services))
	if err != nil {
		return err
	}

	alarms, err := newAlarms(ctx, cfg, gov, topic, alarmTargets(cfg, net, db, wp))
	if err != nil {
		return err
	}
	if cfg.Governance.Dashboard {
		ctx.Export("dashboardUrl", alarms.DashboardURL)
	}
	return nil
}

// guardDutyAgent says whether the tasks' execution role may pull
// GuardDuty's Fargate agent: whenever GuardDuty may add it, that is when
// this stack turns runtime monitoring on, when the adopted detector has
// it, or when config says the organization may turn it on.
func guardDutyAgent(cfg *config.Config, services *governance.AccountServices) bool {
	return cfg.Governance.GuardDuty.FargateAgent || cfg.Governance.GuardDuty.Mode.Creates() || (services != nil && services.FargateAgent)
}

// wordpressPort is where the official wordpress image's Apache listens.
const wordpressPort = 80

// availabilityZones returns the configured zones, or the first azCount zones
// the region reports as available to this account.
func availabilityZones(ctx *pulumi.Context, cfg *config.Config) ([]string, error) {
	if len(cfg.Network.AvailabilityZones) > 0 {
		return cfg.Network.AvailabilityZones, nil
	}
	res, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State: pulumi.StringRef("available"),
		// Local and Wavelength zones lack NAT gateways and most services.
		Filters: []aws.GetAvailabilityZonesFilter{{Name: "opt-in-status", Values: []string{"opt-in-not-required"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("list availability zones of %s: %w", cfg.Region, err)
	}
	if len(res.Names) < cfg.Network.AZCount {
		return nil, fmt.Errorf("network.azCount is %d but %s has only %d available zones (%v); lower network.azCount", cfg.Network.AZCount, cfg.Region, len(res.Names), res.Names)
	}
	return res.Names[:cfg.Network.AZCount], nil
}
