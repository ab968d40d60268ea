package workflow_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
	"github.com/nequi-platform/wordpress-ecs/restart/workflow"
)

func functions() map[string]string {
	m := map[string]string{}
	for _, h := range workflow.Handlers {
		m[h] = "arn:aws:lambda:us-east-1:123456789012:function:wordpress-prod-restart-" + h
	}
	return m
}

func definition(t *testing.T, w fleet.Window) workflow.Definition {
	t.Helper()
	d, err := workflow.New(workflow.Settings{Functions: functions(), Window: w})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestHandlerNamesAreTheEngines(t *testing.T) {
	if !slices.Equal(workflow.Handlers, engine.HandlerNames()) {
		t.Errorf("workflow handlers %v, engine handlers %v", workflow.Handlers, engine.HandlerNames())
	}
}

// tasks returns every Task state, item processors included, by name.
func tasks(d workflow.Definition) map[string]workflow.State {
	out := map[string]workflow.State{}
	var walk func(map[string]workflow.State)
	walk = func(states map[string]workflow.State) {
		for name, s := range states {
			if s.Type == workflow.TypeTask {
				out[name] = s
			}
			if s.ItemProcessor != nil {
				walk(s.ItemProcessor.States)
			}
		}
	}
	walk(d.States)
	return out
}

func TestEveryTaskCallsItsHandlersFunction(t *testing.T) {
	d := definition(t, fleet.DefaultWindow())
	fns := functions()
	got := tasks(d)
	if len(got) != len(workflow.TaskHandlers) {
		t.Errorf("task states %d, want %d (%v)", len(got), len(workflow.TaskHandlers), d.StateNames())
	}
	for name, s := range got {
		h, ok := workflow.TaskHandlers[name]
		if !ok {
			t.Errorf("task %s has no handler in TaskHandlers", name)
			continue
		}
		if s.Resource != fns[h] {
			t.Errorf("task %s calls %s, want the %s function %s", name, s.Resource, h, fns[h])
		}
	}
}

func TestTasksRetryTransientErrorsButNeverTheClosedWindow(t *testing.T) {
	d := definition(t, fleet.DefaultWindow())
	for name, s := range tasks(d) {
		if len(s.Retry) == 0 {
			t.Errorf("task %s has no Retry", name)
		}
		var retried []string
		for _, r := range s.Retry {
			retried = append(retried, r.ErrorEquals...)
			if r.MaxAttempts < 1 || r.BackoffRate < 1 {
				t.Errorf("task %s retries %v with MaxAttempts %d BackoffRate %v", name, r.ErrorEquals, r.MaxAttempts, r.BackoffRate)
			}
		}
		for _, e := range []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"} {
			if !slices.Contains(retried, e) {
				t.Errorf("task %s does not retry %s", name, e)
			}
		}
		for _, e := range []string{workflow.ErrOutsideWindow, workflow.ErrAll, "States.Runtime"} {
			if slices.Contains(retried, e) {
				t.Errorf("task %s retries %s", name, e)
			}
		}
	}
	batches := d.States[workflow.StateBatches]
	if len(batches.Catch) == 0 || !slices.Equal(batches.Catch[0].ErrorEquals, []string{workflow.ErrOutsideWindow}) {
		t.Fatalf("the batches' first Catch is %+v, want OutsideWindowError", batches.Catch)
	}
}

// reaches reports whether from leads to target in the top-level machine.
func reaches(d workflow.Definition, from, target string) bool {
	seen := map[string]bool{}
	var visit func(string) bool
	visit = func(n string) bool {
		if n == target {
			return true
		}
		if n == "" || seen[n] {
			return false
		}
		seen[n] = true
		s := d.States[n]
		next := []string{s.Next, s.Default}
		for _, c := range s.Choices {
			next = append(next, c.Next)
		}
		for _, c := range s.Catch {
			next = append(next, c.Next)
		}
		return slices.ContainsFunc(next, visit)
	}
	return visit(from)
}

