package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/internal/iamjudge"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/restart/calllog"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// planAccount is the account the offline plan runs in (plan.Options).
const planAccount = "123456789012"

// judgedNight is a local night of a stack's state machine, with every
// request its tasks sent, and the stack's plan for that fleet.
type judgedNight struct {
	plan    *plan.Plan
	cfg     *config.Config
	entries []calllog.Entry
}

var (
	nightsMu sync.Mutex
	nights   = map[string]*judgedNight{}
)

// nightOf runs one local night of stack through its state machine, every
// fleetsim fault on, with the call log on, once per test binary. The
// fleet's accounts, role and external id are the stack's: dev restarts its
// own account through the member role it creates there, prod the
// accounts of its StackSet (restart.memberAccounts set to the fleet's).
func nightOf(t *testing.T, stack string) *judgedNight {
	t.Helper()
	nightsMu.Lock()
	defer nightsMu.Unlock()
	if n, ok := nights[stack]; ok {
		return n
	}
	raw := stacktest.RawConfig(t, stack)
	_, cfg := stacktest.Record(t, stack, raw)
	services, err := fleetsim.Generate(fleetsim.GenerateConfig{Seed: 11, Accounts: 3, Clusters: 8, Services: 60, Regions: cfg.Restart.Regions})
	if err != nil {
		t.Fatal(err)
	}
	accounts := map[string]bool{}
	if cfg.Restart.MemberRoleDeployment == config.DeployDirect {
		// One account: the stack's own.
		services = inAccount(services, planAccount)
		accounts[planAccount] = true
	} else {
		for _, s := range services {
			accounts[s.Account] = true
		}
		restartSettings(t, raw, map[string]any{"memberAccounts": slicesSorted(accounts)})
	}
	p, cfg := stacktest.Record(t, stack, raw)
	var denied string
	for a := range accounts {
		denied = a
		break
	}
	fc := fleetsim.Config{
		Seed: 3, Fleet: services, DeployTime: 60 * time.Millisecond,
		RoleName: cfg.Restart.MemberRoleName, ExternalID: cfg.Restart.ExternalID,
		Faults: everyFault(denied),
	}
	ln := newLocalNight(t, fc)
	log := filepath.Join(ln.work, "calls.jsonl")
	// The tables the stack's functions are given (their environment), so
	// that the requests name the tables the policies do.
	env := functionEnv(t, p, "discover")
	args := append(slices.Clone(ln.args), "--stack", stack, "--runs", "1", "--quiet",
		"--inventory-table", env["INVENTORY_TABLE"], "--runs-table", env["RUNS_TABLE"],
		"--call-log", log, "--hub-account", planAccount)
	var out, progress bytes.Buffer
	if err := Main(context.Background(), append([]string{"local"}, args...), &out, &progress); err != nil {
		t.Fatalf("local night of %s: %v\n%s\n%s", stack, err, out.String(), progress.String())
	}
	t.Logf("%s: %s", stack, strings.TrimSpace(out.String()))
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := calllog.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	n := &judgedNight{plan: p, cfg: cfg, entries: entries}
	nights[stack] = n
	return n
}

// functionEnv is the environment of the function whose handler is step.
func functionEnv(t *testing.T, p *plan.Plan, step string) map[string]string {
	t.Helper()
	for _, fn := range p.OfType("aws:lambda/function:Function") {
		if fn.String("handler") != step {
			continue
		}
		env, _ := fn.Inputs["environment"].(map[string]any)
		vars, _ := env["variables"].(map[string]any)
		out := map[string]string{}
		for k, v := range vars {
			out[k], _ = v.(string)
		}
		return out
	}
	t.Fatalf("no function runs the %s step", step)
	return nil
}

// everyFault is each of fleetsim's fault kinds, at rates that leave most
// of a small fleet healthy; denied is the account whose member role is
// missing.
func everyFault(denied string) []fleetsim.Fault {
	return []fleetsim.Fault{
		{Kind: fleetsim.FaultAccessDenied, Account: denied, Region: "us-east-2"},
		{Kind: fleetsim.FaultServerError, Rate: 0.02},
		{Kind: fleetsim.FaultThrottle, Op: "UpdateService", Rate: 0.05},
		{Kind: fleetsim.FaultLatency, Latency: time.Millisecond},
		{Kind: fleetsim.FaultServiceGone, Rate: 0.02, AfterDescribe: true},
		{Kind: fleetsim.FaultDeploymentFail, Rate: 0.05},
		{Kind: fleetsim.FaultDeploymentHang, Rate: 0.02},
		{Kind: fleetsim.FaultNoRolloutState, Rate: 0.2},
		{Kind: fleetsim.FaultEventChurn, Rate: 0.2},
		{Kind: fleetsim.FaultShortARN, Rate: 0.05},
		{Kind: fleetsim.FaultClusterGone, Rate: 0.05},
		{Kind: fleetsim.FaultAppliedServerError, Rate: 0.05},
		{Kind: fleetsim.FaultTokenExpiry, After: 2 * time.Second},
		{Kind: fleetsim.FaultSharedBucket, Op: "UpdateService", Rate: 0.5},
	}
}

