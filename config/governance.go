package config

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strings"
)

// Governance is wordpress:governance: the alarm topic, the account-wide
// services and the alarms and dashboard over the stack.
type Governance struct {
	// AlarmEmails are subscribed to the alarm topic. Each address must
	// confirm the subscription from the email AWS sends.
	AlarmEmails []string `json:"alarmEmails"`
	// SecurityHub, GuardDuty, AWSConfig, S3AccountPublicAccessBlock and
	// SessionManagerPreferences exist once per account and Region; each
	// one's Mode says whether this stack owns it, adopts the one someone
	// else runs, or leaves it alone.
	SecurityHub                SecurityHub    `json:"securityHub"`
	GuardDuty                  GuardDuty      `json:"guardDuty"`
	AWSConfig                  AWSConfig      `json:"awsConfig"`
	S3AccountPublicAccessBlock AccountService `json:"s3AccountPublicAccessBlock"`
	SessionManagerPreferences  AccountService `json:"sessionManagerPreferences"`
	// RetainOnDelete leaves the account-wide services this stack created
	// in place when it is destroyed (or their mode changes away from
	// create): they serve the whole account, not only this stack.
	RetainOnDelete bool `json:"retainOnDelete"`
	// Dashboard adds a CloudWatch dashboard of the whole stack.
	Dashboard bool `json:"dashboard"`
	// Alarms says which alarm groups exist and their thresholds.
	Alarms Alarms `json:"alarms"`
}

// Mode says who owns an account-wide service.
type Mode string

// The modes of an account-wide service.
const (
	// ModeCreate: this stack turns the service on and owns it.
	ModeCreate Mode = "create"
	// ModeExisting: someone else runs it (an organization's delegated
	// administrator, Control Tower, another stack). The stack creates none
	// of it, looks it up under the engine (the preview stops when it is
	// missing) and still wires what it needs to it.
	ModeExisting Mode = "existing"
	// ModeOff: the stack neither creates nor expects it.
	ModeOff Mode = "off"
)

// Modes are the modes, in the order messages list them.
var Modes = []Mode{ModeCreate, ModeExisting, ModeOff}

// Creates reports whether the stack creates the service.
func (m Mode) Creates() bool { return m == ModeCreate }

// Adopts reports whether someone else runs the service.
func (m Mode) Adopts() bool { return m == ModeExisting }

// On reports whether the service runs in the account, by this stack or by
// someone else.
func (m Mode) On() bool { return m == ModeCreate || m == ModeExisting }

// AccountService is an account-wide service with nothing to set but its
// mode.
type AccountService struct {
	Mode Mode `json:"mode"`
}

// SecurityHub configures AWS Security Hub (CSPM).
type SecurityHub struct {
	Mode Mode `json:"mode"`
	// Standards are subscribed when this stack creates the hub; see
	// SecurityHubStandards. "fsbp" is required then.
	Standards []string `json:"standards"`
}

// GuardDuty configures the GuardDuty detector.
type GuardDuty struct {
	Mode Mode `json:"mode"`
	// FindingSeverity is the lowest severity (low, medium, high, critical)
	// that is sent to the alarm topic, whoever runs the detector.
	FindingSeverity string `json:"findingSeverity"`
	// FargateAgent lets the WordPress tasks' execution role pull the
	// security agent GuardDuty adds to Fargate tasks when runtime
	// monitoring manages it: a stack that creates the detector turns that
	// on, and an organization can turn it on for any account at any time.
	FargateAgent bool `json:"fargateAgent"`
}