func TestEveryCaughtFailureAfterDiscoveryReachesTheReport(t *testing.T) {
	d := definition(t, fleet.DefaultWindow())
	caught := 0
	for name, s := range d.States {
		for _, c := range s.Catch {
			if name == workflow.StateDiscover {
				continue
			}
			caught++
			if !reaches(d, c.Next, workflow.StateReport) {
				t.Errorf("%s catches %v into %s, which never reaches Report", name, c.ErrorEquals, c.Next)
			}
		}
	}
	if caught < 3 {
		t.Errorf("only %d catch routes after discovery; Plan, Batches and VerifyAll must all catch", caught)
	}
	// After the report, a caught failure ends the execution as failed.
	if out := d.States[workflow.StateOutcome]; out.Choices[0].Next != workflow.StateRunIncomplete || d.States[workflow.StateRunIncomplete].Type != workflow.TypeFail {
		t.Errorf("Outcome does not end a run with a caught error in a Fail state: %+v", out)
	}
}

func TestBatchesRunOneAtATimeInOrder(t *testing.T) {
	d := definition(t, fleet.DefaultWindow())
	m := d.States[workflow.StateBatches]
	if m.Type != workflow.TypeMap || m.MaxConcurrency != 1 {
		t.Errorf("Batches is %s with MaxConcurrency %d, want a Map with 1", m.Type, m.MaxConcurrency)
	}
	if string(m.ResultPath) != "null" {
		t.Errorf("Batches keeps its iterations' results (ResultPath %s): the payload would grow with the batches", m.ResultPath)
	}
	if w := m.ItemProcessor.States[m.ItemProcessor.StartAt]; w.Type != workflow.TypeWait || w.TimestampPath != "$.startAt" {
		t.Errorf("a batch starts with %+v, want a Wait until $.startAt", w)
	}
}

func TestExecutionTimesOutAfterTheWindowAndItsGrace(t *testing.T) {
	w, err := fleet.ParseWindow("22:00", 8*time.Hour, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	d := definition(t, w)
	if want := int((8*time.Hour + workflow.TimeoutGrace).Seconds()); d.TimeoutSeconds != want {
		t.Errorf("TimeoutSeconds = %d, want %d", d.TimeoutSeconds, want)
	}
}

func TestNewRefusesAMissingFunction(t *testing.T) {
	fns := functions()
	delete(fns, workflow.Verify)
	_, err := workflow.New(workflow.Settings{Functions: fns, Window: fleet.DefaultWindow()})
	if err == nil || !strings.Contains(err.Error(), "verify") {
		t.Errorf("err = %v, want one naming the verify handler", err)
	}
}

// nodeTool returns the path of an npm-installed executable, or skips (fails
// on CI) when it is not installed.
func nodeTool(t *testing.T, name string) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "node_modules", ".bin", name)
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("%s is not installed: run `npm ci` (or `make test`) at the repository root", name)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

func TestGeneratedDefinitionPassesASLValidator(t *testing.T) {
	validator := nodeTool(t, "asl-validator")
	args := []string{}
	for i, w := range []fleet.Window{fleet.DefaultWindow(), mustWindow(t, "22:30", 7*time.Hour, 5*time.Minute)} {
		js, err := definition(t, w).JSON()
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), fmt.Sprintf("statemachine-%d.json", i))
		if err := os.WriteFile(file, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--json-path", file)
	}
	// One run for both: each node start costs a second or two.
	out, err := exec.Command(validator, args...).CombinedOutput()
	if err != nil {
		t.Errorf("asl-validator rejects the definition: %v\n%s", err, out)
	}
}

