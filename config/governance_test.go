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
		{"unknown severity", governance(`{"guardDuty":{"enabled":true,"findingSeverity":"severe"}}`), `governance.guardDuty.findingSeverity: must be one of low, medium, high, critical, got "severe"`},
		{"unknown standard", governance(`{"securityHub":{"enabled":true,"standards":["fsbp","cis-3.0"]}}`), `governance.securityHub.standards[1]: unknown standard "cis-3.0" (did you mean "cis-3.0.0"?); known standards are fsbp, cis-1.4.0, cis-3.0.0`},
		{"no FSBP", governance(`{"securityHub":{"enabled":true,"standards":["cis-3.0.0"]}}`), `governance.securityHub.standards must include "fsbp"`},
		{"unknown alarm group", governance(`{"alarms":{"groups":["alb","php"]}}`), `governance.alarms.groups[1]: unknown alarm group "php"`},
		{"percentage out of range", governance(`{"alarms":{"thresholds":{"ecsCpuPercent":120}}}`), `governance.alarms.thresholds.ecsCpuPercent is a percentage: between 0 and 100 (exclusive), got 120`},
		{"negative count", governance(`{"alarms":{"thresholds":{"alb5xx":-1}}}`), `governance.alarms.thresholds.alb5xx must be 0 or more, got -1`},
		{"zero replica lag", governance(`{"alarms":{"thresholds":{"rdsReplicaLagSeconds":0}}}`), `governance.alarms.thresholds.rdsReplicaLagSeconds must be more than 0`},
		{"retention", governance(`{"awsConfig":{"enabled":true,"retentionDays":0}}`), `governance.awsConfig.retentionDays must be between 1 and 3653, got 0`},
		{"unknown setting", governance(`{"guardduty":{"enabled":false}}`), `governance.guardduty: unknown setting (did you mean "guardDuty"?)`},
		{"unknown nested setting", governance(`{"guardDuty":{"minSeverity":"high"}}`), `governance.guardDuty: cannot read`},
		{"wrong type", governance(`{"dashboard":"yes"}`), `governance.dashboard: must be true or false, got "yes"`},
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
	// A stack that turns GuardDuty off need not pick a severity.
	cfg, err := config.Load(governance(`{"guardDuty":{"enabled":false,"findingSeverity":""},"securityHub":{"enabled":false,"standards":[]}}`), "wordpress", "x", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Governance.GuardDuty.Enabled || cfg.Governance.SecurityHub.Enabled {
		t.Errorf("governance = %+v", cfg.Governance)
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
	if g.SecurityHub.Enabled || g.GuardDuty.Enabled || g.AWSConfig.Enabled || g.Dashboard || g.S3AccountPublicAccessBlock {
		t.Errorf("dev turns on account services or a dashboard: %+v", g)
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
