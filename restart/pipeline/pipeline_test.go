package pipeline_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/restart/pipeline"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
	"github.com/nequi-platform/wordpress-ecs/restart/workflow"
)

const (
	typePipeline     = "wordpress:restart:Pipeline"
	typeRole         = "aws:iam/role:Role"
	typeRolePolicy   = "aws:iam/rolePolicy:RolePolicy"
	typeFunction     = "aws:lambda/function:Function"
	typeTable        = "aws:dynamodb/table:Table"
	typeAlarm        = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeTopic        = "aws:sns/topic:Topic"
	typeKey          = "aws:kms/key:Key"
	typeStateMachine = "aws:sfn/stateMachine:StateMachine"
	typeSchedule     = "aws:scheduler/schedule:Schedule"
	typeStackSet     = "aws:cloudformation/stackSet:StackSet"
	typeInstance     = "aws:cloudformation/stackSetInstance:StackSetInstance"
	typeQueue        = "aws:sqs/queue:Queue"
)

var (
	stacksMu sync.Mutex
	stacks   = map[string]*plan.Plan{}
)

// stack records a stack once per test binary.
func stack(t *testing.T, name string) *plan.Plan {
	t.Helper()
	stacksMu.Lock()
	defer stacksMu.Unlock()
	if p, ok := stacks[name]; ok {
		return p
	}
	p := stacktest.Stack(t, name)
	stacks[name] = p
	return p
}

// ofPipeline returns the pipeline's resources of a type.
func ofPipeline(p *plan.Plan, typ string) []plan.Resource {
	var out []plan.Resource
	for _, r := range p.OfType(typ) {
		if parent, ok := byURN(p, r.Parent); ok && parent.Type == typePipeline {
			out = append(out, r)
		}
	}
	return out
}

func byURN(p *plan.Plan, urn string) (plan.Resource, bool) {
	for _, r := range p.Resources {
		if r.URN == urn {
			return r, true
		}
	}
	return plan.Resource{}, false
}

type statement struct {
	Sid       string
	Effect    string
	Principal any
	Action    any
	Resource  any
	Condition map[string]map[string]any
}

type document struct {
	Statement []statement
}

func parse(t *testing.T, what, js string) document {
	t.Helper()
	var d document
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		t.Fatalf("%s: not a policy document: %v\n%s", what, err, js)
	}
	return d
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// policies returns every IAM document of the pipeline: trust and inline
// policies by resource name, and the key policy.
func policies(t *testing.T, p *plan.Plan) map[string]document {
	t.Helper()
	out := map[string]document{}
	for _, r := range ofPipeline(p, typeRole) {
		out["trust of "+r.Name] = parse(t, r.Name, r.String("assumeRolePolicy"))
	}
	for _, r := range ofPipeline(p, typeRolePolicy) {
		out["policy of "+r.Name] = parse(t, r.Name, r.String("policy"))
	}
	for _, r := range ofPipeline(p, typeKey) {
		out["key policy "+r.Name] = parse(t, r.Name, r.String("policy"))
	}
	return out
}

func TestNoPipelinePolicyAllowsAWildcardActionOnEveryResource(t *testing.T) {
	for _, name := range []string{"dev", "hub"} {
		p := stack(t, name)
		docs := policies(t, p)
		if len(docs) < 12 {
			t.Fatalf("%s: only %d policy documents in the pipeline", name, len(docs))
		}
		for what, d := range docs {
			for _, s := range d.Statement {
				if s.Sid == "AccountAdministersKeyThroughIAM" {
					// The key's own account root (KMS's default key policy).
					continue
				}
				wildResource := slices.Contains(strs(s.Resource), "*")
				for _, a := range strs(s.Action) {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%s: %s allows %s", what, s.Sid, a)
					}
					if wildResource && strings.HasSuffix(a, "*") && len(s.Condition) == 0 {
						t.Errorf("%s: %s allows %s on every resource without a condition", what, s.Sid, a)
					}
				}
			}
		}
	}
}

