package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// The control items live in the runs table, where every step already
// reads and writes: the pause switch (one item for the whole pipeline,
// kept until changed), and per day the circuit breakers, the batches'
// tallies and the batches that failed.
const (
	controlPK   = "control"
	pauseSK     = "#pause"
	breakerPref = "#breaker"
	failedPref  = "#failed#"
)

func dayControlPK(day string) string { return day + "#control" }
func tallyPK(day string) string      { return day + "#tally" }

// Pause is the switch that stops every run's restarts until someone
// resumes: who set it, when and why, and who last resumed.
type Pause struct {
	Paused    bool      `json:"paused"`
	Reason    string    `json:"reason,omitempty"`
	By        string    `json:"by,omitempty"`
	At        time.Time `json:"at,omitzero"`
	ResumedBy string    `json:"resumedBy,omitempty"`
	ResumedAt time.Time `json:"resumedAt,omitzero"`
}

// SetPause turns the pause on: from now on discovery and every batch
// restart nothing until ClearPause.
func (s *Store) SetPause(ctx context.Context, reason, by string, at time.Time) error {
	prev, err := s.GetPause(ctx)
	if err != nil {
		return err
	}
	p := Pause{Paused: true, Reason: reason, By: by, At: at, ResumedBy: prev.ResumedBy, ResumedAt: prev.ResumedAt}
	if err := s.putDoc(ctx, s.runs, controlPK, pauseSK, p, false); err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	return nil
}

// ClearPause turns the pause off and returns the pause it ended (Paused
// false when there was none).
func (s *Store) ClearPause(ctx context.Context, by string, at time.Time) (Pause, error) {
	prev, err := s.GetPause(ctx)
	if err != nil {
		return Pause{}, err
	}
	if !prev.Paused {
		return prev, nil
	}
	p := prev
	p.Paused, p.ResumedBy, p.ResumedAt = false, by, at
	if err := s.putDoc(ctx, s.runs, controlPK, pauseSK, p, false); err != nil {
		return Pause{}, fmt.Errorf("resume: %w", err)
	}
	return prev, nil
}

// GetPause reads the pause switch (strongly consistent: a pause set a
// moment ago is seen).
func (s *Store) GetPause(ctx context.Context) (Pause, error) {
	var p Pause
	if _, err := s.getDoc(ctx, s.runs, controlPK, pauseSK, &p); err != nil {
		return Pause{}, fmt.Errorf("read the pause switch: %w", err)
	}
	return p, nil
}

// ServiceFailure is a restart that failed or was rolled back.
type ServiceFailure struct {
	ARN     string       `json:"arn"`
	Account string       `json:"account"`
	Status  fleet.Status `json:"status"`
	Detail  string       `json:"detail,omitempty"`
}

// Breaker is a circuit breaker of one day: the fleet's (Account empty) or
// one account's. An open breaker restarts nothing in its scope until
// ResetBreakers.
type Breaker struct {
	Day     string `json:"day"`
	Account string `json:"account,omitempty"`
	Open    bool   `json:"open"`
	// Reason, Failed, Verified and Services say what tripped it, in which
	// run and after which batch.
	Reason   string           `json:"reason,omitempty"`
	Failed   int              `json:"failed,omitempty"`
	Verified int              `json:"verified,omitempty"`
	Services []ServiceFailure `json:"services,omitempty"`
	RunID    string           `json:"runId,omitempty"`
	Batch    int              `json:"batch,omitempty"`
	At       time.Time        `json:"at,omitzero"`
	// ResumedBy and ResumedAt are the last reset; CountFrom is when the
	// counting starts again: restarts finished before it no longer count.
	ResumedBy string    `json:"resumedBy,omitempty"`
	ResumedAt time.Time `json:"resumedAt,omitzero"`
	CountFrom time.Time `json:"countFrom,omitzero"`
}

func breakerSK(account string) string {
	if account == "" {
		return breakerPref
	}
	return breakerPref + "#" + account
}

// TripBreaker opens b's breaker (b.Open is set) unless it is open
// already, and reports whether this call opened it. The reset time of an
// earlier resume is kept.
func (s *Store) TripBreaker(ctx context.Context, b Breaker) (bool, error) {
	var prev Breaker
	if _, err := s.getDoc(ctx, s.runs, dayControlPK(b.Day), breakerSK(b.Account), &prev); err != nil {
		return false, fmt.Errorf("trip breaker %s: %w", scopeName(b.Account), err)
	}
	if prev.Open {
		return false, nil
	}
	b.Open, b.ResumedBy, b.ResumedAt, b.CountFrom = true, prev.ResumedBy, prev.ResumedAt, prev.CountFrom
	doc, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	err = s.put(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.runs),
		Item: map[string]types.AttributeValue{
			AttrPK: str(dayControlPK(b.Day)), AttrSK: str(breakerSK(b.Account)), "doc": str(string(doc)),
			"open": boolean(true), AttrTTL: s.expires(),
		},
		// Two runs of the day tripping at once: the first one wins.
		ConditionExpression:      aws.String("attribute_not_exists(#a) OR #o = :f"),
		ExpressionAttributeNames: map[string]string{"#a": AttrSK, "#o": "open"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":f": boolean(false),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("trip breaker %s: %w", scopeName(b.Account), err)
	}
	return true, nil
}

