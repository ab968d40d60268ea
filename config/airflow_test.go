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

func TestBadAirflowConfigIsRefusedWithAnActionableMessage(t *testing.T) {
	cases := []struct {
		name, network, airflow, want string
	}{
		{"unknown class", "", `{"environmentClass":"mw1.tiny"}`,
			`airflow.environmentClass: MWAA accepts mw1.micro, mw1.small, mw1.medium, mw1.large, mw1.xlarge, mw1.2xlarge, got "mw1.tiny"`},
		{"version MWAA does not offer", "", `{"airflowVersion":"2.6.3"}`,
			`airflow.airflowVersion: MWAA accepts 2.7.2, 2.8.1, 2.9.2, 2.10.1, 2.10.3, 2.11.0, 3.0.6, got "2.6.3"`},
		{"version with a v", "", `{"airflowVersion":"v3.0.6"}`, `airflow.airflowVersion: MWAA accepts`},
		{"name starting with a digit", "", `{"environmentName":"1-airflow"}`,
			`airflow.environmentName: "1-airflow" is not an MWAA environment name: start with a letter`},
		{"name with a dot", "", `{"environmentName":"wordpress.prod"}`, `"wordpress.prod" is not an MWAA environment name`},
		{"name too long", "", `{"environmentName":"` + strings.Repeat("a", 81) + `"}`,
			`airflow.environmentName: MWAA allows at most 80 characters`},
		{"public and private web server", "", `{"webserverAccessMode":"PUBLIC_AND_PRIVATE"}`,
			`airflow.webserverAccessMode: must be PRIVATE_ONLY or PUBLIC_ONLY, got "PUBLIC_AND_PRIVATE"`},
		{"client CIDR not a block", "", `{"webserverClientCidrs":["10.10.0.0"]}`,
			`airflow.webserverClientCidrs[0]: "10.10.0.0" is not an IPv4 CIDR block`},
		{"client CIDR with host bits", "", `{"webserverClientCidrs":["10.10.0.0/19","10.10.1.0/19"]}`,
			`airflow.webserverClientCidrs[1]: "10.10.1.0/19" has host bits set; did you mean 10.10.0.0/19?`},
		{"client CIDR public", "", `{"webserverClientCidrs":["0.0.0.0/0"]}`,
			`airflow.webserverClientCidrs[0]: 0.0.0.0/0 is not a private range`},
		{"bad retention", "", `{"logRetentionDays":10}`, `airflow.logRetentionDays: CloudWatch Logs accepts`},
		{"misspelled setting", "", `{"enable":true}`, `airflow.enable: unknown setting (did you mean "enabled"?)`},
		{"on without a NAT", `{"natStrategy":"none","singleNatReason":"endpoints only"}`, `{"enabled":true}`,
			`airflow.enabled is true but network.natStrategy is "none"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := problems(t, raw(c.network, "wordpress:airflow", c.airflow))
			if !strings.Contains(p.Error(), c.want) {
				t.Errorf("problems:\n%v\nwant one containing %q", p, c.want)
			}
		})
	}
}

func TestAirflowDefaultsAreOffSmallPrivateAndNamedAfterTheStack(t *testing.T) {
	cfg, err := config.Load(raw(""), "wordpress", "prod", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Airflow
	if a.Enabled || a.EnvironmentClass != "mw1.small" || a.WebserverAccessMode != "PRIVATE_ONLY" || a.LogRetentionDays != 365 {
		t.Errorf("airflow defaults = %+v, want off, mw1.small, PRIVATE_ONLY, 365 days", a)
	}
	if got := a.Name(cfg.Project, cfg.Stack); got != "wordpress-prod" {
		t.Errorf("default environment name = %q, want wordpress-prod", got)
	}
	cfg, err = config.Load(raw("", "wordpress:airflow", `{"enabled":true,"environmentName":"Nequi_Airflow-1","airflowVersion":"2.10.3","environmentClass":"mw1.micro"}`), "wordpress", "prod", config.Offline())
	if err != nil {
		t.Fatalf("valid airflow settings refused: %v", err)
	}
	if got := cfg.Airflow.Name(cfg.Project, cfg.Stack); got != "Nequi_Airflow-1" {
		t.Errorf("environment name = %q, want the configured one", got)
	}
}

func TestPulumiYamlDeclaresTheCodesAirflowDefaults(t *testing.T) {
	project, err := plan.LoadProject(stacktest.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	var fromYaml config.Airflow
	if err := json.Unmarshal([]byte(project.Defaults["wordpress:airflow"]), &fromYaml); err != nil {
		t.Fatalf("Pulumi.yaml wordpress:airflow default: %v", err)
	}
	if !reflect.DeepEqual(fromYaml, config.DefaultAirflow()) {
		t.Errorf("Pulumi.yaml airflow default = %+v\ncode default = %+v", fromYaml, config.DefaultAirflow())
	}
}