func mustWindow(t *testing.T, start string, length, interval time.Duration) fleet.Window {
	t.Helper()
	w, err := fleet.ParseWindow(start, length, interval)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// night100k plans a 100,000-service fleet in w, the way the Plan step
// does, and returns the Plan Lambda's output.
func night100k(t *testing.T, w fleet.Window, runID string) engine.PlanOutput {
	t.Helper()
	services := make([]fleet.Service, 100_000)
	for i := range services {
		acct := fmt.Sprintf("%012d", 100000000000+i%50)
		cluster := fmt.Sprintf("cluster-%04d", i%1000)
		name := fmt.Sprintf("service-%06d", i)
		services[i] = fleet.Service{
			Account: acct, Region: "us-east-1", Cluster: cluster, Service: name,
			ARN:          fmt.Sprintf("arn:aws:ecs:us-east-1:%s:service/%s/%s", acct, cluster, name),
			DesiredCount: 2, SchedulingStrategy: "REPLICA", DeploymentController: "ECS",
			Tags: map[string]string{fleet.RestartTag: "2026-11-26T01:00:00Z"},
		}
	}
	p, err := fleet.PlanNight(services, fleet.EnrollAll, w)
	if err != nil {
		t.Fatal(err)
	}
	day := "2026-11-27"
	loc, _ := time.LoadLocation("America/Bogota")
	midnight, _ := time.ParseInLocation(time.DateOnly, day, loc)
	out := engine.PlanOutput{RunRef: engine.RunRef{RunID: runID, Day: day}, Batches: []engine.BatchRef{}}
	for _, b := range p.Batches {
		out.Batches = append(out.Batches, engine.BatchRef{RunID: runID, Day: day, Batch: b.Index, Start: b.Start, StartAt: midnight.Add(w.SlotOffset(b.Index))})
		out.Eligible += len(b.Services)
	}
	out.Skipped = len(services) - out.Eligible
	return out
}

// TestA100000ServiceNightStaysFarBelowStepFunctionsLimits computes the
// largest payload between states and the history length of a night of
// 100,000 services in the default window, the worst case of the machine:
// every batch verified to the loop's bound. The payload must stay under a
// quarter of AWS's limit; the history under a quarter of it when no Lambda
// call fails, and under half when every call fails twice before it
// succeeds.
func TestA100000ServiceNightStaysFarBelowStepFunctionsLimits(t *testing.T) {
	for _, w := range []fleet.Window{fleet.DefaultWindow(), mustWindow(t, "00:00", 6*time.Hour, 5*time.Minute)} {
		d := definition(t, w)
		// Execution names are at most 80 characters; the run id is one.
		runID := strings.Repeat("r", 80)
		plan := night100k(t, w, runID)
		if plan.Eligible != 100_000 {
			t.Fatalf("planned %d services, want 100000", plan.Eligible)
		}
		sizes := map[string]int{}
		size := func(what string, v any) {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			sizes[what] = len(b)
		}
		size("Plan's Lambda result", plan)
		// The state data after Plan, the largest the machine carries: the
		// execution's input, the run and the plan's selected fields.
		state := map[string]any{
			"scheduledTime": "2026-11-27T05:00:00Z",
			"run":           map[string]any{"runId": runID, "day": plan.Day, "discovered": 100_000},
			"plan":          map[string]any{"eligible": plan.Eligible, "skipped": plan.Skipped, "batches": plan.Batches},
			"error":         map[string]any{"Error": workflow.ErrOutsideWindow, "Cause": strings.Repeat("x", 1024)},
		}
		size("state after Plan", state)
		counts := report.Counts{Discovered: 100_000, Eligible: 100_000, Restarted: 100_000, Completed: 100_000,
			SkippedByReason: map[fleet.Reason]int{"desired-count-zero": 1, "opted-out": 1, "unenrolled": 1, "code-deploy-controller": 1, "external-deployment-controller": 1}}
		size("Report's Lambda result", engine.ReportOutput{RunRef: plan.RunRef, Counts: counts, RestartedThisRun: 100_000})

		events, err := workflow.HistoryEvents(d, workflow.Night{Batches: len(plan.Batches)})
		if err != nil {
			t.Fatal(err)
		}
		retried, err := workflow.HistoryEvents(d, workflow.Night{Batches: len(plan.Batches), RetriesPerTask: 2})
		if err != nil {
			t.Fatal(err)
		}
		largest := 0
		for what, n := range sizes {
			t.Logf("window %s every %v: %s: %d bytes", w.SlotStart(0), w.Interval, what, n)
			largest = max(largest, n)
		}
		t.Logf("window %s every %v: %d batches, %d verifications a batch, history %d events (%d with every call retried twice; limit %d), largest payload %d bytes (limit %d)",
			w.SlotStart(0), w.Interval, len(plan.Batches), workflow.BatchChecks(w), events, retried, workflow.MaxHistoryEvents, largest, workflow.MaxPayloadBytes)
		if largest > workflow.MaxPayloadBytes/4 {
			t.Errorf("largest payload %d bytes, more than a quarter of Step Functions' %d", largest, workflow.MaxPayloadBytes)
		}
		if events > workflow.MaxHistoryEvents/4 {
			t.Errorf("history of %d events, more than a quarter of Step Functions' %d", events, workflow.MaxHistoryEvents)
		}
		if retried > workflow.MaxHistoryEvents/2 {
			t.Errorf("history of %d events with retries, more than half of Step Functions' %d", retried, workflow.MaxHistoryEvents)
		}
	}
}

func TestHistoryGrowsWithBatchesAndRetries(t *testing.T) {
	d := definition(t, fleet.DefaultWindow())
	base, err := workflow.HistoryEvents(d, workflow.Night{Batches: 10})
	if err != nil {
		t.Fatal(err)
	}
	more, _ := workflow.HistoryEvents(d, workflow.Night{Batches: 11})
	retried, _ := workflow.HistoryEvents(d, workflow.Night{Batches: 10, RetriesPerTask: 1})
	perBatch := 2 + 2 + 5 + 2 + (5+2)*workflow.BatchChecks(fleet.DefaultWindow()) + (2+2)*(workflow.BatchChecks(fleet.DefaultWindow())-1) + 2
	if more-base != perBatch {
		t.Errorf("one more batch adds %d events, want %d (map iteration, wait, restart, settle, verify loop, done)", more-base, perBatch)
	}
	if retried <= base {
		t.Errorf("retries add no events: %d vs %d", retried, base)
	}
}

func TestOnlyTheSystemicStopsEndTheBatches(t *testing.T) {
	d := definition(t, fleet.DefaultWindow())
	inner := d.States[workflow.StateBatches].ItemProcessor.States
	restart := inner[workflow.StateRestart]
	stops := map[string]string{
		workflow.ErrOutsideWindow: workflow.StateStopWindow,
		workflow.ErrPaused:        workflow.StateStopPaused,
		workflow.ErrBreakerOpen:   workflow.StateStopBreaker,
	}
	for i, c := range restart.Catch {
		if i < len(stops) {
			want := stops[c.ErrorEquals[0]]
			if len(c.ErrorEquals) != 1 || want == "" || c.Next != want || inner[want].Type != workflow.TypeFail || inner[want].Error != c.ErrorEquals[0] {
				t.Errorf("Restart's catch %d %+v: want a systemic stop failing the iteration with its own error name", i, c)
			}
			continue
		}
		if !slices.Equal(c.ErrorEquals, []string{workflow.ErrAll}) || c.Next != workflow.StateSettle {
			t.Errorf("Restart's last catch %+v: want every other failure to go on to the batch's check", c)
		}
	}
	if v := inner[workflow.StateVerify]; len(v.Catch) != 1 || v.Catch[0].Next != workflow.StateRecordFailure || inner[workflow.StateRecordFailure].Next != workflow.StateBatchDone {
		t.Errorf("a failed Verify is not recorded and passed over: %+v", v.Catch)
	}
	if c := inner[workflow.StateSettled].Choices[0]; c.Variable != "$.verify.halt" || c.Next != workflow.StateStopBreaker {
		t.Errorf("a tripped breaker does not end the batches: %+v", c)
	}
	// The Map's catches: the pause apart from the errors, so that a
	// paused night ends succeeded, and a halted one failed.
	var paused, breaker string
	for _, c := range d.States[workflow.StateBatches].Catch {
		switch c.ErrorEquals[0] {
		case workflow.ErrPaused:
			paused = string(c.ResultPath)
		case workflow.ErrBreakerOpen:
			breaker = string(c.ResultPath)
		}
	}
	if paused != `"$.paused"` || breaker != `"$.error"` {
		t.Errorf("the pause is caught into %s and the breaker into %s", paused, breaker)
	}
	out := d.States[workflow.StateOutcome]
	if len(out.Choices) != 2 || out.Choices[1].Variable != "$.report.incomplete" || out.Choices[1].Next != workflow.StateRunIncomplete {
		t.Errorf("a report saying the night is incomplete does not fail the execution: %+v", out.Choices)
	}
	disc := d.States[workflow.StateDiscovered]
	if len(disc.Choices) != 2 || disc.Default != workflow.StatePlan || !reaches(d, disc.Choices[0].Next, workflow.StateReport) || reaches(d, disc.Choices[0].Next, workflow.StatePlan) {
		t.Errorf("a night paused at discovery does not go straight to the report: %+v", disc)
	}
}