func scopeName(account string) string {
	if account == "" {
		return "of the fleet"
	}
	return "of account " + account
}

// LoadBreakers returns the day's breakers, the fleet's first (those never
// tripped nor reset have no item).
func (s *Store) LoadBreakers(ctx context.Context, day string) ([]Breaker, error) {
	var out []Breaker
	err := s.queryPrefix(ctx, s.runs, dayControlPK(day), breakerPref, func(av map[string]types.AttributeValue) error {
		var b Breaker
		if err := json.Unmarshal([]byte(getS(av, "doc")), &b); err != nil {
			return fmt.Errorf("breaker %s: %w", getS(av, AttrSK), err)
		}
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load the breakers of %s: %w", day, err)
	}
	slices.SortFunc(out, func(a, b Breaker) int { return strings.Compare(a.Account, b.Account) })
	return out, nil
}

// ResetBreakers closes the day's breakers (account empty: the fleet's and
// every account's; else that account's) and starts their counts again
// from at, so that the failures that tripped them do not trip them
// again. It returns the breakers it closed that were open.
func (s *Store) ResetBreakers(ctx context.Context, day, account, by string, at time.Time) ([]Breaker, error) {
	all, err := s.LoadBreakers(ctx, day)
	if err != nil {
		return nil, err
	}
	var closed []Breaker
	seen := false
	for _, b := range all {
		if account != "" && b.Account != account {
			continue
		}
		seen = seen || b.Account == account
		if b.Open {
			closed = append(closed, b)
		}
		b.Open, b.ResumedBy, b.ResumedAt, b.CountFrom = false, by, at, at
		if err := s.putBreaker(ctx, b); err != nil {
			return nil, err
		}
	}
	// The fleet's reset moves every account's count, tripped or not
	// (CountFrom: see the engine's breaker), so it is kept even when the
	// fleet's breaker never tripped; so is an account's.
	if !seen {
		if err := s.putBreaker(ctx, Breaker{Day: day, Account: account, ResumedBy: by, ResumedAt: at, CountFrom: at}); err != nil {
			return nil, err
		}
	}
	return closed, nil
}

func (s *Store) putBreaker(ctx context.Context, b Breaker) error {
	doc, err := json.Marshal(b)
	if err != nil {
		return err
	}
	err = s.put(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.runs),
		Item: map[string]types.AttributeValue{
			AttrPK: str(dayControlPK(b.Day)), AttrSK: str(breakerSK(b.Account)), "doc": str(string(doc)),
			"open": boolean(b.Open), AttrTTL: s.expires(),
		},
	})
	if err != nil {
		return fmt.Errorf("write breaker %s: %w", scopeName(b.Account), err)
	}
	return nil
}

// AccountTally counts one account's restarts of a batch that ended
// (completed, failed, rolled back) and those of them that failed or were
// rolled back, counting only those that ended after From.
type AccountTally struct {
	Verified int       `json:"v"`
	Failed   int       `json:"f"`
	From     time.Time `json:"from,omitzero"`
}

// Tally is where the restarts of one batch of a run stand, for the
// circuit breakers: what the batch's last check found.
type Tally struct {
	RunID   string `json:"runId"`
	Batch   int    `json:"batch"`
	Pending int    `json:"pending"`
	// Accounts are the counts by account.
	Accounts map[string]AccountTally `json:"accounts"`
	// Failures are the batch's failed restarts (at most MaxTallyFailures).
	Failures []ServiceFailure `json:"failures,omitempty"`
	At       time.Time        `json:"at"`
}

// MaxTallyFailures bounds the failures a tally lists: what a report can
// show of what tripped a breaker, in one item of at most 400 KB.
const MaxTallyFailures = 50

// PutTally replaces the tally of t's batch.
func (s *Store) PutTally(ctx context.Context, day string, t Tally) error {
	if len(t.Failures) > MaxTallyFailures {
		t.Failures = t.Failures[:MaxTallyFailures]
	}
	if err := s.putDoc(ctx, s.runs, tallyPK(day), fmt.Sprintf("%s#%04d", t.RunID, t.Batch), t, true); err != nil {
		return fmt.Errorf("write the tally of batch %d: %w", t.Batch, err)
	}
	return nil
}