func TestEveryRequestOfALocalNightIsAllowedByTheStacksPolicies(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate"))
	need(t, err, "the IAM evaluator is not installed (npm ci)")
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			n := nightOf(t, stack)
			ps, err := iamjudge.FromPlan(n.plan)
			if err != nil {
				t.Fatal(err)
			}
			reqs, problems := iamjudge.CallRequests(ps, n.entries, iamjudge.Org{ID: n.cfg.Restart.OrganizationID})
			for _, p := range problems {
				t.Error(p)
			}
			// The night must have made the calls that matter: a run that
			// skipped a step would prove nothing about its role.
			made := map[string]bool{}
			for _, r := range reqs {
				made[r.What[:strings.Index(r.What+",", ",")]+" "+r.Action] = true
				made[r.Action] = true
			}
			for _, want := range []string{"dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem", "dynamodb:GetItem",
				"sts:AssumeRole", "ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices", "ecs:UpdateService",
				"ecs:TagResource", "ecs:ListServiceDeployments"} {
				if !made[want] {
					t.Errorf("the night made no %s request", want)
				}
			}
			verdicts, err := iamjudge.Judge(context.Background(), root, reqs)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range iamjudge.Failures(reqs, verdicts) {
				t.Error(f)
			}
			t.Logf("%s: %d logged requests, %d distinct judged", stack, len(n.entries), len(reqs))
		})
	}
}

func TestANightFailsWhenTheRestartRoleMayNotQueryItsTables(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate"))
	need(t, err, "the IAM evaluator is not installed (npm ci)")
	n := nightOf(t, "dev")
	weakened := withoutAction(t, n.plan, "wordpress-dev-restart-restart", "dynamodb:Query")
	ps, err := iamjudge.FromPlan(weakened)
	if err != nil {
		t.Fatal(err)
	}
	reqs, _ := iamjudge.CallRequests(ps, n.entries, iamjudge.Org{})
	verdicts, err := iamjudge.Judge(context.Background(), root, reqs)
	if err != nil {
		t.Fatal(err)
	}
	failures := iamjudge.Failures(reqs, verdicts)
	if len(failures) == 0 {
		t.Fatal("the restart step's requests are all allowed without dynamodb:Query")
	}
	for _, f := range failures {
		if !strings.HasPrefix(f, "dynamodb:Query by arn:aws:iam::123456789012:role/wordpress-dev-restart-restart on arn:aws:dynamodb:") ||
			!strings.Contains(f, "(the restart step): ImplicitlyDenied") {
			t.Errorf("unexpected failure: %s", f)
		}
	}
	t.Logf("%d requests denied, e.g. %s", len(failures), failures[0])
}

// withoutAction is p with action removed from the inline policy of role.
func withoutAction(t *testing.T, p *plan.Plan, role, action string) *plan.Plan {
	t.Helper()
	out := *p
	out.Resources = slices.Clone(p.Resources)
	found := false
	for i, r := range out.Resources {
		if r.Type != "aws:iam/rolePolicy:RolePolicy" || r.String("role") != role {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.String("policy")), &doc); err != nil {
			t.Fatal(err)
		}
		for _, st := range doc["Statement"].([]any) {
			m := st.(map[string]any)
			if acts, ok := m["Action"].([]any); ok {
				kept := slices.DeleteFunc(acts, func(a any) bool { return a == action })
				found = found || len(kept) < len(acts)
				m["Action"] = kept
			}
		}
		b, _ := json.Marshal(doc)
		r.Inputs = cloneInputs(r.Inputs)
		r.Inputs["policy"] = string(b)
		out.Resources[i] = r
	}
	if !found {
		t.Fatalf("no policy of %s grants %s", role, action)
	}
	return &out
}

func cloneInputs(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// inAccount moves a generated fleet into one account.
func inAccount(services []fleet.Service, account string) []fleet.Service {
	out := make([]fleet.Service, len(services))
	for i, s := range services {
		s.ARN = strings.Replace(s.ARN, ":"+s.Account+":", ":"+account+":", 1)
		s.Account = account
		out[i] = s
	}
	return out
}

func restartSettings(t *testing.T, raw map[string]string, settings map[string]any) {
	t.Helper()
	key := config.Namespace + ":restart"
	cur := map[string]any{}
	if s := raw[key]; s != "" {
		if err := json.Unmarshal([]byte(s), &cur); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range settings {
		cur[k] = v
	}
	b, err := json.Marshal(cur)
	if err != nil {
		t.Fatal(err)
	}
	raw[key] = string(b)
}

func slicesSorted(set map[string]bool) []string {
	var out []string
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