// allowed returns the resources a document allows action on.
func allowed(d document, action string) []string {
	var out []string
	for _, s := range d.Statement {
		if s.Effect == "Allow" && slices.Contains(strs(s.Action), action) {
			out = append(out, strs(s.Resource)...)
		}
	}
	sort.Strings(out)
	return out
}

func TestOnlyTheFleetStepsAssumeAndOnlyTheMemberRole(t *testing.T) {
	p := stack(t, "hub")
	docs := policies(t, p)
	var want []string
	for _, a := range []string{"111111111111", "222222222222", "333333333333"} {
		want = append(want, "arn:aws:iam::"+a+":role/wordpress-hub-restart-member")
	}
	for _, h := range workflow.Handlers {
		d, ok := docs["policy of wordpress-hub-restart-"+h]
		if !ok {
			t.Fatalf("no policy for the %s function", h)
		}
		got := allowed(d, "sts:AssumeRole")
		switch h {
		case workflow.Discover, workflow.Restart, workflow.Verify:
			if !slices.Equal(got, want) {
				t.Errorf("%s may assume %v, want exactly %v", h, got, want)
			}
		default:
			if len(got) > 0 {
				t.Errorf("%s may assume %v, it calls no member account", h, got)
			}
		}
		publish := allowed(d, "sns:Publish")
		if h == workflow.Report {
			topics := []string{"arn:aws:sns:us-east-1:123456789012:wordpress-hub-restart-owners", "arn:aws:sns:us-east-1:123456789012:wordpress-hub-restart-summary"}
			if !slices.Equal(publish, topics) {
				t.Errorf("report may publish to %v, want %v", publish, topics)
			}
		} else if len(publish) > 0 {
			t.Errorf("%s may publish to %v", h, publish)
		}
	}
}

func TestMemberRoleTrustsOnlyTheHubsFleetRolesUnderACondition(t *testing.T) {
	hub := func(stack string) []string {
		var out []string
		for _, h := range []string{"discover", "restart", "verify"} {
			out = append(out, fmt.Sprintf("arn:aws:iam::123456789012:role/wordpress-%s-restart-%s", stack, h))
		}
		return out
	}
	t.Run("dev, direct", func(t *testing.T) {
		p := stack(t, "dev")
		roles := ofPipeline(p, typeRole)
		i := slices.IndexFunc(roles, func(r plan.Resource) bool { return r.String("name") == "wordpress-dev-restart-member" })
		if i < 0 {
			t.Fatal("dev has no member role in its own account")
		}
		trust := parse(t, "member trust", roles[i].String("assumeRolePolicy"))
		if len(trust.Statement) != 1 {
			t.Fatalf("member trust has %d statements", len(trust.Statement))
		}
		s := trust.Statement[0]
		principal, _ := s.Principal.(map[string]any)
		if got := strs(principal["AWS"]); !slices.Equal(got, hub("dev")) {
			t.Errorf("member role trusts %v, want %v", got, hub("dev"))
		}
		if s.Condition["StringEquals"]["sts:ExternalId"] != "wordpress-dev-daily-restart" {
			t.Errorf("member trust conditions %v, want the external id", s.Condition)
		}
		if len(ofPipeline(p, typeStackSet)) != 0 {
			t.Error("dev deploys a StackSet")
		}
	})
	t.Run("hub, StackSet to the OUs", func(t *testing.T) {
		p := stack(t, "hub")
		sets := ofPipeline(p, typeStackSet)
		if len(sets) != 1 {
			t.Fatalf("hub StackSets = %d, want 1", len(sets))
		}
		set := sets[0]
		if set.String("permissionModel") != "SERVICE_MANAGED" {
			t.Errorf("permission model %q", set.String("permissionModel"))
		}
		auto, _ := set.Inputs["autoDeployment"].(map[string]any)
		if auto["enabled"] != true {
			t.Errorf("auto deployment %v", auto)
		}
		params, _ := set.Inputs["parameters"].(map[string]any)
		if got := strings.Split(fmt.Sprint(params[pipeline.ParamHubRoleArns]), ","); !slices.Equal(got, hub("hub")) {
			t.Errorf("StackSet's hub roles %v, want %v", got, hub("hub"))
		}
		if params[pipeline.ParamOrganizationID] != "o-exampleorgid" {
			t.Errorf("StackSet's organization %v", params[pipeline.ParamOrganizationID])
		}
		var tmpl struct {
			Resources map[string]struct {
				Properties struct {
					AssumeRolePolicyDocument document
				}
			}
		}
		if err := json.Unmarshal([]byte(set.String("templateBody")), &tmpl); err != nil {
			t.Fatal(err)
		}
		cond := tmpl.Resources["MemberRole"].Properties.AssumeRolePolicyDocument.Statement[0].Condition["StringEquals"]
		if _, ok := cond["aws:PrincipalOrgID"]; !ok {
			t.Errorf("the template's trust has no aws:PrincipalOrgID condition: %v", cond)
		}
		instances := ofPipeline(p, typeInstance)
		if len(instances) != 1 {
			t.Fatalf("StackSet instances = %d", len(instances))
		}
		targets, _ := instances[0].Inputs["deploymentTargets"].(map[string]any)
		if got := strs(targets["organizationalUnitIds"]); !slices.Equal(got, []string{"ou-examplerootid111-exampleouid111", "ou-examplerootid111-exampleouid222"}) {
			t.Errorf("StackSet deploys to %v", got)
		}
	})
}

