package config

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
)

// Governance is wordpress:governance: the alarm topic, the account-level
// security services and the alarms and dashboard over the stack.
type Governance struct {
	// AlarmEmails are subscribed to the alarm topic. Each address must
	// confirm the subscription from the email AWS sends.
	AlarmEmails []string `json:"alarmEmails"`
	// SecurityHub, GuardDuty and AWSConfig are account-level services; an
	// account whose services are managed by an organization's delegated
	// administrator turns them off here.
	SecurityHub SecurityHub `json:"securityHub"`
	GuardDuty   GuardDuty   `json:"guardDuty"`
	AWSConfig   AWSConfig   `json:"awsConfig"`
	// S3AccountPublicAccessBlock turns on S3 Block Public Access for the
	// whole account (Security Hub S3.1), not only for this stack's buckets.
	S3AccountPublicAccessBlock bool `json:"s3AccountPublicAccessBlock"`
	// Dashboard adds a CloudWatch dashboard of the whole stack.
	Dashboard bool `json:"dashboard"`
	// Alarms says which alarm groups exist and their thresholds.
	Alarms Alarms `json:"alarms"`
}

// SecurityHub configures AWS Security Hub (CSPM).
type SecurityHub struct {
	Enabled bool `json:"enabled"`
	// Standards to subscribe to; see SecurityHubStandards. "fsbp" is
	// required whenever Security Hub is on.
	Standards []string `json:"standards"`
}

// GuardDuty configures the GuardDuty detector.
type GuardDuty struct {
	Enabled bool `json:"enabled"`
	// FindingSeverity is the lowest severity (low, medium, high, critical)
	// that is sent to the alarm topic.
	FindingSeverity string `json:"findingSeverity"`
}

// AWSConfig configures the AWS Config recorder, its bucket and rules.
type AWSConfig struct {
	Enabled bool `json:"enabled"`
	// RecordGlobalResources records IAM users, groups, roles and policies.
	// They are the same in every region, so exactly one region of an
	// account should record them.
	RecordGlobalResources bool `json:"recordGlobalResources"`
	// ExcludeECSServices stops recording AWS::ECS::Service, whose tags the
	// nightly restart changes every day.
	ExcludeECSServices bool `json:"excludeEcsServices"`
	// CreateServiceLinkedRole creates AWSServiceRoleForConfig; turn it off
	// when the account already has that role.
	CreateServiceLinkedRole bool `json:"createServiceLinkedRole"`
	// RetentionDays is how long configuration history and snapshots stay in
	// the delivery bucket.
	RetentionDays int `json:"retentionDays"`
}

// Alarms says which alarm groups a stack has and where they fire.
type Alarms struct {
	// Groups are the alarm groups to create; see AlarmGroups. A group only
	// produces alarms once the resource it watches exists in the stack.
	Groups []string `json:"groups"`
	// Thresholds are the values the alarms fire at.
	Thresholds AlarmThresholds `json:"thresholds"`
}

// AlarmThresholds are the values the alarms fire at. Counts are per five
// minutes; every alarm fires when the value goes past the threshold
// (above it, or below it for the "free"/"balance" ones).
type AlarmThresholds struct {
	ALB5xx                   float64 `json:"alb5xx"`
	Target5xx                float64 `json:"target5xx"`
	TargetResponseP95Seconds float64 `json:"targetResponseP95Seconds"`
	UnhealthyHosts           float64 `json:"unhealthyHosts"`
	ECSCPUPercent            float64 `json:"ecsCpuPercent"`
	ECSMemoryPercent         float64 `json:"ecsMemoryPercent"`
	RDSCPUPercent            float64 `json:"rdsCpuPercent"`
	RDSFreeStorageGiB        float64 `json:"rdsFreeStorageGiB"`
	RDSFreeableMemoryMiB     float64 `json:"rdsFreeableMemoryMiB"`
	RDSConnections           float64 `json:"rdsConnections"`
	RDSReplicaLagSeconds     float64 `json:"rdsReplicaLagSeconds"`
	EFSBurstCreditGiB        float64 `json:"efsBurstCreditGiB"`
	EFSThroughputPercent     float64 `json:"efsThroughputPercent"`
	WAFBlockedRequests       float64 `json:"wafBlockedRequests"`
	PHPFatalErrors           float64 `json:"phpFatalErrors"`
	NATPacketsDropped        float64 `json:"natPacketsDropped"`
}

// SecurityHubStandards are the standards wordpress:governance can subscribe
// to, by the name used in config.
var SecurityHubStandards = []string{"fsbp", "cis-1.4.0", "cis-3.0.0"}

// GuardDutySeverities are the finding severity names, lowest first.
var GuardDutySeverities = []string{"low", "medium", "high", "critical"}

// AlarmGroups are the alarm groups, one per watched tier.
var AlarmGroups = []string{"alb", "ecs", "rds", "efs", "waf", "phpErrors", "nat"}

// DefaultGovernance is what a stack gets when it sets nothing: every
// service and alarm on.
func DefaultGovernance() Governance {
	return Governance{
		AlarmEmails: []string{},
		SecurityHub: SecurityHub{Enabled: true, Standards: []string{"fsbp"}},
		GuardDuty:   GuardDuty{Enabled: true, FindingSeverity: "medium"},
		AWSConfig: AWSConfig{
			Enabled:                 true,
			RecordGlobalResources:   true,
			CreateServiceLinkedRole: true,
			RetentionDays:           730,
		},
		S3AccountPublicAccessBlock: true,
		Dashboard:                  true,
		Alarms: Alarms{
			Groups:     slices.Clone(AlarmGroups),
			Thresholds: DefaultAlarmThresholds(),
		},
	}
}

