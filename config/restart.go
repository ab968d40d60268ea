package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // restart.timeZone must load on machines without a zoneinfo database

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// MemberRoleDeployment says how the member role reaches the member
// accounts.
type MemberRoleDeployment string

// The member role deployments.
const (
	// DeployStackSet deploys the role to every account of the configured
	// OUs with a service-managed CloudFormation StackSet, which also
	// deploys it to accounts that join those OUs later.
	DeployStackSet MemberRoleDeployment = "stackSet"
	// DeployDirect creates the role in the stack's own account: a
	// single-account stack, where the hub restarts its own services.
	DeployDirect MemberRoleDeployment = "direct"
)

// Restart configures the nightly restart pipeline (wordpress:restart).
type Restart struct {
	// Enabled deploys the pipeline.
	Enabled bool `json:"enabled"`
	// MemberAccounts are the accounts whose services are restarted (the
	// engine's ACCOUNTS); empty with memberRoleDeployment "direct", where
	// the stack's own account is the only one.
	MemberAccounts []string `json:"memberAccounts"`
	// Regions are the Regions whose services are restarted.
	Regions []string `json:"regions"`
	// MemberRoleName is the role the hub assumes in every member account;
	// empty means "<project>-<stack>-restart-member". It carries the
	// stack's name, so that two stacks' roles never share an account's
	// name for a role.
	MemberRoleName string `json:"memberRoleName"`
	// MemberRoleDeployment is stackSet or direct.
	MemberRoleDeployment MemberRoleDeployment `json:"memberRoleDeployment"`
	// OrganizationalUnits are the StackSet's deployment targets (OU or
	// root ids).
	OrganizationalUnits []string `json:"organizationalUnits"`
	// OrganizationID, when set, limits the member role's trust to
	// principals of this AWS Organization (aws:PrincipalOrgID).
	OrganizationID string `json:"organizationId"`
	// ExternalID, when set, must be passed by the hub to assume the member
	// role (sts:ExternalId).
	ExternalID string `json:"externalId"`
	// StackSetCallAs is DELEGATED_ADMIN (the hub runs in an account
	// registered as a delegated administrator for CloudFormation
	// StackSets: the usual place, and the default) or SELF (the hub runs
	// in the organization's management account). Only with stackSet.
	StackSetCallAs string `json:"stackSetCallAs"`
	// TimeZone is the IANA zone of the window.
	TimeZone string `json:"timeZone"`
	// WindowStart ("HH:MM"), WindowLength and BatchInterval (durations)
	// shape the night.
	WindowStart   string `json:"windowStart"`
	WindowLength  string `json:"windowLength"`
	BatchInterval string `json:"batchInterval"`
	// MinInterval is the least time between two restarts of a service.
	MinInterval string `json:"minInterval"`
	// OutsideWindow lets a run restart outside the window (a late trigger
	// or a person); off, such a run reports and restarts nothing.
	OutsideWindow bool `json:"outsideWindow"`
	// RecordTTLDays is how long run records and inventories are kept.
	RecordTTLDays int `json:"recordTtlDays"`
	// Enrollment is tagged (only services with the restart tag) or all.
	Enrollment string `json:"enrollment"`
	// BucketShare is the part of each of ECS's per-account, per-Region
	// buckets the engine takes, reads and UpdateService alike (0.5: half,
	// the rest left to the accounts' own tools; 1: the whole bucket).
	// AccountBucketShares overrides it for the accounts it names.
	BucketShare         float64            `json:"bucketShare"`
	AccountBucketShares map[string]float64 `json:"accountBucketShares"`
	// AccountRate, when set, is the UpdateService calls per second the
	// engine makes in one member account and Region whatever the shares
	// (0, the default: the bucket share of ECS's 5/s). The engine backs
	// off further whenever ECS throttles because another caller draws from
	// the same bucket.
	AccountRate float64 `json:"accountRate"`
	// Schedule is enabled or disabled: whether EventBridge Scheduler starts
	// the night. Disabling it here survives the next `pulumi up` (a change
	// in the console does not); `restartctl pause` stops a night without
	// a deploy.
	Schedule string `json:"schedule"`
	// Breaker is when the circuit breakers stop the night.
	Breaker RestartBreaker `json:"breaker"`
	// ExpectedDeploymentTime (a duration) is how long the plan's window
	// fit assumes a cluster's deployments take until a night has observed
	// them.
	ExpectedDeploymentTime string `json:"expectedDeploymentTime"`
	// LambdaMemoryMB and LambdaTimeoutSeconds size every function.
	LambdaMemoryMB       int `json:"lambdaMemoryMb"`
	LambdaTimeoutSeconds int `json:"lambdaTimeoutSeconds"`
	// LogRetentionDays is the retention of the functions' and the state
	// machine's log groups.
	LogRetentionDays int `json:"logRetentionDays"`
	// Tracing turns on X-Ray for the functions and the state machine.
	Tracing bool `json:"tracing"`
	// DeletionProtection protects the tables from deletion.
	DeletionProtection bool `json:"deletionProtection"`
}