func TestEveryAlarmNotifiesTheAlarmTopic(t *testing.T) {
	p := stack(t, "hub")
	alarms := ofPipeline(p, typeAlarm)
	if len(alarms) < 10 {
		t.Fatalf("only %d alarms", len(alarms))
	}
	// The stack's alarm topic (the governance tier's), which platform
	// passes as Args.AlarmTopicARN.
	var summary string
	for _, tp := range p.OfType(typeTopic) {
		if strings.Contains(tp.Parent, "wordpress:governance:AlarmTopic") {
			summary = tp.ARN
		}
	}
	names := map[string]bool{}
	for _, a := range alarms {
		names[strings.TrimPrefix(a.Name, "wordpress-hub-restart-")] = true
		if got := strs(a.Inputs["alarmActions"]); !slices.Equal(got, []string{summary}) {
			t.Errorf("alarm %s notifies %v, want the alarm topic %s", a.Name, got, summary)
		}
	}
	for _, want := range []string{
		"execution-failed", "execution-timed-out", "execution-aborted", "run-not-finished-by-window-end",
		"restarts-failed", "services-unenrolled", "execution-throttled", "restart-errors", "restart-throttles",
		"night-halted-by-circuit-breaker", "accounts-halted-by-circuit-breaker", "batches-failed",
	} {
		if !names[want] {
			t.Errorf("no %s alarm (have %v)", want, names)
		}
	}
}

