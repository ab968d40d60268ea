package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
// own cluster of its own account through the member role it creates
// there (the account's other clusters, another stack's, are left alone,
// as dev's functions' CLUSTERS say), the hub the accounts of its StackSet
// (restart.memberAccounts set to the fleet's).
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
	var clusters string
	if cfg.Restart.MemberRoleDeployment == config.DeployDirect {
		// One account, the stack's own, which also holds other stacks'
		// clusters: half of the services are in the stack's cluster.
		services = inAccount(services, planAccount)
		own := cfg.Project + "-" + cfg.Stack
		for i := range services {
			if i%2 == 0 {
				s := &services[i]
				s.ARN = strings.Replace(s.ARN, ":service/"+s.Cluster+"/", ":service/"+own+"/", 1)
				s.Cluster = own
			}
		}
		clusters = fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", cfg.Region, planAccount, own)
		accounts[planAccount] = true
	} else {
		for _, s := range services {
			accounts[s.Account] = true
		}
		stacktest.Set(t, raw, "restart", map[string]any{"memberAccounts": slicesSorted(accounts)})
	}
	p, cfg := stacktest.Record(t, stack, raw)
	fc := fleetsim.Config{
		Seed: 3, Fleet: services, DeployTime: 60 * time.Millisecond,
		RoleName: cfg.Restart.MemberRoleName, ExternalID: cfg.Restart.ExternalID,
		Faults: everyFault(slicesSorted(accounts), cfg.Restart.Regions),
	}
	ln := newLocalNight(t, fc)
	log := filepath.Join(ln.work, "calls.jsonl")
	// The tables the stack's functions are given (their environment), so
	// that the requests name the tables the policies do.
	env, err := iamjudge.FunctionEnv(p, "discover")
	if err != nil {
		t.Fatal(err)
	}
	args := append(slices.Clone(ln.args), "--stack", stack, "--runs", "1", "--quiet",
		"--inventory-table", env["INVENTORY_TABLE"], "--runs-table", env["RUNS_TABLE"],
		"--call-log", log, "--hub-account", planAccount)
	if clusters != "" {
		args = append(args, "--clusters", clusters)
	}
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

// everyFault is each of fleetsim's fault kinds, at rates that leave most
// of a small fleet healthy. A missing member role and a disabled Region
// take a whole account's Region, so they are injected only where the
// night has another Region to restart (the hub's; dev has one account in
// one Region).
func everyFault(accounts, regions []string) []fleetsim.Fault {
	faults := []fleetsim.Fault{
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
		{Kind: fleetsim.FaultOptOutAfterDiscovery, Rate: 0.05},
		{Kind: fleetsim.FaultForeignDeployment, Rate: 0.05},
	}
	if len(regions) > 1 {
		last := regions[len(regions)-1]
		faults = append(faults,
			fleetsim.Fault{Kind: fleetsim.FaultAccessDenied, Account: accounts[0], Region: last},
			fleetsim.Fault{Kind: fleetsim.FaultRegionDisabled, Account: accounts[len(accounts)-1], Region: last})
	}
	return faults
}