// RestartBreaker is the night's circuit breakers (restart/engine.Breaker):
// the fleet's trips when MaxFailed failed or rolled-back restarts make
// MaxFailedPercent of those verified tonight, in more than one account;
// an account's at AccountMaxFailed making AccountMaxFailedPercent of its
// own.
type RestartBreaker struct {
	MaxFailed               int     `json:"maxFailed"`
	MaxFailedPercent        float64 `json:"maxFailedPercent"`
	AccountMaxFailed        int     `json:"accountMaxFailed"`
	AccountMaxFailedPercent float64 `json:"accountMaxFailedPercent"`
}

// Schedule states.
const (
	ScheduleEnabled  = "enabled"
	ScheduleDisabled = "disabled"
)

// DefaultRestart is the pipeline a stack gets when it sets nothing: off
// (there are no member accounts to restart), and when turned on, the
// organization-wide shape with every protection.
func DefaultRestart() Restart {
	return Restart{
		MemberRoleDeployment: DeployStackSet,
		TimeZone:             "UTC",
		WindowStart:          "00:00",
		WindowLength:         "6h",
		BatchInterval:        "10m",
		MinInterval:          "20h",
		RecordTTLDays:        90,
		Enrollment:           string(fleet.EnrollTagged),
		// Half of each ECS bucket: the accounts' own tools keep the rest
		// (restart/awsfleet.DefaultBucketShare).
		BucketShare: 0.5,
		Schedule:    ScheduleEnabled,
		// restart/engine.DefaultBreaker.
		Breaker: RestartBreaker{MaxFailed: 10, MaxFailedPercent: 20, AccountMaxFailed: 3, AccountMaxFailedPercent: 50},
		// fleet.DefaultDeploymentTime: a rolling deployment behind a load
		// balancer, the old tasks drained for the default 300 s.
		ExpectedDeploymentTime: "10m",
		LambdaMemoryMB:         512,
		LambdaTimeoutSeconds:   900,
		LogRetentionDays:       365,
		DeletionProtection:     true,
	}
}

// The values of restart.stackSetCallAs (CloudFormation CreateStackSet,
// CallAs).
const (
	CallAsDelegatedAdmin = "DELEGATED_ADMIN"
	CallAsSelf           = "SELF"
)

// memberRoleSuffix ends the member role's default name.
const memberRoleSuffix = "-restart-member"

// resolve fills in the settings whose default depends on the stack or on
// other settings.
func (r *Restart) resolve(project, stack string) {
	if r.MemberRoleName == "" {
		r.MemberRoleName = project + "-" + stack + memberRoleSuffix
	}
	if r.StackSetCallAs == "" && r.MemberRoleDeployment == DeployStackSet {
		r.StackSetCallAs = CallAsDelegatedAdmin
	}
}

// Window is the night's window (valid once the config is loaded).
func (r Restart) Window() fleet.Window {
	w, _ := r.window()
	return w
}