func TestTablesAreTheEnginesSchemaEncryptedWithPITRAndTTL(t *testing.T) {
	p := stack(t, "hub")
	tables := map[string]plan.Resource{}
	for _, tb := range ofPipeline(p, typeTable) {
		tables[tb.String("name")] = tb
	}
	schemas := store.Schemas("wordpress-hub-restart-inventory", "wordpress-hub-restart-runs")
	if len(tables) != len(schemas) {
		t.Fatalf("tables %d, schemas %d", len(tables), len(schemas))
	}
	key := ofPipeline(p, typeKey)[0]
	for _, s := range schemas {
		tb, ok := tables[s.Name]
		if !ok {
			t.Errorf("no table %s", s.Name)
			continue
		}
		if tb.String("hashKey") != s.PartitionKey.Name || tb.String("rangeKey") != s.SortKey.Name {
			t.Errorf("%s keys %s/%s, schema %s/%s", s.Name, tb.String("hashKey"), tb.String("rangeKey"), s.PartitionKey.Name, s.SortKey.Name)
		}
		wantAttrs := map[string]string{s.PartitionKey.Name: s.PartitionKey.Type, s.SortKey.Name: s.SortKey.Type}
		gsis := map[string][2]string{}
		for _, ix := range s.Indexes {
			wantAttrs[ix.PartitionKey.Name] = ix.PartitionKey.Type
			wantAttrs[ix.SortKey.Name] = ix.SortKey.Type
			gsis[ix.Name] = [2]string{ix.PartitionKey.Name, ix.SortKey.Name}
		}
		gotAttrs := map[string]string{}
		for _, a := range tb.List("attributes") {
			m := a.(map[string]any)
			gotAttrs[m["name"].(string)] = m["type"].(string)
		}
		if fmt.Sprint(gotAttrs) != fmt.Sprint(wantAttrs) {
			t.Errorf("%s attributes %v, schema %v", s.Name, gotAttrs, wantAttrs)
		}
		gotGSIs := map[string][2]string{}
		for _, g := range tb.List("globalSecondaryIndexes") {
			m := g.(map[string]any)
			gotGSIs[m["name"].(string)] = [2]string{m["hashKey"].(string), fmt.Sprint(m["rangeKey"])}
			if m["projectionType"] != "ALL" {
				t.Errorf("%s index %v projects %v, the store reads whole items", s.Name, m["name"], m["projectionType"])
			}
		}
		if fmt.Sprint(gotGSIs) != fmt.Sprint(gsis) {
			t.Errorf("%s indexes %v, schema %v", s.Name, gotGSIs, gsis)
		}
		if tb.String("billingMode") != "PAY_PER_REQUEST" {
			t.Errorf("%s billing %q", s.Name, tb.String("billingMode"))
		}
		if pitr, _ := tb.Inputs["pointInTimeRecovery"].(map[string]any); pitr["enabled"] != true {
			t.Errorf("%s has no PITR", s.Name)
		}
		sse, _ := tb.Inputs["serverSideEncryption"].(map[string]any)
		if sse["enabled"] != true || sse["kmsKeyArn"] != "arn:aws:kms:us-east-1:123456789012:key/"+key.ID {
			t.Errorf("%s encryption %v, want the pipeline key", s.Name, sse)
		}
		if ttl, _ := tb.Inputs["ttl"].(map[string]any); ttl["enabled"] != true || ttl["attributeName"] != pipeline.TTLAttribute {
			t.Errorf("%s TTL %v", s.Name, ttl)
		}
	}
}

