package config_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

func governance(value string) map[string]string {
	return raw("", "wordpress:governance", value)
}

func TestBadGovernanceConfigIsRefusedWithAnActionableMessage(t *testing.T) {
	cases := []struct {
		name string
		raw  map[string]string
		want string
	}{
		{"not an email", governance(`{"alarmEmails":["oncall"]}`), `governance.alarmEmails[0]: "oncall" is not an email address such as oncall@example.com`},
		{"display name instead of address", governance(`{"alarmEmails":["On Call <oncall@example.com>"]}`), `governance.alarmEmails[0]: "On Call <oncall@example.com>" is not an email address`},
		{"email without a domain dot", governance(`{"alarmEmails":["oncall@localhost"]}`), `governance.alarmEmails[0]: "oncall@localhost" is not an email address`},
		{"email twice", governance(`{"alarmEmails":["a@example.com","A@example.com"]}`), `governance.alarmEmails[1]: "A@example.com" is listed twice`},
		{"unknown severity", governance(`{"guardDuty":{"mode":"create","findingSeverity":"severe"}}`), `governance.guardDuty.findingSeverity: must be one of low, medium, high, critical, got "severe"`},
		{"unknown standard", governance(`{"securityHub":{"mode":"create","standards":["fsbp","cis-3.0"]}}`), `governance.securityHub.standards[1]: unknown standard "cis-3.0" (did you mean "cis-3.0.0"?); known standards are fsbp, cis-1.4.0, cis-3.0.0`},
		{"no FSBP", governance(`{"securityHub":{"mode":"create","standards":["cis-3.0.0"]}}`), `governance.securityHub.standards must include "fsbp"`},
		{"unknown alarm group", governance(`{"alarms":{"groups":["alb","php"]}}`), `governance.alarms.groups[1]: unknown alarm group "php"`},
		{"percentage out of range", governance(`{"alarms":{"thresholds":{"ecsCpuPercent":120}}}`), `governance.alarms.thresholds.ecsCpuPercent is a percentage: between 0 and 100 (exclusive), got 120`},
		{"negative count", governance(`{"alarms":{"thresholds":{"alb5xx":-1}}}`), `governance.alarms.thresholds.alb5xx must be 0 or more, got -1`},
		{"zero replica lag", governance(`{"alarms":{"thresholds":{"rdsReplicaLagSeconds":0}}}`), `governance.alarms.thresholds.rdsReplicaLagSeconds must be more than 0`},
		{"retention", governance(`{"awsConfig":{"mode":"create","retentionDays":0}}`), `governance.awsConfig.retentionDays must be between 1 and 3653, got 0`},
		{"unknown setting", governance(`{"guardduty":{"mode":"off"}}`), `governance.guardduty: unknown setting (did you mean "guardDuty"?)`},
		{"unknown nested setting", governance(`{"guardDuty":{"minSeverity":"high"}}`), `governance.guardDuty: cannot read`},
		{"wrong type", governance(`{"dashboard":"yes"}`), `governance.dashboard: must be true or false, got "yes"`},
		{"unknown mode", governance(`{"guardDuty":{"mode":"adopt"}}`), `governance.guardDuty.mode: must be create (this stack turns it on and owns it), existing (someone else runs it`},
		{"unknown mode of a setting", governance(`{"s3AccountPublicAccessBlock":{"mode":"on"}}`), `governance.s3AccountPublicAccessBlock.mode: must be create`},
		{"a created detector whose agent the tasks cannot pull", governance(`{"guardDuty":{"mode":"create","fargateAgent":false}}`), `governance.guardDuty.fargateAgent is false, but this stack creates the detector with Fargate runtime monitoring`},
		{"session preferences for a stack without a bastion", map[string]string{"aws:region": "us-east-1", "wordpress:governance": `{"sessionManagerPreferences":{"mode":"create"}}`, "wordpress:compute": `{"bastion":{"enabled":false}}`},
			`governance.sessionManagerPreferences.mode is create, but the stack has no bastion`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := problems(t, c.raw)
			if !strings.Contains(p.Error(), c.want) {
				t.Errorf("problems:\n%v\nwant one containing %q", p, c.want)
			}
		})
	}
}