// Location is the window's time zone (valid once the config is loaded).
func (r Restart) Location() *time.Location {
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// ScheduleOn reports whether the schedule starts the night.
func (r Restart) ScheduleOn() bool { return r.Schedule != ScheduleDisabled }

// DeploymentTime is ExpectedDeploymentTime as a duration (valid once the
// config is loaded).
func (r Restart) DeploymentTime() time.Duration {
	d, _ := time.ParseDuration(r.ExpectedDeploymentTime)
	return d
}

func (r Restart) window() (fleet.Window, error) {
	length, err := time.ParseDuration(r.WindowLength)
	if err != nil {
		return fleet.Window{}, fmt.Errorf("restart.windowLength: %q is not a duration such as 6h", r.WindowLength)
	}
	interval, err := time.ParseDuration(r.BatchInterval)
	if err != nil {
		return fleet.Window{}, fmt.Errorf("restart.batchInterval: %q is not a duration such as 10m", r.BatchInterval)
	}
	w, err := fleet.ParseWindow(r.WindowStart, length, interval)
	if err != nil {
		return fleet.Window{}, fmt.Errorf("restart.windowStart/windowLength/batchInterval: %w", err)
	}
	return w, nil
}

// Patterns AWS documents for the ids (AWS Organizations API reference:
// Account.Id, OrganizationalUnit.Id, Root.Id, Organization.Id; IAM
// CreateRole RoleName; STS AssumeRole ExternalId).
var (
	accountIDPattern  = regexp.MustCompile(`^\d{12}$`)
	ouIDPattern       = regexp.MustCompile(`^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$`)
	orgIDPattern      = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	roleNamePattern   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// Regions are the AWS Regions' names (AWS General Reference, "AWS
// Regions"), commercial, GovCloud and China.
var Regions = []string{
	"af-south-1",
	"ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"cn-north-1", "cn-northwest-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
	"us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
}

// Lambda limits (Lambda developer guide, "Lambda quotas"): memory 128 MB
// to 10,240 MB, timeout at most 900 s, and 4 KB for all of a function's
// environment variables.
const (
	minLambdaMemoryMB = 128
	maxLambdaMemoryMB = 10240
	maxLambdaTimeout  = 900
	lambdaEnvBytes    = 4096
	// envReserve is what the other variables (table, topic and role names,
	// window settings) take, generously.
	envReserve = 1200
)

// maxAccountRate is ECS's sustained UpdateService rate per account and
// Region (5 per second, ECS API request throttling); a higher setting
// would only be throttled.
const maxAccountRate = 5

func (r Restart) validate() Problems {
	var p Problems
	key := "restart."
	seen := map[string]bool{}
	for i, a := range r.MemberAccounts {
		switch {
		case !accountIDPattern.MatchString(a):
			p.addf("%smemberAccounts[%d]: %q is not an AWS account id (12 digits)", key, i, a)
		case seen[a]:
			p.addf("%smemberAccounts[%d]: %s is listed twice", key, i, a)
		}
		seen[a] = true
	}
	if n := len(r.MemberAccounts); n*13+len(r.AccountBucketShares)*19 > lambdaEnvBytes-envReserve {
		p.addf("%smemberAccounts: %d accounts do not fit in Lambda's 4 KB of environment variables (at most %d, each account's bucket share taking one and a half); split the fleet over two stacks", key, n, (lambdaEnvBytes-envReserve)/13)
	}
	for i, reg := range r.Regions {
		if !slices.Contains(Regions, reg) {
			p.addf("%sregions[%d]: %q is not an AWS Region%s", key, i, reg, suggest(reg, Regions))
		}
	}
	if r.Enabled && len(r.Regions) == 0 {
		p.addf("%sregions: empty; list the Regions whose ECS services are restarted, e.g. [us-east-1]", key)
	}
	if !roleNamePattern.MatchString(r.MemberRoleName) {
		p.addf("%smemberRoleName: %q is not an IAM role name (1-64 of letters, digits and +=,.@_-)", key, r.MemberRoleName)
	}
	for i, ou := range r.OrganizationalUnits {
		if !ouIDPattern.MatchString(ou) {
			p.addf("%sorganizationalUnits[%d]: %q is not an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)", key, i, ou)
		}
	}
	if r.OrganizationID != "" && !orgIDPattern.MatchString(r.OrganizationID) {
		p.addf("%sorganizationId: %q is not an organization id (o- and 10 to 32 lowercase letters or digits)", key, r.OrganizationID)
	}
	if r.ExternalID != "" && (!externalIDPattern.MatchString(r.ExternalID) || len(r.ExternalID) < 2 || len(r.ExternalID) > 1224) {
		p.addf("%sexternalId: %q must be 2 to 1224 of letters, digits and +=,.@:/-_ (sts:ExternalId)", key, clip(r.ExternalID))
	}
	switch r.StackSetCallAs {
	case CallAsDelegatedAdmin, CallAsSelf:
		if r.MemberRoleDeployment == DeployDirect {
			p.addf("%sstackSetCallAs: %s says who deploys the StackSet, and memberRoleDeployment direct has none: remove stackSetCallAs, or use memberRoleDeployment stackSet", key, r.StackSetCallAs)
		}
	case "":
	default:
		p.addf("%sstackSetCallAs: must be DELEGATED_ADMIN (the hub runs in a delegated administrator account for CloudFormation StackSets, the usual choice) or SELF (it runs in the organization's management account), got %q", key, r.StackSetCallAs)
	}
	switch r.MemberRoleDeployment {
	case DeployStackSet:
		if r.Enabled {
			if len(r.OrganizationalUnits) == 0 {
				p.addf("%sorganizationalUnits: empty; a StackSet deploys the member role to OUs: list them (ou-...), or set memberRoleDeployment: direct for a single-account stack", key)
			}
			if len(r.MemberAccounts) == 0 {
				p.addf("%smemberAccounts: empty; list the accounts whose services are restarted (the member role is deployed to the OUs, the engine restarts these accounts)", key)
			}
			if r.OrganizationID == "" {
				p.addf("%sorganizationId: required with memberRoleDeployment stackSet: the member role trusts only principals of the organization (aws:PrincipalOrgID)", key)
			}
		}
	case DeployDirect:
		if len(r.MemberAccounts) > 0 {
			p.addf("%smemberAccounts: must be empty with memberRoleDeployment direct, which restarts the stack's own account only; use stackSet for other accounts", key)
		}
		if r.Enabled && r.OrganizationID == "" && r.ExternalID == "" {
			p.addf("%sexternalId: set it (or organizationId) so that the member role's trust has a condition beyond the hub's role names", key)
		}
	default:
		p.addf("%smemberRoleDeployment: must be %q or %q, got %q", key, DeployStackSet, DeployDirect, r.MemberRoleDeployment)
	}

	if _, err := time.LoadLocation(r.TimeZone); err != nil || r.TimeZone == "" || r.TimeZone == "Local" {
		p.addf("%stimeZone: %q is not an IANA time zone such as America/Bogota or UTC", key, r.TimeZone)
	}
	if _, err := r.window(); err != nil {
		p.addf("%s", err)
	} else if loc, err := time.LoadLocation(r.TimeZone); err == nil {
		if day, ok := skippedStart(r.Window().Start, loc, time.Now().Year()); ok {
			p.addf("%swindowStart: %s does not exist in %s on %s (the clocks jump over it) and EventBridge Scheduler skips a run whose time does not exist: start the window outside the daylight-saving jump", key, r.WindowStart, r.TimeZone, day)
		}
	}
	if d, err := time.ParseDuration(r.MinInterval); err != nil || d <= 0 || d >= 24*time.Hour {
		p.addf("%sminInterval: %q must be a duration above 0 and under 24h (a service is restarted once a night), such as 20h", key, r.MinInterval)
	}
	if r.RecordTTLDays < 1 || r.RecordTTLDays > 3650 {
		p.addf("%srecordTtlDays: must be 1..3650, got %d", key, r.RecordTTLDays)
	}
	if _, err := fleet.ParseEnrollment(r.Enrollment); err != nil || r.Enrollment == "" {
		p.addf("%senrollment: must be %q or %q, got %q", key, fleet.EnrollTagged, fleet.EnrollAll, r.Enrollment)
	}
	if r.AccountRate < 0 || r.AccountRate > maxAccountRate {
		p.addf("%saccountRate: must be 0 (the bucket share of ECS's 5/s) or at most %d UpdateService calls per second (ECS's sustained rate per account), got %v", key, maxAccountRate, r.AccountRate)
	}
	if r.BucketShare <= 0 || r.BucketShare > 1 {
		p.addf("%sbucketShare: must be above 0 and at most 1 (the part of each ECS bucket per account and Region the engine takes, 0.5 by default), got %v", key, r.BucketShare)
	}
	for _, acct := range slices.Sorted(maps.Keys(r.AccountBucketShares)) {
		share := r.AccountBucketShares[acct]
		switch {
		case !accountIDPattern.MatchString(acct):
			p.addf("%saccountBucketShares: %q is not an AWS account id (12 digits)", key, acct)
		case r.MemberRoleDeployment == DeployStackSet && !slices.Contains(r.MemberAccounts, acct):
			p.addf("%saccountBucketShares: %s is not in memberAccounts; list it there, or drop its share", key, acct)
		case share <= 0 || share > 1:
			p.addf("%saccountBucketShares.%s: must be above 0 and at most 1, got %v", key, acct, share)
		}
	}
	switch r.Schedule {
	case ScheduleEnabled, ScheduleDisabled:
	default:
		p.addf("%sschedule: must be %q or %q, got %q", key, ScheduleEnabled, ScheduleDisabled, r.Schedule)
	}
	b := r.Breaker
	if b.MaxFailed < 1 || b.AccountMaxFailed < 1 {
		p.addf("%sbreaker.maxFailed and breaker.accountMaxFailed: must be 1 or more failures, got %d and %d", key, b.MaxFailed, b.AccountMaxFailed)
	}
	if b.MaxFailedPercent <= 0 || b.MaxFailedPercent > 100 || b.AccountMaxFailedPercent <= 0 || b.AccountMaxFailedPercent > 100 {
		p.addf("%sbreaker.maxFailedPercent and breaker.accountMaxFailedPercent: must be percentages above 0 and at most 100, got %v and %v", key, b.MaxFailedPercent, b.AccountMaxFailedPercent)
	}
	if d, err := time.ParseDuration(r.ExpectedDeploymentTime); err != nil || d < time.Second || d > 24*time.Hour {
		p.addf("%sexpectedDeploymentTime: %q must be a duration from 1s to 24h, such as 10m (how long a service's restart takes to complete)", key, r.ExpectedDeploymentTime)
	}
	if r.LambdaMemoryMB < minLambdaMemoryMB || r.LambdaMemoryMB > maxLambdaMemoryMB {
		p.addf("%slambdaMemoryMb: Lambda allows %d..%d, got %d", key, minLambdaMemoryMB, maxLambdaMemoryMB, r.LambdaMemoryMB)
	}
	if r.LambdaTimeoutSeconds < 1 || r.LambdaTimeoutSeconds > maxLambdaTimeout {
		p.addf("%slambdaTimeoutSeconds: Lambda allows 1..%d, got %d", key, maxLambdaTimeout, r.LambdaTimeoutSeconds)
	}
	if !validRetention(r.LogRetentionDays) {
		p.addf("%slogRetentionDays: CloudWatch Logs accepts %s, got %d", key, strings.Trim(fmt.Sprint(RetentionDays), "[]"), r.LogRetentionDays)
	}
	return p
}

// skippedStart returns a day of the years from..from+1 on which the local
// time start does not exist in loc (a daylight-saving jump forward). On
// such a day EventBridge Scheduler skips the run; a time that occurs twice
// (the jump back) runs once (EventBridge Scheduler user guide, "Schedule
// types", daylight saving time).
func skippedStart(start time.Duration, loc *time.Location, from int) (string, bool) {
	h, m := int(start/time.Hour), int(start%time.Hour/time.Minute)
	for d := time.Date(from, 1, 1, 12, 0, 0, 0, loc); d.Year() < from+2; d = d.AddDate(0, 0, 1) {
		t := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc)
		if t.Hour() != h || t.Minute() != m {
			return d.Format(time.DateOnly), true
		}
	}
	return "", false
}