func TestFunctionsAreArm64AndTheirEnvironmentIsWhatTheEngineReads(t *testing.T) {
	raw := stacktest.RawConfig(t, "hub")
	p, cfg := stacktest.Record(t, "hub", raw)
	fns := ofPipeline(p, typeFunction)
	if len(fns) != len(workflow.Handlers) {
		t.Fatalf("functions %d, want %d", len(fns), len(workflow.Handlers))
	}
	for _, fn := range fns {
		arch := strs(fn.Inputs["architectures"])
		if !slices.Equal(arch, []string{"arm64"}) || fn.String("runtime") != pipeline.Runtime {
			t.Errorf("%s runs %s on %v", fn.Name, fn.String("runtime"), arch)
		}
		if !slices.Contains(workflow.Handlers, fn.String("handler")) {
			t.Errorf("%s handler %q is not an engine step", fn.Name, fn.String("handler"))
		}
		if len(fn.String("sourceCodeHash")) != 44 {
			t.Errorf("%s sourceCodeHash %q, want the archive's base64 SHA-256", fn.Name, fn.String("sourceCodeHash"))
		}
		if dlq, _ := fn.Inputs["deadLetterConfig"].(map[string]any); dlq["targetArn"] == nil {
			t.Errorf("%s has no dead-letter target", fn.Name)
		}
		env, _ := fn.Inputs["environment"].(map[string]any)
		vars, _ := env["variables"].(map[string]any)
		get := func(k string) string { s, _ := vars[k].(string); return s }
		s, err := setup.FromEnv(get)
		if err != nil {
			t.Errorf("%s: the engine refuses its environment: %v", fn.Name, err)
			continue
		}
		if s.Location.String() != cfg.Restart.TimeZone || s.Window != cfg.Restart.Window() {
			t.Errorf("%s: engine window %+v in %v, config %+v in %s", fn.Name, s.Window, s.Location, cfg.Restart.Window(), cfg.Restart.TimeZone)
		}
		if !slices.Equal(s.Accounts, cfg.Restart.MemberAccounts) || !slices.Equal(s.Regions, cfg.Restart.Regions) {
			t.Errorf("%s: engine accounts %v regions %v", fn.Name, s.Accounts, s.Regions)
		}
		if s.UpdateRate != cfg.Restart.AccountRate || s.OutsideWindow != cfg.Restart.OutsideWindow {
			t.Errorf("%s: engine update rate %v outside window %v, config %v %v", fn.Name, s.UpdateRate, s.OutsideWindow, cfg.Restart.AccountRate, cfg.Restart.OutsideWindow)
		}
		b := cfg.Restart.Breaker
		if s.BucketShare != cfg.Restart.BucketShare || s.Breaker.MaxFailed != b.MaxFailed || s.Breaker.MaxFailedShare != b.MaxFailedPercent/100 ||
			s.Breaker.AccountMaxFailed != b.AccountMaxFailed || s.Breaker.AccountMaxFailedShare != b.AccountMaxFailedPercent/100 {
			t.Errorf("%s: engine bucket share %v, breaker %+v; config %v, %+v", fn.Name, s.BucketShare, s.Breaker, cfg.Restart.BucketShare, b)
		}
		if s.DeploymentTime != cfg.Restart.DeploymentTime() {
			t.Errorf("%s: engine deployment time %v, config %q", fn.Name, s.DeploymentTime, cfg.Restart.ExpectedDeploymentTime)
		}
		for _, k := range []string{"MIN_INTERVAL", "OUTSIDE_WINDOW", "RECORD_TTL_DAYS", "EXPECTED_DEPLOYMENT_TIME"} {
			if get(k) == "" {
				t.Errorf("%s: %s is not set", fn.Name, k)
			}
		}
		if fn.String("handler") == workflow.Report && (s.SummaryTopic == "" || s.OwnerTopic == "") {
			t.Errorf("the report function has no topics: %q %q", s.SummaryTopic, s.OwnerTopic)
		}
	}
}

func TestScheduleStartsTheMachineAtTheWindowStartInTheStacksTimeZone(t *testing.T) {
	raw := stacktest.RawConfig(t, "hub")
	var r map[string]any
	if err := json.Unmarshal([]byte(raw["wordpress:restart"]), &r); err != nil {
		t.Fatal(err)
	}
	r["windowStart"], r["timeZone"], r["windowLength"] = "22:30", "Europe/Madrid", "7h"
	b, _ := json.Marshal(r)
	raw["wordpress:restart"] = string(b)
	p, _ := stacktest.Record(t, "hub", raw)
	scheds := ofPipeline(p, typeSchedule)
	if len(scheds) != 1 {
		t.Fatalf("schedules %d", len(scheds))
	}
	s := scheds[0]
	if s.String("scheduleExpression") != "cron(30 22 * * ? *)" || s.String("scheduleExpressionTimezone") != "Europe/Madrid" {
		t.Errorf("schedule %s in %s, want cron(30 22 * * ? *) in Europe/Madrid", s.String("scheduleExpression"), s.String("scheduleExpressionTimezone"))
	}
	target, _ := s.Inputs["target"].(map[string]any)
	sm := ofPipeline(p, typeStateMachine)[0]
	if target["arn"] != sm.ARN || sm.ARN != "arn:aws:states:us-east-1:123456789012:stateMachine:"+sm.String("name") {
		t.Errorf("schedule targets %v, want the state machine", target["arn"])
	}
	if target["deadLetterConfig"] == nil || target["retryPolicy"] == nil {
		t.Errorf("schedule target has no retry policy or dead-letter queue: %v", target)
	}
	if in, _ := target["input"].(string); !strings.Contains(in, "<aws.scheduler.scheduled-time>") {
		t.Errorf("schedule input %q does not carry the scheduled time literally", in)
	}
	var def workflow.Definition
	if err := json.Unmarshal([]byte(sm.String("definition")), &def); err != nil {
		t.Fatal(err)
	}
	if want := (7*3600 + int(workflow.TimeoutGrace.Seconds())); def.TimeoutSeconds != want {
		t.Errorf("state machine timeout %d, want the 7h window and its grace, %d", def.TimeoutSeconds, want)
	}
	if s.String("state") != "ENABLED" {
		t.Errorf("schedule state %q, want ENABLED by default", s.String("state"))
	}
}