// AWSConfig configures the AWS Config recorder, its bucket and rules.
type AWSConfig struct {
	Mode Mode `json:"mode"`
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
// account-wide service adopted (existing), the alarms and dashboard on.
//
// existing is the default because it is what works in the accounts people
// really deploy to: in an AWS Organization (with or without Control
// Tower) the delegated administrator turns Security Hub and GuardDuty on
// for every member account and Control Tower runs its own Config
// recorder, so a second hub, detector or recorder fails the apply.
// Adopting creates nothing that can clash, and an account where a service
// is missing stops the preview, before anything is created, naming the
// key that makes this stack create it.
func DefaultGovernance() Governance {
	return Governance{
		AlarmEmails: []string{},
		SecurityHub: SecurityHub{Mode: ModeExisting, Standards: []string{"fsbp"}},
		GuardDuty:   GuardDuty{Mode: ModeExisting, FindingSeverity: "medium", FargateAgent: true},
		AWSConfig: AWSConfig{
			Mode:                    ModeExisting,
			RecordGlobalResources:   true,
			CreateServiceLinkedRole: true,
			RetentionDays:           730,
		},
		S3AccountPublicAccessBlock: AccountService{Mode: ModeExisting},
		SessionManagerPreferences:  AccountService{Mode: ModeExisting},
		RetainOnDelete:             true,
		Dashboard:                  true,
		Alarms: Alarms{
			Groups:     slices.Clone(AlarmGroups),
			Thresholds: DefaultAlarmThresholds(),
		},
	}
}

// AccountServiceKey is one account-wide service: its mode's config key,
// the policy check AWS evaluates for it in every account ("" when there is
// none) and the mode.
type AccountServiceKey struct {
	Key   string
	Check string
	Mode  Mode
}

// AccountServices lists the account-wide services with their modes.
func (g Governance) AccountServices() []AccountServiceKey {
	return []AccountServiceKey{
		{"governance.securityHub.mode", "WP.GOV.1", g.SecurityHub.Mode},
		{"governance.guardDuty.mode", "GuardDuty.1", g.GuardDuty.Mode},
		{"governance.awsConfig.mode", "Config.1", g.AWSConfig.Mode},
		{"governance.s3AccountPublicAccessBlock.mode", "S3.1", g.S3AccountPublicAccessBlock.Mode},
		{"governance.sessionManagerPreferences.mode", "", g.SessionManagerPreferences.Mode},
	}
}

// ManagedOutside maps the policy check of each account-wide service the
// stack adopts (mode existing) to why it passes with nothing of it in the
// plan.
func (g Governance) ManagedOutside() map[string]string {
	out := map[string]string{}
	for _, s := range g.AccountServices() {
		if s.Check != "" && s.Mode.Adopts() {
			out[s.Check] = fmt.Sprintf("managed outside this stack (%s: existing); the preview stops if the account does not have it", s.Key)
		}
	}
	return out
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

	for _, s := range g.AccountServices() {
		if !slices.Contains(Modes, s.Mode) {
			p.addf("%s: must be create (this stack turns it on and owns it), existing (someone else runs it in this account and Region: an organization's delegated administrator, Control Tower, another stack) or off, got %q", s.Key, s.Mode)
		}
	}

	if g.SecurityHub.Mode.Creates() {
		for i, s := range g.SecurityHub.Standards {
			if !slices.Contains(SecurityHubStandards, s) {
				p.addf("governance.securityHub.standards[%d]: unknown standard %q%s; known standards are %s", i, s, suggest(s, SecurityHubStandards), strings.Join(SecurityHubStandards, ", "))
			}
		}
		// The project's baseline is FSBP: policy check WP.GOV.1 and the
		// README's controls assume it.
		if !slices.Contains(g.SecurityHub.Standards, "fsbp") {
			p.addf("governance.securityHub.standards must include \"fsbp\" (AWS Foundational Security Best Practices) when this stack creates Security Hub, got %v", g.SecurityHub.Standards)
		}
	}

	// The findings rule forwards the account's findings whoever runs the
	// detector.
	if g.GuardDuty.Mode.On() && !slices.Contains(GuardDutySeverities, g.GuardDuty.FindingSeverity) {
		p.addf("governance.guardDuty.findingSeverity: must be one of %s, got %q", strings.Join(GuardDutySeverities, ", "), g.GuardDuty.FindingSeverity)
	}
	if g.GuardDuty.Mode.Creates() && !g.GuardDuty.FargateAgent {
		p.addf("governance.guardDuty.fargateAgent is false, but this stack creates the detector with Fargate runtime monitoring, whose agent the tasks could then not pull (CannotPullContainerError); set fargateAgent: true")
	}

	// S3 lifecycle expiration takes a positive number of days
	// (LifecycleExpiration.Days); ten years bounds a typo.
	if g.AWSConfig.Mode.Creates() && (g.AWSConfig.RetentionDays < 1 || g.AWSConfig.RetentionDays > 3653) {
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

// legacySettings finds settings of an earlier shape in the raw value of a
// top-level key, reports each with what replaced it, and returns the value
// without them, so that decoding does not report them a second time.
// Nothing is translated silently: `enabled: true` used to create a service
// that, in a governed account, already exists, so the stack's owner picks
// the mode.
func legacySettings(project, stack, key, value string) (string, Problems) {
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(value), &fields) != nil {
		return value, nil
	}
	var p Problems
	changed := false
	set := func(path, mode string) string {
		return fmt.Sprintf("`pulumi config set --path '%s:%s' %s -s %s`", project, path, mode, stack)
	}
	switch key {
	case "governance":
		for _, svc := range []string{"securityHub", "guardDuty", "awsConfig"} {
			var inner map[string]json.RawMessage
			if json.Unmarshal(fields[svc], &inner) != nil {
				continue
			}
			old, ok := inner["enabled"]
			if !ok {
				continue
			}
			was := "off"
			if string(old) == "true" {
				was = "create"
			}
			p.addf("governance.%s.enabled: replaced by governance.%s.mode: create (this stack turns it on: what enabled: true did), existing (adopt the one an organization's delegated administrator or Control Tower runs; the default) or off (what enabled: false did); remove enabled and set the mode, e.g. %s", svc, svc, set("governance."+svc+".mode", was))
			delete(inner, "enabled")
			fields[svc], _ = json.Marshal(inner)
			changed = true
		}
		if old, ok := fields["s3AccountPublicAccessBlock"]; ok && (string(old) == "true" || string(old) == "false") {
			was := "off"
			if string(old) == "true" {
				was = "create"
			}
			p.addf("governance.s3AccountPublicAccessBlock: %s is the earlier form; it is now an object with a mode: create (what true did), existing (the account's owner sets it; the default) or off (what false did), e.g. %s", old, set("governance.s3AccountPublicAccessBlock.mode", was))
			delete(fields, "s3AccountPublicAccessBlock")
			changed = true
		}
	case "compute":
		var bastion map[string]json.RawMessage
		if json.Unmarshal(fields["bastion"], &bastion) == nil {
			if old, ok := bastion["sessionPreferences"]; ok {
				was := "off"
				if string(old) == "true" {
					was = "create"
				}
				p.addf("compute.bastion.sessionPreferences: moved to governance.sessionManagerPreferences.mode, with the other account-wide services: create (what true did), existing (someone else saved the account's Session Manager preferences; the default) or off (what false did); remove it and set e.g. %s", set("governance.sessionManagerPreferences.mode", was))
				delete(bastion, "sessionPreferences")
				fields["bastion"], _ = json.Marshal(bastion)
				changed = true
			}
		}
	}
	if !changed {
		return value, nil
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return value, p
	}
	return string(b), p
}
