package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// Halt kinds: why a night stopped restarting before its last batch.
const (
	HaltPaused  = "paused"
	HaltBreaker = "breaker"
)

// Halt is why the night stopped restarting: the pause switch (who, when,
// why) or the fleet's circuit breaker (the counts and the services that
// tripped it). It is the `halted` object of `restartctl run --json`.
type Halt struct {
	Kind   string    `json:"kind"`
	Reason string    `json:"reason"`
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at,omitzero"`
	// Batch is the batch whose start found the run paused or the breaker
	// open, or whose check tripped the breaker (-1: discovery found it).
	Batch int `json:"batch"`
	// Failed of the Verified restarts tripped the breaker; Services are
	// the first of them, with what each restart changed.
	Failed   int            `json:"failed,omitempty"`
	Verified int            `json:"verified,omitempty"`
	Services []ServiceIssue `json:"services,omitempty"`
	// NotAttempted is how many eligible services the halt left alone
	// (they are placed first the next night).
	NotAttempted int `json:"notAttempted"`
}

// AccountHalt is an account whose own circuit breaker tripped tonight:
// its later batches' services were skipped, the other accounts went on.
type AccountHalt struct {
	Account  string         `json:"account"`
	Reason   string         `json:"reason"`
	Batch    int            `json:"batch"`
	Failed   int            `json:"failed"`
	Verified int            `json:"verified"`
	Services []ServiceIssue `json:"services,omitempty"`
}

// BatchFailure is a batch whose restart or check failed after every
// retry; the night went on with the next batch.
type BatchFailure struct {
	Batch int    `json:"batch"`
	Step  string `json:"step"`
	Error string `json:"error"`
	Cause string `json:"cause,omitempty"`
}

// SetHalt records why the night stopped; its NotAttempted is counted from
// the summary's.
func (s *Summary) SetHalt(h Halt) {
	h.NotAttempted = s.Counts.NotAttempted
	s.Halted = &h
	switch h.Kind {
	case HaltPaused:
		s.Counts.Paused = 1
	case HaltBreaker:
		s.Counts.Halted = 1
	}
}

// SetAccountsHalted records the accounts whose breakers tripped, sorted.
func (s *Summary) SetAccountsHalted(a []AccountHalt) {
	slices.SortFunc(a, func(x, y AccountHalt) int { return strings.Compare(x.Account, y.Account) })
	s.AccountsHalted = a
	s.Counts.AccountsHalted = len(a)
}

// SetBatchesFailed records the batches that failed, in order.
func (s *Summary) SetBatchesFailed(f []BatchFailure) {
	slices.SortFunc(f, func(x, y BatchFailure) int { return x.Batch - y.Batch })
	s.BatchesFailed = f
	s.Counts.BatchesFailed = len(f)
}

// Change describes what a restart changed, for people: the task
// definition and image digests before and after, when they differ.
func Change(before, after fleet.Revision) string {
	var parts []string
	if before.TaskDefinition != after.TaskDefinition && after.TaskDefinition != "" {
		parts = append(parts, fmt.Sprintf("task definition %s -> %s", orUnknown(short(before.TaskDefinition)), short(after.TaskDefinition)))
	}
	for i, im := range after.Images {
		was := ""
		if i < len(before.Images) {
			was = before.Images[i].Digest
		}
		if im.Digest != "" && im.Digest != was {
			parts = append(parts, fmt.Sprintf("%s %s: %s -> %s", im.Container, im.Image, orUnknown(shortDigest(was)), shortDigest(im.Digest)))
		}
	}
	if len(parts) == 0 {
		if after.TaskDefinition == "" && len(after.Images) == 0 {
			return ""
		}
		return "same task definition and image digests"
	}
	return strings.Join(parts, "; ")
}

// imageChanged reports whether a restart deployed another image digest
// than the service ran.
func imageChanged(before, after fleet.Revision) bool {
	for i, im := range after.Images {
		if im.Digest != "" && (i >= len(before.Images) || before.Images[i].Digest != im.Digest) {
			return true
		}
	}
	return false
}

func short(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func writeHalt(b *strings.Builder, s Summary) {
	if h := s.Halted; h != nil {
		switch h.Kind {
		case HaltPaused:
			fmt.Fprintf(b, "PAUSED by %s at %s: %s; %d eligible services not attempted (they go first next night); `restartctl resume` ends the pause\n",
				orUnknown(h.By), h.At.UTC().Format(time.RFC3339), h.Reason, h.NotAttempted)
		default:
			fmt.Fprintf(b, "HALTED by the circuit breaker at batch %d: %s; %d eligible services not attempted; `restartctl resume` resets it for the day\n",
				h.Batch, h.Reason, h.NotAttempted)
			for _, sv := range h.Services {
				fmt.Fprintf(b, "  %s: %s %s%s\n", sv.ARN, sv.Status, sv.Detail, changed(sv))
			}
		}
	}
	for _, a := range s.AccountsHalted {
		fmt.Fprintf(b, "account %s halted at batch %d by its circuit breaker: %s\n", a.Account, a.Batch, a.Reason)
		for _, sv := range a.Services {
			fmt.Fprintf(b, "  %s: %s %s%s\n", sv.ARN, sv.Status, sv.Detail, changed(sv))
		}
	}
	for _, f := range s.BatchesFailed {
		fmt.Fprintf(b, "batch %d: its %s failed after every retry (%s); the night went on with the next batch\n", f.Batch, f.Step, f.Error)
	}
	if c := s.Counts; c.CarriedOver > 0 || c.LeftOver > 0 || c.ImagesChanged > 0 {
		fmt.Fprintf(b, "carried over from last night and placed first %d; left for the next night %d; restarts that deployed a new image digest %d\n",
			c.CarriedOver, c.LeftOver, c.ImagesChanged)
	}
}

func changed(sv ServiceIssue) string {
	if sv.Changed == "" {
		return ""
	}
	return " (" + sv.Changed + ")"
}