func TestEveryRequestOfALocalNightIsAllowedByTheStacksPolicies(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate"))
	need(t, err, "the IAM evaluator is not installed (npm ci)")
	for _, stack := range []string{"dev", "hub"} {
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

// Every action a role's policy grants and the nights use is needed: with
// any one of them removed from that role, a request of a night is denied,
// in dev or in the hub. (In dev, the hub's roles may assume the member role
// without sts:AssumeRole in their own policies: in one account, a trust
// that names the role's ARN is enough, "Cross-account policy evaluation
// logic", IAM User Guide; the hub's member accounts need both.)
func TestEveryGrantTheNightUsesIsNeeded(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate"))
	need(t, err, "the IAM evaluator is not installed (npm ci)")
	// variant is a grant: whose (a step's role, or the member role) and
	// which action.
	type variant struct{ whose, action string }
	var variants []variant
	index := map[variant]int{}
	var reqs []iamjudge.Request
	var of []int
	for _, stack := range []string{"dev", "hub"} {
		n := nightOf(t, stack)
		ps, err := iamjudge.FromPlan(n.plan)
		if err != nil {
			t.Fatal(err)
		}
		base, _ := iamjudge.CallRequests(ps, n.entries, iamjudge.Org{ID: n.cfg.Restart.OrganizationID})
		for _, q := range base {
			whose := q.What
			if strings.Contains(whose, "as the member role") {
				whose = "the member role"
			}
			v := variant{whose, q.Action}
			i, ok := index[v]
			if !ok {
				i = len(variants)
				index[v] = i
				variants = append(variants, v)
			}
			w := q
			w.IdentityPolicies = nil
			for _, np := range q.IdentityPolicies {
				w.IdentityPolicies = append(w.IdentityPolicies, iamjudge.NamedPolicy{Name: np.Name, Policy: dropAction(t, np.Policy, v.action)})
			}
			reqs = append(reqs, w)
			of = append(of, i)
		}
	}
	verdicts, err := iamjudge.Judge(context.Background(), root, reqs)
	if err != nil {
		t.Fatal(err)
	}
	denied := make([]bool, len(variants))
	for i, v := range verdicts {
		if !v.Allowed() {
			denied[of[i]] = true
		}
	}
	for i, v := range variants {
		if !denied[i] {
			t.Errorf("%s without %s: every request of both nights is still allowed", v.whose, v.action)
		}
	}
	if len(variants) < 25 {
		t.Errorf("only %d grants used by the nights", len(variants))
	}
	t.Logf("%d grants, each needed", len(variants))
}

// dropAction removes action from every statement of a policy document.
func dropAction(t *testing.T, doc json.RawMessage, action string) json.RawMessage {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	var kept []any
	for _, st := range d["Statement"].([]any) {
		m := st.(map[string]any)
		switch a := m["Action"].(type) {
		case string:
			if a == action {
				continue
			}
		case []any:
			rest := slices.DeleteFunc(slices.Clone(a), func(x any) bool { return x == action })
			if len(rest) == 0 {
				continue
			}
			m["Action"] = rest
		}
		kept = append(kept, m)
	}
	d["Statement"] = kept
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
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
		weak := string(dropAction(t, json.RawMessage(r.String("policy")), action))
		found = found || weak != r.String("policy")
		r.Inputs = cloneInputs(r.Inputs)
		r.Inputs["policy"] = weak
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

func slicesSorted(set map[string]bool) []string {
	var out []string
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// dev and prod in one account: a real IAM evaluator refuses dev's member
// role every change to a service outside dev's cluster (prod's WordPress,
// anyone's), and allows it on dev's own; reading stays allowed, discovery
// lists every cluster.
func TestDevsMemberRoleIsDeniedEveryServiceOutsideDevsCluster(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate"))
	need(t, err, "the IAM evaluator is not installed (npm ci)")
	ps, err := iamjudge.FromPlan(stacktest.Stack(t, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	m := ps.Roles["arn:aws:iam::"+planAccount+":role/wordpress-dev-restart-member"]
	if m == nil || len(m.Policies) == 0 {
		t.Fatalf("dev has no direct member role with a policy: %+v", m)
	}
	service := func(cluster string) string {
		return fmt.Sprintf("arn:aws:ecs:us-east-1:%s:service/%s/wordpress", planAccount, cluster)
	}
	cases := []struct {
		action, resource string
		allowed          bool
	}{
		{"ecs:UpdateService", service("wordpress-dev"), true},
		{"ecs:TagResource", service("wordpress-dev"), true},
		{"ecs:UpdateService", service("wordpress-prod"), false},
		{"ecs:TagResource", service("wordpress-prod"), false},
		{"ecs:UpdateService", service("payments"), false},
		{"ecs:DescribeServices", service("wordpress-prod"), true},
	}
	var reqs []iamjudge.Request
	for _, c := range cases {
		ctx := map[string]any{"aws:RequestedRegion": "us-east-1"}
		if c.action == "ecs:TagResource" {
			ctx["aws:TagKeys"] = []string{"ecs_task_daily_restart"}
		}
		reqs = append(reqs, iamjudge.Request{Principal: m.ARN, Action: c.action, Resource: c.resource, ResourceAccount: planAccount,
			Context: ctx, IdentityPolicies: m.Policies})
	}
	verdicts, err := iamjudge.Judge(context.Background(), root, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if verdicts[i].Allowed() != c.allowed {
			t.Errorf("%s on %s: %s, want allowed=%v", c.action, c.resource, verdicts[i].Result, c.allowed)
		}
	}
}