// DefaultAlarmThresholds are starting points for a small WordPress site;
// tune them per stack once real traffic is known.
func DefaultAlarmThresholds() AlarmThresholds {
	return AlarmThresholds{
		ALB5xx:                   10,
		Target5xx:                10,
		TargetResponseP95Seconds: 2,
		UnhealthyHosts:           0,
		ECSCPUPercent:            80,
		ECSMemoryPercent:         80,
		RDSCPUPercent:            80,
		RDSFreeStorageGiB:        5,
		RDSFreeableMemoryMiB:     256,
		RDSConnections:           100,
		RDSReplicaLagSeconds:     60,
		EFSBurstCreditGiB:        100,
		EFSThroughputPercent:     90,
		WAFBlockedRequests:       500,
		PHPFatalErrors:           0,
		NATPacketsDropped:        100,
	}
}

// HasAlarmGroup reports whether the stack asks for the alarm group.
func (g Governance) HasAlarmGroup(group string) bool { return slices.Contains(g.Alarms.Groups, group) }

func (g Governance) validate() Problems {
	var p Problems
	seen := map[string]bool{}
	for i, e := range g.AlarmEmails {
		key := fmt.Sprintf("governance.alarmEmails[%d]", i)
		addr, err := mail.ParseAddress(e)
		switch {
		case err != nil || addr.Address != e || !strings.Contains(e[strings.LastIndex(e, "@")+1:], "."):
			p.addf("%s: %q is not an email address such as oncall@example.com", key, e)
		case seen[strings.ToLower(e)]:
			p.addf("%s: %q is listed twice", key, e)
		}
		seen[strings.ToLower(e)] = true
	}

	if g.SecurityHub.Enabled {
		for i, s := range g.SecurityHub.Standards {
			if !slices.Contains(SecurityHubStandards, s) {
				p.addf("governance.securityHub.standards[%d]: unknown standard %q%s; known standards are %s", i, s, suggest(s, SecurityHubStandards), strings.Join(SecurityHubStandards, ", "))
			}
		}
		// The project's baseline is FSBP: policy check WP.GOV.1 and the
		// README's controls assume it.
		if !slices.Contains(g.SecurityHub.Standards, "fsbp") {
			p.addf("governance.securityHub.standards must include \"fsbp\" (AWS Foundational Security Best Practices) when Security Hub is enabled, got %v", g.SecurityHub.Standards)
		}
	}

	if g.GuardDuty.Enabled && !slices.Contains(GuardDutySeverities, g.GuardDuty.FindingSeverity) {
		p.addf("governance.guardDuty.findingSeverity: must be one of %s, got %q", strings.Join(GuardDutySeverities, ", "), g.GuardDuty.FindingSeverity)
	}

	// S3 lifecycle expiration takes a positive number of days
	// (LifecycleExpiration.Days); ten years bounds a typo.
	if g.AWSConfig.Enabled && (g.AWSConfig.RetentionDays < 1 || g.AWSConfig.RetentionDays > 3653) {
		p.addf("governance.awsConfig.retentionDays must be between 1 and 3653, got %d", g.AWSConfig.RetentionDays)
	}

	for i, group := range g.Alarms.Groups {
		if !slices.Contains(AlarmGroups, group) {
			p.addf("governance.alarms.groups[%d]: unknown alarm group %q%s; known groups are %s", i, group, suggest(group, AlarmGroups), strings.Join(AlarmGroups, ", "))
		}
	}
	p = append(p, g.Alarms.Thresholds.validate()...)
	return p
}

func (t AlarmThresholds) validate() Problems {
	var p Problems
	nonNegative := []struct {
		key   string
		value float64
	}{
		{"alb5xx", t.ALB5xx}, {"target5xx", t.Target5xx}, {"unhealthyHosts", t.UnhealthyHosts},
		{"rdsFreeStorageGiB", t.RDSFreeStorageGiB}, {"rdsFreeableMemoryMiB", t.RDSFreeableMemoryMiB},
		{"rdsConnections", t.RDSConnections}, {"efsBurstCreditGiB", t.EFSBurstCreditGiB},
		{"wafBlockedRequests", t.WAFBlockedRequests}, {"phpFatalErrors", t.PHPFatalErrors},
		{"natPacketsDropped", t.NATPacketsDropped},
	}
	for _, v := range nonNegative {
		if v.value < 0 {
			p.addf("governance.alarms.thresholds.%s must be 0 or more, got %g", v.key, v.value)
		}
	}
	positive := []struct {
		key   string
		value float64
	}{
		{"targetResponseP95Seconds", t.TargetResponseP95Seconds}, {"rdsReplicaLagSeconds", t.RDSReplicaLagSeconds},
	}
	for _, v := range positive {
		if v.value <= 0 {
			p.addf("governance.alarms.thresholds.%s must be more than 0, got %g", v.key, v.value)
		}
	}
	percents := []struct {
		key   string
		value float64
	}{
		{"ecsCpuPercent", t.ECSCPUPercent}, {"ecsMemoryPercent", t.ECSMemoryPercent},
		{"rdsCpuPercent", t.RDSCPUPercent}, {"efsThroughputPercent", t.EFSThroughputPercent},
	}
	for _, v := range percents {
		if v.value <= 0 || v.value >= 100 {
			p.addf("governance.alarms.thresholds.%s is a percentage: between 0 and 100 (exclusive), got %g", v.key, v.value)
		}
	}
	return p
}