// LoadTallies returns the tallies of the run's batches, in batch order.
func (s *Store) LoadTallies(ctx context.Context, day, runID string) ([]Tally, error) {
	var out []Tally
	err := s.queryPrefix(ctx, s.runs, tallyPK(day), runID+"#", func(av map[string]types.AttributeValue) error {
		var t Tally
		if err := json.Unmarshal([]byte(getS(av, "doc")), &t); err != nil {
			return fmt.Errorf("tally %s: %w", getS(av, AttrSK), err)
		}
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load the tallies of run %s: %w", runID, err)
	}
	return out, nil
}

// BatchFailure is a batch whose restart or check failed after every
// retry: the night went on with the next batch.
type BatchFailure struct {
	RunID string `json:"runId"`
	Batch int    `json:"batch"`
	// Step is the step that failed (restart or verify).
	Step  string    `json:"step"`
	Error string    `json:"error"`
	Cause string    `json:"cause,omitempty"`
	At    time.Time `json:"at"`
}

// maxCause bounds the error text kept for a failed batch.
const maxCause = 2000

// PutBatchFailure records a failed batch (a retried record replaces it).
func (s *Store) PutBatchFailure(ctx context.Context, day string, f BatchFailure) error {
	if len(f.Cause) > maxCause {
		f.Cause = f.Cause[:maxCause] + "..."
	}
	sk := fmt.Sprintf("%s%s#%04d#%s", failedPref, f.RunID, f.Batch, f.Step)
	if err := s.putDoc(ctx, s.runs, dayControlPK(day), sk, f, true); err != nil {
		return fmt.Errorf("record the failure of batch %d: %w", f.Batch, err)
	}
	return nil
}

// LoadBatchFailures returns the run's failed batches, in batch order.
func (s *Store) LoadBatchFailures(ctx context.Context, day, runID string) ([]BatchFailure, error) {
	var out []BatchFailure
	err := s.queryPrefix(ctx, s.runs, dayControlPK(day), failedPref+runID+"#", func(av map[string]types.AttributeValue) error {
		var f BatchFailure
		if err := json.Unmarshal([]byte(getS(av, "doc")), &f); err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load the failed batches of run %s: %w", runID, err)
	}
	return out, nil
}

// putDoc writes v as the JSON "doc" of one item, expiring with the
// others when expire is set.
func (s *Store) putDoc(ctx context.Context, table, pk, sk string, v any, expire bool) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	item := map[string]types.AttributeValue{AttrPK: str(pk), AttrSK: str(sk), "doc": str(string(doc))}
	if expire {
		item[AttrTTL] = s.expires()
	}
	return s.put(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
}

// getDoc reads the JSON "doc" of one item into v (strongly consistent)
// and reports whether the item exists.
func (s *Store) getDoc(ctx context.Context, table, pk, sk string, v any) (bool, error) {
	var out *dynamodb.GetItemOutput
	err := s.retrying(ctx, func() (bool, error) {
		var err error
		out, err = s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
		return err == nil, err
	})
	if err != nil || out.Item == nil {
		return false, err
	}
	return true, json.Unmarshal([]byte(getS(out.Item, "doc")), v)
}

// Halt is why a run stopped restarting before its last batch: the pause
// switch, or the fleet's circuit breaker.
type Halt struct {
	RunID string `json:"runId"`
	// Kind is "paused" or "breaker".
	Kind   string    `json:"kind"`
	Reason string    `json:"reason"`
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at"`
	// Batch is the first batch not restarted (-1: none was).
	Batch int `json:"batch"`
}

func haltSK(runID string) string { return "#halt#" + runID }

// PutHalt records why the run stopped, unless it already stopped (the
// first reason stays).
func (s *Store) PutHalt(ctx context.Context, day string, h Halt) error {
	doc, err := json.Marshal(h)
	if err != nil {
		return err
	}
	err = s.put(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.runs),
		Item: map[string]types.AttributeValue{
			AttrPK: str(dayControlPK(day)), AttrSK: str(haltSK(h.RunID)), "doc": str(string(doc)), AttrTTL: s.expires(),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#a)"),
		ExpressionAttributeNames: map[string]string{"#a": AttrSK},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("record the halt of run %s: %w", h.RunID, err)
	}
	return nil
}

// GetHalt returns why the run stopped; ok is false when it did not.
func (s *Store) GetHalt(ctx context.Context, day, runID string) (h Halt, ok bool, err error) {
	ok, err = s.getDoc(ctx, s.runs, dayControlPK(day), haltSK(runID), &h)
	if err != nil {
		return Halt{}, false, fmt.Errorf("read the halt of run %s: %w", runID, err)
	}
	return h, ok, nil
}
