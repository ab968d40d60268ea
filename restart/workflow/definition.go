package workflow

import (
	"fmt"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// Handler names: the Lambda functions' _HANDLER values, the same names as
// restart/engine's (a test keeps them equal; importing the engine here
// would pull the AWS SDK clients into the Pulumi program).
const (
	Discover = "discover"
	Plan     = "plan"
	Restart  = "restart"
	Verify   = "verify"
	Report   = "report"
)

// Handlers are the engine's steps in the order a night runs them.
var Handlers = []string{Discover, Plan, Restart, Verify, Report}

// Error names the machine handles. Lambda reports a Go handler's error
// with the error's type name as errorType, and Step Functions matches
// Retry and Catch on it.
const (
	// ErrOutsideWindow is the restart step refusing to restart outside the
	// window (a late trigger, a redrive, a person): never retried, the run
	// goes to its report.
	ErrOutsideWindow = "OutsideWindowError"
	// ErrPaused is the restart step finding the pause switch on
	// (`restartctl pause`): the run goes to its final checks and report,
	// and the execution succeeds (a pause is a decision, not a failure).
	ErrPaused = "PausedError"
	// ErrBreakerOpen is the fleet's circuit breaker of the day: found open
	// by the restart step, or tripped by a batch's check. The run goes to
	// its final checks and report, and the execution fails.
	ErrBreakerOpen = "BreakerOpenError"
	// ErrAll matches every error but States.Runtime.
	ErrAll = "States.ALL"
	// ErrRunIncomplete ends an execution that reported after a failure, so
	// that the ExecutionsFailed alarm fires.
	ErrRunIncomplete = "RunIncomplete"
)

// RetryableErrors are the errors a step is retried on, the one list every
// Task uses.
//
// The first four are the Lambda service's transient failures, which AWS
// recommends retrying on every Lambda task (Step Functions developer
// guide, "Handling errors in Step Functions workflows"). The last two are
// the function running out of time or its process dying: every engine
// step is safe to run again, because restarts are claimed with a
// conditional write per day and service before UpdateService is called,
// so a retried Restart resumes the batch instead of restarting anything
// twice. The engine has no named error types of its own yet: its
// failures reach Lambda as wrapped errors (errorType "wrapError"), too
// coarse to retry on, and are left to the Catch routes.
var RetryableErrors = []string{
	"Lambda.ServiceException",
	"Lambda.AWSLambdaException",
	"Lambda.SdkClientException",
	"Lambda.TooManyRequestsException",
	"Sandbox.Timedout",
	"Runtime.ExitError",
}

// Settings shape the machine.
type Settings struct {
	// Functions maps each handler name to its Lambda function's ARN.
	Functions map[string]string
	// Window is the night's window; it bounds the verify loops and the
	// execution's timeout.
	Window fleet.Window
}

// Timing of the verify loops. A rolling deployment of a small service takes
// a couple of minutes (new tasks start and pass health checks, old ones
// drain), so the first check waits Settle and later ones come every
// Recheck until the next batch is due.
const (
	Settle  = 2 * time.Minute
	Recheck = time.Minute
	// TimeoutGrace is how long past the window's end an execution may run
	// before Step Functions stops it (the report runs well before).
	TimeoutGrace = time.Hour
)

// BatchChecks is how many times a batch is verified before the machine
// moves on: as many as fit between the settle wait and the next batch's
// slot, at least one. What is still rolling out then is checked again by
// the final whole-day verify.
func BatchChecks(w fleet.Window) int {
	return max(1, int((w.Interval-Settle)/Recheck)+1)
}

// FinalChecks is how many times the whole day is verified after the last
// batch: as many as fit in the window's verify reserve, at least one.
func FinalChecks(w fleet.Window) int {
	return max(1, int(w.VerifyReserve/Recheck)+1)
}

// State names; the local runner maps the Task states to handlers by these.
const (
	StateDiscover        = "Discover"
	StateDiscovered      = "Discovered"
	StatePlan            = "Plan"
	StateBatches         = "Batches"
	StateWaitForSlot     = "WaitForSlot"
	StateRestart         = "Restart"
	StateSettle          = "Settle"
	StateVerify          = "Verify"
	StateRecordFailure   = "RecordVerifyFailure"
	StateStopWindow      = "StopOutsideWindow"
	StateStopPaused      = "StopPaused"
	StateStopBreaker     = "StopBreakerOpen"
	StateSettled         = "BatchSettled"
	StateRecheck         = "WaitToRecheck"
	StateCountCheck      = "CountCheck"
	StateBatchDone       = "BatchDone"
	StateStartFinal      = "StartFinalChecks"
	StateVerifyAll       = "VerifyAll"
	StateAllSettled      = "AllSettled"
	StateRecheckAll      = "WaitToRecheckAll"
	StateCountFinal      = "CountFinalCheck"
	StateReport          = "Report"
	StateOutcome         = "Outcome"
	StateDone            = "Done"
	StateRunIncomplete   = "RunIncomplete"
	StateDiscoveryFailed = "DiscoveryFailed"
)

// TaskHandlers maps each Task state to the handler it invokes.
var TaskHandlers = map[string]string{
	StateDiscover:      Discover,
	StatePlan:          Plan,
	StateRestart:       Restart,
	StateVerify:        Verify,
	StateRecordFailure: Verify,
	StateVerifyAll:     Verify,
	StateReport:        Report,
}

// New builds the nightly restart's state machine:
//
//	Discover -> (paused or breaker open: final checks) -> Plan
//	-> Batches (Map, in order, one at a time:
//	    WaitForSlot -> Restart -> Settle -> Verify <-> re-check loop -> BatchDone)
//	-> final Verify of the whole day <-> re-check loop -> Report -> Outcome
//
// Payloads carry the run's ids and counts only; the inventory stays in
// DynamoDB. Every failure after discovery reaches Report, and an execution
// that caught one ends failed after reporting.
//
// Only the systemic stops end the Map: the window closed, the pause, the
// fleet's circuit breaker (found open by Restart, or tripped by a batch's
// Verify). A batch whose Restart fails after its retries is checked as
// usual with the failure in its input, which records it; one whose Verify
// fails has it recorded by one more call; either way the next batch runs.
func New(s Settings) (Definition, error) {
	for _, h := range Handlers {
		if s.Functions[h] == "" {
			return Definition{}, fmt.Errorf("state machine: no Lambda function for handler %s", h)
		}
	}
	if err := s.Window.Validate(); err != nil {
		return Definition{}, fmt.Errorf("state machine: %w", err)
	}
	fn := s.Functions
	runRef := map[string]any{"runId.$": "$.run.runId", "day.$": "$.run.day"}
	batchRef := map[string]any{"runId.$": "$.runId", "day.$": "$.day", "batch.$": "$.batch"}
	withFailure := map[string]any{"runId.$": "$.runId", "day.$": "$.day", "batch.$": "$.batch", "failure.$": "$.failure"}
	toReport := func(resultPath string) Catcher {
		return Catcher{ErrorEquals: []string{ErrAll}, ResultPath: path(resultPath), Next: StateReport}
	}
	stop := func(name, cause string) State {
		return State{Type: TypeFail, Error: name, Cause: cause}
	}

	batch := map[string]State{
		StateWaitForSlot: {
			Type:          TypeWait,
			Comment:       "the batch's slot in the window, computed by Plan in the stack's time zone",
			TimestampPath: "$.startAt",
			Next:          StateRestart,
		},
		StateRestart: {
			Type:           TypeTask,
			Resource:       fn[Restart],
			Parameters:     batchRef,
			ResultSelector: map[string]any{"restarted.$": "$.restarted", "alreadyClaimed.$": "$.alreadyClaimed"},
			ResultPath:     path("$.restart"),
			Retry:          retry(),
			Catch: []Catcher{
				{ErrorEquals: []string{ErrOutsideWindow}, ResultPath: path("$.stop"), Next: StateStopWindow},
				{ErrorEquals: []string{ErrPaused}, ResultPath: path("$.stop"), Next: StateStopPaused},
				{ErrorEquals: []string{ErrBreakerOpen}, ResultPath: path("$.stop"), Next: StateStopBreaker},
				// Any other failure is this batch's: Verify records it and
				// checks what the batch restarted before it failed.
				{ErrorEquals: []string{ErrAll}, ResultPath: path("$.failure.restart"), Next: StateSettle},
			},
			Next: StateSettle,
		},
		StateSettle: {Type: TypeWait, Seconds: int(Settle / time.Second), Next: StateVerify},
		StateVerify: {
			Type:           TypeTask,
			Resource:       fn[Verify],
			Parameters:     withFailure,
			ResultSelector: map[string]any{"pending.$": "$.pending", "halt.$": "$.halt"},
			ResultPath:     path("$.verify"),
			Retry:          retry(),
			// The final whole-day verify checks this batch again.
			Catch: []Catcher{{ErrorEquals: []string{ErrAll}, ResultPath: path("$.failure.verify"), Next: StateRecordFailure}},
			Next:  StateSettled,
		},
		StateRecordFailure: {
			Type:       TypeTask,
			Comment:    "records that the batch's Verify failed (the failure in its input), checks nothing",
			Resource:   fn[Verify],
			Parameters: withFailure,
			ResultPath: discard,
			Retry:      retry(),
			Catch:      []Catcher{{ErrorEquals: []string{ErrAll}, ResultPath: path("$.recordError"), Next: StateBatchDone}},
			Next:       StateBatchDone,
		},
		StateSettled: {
			Type: TypeChoice,
			Choices: []Rule{
				{Variable: "$.verify.halt", StringEquals: ptr("breaker"), Next: StateStopBreaker},
				stillPending(BatchChecks(s.Window), StateRecheck),
			},
			Default: StateBatchDone,
		},
		StateRecheck:     {Type: TypeWait, Seconds: int(Recheck / time.Second), Next: StateCountCheck},
		StateCountCheck:  countCheck(StateVerify),
		StateBatchDone:   {Type: TypeSucceed},
		StateStopWindow:  stop(ErrOutsideWindow, "the restart window closed; the report has the counts"),
		StateStopPaused:  stop(ErrPaused, "paused with restartctl pause; the report says who, when and why"),
		StateStopBreaker: stop(ErrBreakerOpen, "the fleet's circuit breaker is open for the day; the report has the failures that tripped it"),
	}

	halted := func(v string) Rule { return Rule{Variable: "$.run.halt", StringEquals: ptr(v), Next: StateStartFinal} }
	states := map[string]State{
		StateDiscover: {
			Type:     TypeTask,
			Comment:  "the run id is the execution's name; the run's day is the window's day of the execution's start",
			Resource: fn[Discover],
			Parameters: map[string]any{
				"runId.$": "$$.Execution.Name",
				"time.$":  "$$.Execution.StartTime",
			},
			ResultSelector: map[string]any{"runId.$": "$.runId", "day.$": "$.day", "discovered.$": "$.discovered", "halt.$": "$.halt"},
			ResultPath:     path("$.run"),
			Retry:          retry(),
			// Without a recorded run there is nothing to report.
			Catch: []Catcher{{ErrorEquals: []string{ErrAll}, ResultPath: path("$.error"), Next: StateDiscoveryFailed}},
			Next:  StateDiscovered,
		},
		StateDiscovered: {
			Type:    TypeChoice,
			Comment: "paused, or the fleet's breaker open for the day: nothing was discovered, straight to the report",
			Choices: []Rule{halted("paused"), halted("breaker")},
			Default: StatePlan,
		},
		StateDiscoveryFailed: {
			Type:  TypeFail,
			Error: "DiscoveryFailed",
			Cause: "discovery did not record the run; the execution's history has the error",
		},
		StatePlan: {
			Type:           TypeTask,
			Resource:       fn[Plan],
			Parameters:     runRef,
			ResultSelector: map[string]any{"eligible.$": "$.eligible", "skipped.$": "$.skipped", "batches.$": "$.batches"},
			ResultPath:     path("$.plan"),
			Retry:          retry(),
			Catch:          []Catcher{toReport("$.error")},
			Next:           StateBatches,
		},
		StateBatches: {
			Type:    TypeMap,
			Comment: "one batch at a time, in order",
			// ItemsPath holds ids and slot times only: about 150 bytes a
			// batch whatever the fleet's size.
			ItemsPath: "$.plan.batches",
			ItemSelector: map[string]any{
				"runId.$":   "$$.Map.Item.Value.runId",
				"day.$":     "$$.Map.Item.Value.day",
				"batch.$":   "$$.Map.Item.Value.batch",
				"startAt.$": "$$.Map.Item.Value.startAt",
				"checks":    map[string]any{"n": 0},
				// Where a failed Restart or Verify is caught (see Verify).
				"failure": map[string]any{},
			},
			MaxConcurrency: 1,
			ItemProcessor: &Processor{
				ProcessorConfig: ProcessorConfig{Mode: "INLINE"},
				StartAt:         StateWaitForSlot,
				States:          batch,
			},
			ResultPath: discard,
			Catch: []Catcher{
				// Listed first so that the report names why the night
				// stopped: the window closed.
				{ErrorEquals: []string{ErrOutsideWindow}, ResultPath: path("$.error"), Next: StateStartFinal},
				// A pause is no failure: kept apart from $.error.
				{ErrorEquals: []string{ErrPaused}, ResultPath: path("$.paused"), Next: StateStartFinal},
				{ErrorEquals: []string{ErrBreakerOpen}, ResultPath: path("$.error"), Next: StateStartFinal},
				{ErrorEquals: []string{ErrAll}, ResultPath: path("$.error"), Next: StateStartFinal},
			},
			Next: StateStartFinal,
		},
		StateStartFinal: {
			Type:       TypePass,
			Result:     map[string]any{"n": 0},
			ResultPath: path("$.checks"),
			Next:       StateVerifyAll,
		},
		StateVerifyAll: {
			Type:     TypeTask,
			Comment:  "every unfinished restart of the day (batch -1)",
			Resource: fn[Verify],
			Parameters: map[string]any{
				"runId.$": "$.run.runId", "day.$": "$.run.day", "batch": -1,
			},
			ResultSelector: map[string]any{"pending.$": "$.pending"},
			ResultPath:     path("$.verify"),
			Retry:          retry(),
			Catch:          []Catcher{toReport("$.verifyError")},
			Next:           StateAllSettled,
		},
		StateAllSettled: {
			Type:    TypeChoice,
			Choices: []Rule{stillPending(FinalChecks(s.Window), StateRecheckAll)},
			Default: StateReport,
		},
		StateRecheckAll: {Type: TypeWait, Seconds: int(Recheck / time.Second), Next: StateCountFinal},
		StateCountFinal: countCheck(StateVerifyAll),
		StateReport: {
			Type:       TypeTask,
			Comment:    "metrics, the summary and the owners' notifications",
			Resource:   fn[Report],
			Parameters: runRef,
			ResultSelector: map[string]any{"counts.$": "$.counts", "restartedThisRun.$": "$.restartedThisRun",
				"halted.$": "$.halted", "batchesFailed.$": "$.batchesFailed", "incomplete.$": "$.incomplete"},
			ResultPath: path("$.report"),
			Retry:      retry(),
			Next:       StateOutcome,
		},
		StateOutcome: {
			Type: TypeChoice,
			Choices: []Rule{
				{Variable: "$.error", IsPresent: ptr(true), Next: StateRunIncomplete},
				// The breaker halted the night or a batch failed.
				{Variable: "$.report.incomplete", BooleanEquals: ptr(true), Next: StateRunIncomplete},
			},
			Default: StateDone,
		},
		StateDone: {Type: TypeSucceed},
		StateRunIncomplete: {
			Type:  TypeFail,
			Error: ErrRunIncomplete,
			Cause: "a step failed, a batch failed, the circuit breaker halted the night or the window closed; the report has the counts and the execution's history the error",
		},
	}
	d := Definition{
		Comment:        "Nightly restart of every ECS service of the fleet, batch by batch inside the window",
		StartAt:        StateDiscover,
		TimeoutSeconds: int((s.Window.Length + TimeoutGrace) / time.Second),
		States:         states,
	}
	if err := check(d.StartAt, d.States, "state machine"); err != nil {
		return Definition{}, err
	}
	return d, nil
}

// retry is the Retry policy of every Task: exponential backoff with full
// jitter from 2 s, capped at a minute, six attempts.
func retry() []Retrier {
	return []Retrier{{
		ErrorEquals:     RetryableErrors,
		IntervalSeconds: 2,
		MaxAttempts:     6,
		BackoffRate:     2,
		MaxDelaySeconds: 60,
		JitterStrategy:  "FULL",
	}}
}

// stillPending goes to next while the last verify found restarts still
// rolling out and fewer than checks verifications were made.
func stillPending(checks int, next string) Rule {
	return Rule{
		And: []Rule{
			{Variable: "$.verify.pending", NumericGreaterThan: ptr(0.0)},
			{Variable: "$.checks.n", NumericLessThan: ptr(float64(checks - 1))},
		},
		Next: next,
	}
}

// countCheck counts one more verification in $.checks.n.
func countCheck(next string) State {
	return State{
		Type:       TypePass,
		Parameters: map[string]any{"n.$": "States.MathAdd($.checks.n, 1)"},
		ResultPath: path("$.checks"),
		Next:       next,
	}
}

func ptr[T any](v T) *T { return &v }
