package config_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
)

// restartRaw is a valid organization-wide pipeline with settings changed.
func restartRaw(t *testing.T, changes map[string]any) map[string]string {
	t.Helper()
	r := map[string]any{
		"enabled":             true,
		"memberAccounts":      []string{"111111111111", "222222222222"},
		"regions":             []string{"us-east-1"},
		"organizationId":      "o-a1b2c3d4e5",
		"organizationalUnits": []string{"ou-ab12-workload1"},
	}
	for k, v := range changes {
		r[k] = v
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return raw("", "wordpress:restart", string(b))
}

func TestRestartConfigIsRefusedWithTheKeyAndTheFix(t *testing.T) {
	cases := []struct {
		name    string
		changes map[string]any
		want    string
	}{
		{"short account id", map[string]any{"memberAccounts": []string{"12345"}}, `restart.memberAccounts[0]: "12345" is not an AWS account id (12 digits)`},
		{"account listed twice", map[string]any{"memberAccounts": []string{"111111111111", "111111111111"}}, `restart.memberAccounts[1]: 111111111111 is listed twice`},
		{"too many accounts for Lambda's environment", map[string]any{"memberAccounts": manyAccounts(300)}, `300 accounts do not fit in Lambda's 4 KB of environment variables`},
		{"made-up region", map[string]any{"regions": []string{"us-east-7"}}, `restart.regions[0]: "us-east-7" is not an AWS Region (did you mean "us-east-1"?)`},
		{"no regions", map[string]any{"regions": []string{}}, `restart.regions: empty`},
		{"OU id without its root part", map[string]any{"organizationalUnits": []string{"ou-workload"}}, `restart.organizationalUnits[0]: "ou-workload" is not an OU id`},
		{"stackSet without OUs", map[string]any{"organizationalUnits": []string{}}, `restart.organizationalUnits: empty; a StackSet deploys the member role to OUs`},
		{"stackSet without organization", map[string]any{"organizationId": ""}, `restart.organizationId: required with memberRoleDeployment stackSet`},
		{"bad organization id", map[string]any{"organizationId": "org-1"}, `restart.organizationId: "org-1" is not an organization id`},
		{"direct with other accounts", map[string]any{"memberRoleDeployment": "direct"}, `restart.memberAccounts: must be empty with memberRoleDeployment direct`},
		{"direct without a trust condition", map[string]any{"memberRoleDeployment": "direct", "memberAccounts": []string{}, "organizationId": ""}, `restart.externalId: set it (or organizationId)`},
		{"unknown deployment", map[string]any{"memberRoleDeployment": "stackset"}, `restart.memberRoleDeployment: must be "stackSet" or "direct", got "stackset"`},
		{"unknown time zone", map[string]any{"timeZone": "Bogota"}, `restart.timeZone: "Bogota" is not an IANA time zone`},
		{"window longer than a day", map[string]any{"windowLength": "25h"}, `want at most 24h`},
		{"window start not a clock time", map[string]any{"windowStart": "24:00"}, `restart.windowStart/windowLength/batchInterval: window start: "24:00"`},
		{"window start skipped by a daylight-saving jump", map[string]any{"timeZone": "America/New_York", "windowStart": "02:30"}, `restart.windowStart: 02:30 does not exist in America/New_York on`},
		{"window length not a duration", map[string]any{"windowLength": "six hours"}, `restart.windowLength: "six hours" is not a duration`},
		{"negative rate", map[string]any{"accountRate": -1}, `restart.accountRate: must be 0 (the bucket share of ECS's 5/s) or at most 5`},
		{"share of nothing", map[string]any{"bucketShare": 0}, `restart.bucketShare: must be above 0 and at most 1`},
		{"share over the bucket", map[string]any{"bucketShare": 1.5}, `restart.bucketShare: must be above 0 and at most 1`},
		{"share of an account not restarted", map[string]any{"accountBucketShares": map[string]float64{"333333333333": 0.2}}, `restart.accountBucketShares: 333333333333 is not in memberAccounts`},
		{"share of an account out of range", map[string]any{"accountBucketShares": map[string]float64{"111111111111": 2}}, `restart.accountBucketShares.111111111111: must be above 0 and at most 1, got 2`},
		{"schedule neither on nor off", map[string]any{"schedule": "paused"}, `restart.schedule: must be "enabled" or "disabled", got "paused"`},
		{"breaker that never trips", map[string]any{"breaker": map[string]any{"maxFailed": 0}}, `restart.breaker.maxFailed and breaker.accountMaxFailed: must be 1 or more failures`},
		{"breaker share over 100", map[string]any{"breaker": map[string]any{"accountMaxFailedPercent": 120}}, `breaker.accountMaxFailedPercent: must be percentages above 0 and at most 100`},
		{"rate above ECS's", map[string]any{"accountRate": 10}, `at most 5 UpdateService calls per second`},
		{"min interval of a day", map[string]any{"minInterval": "24h"}, `restart.minInterval: "24h" must be a duration above 0 and under 24h`},
		{"deployment time not a duration", map[string]any{"expectedDeploymentTime": "ten minutes"}, `restart.expectedDeploymentTime: "ten minutes" must be a duration from 1s to 24h, such as 10m`},
		{"deployment time of zero", map[string]any{"expectedDeploymentTime": "0s"}, `restart.expectedDeploymentTime: "0s" must be a duration`},
		{"Lambda timeout above 15 minutes", map[string]any{"lambdaTimeoutSeconds": 901}, `restart.lambdaTimeoutSeconds: Lambda allows 1..900, got 901`},
		{"Lambda memory below 128", map[string]any{"lambdaMemoryMb": 64}, `restart.lambdaMemoryMb: Lambda allows 128..10240, got 64`},
		{"retention CloudWatch does not offer", map[string]any{"logRetentionDays": 100}, `restart.logRetentionDays: CloudWatch Logs accepts`},
		{"unknown enrollment", map[string]any{"enrollment": "some"}, `restart.enrollment: must be "tagged" or "all", got "some"`},
		{"unknown setting", map[string]any{"timezone": "UTC"}, `restart.timezone: unknown setting (did you mean "timeZone"?)`},
		{"bad role name", map[string]any{"memberRoleName": "ecs daily restart"}, `restart.memberRoleName: "ecs daily restart" is not an IAM role name`},
		{"bad call-as", map[string]any{"stackSetCallAs": "ADMIN"}, `restart.stackSetCallAs: must be DELEGATED_ADMIN (the hub runs in a delegated administrator account for CloudFormation StackSets, the usual choice) or SELF`},
		{"call-as without a StackSet", map[string]any{"memberRoleDeployment": "direct", "memberAccounts": []string{}, "externalId": "x-1", "stackSetCallAs": "SELF"}, `restart.stackSetCallAs: SELF says who deploys the StackSet, and memberRoleDeployment direct has none`},
		{"a role name another stack could take", map[string]any{"memberRoleName": "ecs-daily-restart"}, `restart.memberRoleName: "ecs-daily-restart" does not carry the stack's name "test", so another stack's member role in the same account could take the same name`},
		{"direct in another Region than the stack's cluster", map[string]any{"memberRoleDeployment": "direct", "memberAccounts": []string{}, "externalId": "x-1", "regions": []string{"us-east-1", "us-west-2"}}, `restart.regions: direct restarts this stack's own cluster, which is in us-east-1; set regions to [us-east-1]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := problems(t, restartRaw(t, c.changes))
			if !strings.Contains(p.Error(), c.want) {
				t.Errorf("problems do not say %q:\n%v", c.want, p)
			}
		})
	}
}

func manyAccounts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%012d", 100000000000+i)
	}
	return out
}

func TestRestartConfigAcceptsTheOrganizationShape(t *testing.T) {
	cfg, err := config.Load(restartRaw(t, map[string]any{"timeZone": "America/Bogota", "windowStart": "22:30", "windowLength": "8h"}), "wordpress", "test", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Restart
	if r.Location().String() != "America/Bogota" {
		t.Errorf("location = %v", r.Location())
	}
	if w := r.Window(); w.Start != 22*time.Hour+30*time.Minute || w.Length != 8*time.Hour {
		t.Errorf("window = %+v", w)
	}
}

func TestRestartIsOffAndValidByDefault(t *testing.T) {
	cfg, err := config.Load(raw(""), "wordpress", "test", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Restart.Enabled {
		t.Error("the restart pipeline is on by default, with no member accounts to restart")
	}
	project, err := plan.LoadProject(stacktest.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	fromYaml := config.Restart{}
	if err := json.Unmarshal([]byte(project.Defaults["wordpress:restart"]), &fromYaml); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromYaml, config.DefaultRestart()) {
		t.Errorf("Pulumi.yaml restart default = %+v\ncode default = %+v", fromYaml, config.DefaultRestart())
	}
}

func TestTheMemberRoleCarriesTheStacksName(t *testing.T) {
	cfg, err := config.Load(restartRaw(t, nil), "wordpress", "prod-eu", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Restart.MemberRoleName, "wordpress-prod-eu-restart-member"; got != want {
		t.Errorf("member role = %q, want %q", got, want)
	}
	// The longest prefix the stack name allows still fits IAM's 64.
	long := strings.Repeat("s", 22)
	cfg, err = config.Load(restartRaw(t, nil), "wordpress", long, config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cfg.Restart.MemberRoleName); n > 64 {
		t.Errorf("member role %q is %d characters, IAM takes 64", cfg.Restart.MemberRoleName, n)
	}
	p := problems(t, restartRaw(t, map[string]any{"memberRoleName": "test-" + strings.Repeat("r", 60)}))
	if !strings.Contains(p.Error(), "is not an IAM role name (1-64") {
		t.Errorf("a 65-character role name: %v", p)
	}
}

func TestTheStackSetIsDeployedAsADelegatedAdministratorByDefault(t *testing.T) {
	cfg, err := config.Load(restartRaw(t, nil), "wordpress", "test", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Restart.StackSetCallAs != config.CallAsDelegatedAdmin {
		t.Errorf("stackSetCallAs = %q, want DELEGATED_ADMIN", cfg.Restart.StackSetCallAs)
	}
}

func TestDirectRestartsTheStacksOwnClusterSoTheHubCannotUseIt(t *testing.T) {
	r := restartRaw(t, map[string]any{"memberRoleDeployment": "direct", "memberAccounts": []string{}, "externalId": "x-1"})
	r["wordpress:site"] = "false"
	p := problems(t, r)
	if !strings.Contains(p.Error(), "restart.memberRoleDeployment: direct restarts this stack's own cluster only, and site is false, so there is none") {
		t.Errorf("direct without a site: %v", p)
	}
}

// Example ids are warnings offline (the example stack files still plan)
// and errors under the engine, each naming its key.
func TestExampleIDsWarnOfflineAndStopARealPreview(t *testing.T) {
	r := restartRaw(t, map[string]any{"memberAccounts": []string{"111111111111", "123456789012", "210000000007"}, "organizationId": "o-exampleorgid",
		"organizationalUnits": []string{"ou-examplerootid111-exampleouid111"}})
	r["wordpress:compute"] = `{"https":{"enabled":true,"domainName":"blog.example.org","hostedZoneId":"Z0EXAMPLE0WORDPRESS"}}`
	r["wordpress:governance"] = `{"alarmEmails":["oncall@example.com","ops@nequi.co"]}`
	r["wordpress:dbPassword"] = plan.SecretPlaceholder
	want := []string{
		`restart.memberAccounts[0]: "111111111111" is an example account id`,
		`restart.memberAccounts[1]: "123456789012" is an example account id`,
		`restart.organizationId: "o-exampleorgid" is an example organization id`,
		`restart.organizationalUnits[0]: "ou-examplerootid111-exampleouid111" is an example organizational unit id`,
		`compute.https.domainName: "blog.example.org" is an example domain`,
		`compute.https.hostedZoneId: "Z0EXAMPLE0WORDPRESS" is an example hosted zone id`,
		`governance.alarmEmails[0]: "oncall@example.com" is an example address`,
	}
	cfg, err := config.Load(r, "wordpress", "test", config.Offline())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cfg.Warnings(), "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("offline warnings lack %q:\n%s", w, got)
		}
	}
	if len(cfg.Warnings()) != len(want) {
		t.Errorf("%d warnings, want %d (a real id is not an example):\n%s", len(cfg.Warnings()), len(want), got)
	}
	if !strings.Contains(got, "`pulumi config set --path 'wordpress:restart.memberAccounts[0]' <value> -s test`") {
		t.Errorf("warnings do not say how to set the key:\n%s", got)
	}

	_, err = config.Load(r, "wordpress", "test", config.WithSecretKeys("wordpress:dbPassword"))
	var p config.Problems
	if !errors.As(err, &p) {
		t.Fatalf("under the engine, example ids are accepted: %v", err)
	}
	for _, w := range want {
		if !strings.Contains(p.Error(), w) {
			t.Errorf("under the engine, no error for %q:\n%v", w, p)
		}
	}
}
