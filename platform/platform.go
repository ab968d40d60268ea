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

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/data"
	"github.com/nequi-platform/wordpress-ecs/network"
)

// Deploy is the Pulumi program.
func Deploy(ctx *pulumi.Context) error {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return err
	}
	return Build(ctx, cfg)
}

// loadConfig reads the stack config once. Under the Pulumi engine the whole
// stack config arrives in PULUMI_CONFIG, so a misspelled key is caught
// there too; otherwise (tests, the offline plan) the known keys are read
// from the context, whose config the caller has already checked with
// config.Load.
func loadConfig(ctx *pulumi.Context) (*config.Config, error) {
	raw := map[string]string{}
	if env := os.Getenv(pulumi.EnvConfig); env != "" {
		if err := json.Unmarshal([]byte(env), &raw); err != nil {
			return nil, fmt.Errorf("read %s: %w", pulumi.EnvConfig, err)
		}
	}
	keys := []string{"aws:region"}
	for _, k := range config.Keys() {
		keys = append(keys, config.Namespace+":"+k)
	}
	for _, k := range keys {
		if v, ok := ctx.GetConfig(k); ok {
			raw[k] = v
		}
	}
	return config.Load(raw, ctx.Project(), ctx.Stack())
}

// Build declares the stack described by cfg.
func Build(ctx *pulumi.Context, cfg *config.Config) error {
	prefix := fmt.Sprintf("%s-%s", cfg.Project, cfg.Stack)
	tags := map[string]string{
		"Project":     cfg.Project,
		"Stack":       cfg.Stack,
		"Environment": string(cfg.Environment),
		"ManagedBy":   "pulumi",
	}
	maps.Copy(tags, cfg.Tags)

	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return fmt.Errorf("look up the AWS account: %w", err)
	}
	partition, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return fmt.Errorf("look up the AWS partition: %w", err)
	}
	azs, err := availabilityZones(ctx, cfg)
	if err != nil {
		return err
	}

	logGroupPrefix := fmt.Sprintf("/%s/%s/", cfg.Project, cfg.Stack)
	keys, err := data.NewKeys(ctx, prefix, data.KeysArgs{
		AccountID:         caller.AccountId,
		Region:            cfg.Region,
		Partition:         partition.Partition,
		LogGroupARNPrefix: fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", partition.Partition, cfg.Region, caller.AccountId, logGroupPrefix),
		Tags:              tags,
	})
	if err != nil {
		return err
	}

	subnets := cfg.Network.Subnets()
	netArgs := network.NetworkArgs{
		CIDR:               cfg.Network.CIDR,
		AvailabilityZones:  azs,
		PublicSubnetCIDRs:  subnets.Public,
		PrivateSubnetCIDRs: subnets.Private,
		DataSubnetCIDRs:    subnets.Data,
		NATStrategy:        network.NATStrategy(cfg.Network.NATStrategy),
		InterfaceEndpoints: cfg.Network.InterfaceEndpoints,
		Region:             cfg.Region,
		Tags:               tags,
	}
	if cfg.Network.FlowLogs {
		netArgs.FlowLogs = &network.FlowLogArgs{
			LogGroupName:  logGroupPrefix + "vpc-flow-logs",
			RetentionDays: cfg.Network.FlowLogRetentionDays,
			KMSKeyARN:     keys.LogsKeyARN,
			AccountID:     caller.AccountId,
		}
	}
	net, err := network.NewNetwork(ctx, prefix, netArgs)
	if err != nil {
		return err
	}

	if err := restartPipeline(ctx, cfg, prefix, caller.AccountId, partition.Partition, tags); err != nil {
		return err
	}

	ctx.Export("vpcId", net.VpcID)
	ctx.Export("availabilityZones", pulumi.ToStringArray(azs))
	ctx.Export("publicSubnetIds", net.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", net.PrivateSubnetIDs)
	ctx.Export("dataSubnetIds", net.DataSubnetIDs)
	return nil
}

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