func TestScheduleStateIsStackConfig(t *testing.T) {
	raw := stacktest.RawConfig(t, "hub")
	var r map[string]any
	if err := json.Unmarshal([]byte(raw["wordpress:restart"]), &r); err != nil {
		t.Fatal(err)
	}
	r["schedule"] = "disabled"
	r["bucketShare"] = 0.3
	r["accountBucketShares"] = map[string]float64{"111111111111": 0.1}
	r["accountRate"] = 1.5
	b, _ := json.Marshal(r)
	raw["wordpress:restart"] = string(b)
	p, _ := stacktest.Record(t, "hub", raw)
	if s := ofPipeline(p, typeSchedule); len(s) != 1 || s[0].String("state") != "DISABLED" {
		t.Fatalf("schedules %+v, want one, DISABLED: a `pulumi up` keeps the night off", s)
	}
	for _, fn := range ofPipeline(p, typeFunction) {
		env, _ := fn.Inputs["environment"].(map[string]any)
		vars, _ := env["variables"].(map[string]any)
		get := func(k string) string { s, _ := vars[k].(string); return s }
		s, err := setup.FromEnv(get)
		if err != nil {
			t.Fatalf("%s: %v", fn.Name, err)
		}
		if s.BucketShare != 0.3 || s.AccountShares["111111111111"] != 0.1 || s.UpdateRate != 1.5 {
			t.Errorf("%s: engine shares %v %v, update rate %v; want 0.3, 0.1 for 111111111111, 1.5", fn.Name, s.BucketShare, s.AccountShares, s.UpdateRate)
		}
	}
}

func TestStateMachineCallsTheStacksFunctionsAndLogsErrors(t *testing.T) {
	p := stack(t, "hub")
	sm := ofPipeline(p, typeStateMachine)[0]
	var def workflow.Definition
	if err := json.Unmarshal([]byte(sm.String("definition")), &def); err != nil {
		t.Fatal(err)
	}
	fnNames := map[string]bool{}
	for _, fn := range ofPipeline(p, typeFunction) {
		fnNames[fn.String("name")] = true
	}
	var walk func(map[string]workflow.State)
	tasks := 0
	walk = func(states map[string]workflow.State) {
		for name, s := range states {
			if s.Type == workflow.TypeTask {
				tasks++
				fn := s.Resource[strings.LastIndex(s.Resource, ":")+1:]
				if !fnNames[fn] || !strings.HasPrefix(s.Resource, "arn:aws:lambda:us-east-1:123456789012:function:") {
					t.Errorf("task %s calls %s, not one of the stack's functions", name, s.Resource)
				}
			}
			if s.ItemProcessor != nil {
				walk(s.ItemProcessor.States)
			}
		}
	}
	walk(def.States)
	if tasks != len(workflow.TaskHandlers) {
		t.Errorf("tasks %d", tasks)
	}
	lc, _ := sm.Inputs["loggingConfiguration"].(map[string]any)
	if lc["level"] != "ERROR" || lc["includeExecutionData"] != false {
		t.Errorf("state machine logging %v, want ERROR without execution data", lc)
	}
}

