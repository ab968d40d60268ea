package platform

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/compute"
	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/data"
	"github.com/nequi-platform/wordpress-ecs/governance"
	"github.com/nequi-platform/wordpress-ecs/network"
)

// where is what the governance components need to know about the stack.
type where struct {
	prefix string
	env    account.Env
	tags   map[string]string
}

// newAlarmTopic declares the stack's alarm topic. It comes first so that
// every other tier (the restart pipeline, airflow) can notify it.
func newAlarmTopic(ctx *pulumi.Context, cfg *config.Config, w where) (*governance.AlarmTopic, error) {
	return governance.NewAlarmTopic(ctx, w.prefix+"-alarms", governance.AlarmTopicArgs{
		AccountID: w.env.AccountID,
		Region:    cfg.Region,
		Partition: w.env.Partition,
		Emails:    cfg.Governance.AlarmEmails,
		Tags:      w.tags,
	})
}

// newAccountServices declares what the stack's config creates of the
// account-wide services and looks up what it adopts; nothing (nil) when
// every one is off and no bucket needs an access-log bucket. Its
// AccessLogBucket is where other tiers' buckets send their server access
// logs.
func newAccountServices(ctx *pulumi.Context, cfg *config.Config, w where, topic *governance.AlarmTopic) (*governance.AccountServices, error) {
	g := cfg.Governance
	args := governance.AccountServicesArgs{
		AccountID:      w.env.AccountID,
		Region:         cfg.Region,
		Partition:      w.env.Partition,
		TopicARN:       topic.TopicARN,
		AccessLogs:     cfg.Site && cfg.Compute.AccessLogs,
		RetainOnDelete: g.RetainOnDelete,
		Tags:           w.tags,
	}
	if m := g.SecurityHub.Mode; m.On() {
		args.SecurityHub = &governance.SecurityHubArgs{Existing: m.Adopts(), Standards: g.SecurityHub.Standards}
	}
	if m := g.GuardDuty.Mode; m.On() {
		args.GuardDuty = &governance.GuardDutyArgs{Existing: m.Adopts(), FindingSeverity: g.GuardDuty.FindingSeverity}
	}
	if c := g.AWSConfig; c.Mode.On() {
		args.Config = &governance.ConfigArgs{
			Existing:                c.Mode.Adopts(),
			RecordGlobalResources:   c.RecordGlobalResources,
			ExcludeECSServices:      c.ExcludeECSServices,
			CreateServiceLinkedRole: c.CreateServiceLinkedRole,
			RetentionDays:           c.RetentionDays,
		}
	}
	if m := g.S3AccountPublicAccessBlock.Mode; m.On() {
		args.PublicAccessBlock = &governance.PublicAccessBlockArgs{Existing: m.Adopts()}
	}
	if args.SecurityHub == nil && args.GuardDuty == nil && args.Config == nil && args.PublicAccessBlock == nil && !args.AccessLogs {
		return nil, nil
	}
	s, err := governance.NewAccountServices(ctx, w.prefix, args)
	if err != nil {
		return nil, adoptionHint(err)
	}
	return s, nil
}

// adoptionHint turns a missing account-wide service the stack adopts into
// the config key and the two ways out.
func adoptionHint(err error) error {
	var missing *governance.MissingError
	if !errors.As(err, &missing) {
		return err
	}
	check := map[string]string{"securityHub": "WP.GOV.1", "guardDuty": "GuardDuty.1", "s3AccountPublicAccessBlock": "S3.1"}[missing.Service]
	waive := ""
	if check != "" {
		waive = fmt.Sprintf(" (and waive %s in wordpress:policy.waivers with the reason)", check)
	}
	return fmt.Errorf("governance.%s.mode is existing, but %v; set it to create to have this stack turn it on in this account and Region, or to off to go without%s", missing.Service, missing.Err, waive)
}

// AlarmTargets are the resources the alarms watch. Each tier fills in its
// own once it exists; nil means "not in this stack".
type AlarmTargets struct {
	ALB  *governance.ALBTarget
	ECS  *governance.ECSTarget
	RDS  *governance.RDSTarget
	EFS  *governance.EFSTarget
	WAF  *governance.WAFTarget
	Logs *governance.LogsTarget
	NAT  *governance.NATTarget
}

// alarmTargets are what the alarms watch, from every tier.
func alarmTargets(cfg *config.Config, net *network.Network, db *data.Database, wp *compute.WordPress) AlarmTargets {
	t := AlarmTargets{
		NAT:  natTarget(net, cfg.Network.NATStrategy),
		ALB:  &governance.ALBTarget{LoadBalancerARNSuffix: wp.LoadBalancerARNSuffix, TargetGroupARNSuffix: wp.TargetGroupARNSuffix},
		ECS:  &governance.ECSTarget{ClusterName: wp.ClusterName, ServiceName: wp.ServiceName},
		EFS:  &governance.EFSTarget{FileSystemID: wp.FileSystemID, ThroughputMode: wp.FileSystemThroughputMode},
		Logs: &governance.LogsTarget{LogGroupName: wp.LogGroupName},
		RDS:  &governance.RDSTarget{InstanceID: db.Identifier},
	}
	// One lag alarm per replica: the count is config, known now.
	for i := range cfg.Data.ReadReplicas {
		t.RDS.ReplicaIDs = append(t.RDS.ReplicaIDs, db.ReplicaIdentifiers.Index(pulumi.Int(i)))
	}
	if wp.HasWAF {
		t.WAF = &governance.WAFTarget{WebACLName: wp.WebACLName, Region: cfg.Region}
	}
	return t
}

// natTarget is the network's NAT gateways, as many as its strategy makes.
func natTarget(net *network.Network, strategy config.NATStrategy) *governance.NATTarget {
	count := 0
	switch strategy {
	case config.NATPerAZ:
		count = len(net.AvailabilityZones)
	case config.NATSingle:
		count = 1
	}
	if count == 0 {
		return nil
	}
	t := &governance.NATTarget{}
	for i := range count {
		t.GatewayIDs = append(t.GatewayIDs, net.NatGatewayIDs.Index(pulumi.Int(i)).ToStringOutput())
	}
	return t
}

// newAlarms declares the alarms of the groups the stack's config asks for,
// over the targets that exist, and the dashboard.
func newAlarms(ctx *pulumi.Context, cfg *config.Config, w where, topic *governance.AlarmTopic, t AlarmTargets) (*governance.Alarms, error) {
	g := cfg.Governance
	args := governance.AlarmsArgs{
		TopicARN:   topic.TopicARN,
		Region:     cfg.Region,
		Partition:  w.env.Partition,
		Thresholds: governance.Thresholds(g.Alarms.Thresholds),
		Dashboard:  g.Dashboard,
		Tags:       w.tags,
	}
	if g.HasAlarmGroup("alb") {
		args.ALB = t.ALB
	}
	if g.HasAlarmGroup("ecs") {
		args.ECS = t.ECS
	}
	if g.HasAlarmGroup("rds") {
		args.RDS = t.RDS
	}
	if g.HasAlarmGroup("efs") {
		args.EFS = t.EFS
	}
	if g.HasAlarmGroup("waf") {
		args.WAF = t.WAF
	}
	if g.HasAlarmGroup("phpErrors") {
		args.Logs = t.Logs
	}
	if g.HasAlarmGroup("nat") {
		args.NAT = t.NAT
	}
	a, err := governance.NewAlarms(ctx, w.prefix, args)
	if err != nil {
		return nil, fmt.Errorf("alarms: %w", err)
	}
	return a, nil
}
