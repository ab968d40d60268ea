package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/cost"
	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/meter"
	"github.com/nequi-platform/wordpress-ecs/restart/pipeline"
	"github.com/nequi-platform/wordpress-ecs/restart/workflow"
)

// tiny is a machine whose billed transitions are counted by hand: the
// start (1), Start (1), Items (1), two iterations of Work, Check and Ok
// (6), Flaky (1) and its one retry (1): 11. Four commands run: Work twice
// and Flaky twice.
const tiny = `{"StartAt": "Start", "States": {
  "Start": {"Type": "Pass", "Next": "Items"},
  "Items": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "ResultPath": null, "Next": "Flaky",
    "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Work", "States": {
      "Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "Next": "Check"},
      "Check": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 2, "Next": "Ok"}], "Default": "Ok"},
      "Ok": {"Type": "Succeed"}}}},
  "Flaky": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky", "End": true,
    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}]}}}`

func TestTheTransitionsOfAnExecutionAreCountedAsStepFunctionsBillsThem(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	node, err := findNode(context.Background(), root, "")
	need(t, err, "no Node.js 22 for aws-local-stepfunctions")
	_, err = os.Stat(filepath.Join(root, "node_modules", "aws-local-stepfunctions"))
	need(t, err, "aws-local-stepfunctions is not installed (npm ci)")

	work := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flag := filepath.Join(work, "failed-once")
	cfg := driverConfig{
		Library:        filepath.Join(root, "node_modules", "aws-local-stepfunctions", "build", "main.node.cjs"),
		DefinitionFile: write("tiny.json", tiny),
		Tasks: map[string][]string{
			"Work":  {"sh", "-c", `echo '{"x": 1}'`},
			"Flaky": {"sh", "-c", `if [ -e ` + flag + ` ]; then echo '{}'; else touch ` + flag + `; echo '{"errorType": "Boom"}'; exit 1; fi`},
		},
		Waits:     map[string]int64{},
		Retries:   map[string]int64{"Flaky": 0},
		Input:     map[string]any{"items": []int{1, 2}},
		StatsFile: filepath.Join(work, "stats.json"),
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, write("local-sfn.cjs", string(driverJS)), write("config.json", string(b)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("execution: %v\n%s", err, out)
	}
	sb, err := os.ReadFile(cfg.StatsFile)
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	if err := json.Unmarshal(sb, &st); err != nil {
		t.Fatal(err)
	}
	if got := st.Transitions(); got != 11 {
		t.Errorf("transitions = %d, want 11 (entered %v, retried %v, events %v)", got, st.Entered, st.Retried, st.Events)
	}
	if err := st.check([]string{"Work", "Flaky"}); err != nil {
		t.Error(err)
	}
	if len(st.Invocations) != 4 || st.Invocations[2].OK || !st.Invocations[3].OK {
		t.Errorf("invocations = %+v, want Work, Work, Flaky failing, Flaky succeeding", st.Invocations)
	}
	// Losing an event is caught, not priced.
	st.Entered["Work"]--
	if err := st.check([]string{"Work", "Flaky"}); err == nil {
		t.Error("a lost StateEntered went unnoticed")
	}
}

func TestANightsCountsAddUpPerHandler(t *testing.T) {
	d, err := workflow.New(workflow.Settings{Functions: map[string]string{
		"discover": "arn:d", "plan": "arn:p", "restart": "arn:r", "verify": "arn:v", "report": "arn:rep",
	}, Window: fleet.DefaultWindow()})
	if err != nil {
		t.Fatal(err)
	}
	st := Stats{
		Events:  map[string]int{"ExecutionStarted": 1},
		Entered: map[string]int{"Discover": 1, "Plan": 1, "Batches": 1, "WaitForSlot": 2, "Restart": 2, "Settle": 2, "Verify": 2, "BatchSettled": 2, "BatchDone": 2, "StartFinalChecks": 1, "VerifyAll": 1, "AllSettled": 1, "Report": 1, "Outcome": 1, "Done": 1},
		Invocations: []Invocation{
			{"Discover", 1000.2, true}, {"Plan", 300, true}, {"Restart", 200, true}, {"Verify", 100, true},
			{"Restart", 200, true}, {"Verify", 100, true}, {"VerifyAll", 100, true}, {"Report", 99.5, true},
		},
	}
	uses := make([]meter.Counts, len(st.Invocations))
	for i, inv := range st.Invocations {
		uses[i] = meter.Counts{Handler: workflow.TaskHandlers[inv.State], DynamoDB: map[string]meter.Op{"PutItem": {Calls: 1, WriteUnits: 2}, "Query": {Calls: 1, ReadUnits: 0.5}}, LogBytes: 10}
	}
	uses[7].SNSPublishes, uses[7].SNSRequests = map[string]int{"local-summary": 1, "local-owners": 2}, 3
	var res Result
	res.Run.Discovered, res.Plan.Batches, res.Report.RestartedThisRun = 500, make([]any, 2), 400
	rep := countNight(st, uses, res, d, costFlags{memoryMB: 1024, arch: "arm64", emailSubscribers: 2})
	n := rep.Night
	if n.Transitions != 22 || rep.TransitionsFixed != 10 || rep.TransitionsPerBatch != 6 || rep.ChecksPerBatch != 1 {
		t.Errorf("transitions %d = %d fixed + %v per batch (checks %v); want 22 = 10 (the start and 9 states) + 2 x 6, 1 check", n.Transitions, rep.TransitionsFixed, rep.TransitionsPerBatch, rep.ChecksPerBatch)
	}
	// 1001 + 300 + 4 x 200... billed per started ms: 1001+300+200+100+200+100+100+100.
	if n.LambdaRequests != 8 || n.LambdaBilledMs != 2101 || n.GBSeconds() != 2.101 {
		t.Errorf("lambda %d requests, %v ms, %v GB-s; want 8, 2101, 2.101", n.LambdaRequests, n.LambdaBilledMs, n.GBSeconds())
	}
	if n.WriteUnits != 16 || n.ReadUnits != 4 || n.SNSRequests != 3 || n.EmailDeliveries != 6 || n.LogBytes != 8*(10+platformLogBytes) {
		t.Errorf("night %+v", n)
	}
	if h := rep.Handlers["verify"]; h.Invocations != 3 || h.WallMs != 300 {
		t.Errorf("verify: %+v, want 3 calls, 300 ms", h)
	}
	p, err := cost.LoadPrices("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.price(p, costFlags{perServiceMs: 100}); err != nil {
		t.Fatal(err)
	}
	// 400 services, one check each: 5 transitions per Map iteration.
	if got := rep.PerService["map"].Lines[0].Quantity; got != 2000 {
		t.Errorf("per-service map design: %v transitions, want 2000", got)
	}
	var out strings.Builder
	if err := rep.write(&out, "night_"); err != nil {
		t.Fatal(err)
	}
	last := strings.TrimSpace(out.String()[strings.LastIndex(strings.TrimSpace(out.String()), "\n")+1:])
	for _, kv := range []string{"night_transitions=22", "night_lambda_requests=8", "night_ddb_wru=16.0", "night_under_5usd=true"} {
		if !strings.Contains(" "+last+" ", " "+kv+" ") {
			t.Errorf("the last line lacks %s:\n%s", kv, last)
		}
	}
}

func TestCostAssumesTheArchitectureThePipelineDeploys(t *testing.T) {
	if defaultArch != pipeline.Architecture {
		t.Errorf("restart-sfn cost prices %s functions; the pipeline deploys %s", defaultArch, pipeline.Architecture)
	}
}

// TestCostCountsAndPricesOneLocalNight runs `restart-sfn cost` on a
// 40-service fleet and checks its counts against what the night did.
func TestCostCountsAndPricesOneLocalNight(t *testing.T) {
	ln := newLocalNight(t, fleetsim.Config{Seed: 3, Accounts: 2, Clusters: 6, Services: 40, DeployTime: 50 * time.Millisecond})
	jsonFile := filepath.Join(ln.work, "night.json")
	var out, progress bytes.Buffer
	err := Main(context.Background(), append(append([]string{"cost"}, ln.args...), "--key-prefix", "tiny_", "--json", jsonFile), &out, &progress)
	if err != nil {
		t.Fatalf("cost: %v\n%s\n%s", err, out.String(), progress.String())
	}
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var rep NightReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	night := rep.Night
	entered := 0
	for _, v := range rep.Entered {
		entered += v
	}
	if night.Transitions != 1+entered {
		t.Errorf("%d transitions, want the start and the %d states entered", night.Transitions, entered)
	}
	calls := 0
	for state := range workflow.TaskHandlers {
		calls += rep.Entered[state]
	}
	if night.LambdaRequests != calls || night.LambdaMemoryMB != 512 || night.LambdaArch != "arm64" {
		t.Errorf("lambda: %d requests of %d MB %s; want %d (one per Task state entered), the dev stack's 512 MB, arm64", night.LambdaRequests, night.LambdaMemoryMB, night.LambdaArch, calls)
	}
	// Every service discovered is written to the inventory, and every
	// restart is claimed, given its deployment id and its outcome.
	if rep.Restarted == 0 || night.WriteUnits < float64(night.Services+3*rep.Restarted) || night.ReadUnits == 0 {
		t.Errorf("DynamoDB: %v WRU, %v RRU for %d services and %d restarts", night.WriteUnits, night.ReadUnits, night.Services, rep.Restarted)
	}
	if night.SNSRequests == 0 || rep.SNSPublishes["local-summary"] != 1 {
		t.Errorf("SNS: %d requests, publishes %v; want the summary once", night.SNSRequests, rep.SNSPublishes)
	}
	if rep.Cost.MonthUSD <= 0 || rep.Cost.PricesAsOf == "" {
		t.Errorf("cost: %+v", rep.Cost)
	}
	if !strings.Contains(out.String(), "tiny_transitions="+strconv.Itoa(night.Transitions)+" ") {
		t.Errorf("the key=value line lacks the transitions:\n%s", out.String())
	}
}
