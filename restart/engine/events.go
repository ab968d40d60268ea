package engine

import (
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/report"
)

// RunRef names a run: the payload between the states of the state machine
// carries only this (and a batch index), never the inventory.
type RunRef struct {
	RunID string `json:"runId"`
	Day   string `json:"day"`
}

// DiscoverInput starts a run. Every field is optional: the day defaults to
// the local day of Time (or now), the run id to the day and a random
// suffix (pass the Step Functions execution name to tie them together).
type DiscoverInput struct {
	RunID string    `json:"runId,omitempty"`
	Day   string    `json:"day,omitempty"`
	Time  time.Time `json:"time,omitzero"`
}

// DiscoverOutput is the run and what discovery found.
type DiscoverOutput struct {
	RunRef
	Discovered     int `json:"discovered"`
	Accounts       int `json:"accounts"`
	AccountsFailed int `json:"accountsFailed"`
	// DiscoverySeconds is how long the ECS calls took; InventorySeconds
	// how long writing the inventory went on after them (it is written
	// while the accounts are listed).
	DiscoverySeconds float64 `json:"discoverySeconds"`
	InventorySeconds float64 `json:"inventorySeconds"`
	// Halt is HaltPaused or HaltBreaker when the pause switch was on or
	// the fleet's breaker of the day was open: nothing was discovered,
	// and the night goes straight to its report. Always present (empty),
	// so that the state machine can test it.
	Halt string `json:"halt"`
}

// BatchRef names one batch of a run; Batch is AllBatches for "every
// unfinished restart of the day" (VerifyBatch).
type BatchRef struct {
	RunID string `json:"runId"`
	Day   string `json:"day"`
	Batch int    `json:"batch"`
	// Start is the batch's start "HH:MM" and StartAt its absolute time
	// (the state machine's Wait uses TimestampPath $.startAt).
	Start   string    `json:"start,omitempty"`
	StartAt time.Time `json:"startAt,omitzero"`
	// Failure, given to VerifyBatch, says that the batch's restart or
	// check failed after every retry (see VerifyBatch).
	Failure *StepFailure `json:"failure,omitempty"`
}

// StepFailure is what failed in a batch: its restart, its check, or both.
type StepFailure struct {
	Restart *StepError `json:"restart,omitempty"`
	Verify  *StepError `json:"verify,omitempty"`
}

// StepError is a step's error as Step Functions catches it: the error
// name (a Go error's type name, or a Lambda or States error) and its
// cause.
type StepError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause,omitempty"`
}

// AllBatches as BatchRef.Batch makes VerifyBatch check every unfinished
// restart of the day.
const AllBatches = -1

// PlanOutput is the run's batches, in order.
type PlanOutput struct {
	RunRef
	Eligible int        `json:"eligible"`
	Skipped  int        `json:"skipped"`
	Batches  []BatchRef `json:"batches"`
	// Fit counts the clusters whose restarts fit the window; their names
	// are in the run's record and the report, not in the payload.
	Fit FitCounts `json:"fit"`
	// CarriedOver is how many of the eligible services the night before
	// left not attempted (placed in the first batches); Moved of them
	// were moved there.
	CarriedOver int `json:"carriedOver"`
	Moved       int `json:"moved"`
}

// FitCounts is the plan's window fit in numbers (fleet.Fit).
type FitCounts struct {
	Clusters   int `json:"clusters"`
	NotFitting int `json:"notFitting"`
}

// RestartOutput counts what one batch's restart did.
type RestartOutput struct {
	BatchRef
	Services int `json:"services"`
	// Restarted services got a new deployment from this invocation.
	Restarted int `json:"restarted"`
	// AlreadyClaimed services were claimed earlier today (a rerun or a
	// duplicated invocation): not restarted again.
	AlreadyClaimed int `json:"alreadyClaimed"`
	Gone           int `json:"gone"`
	NotStarted     int `json:"notStarted"`
	// Unknown restarts failed in a way that leaves the outcome unknown;
	// the verifier resolves them.
	Unknown int `json:"unknown"`
	// RestartedRecently services were skipped: restarted less than the
	// minimum interval ago (ReasonRestartedRecently).
	RestartedRecently int `json:"restartedRecently"`
	// The check just before the restart: services opted out, no longer
	// eligible, with a deployment of their own in progress, or that could
	// not be checked, and those moved to the next batch for the last two.
	OptedOut             int `json:"optedOut"`
	Ineligible           int `json:"ineligible"`
	DeploymentInProgress int `json:"deploymentInProgress"`
	NotChecked           int `json:"notChecked"`
	Deferred             int `json:"deferred"`
	// AccountHalted services were skipped: their account's circuit
	// breaker is open.
	AccountHalted int `json:"accountHalted"`
}

// VerifyOutput counts the batch's restarts by state; Pending > 0 means
// "check again later".
type VerifyOutput struct {
	BatchRef
	Pending    int `json:"pending"`
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
	RolledBack int `json:"rolledBack"`
	Gone       int `json:"gone"`
	Released   int `json:"released"`
	// Halt is HaltBreaker when the fleet's circuit breaker is open: no
	// further batch is restarted. Always present (empty), so that the
	// state machine can test it.
	Halt string `json:"halt"`
}

// ReportOutput is the run's counts (the full summary, with per-owner
// lists, is in the notifications and the CLI's --json output).
type ReportOutput struct {
	RunRef
	Counts report.Counts `json:"counts"`
	// RestartedThisRun is how many services this run restarted (the rest
	// of Counts.Restarted was restarted by an earlier run of the day).
	RestartedThisRun int `json:"restartedThisRun"`
	// Halted is why the run stopped before its last batch ("paused",
	// "breaker"), empty when it did not; BatchesFailed counts the batches
	// whose restart or check failed. Incomplete is set when either made
	// the night fail (a pause is no failure): the state machine then ends
	// the execution failed, for its alarm.
	Halted        string `json:"halted"`
	BatchesFailed int    `json:"batchesFailed"`
	Incomplete    bool   `json:"incomplete"`
}