func TestPipelineQueuesAndTopicsUseThePipelineKey(t *testing.T) {
	p := stack(t, "dev")
	key := "arn:aws:kms:us-east-1:123456789012:key/" + ofPipeline(p, typeKey)[0].ID
	for _, typ := range []string{typeQueue, typeTopic} {
		for _, r := range ofPipeline(p, typ) {
			if r.String("kmsMasterKeyId") != key {
				t.Errorf("%s is encrypted with %q, want the pipeline key", r.Label(), r.String("kmsMasterKeyId"))
			}
		}
	}
	doc := parse(t, "key policy", ofPipeline(p, typeKey)[0].String("policy"))
	for _, s := range doc.Statement {
		if s.Sid != "AccountAdministersKeyThroughIAM" && len(s.Condition) == 0 {
			t.Errorf("key policy statement %s has no condition", s.Sid)
		}
	}
}

func TestDisabledPipelineDeclaresNothing(t *testing.T) {
	raw := stacktest.RawConfig(t, "dev")
	raw[config.Namespace+":restart"] = `{"enabled": false}`
	p, _ := stacktest.Record(t, "dev", raw)
	if n := len(p.OfType(typePipeline)); n != 0 {
		t.Errorf("a disabled pipeline declares %d pipelines", n)
	}
}

func TestMemberRoleTemplatePassesCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		msg := "cfn-lint is not installed: `pip install cfn-lint` to lint the member role's StackSet template"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	tmpl, err := pipeline.MemberRoleTemplate()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "member-role.json")
	if err := os.WriteFile(file, []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lint, "--format", "parseable", file).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint finds problems in the member role template: %v\n%s", err, out)
	}
}

// The grants are the adapters' interfaces, both ways: every DynamoDB
// action a function may call on the tables is a method of store.API and
// every method is granted, and the member role's ECS actions are exactly
// awsfleet.ECS's methods (restart/store and restart/awsfleet check that
// the code calls every method of their interface).
func TestGrantsAreTheAdaptersInterfaces(t *testing.T) {
	for _, name := range []string{"dev", "hub"} {
		p := stack(t, name)
		docs := policies(t, p)
		for _, h := range workflow.Handlers {
			d := docs["policy of wordpress-"+name+"-restart-"+h]
			var got []string
			for _, s := range d.Statement {
				for _, a := range strs(s.Action) {
					if strings.HasPrefix(a, "dynamodb:") {
						got = append(got, a)
					}
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, pipeline.DynamoDBActions) {
				t.Errorf("%s %s may call %v on the tables, want store.API's %v", name, h, got, pipeline.DynamoDBActions)
			}
		}
		if !slices.Contains(pipeline.DynamoDBActions, "dynamodb:Query") {
			t.Errorf("no function may query its tables: %v", pipeline.DynamoDBActions)
		}
	}
	// The member role's policy, in dev's direct role.
	p := stack(t, "dev")
	var got []string
	for _, r := range ofPipeline(p, typeRolePolicy) {
		if r.String("role") != "wordpress-dev-restart-member" {
			continue
		}
		for _, s := range parse(t, r.Name, r.String("policy")).Statement {
			got = append(got, strs(s.Action)...)
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, pipeline.MemberECSActions) {
		t.Errorf("the member role may call %v, want awsfleet.ECS's %v", got, pipeline.MemberECSActions)
	}
	for _, a := range []string{"ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"} {
		if !slices.Contains(got, a) {
			t.Errorf("the member role is not granted %s, which the engine calls to record what a restart changed", a)
		}
	}
}