func TestTurnedOffServicesAreNotValidated(t *testing.T) {
	// A stack that leaves GuardDuty alone need not pick a severity, nor
	// standards for a hub it does not create.
	cfg, err := config.Load(governance(`{"guardDuty":{"mode":"off","findingSeverity":""},"securityHub":{"mode":"existing","standards":[]}}`), "wordpress", "x", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Governance.GuardDuty.Mode != config.ModeOff || cfg.Governance.SecurityHub.Mode != config.ModeExisting {
		t.Errorf("governance = %+v", cfg.Governance)
	}
}

// The enabled switches of an earlier version are refused with the mode
// that replaces them, never read as create (which fails in a governed
// account) or dropped silently.
func TestEarlierEnabledSwitchesAreRefusedWithTheModeThatReplacesThem(t *testing.T) {
	cases := []struct {
		name, key, value, want string
	}{
		{"guardDuty enabled", "wordpress:governance", `{"guardDuty":{"enabled":true,"findingSeverity":"high"}}`,
			"governance.guardDuty.enabled: replaced by governance.guardDuty.mode: create (this stack turns it on: what enabled: true did), existing (adopt the one an organization's delegated administrator or Control Tower runs; the default) or off (what enabled: false did); remove enabled and set the mode, e.g. `pulumi config set --path 'wordpress:governance.guardDuty.mode' create -s test`"},
		{"securityHub disabled", "wordpress:governance", `{"securityHub":{"enabled":false}}`,
			"`pulumi config set --path 'wordpress:governance.securityHub.mode' off -s test`"},
		{"awsConfig enabled", "wordpress:governance", `{"awsConfig":{"enabled":true}}`, "governance.awsConfig.enabled: replaced by governance.awsConfig.mode"},
		{"account block as a switch", "wordpress:governance", `{"s3AccountPublicAccessBlock":true}`,
			"governance.s3AccountPublicAccessBlock: true is the earlier form; it is now an object with a mode: create (what true did)"},
		{"session preferences under the bastion", "wordpress:compute", `{"bastion":{"enabled":true,"sessionPreferences":false}}`,
			"compute.bastion.sessionPreferences: moved to governance.sessionManagerPreferences.mode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := problems(t, raw("", c.key, c.value))
			if len(p) != 1 || !strings.Contains(p[0], c.want) {
				t.Errorf("problems:\n%v\nwant exactly one containing %q", p, c.want)
			}
		})
	}
}

// The default adopts every account-wide service: in an organization's
// member account they already exist, and creating them again fails.
func TestAccountWideServicesAreAdoptedByDefault(t *testing.T) {
	g := config.DefaultGovernance()
	for _, s := range g.AccountServices() {
		if s.Mode != config.ModeExisting {
			t.Errorf("%s defaults to %q, want existing", s.Key, s.Mode)
		}
	}
	if !g.RetainOnDelete {
		t.Error("a created account-wide service is deleted with the stack by default")
	}
	want := map[string]bool{"GuardDuty.1": true, "Config.1": true, "WP.GOV.1": true, "S3.1": true}
	got := g.ManagedOutside()
	if len(got) != len(want) {
		t.Errorf("checks managed outside = %v, want %v", got, want)
	}
	for id := range want {
		if !strings.Contains(got[id], "managed outside this stack") {
			t.Errorf("%s: %q", id, got[id])
		}
	}
}

func TestGovernanceSettingsKeepTheirDefaults(t *testing.T) {
	cfg, err := config.Load(governance(`{"alarmEmails":["oncall@example.com"],"alarms":{"thresholds":{"alb5xx":25}}}`), "wordpress", "x", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	want := config.DefaultGovernance()
	want.AlarmEmails = []string{"oncall@example.com"}
	want.Alarms.Thresholds.ALB5xx = 25
	if !reflect.DeepEqual(cfg.Governance, want) {
		t.Errorf("governance = %+v\nwant %+v", cfg.Governance, want)
	}
}

func TestPulumiYamlDeclaresTheGovernanceDefaults(t *testing.T) {
	project, err := plan.LoadProject(stacktest.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	var fromYaml config.Governance
	if err := json.Unmarshal([]byte(project.Defaults["wordpress:governance"]), &fromYaml); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromYaml, config.DefaultGovernance()) {
		t.Errorf("Pulumi.yaml governance default = %+v\ncode default = %+v", fromYaml, config.DefaultGovernance())
	}
}

func TestDevHasOnlyTheCheapGovernance(t *testing.T) {
	cfg, err := config.Load(stacktest.RawConfig(t, "dev"), "wordpress", "dev", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Governance
	for _, s := range g.AccountServices() {
		if s.Mode != config.ModeOff {
			t.Errorf("dev: %s is %q; dev neither creates nor expects account-wide services", s.Key, s.Mode)
		}
	}
	if g.Dashboard {
		t.Error("dev has a dashboard")
	}
	for _, group := range []string{"ecs", "rds", "efs", "waf"} {
		if g.HasAlarmGroup(group) {
			t.Errorf("dev has the %s alarms; capacity alarms are for prod", group)
		}
	}
	if !g.HasAlarmGroup("alb") || !g.HasAlarmGroup("phpErrors") {
		t.Errorf("dev alarm groups = %v, want the site's errors at least", g.Alarms.Groups)
	}
}
