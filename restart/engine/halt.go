package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// PausedError is returned by RestartBatch (the restart Lambda handler)
// and by Run when the pause switch is on (restartctl pause): nothing was
// restarted. Like OutsideWindowError it is returned unwrapped, so that
// Lambda reports "PausedError" as its errorType and the state machine
// goes straight to the final checks and the report. restartctl run exits
// with status 4 on it.
type PausedError struct {
	Pause store.Pause
}

func (e *PausedError) Error() string {
	return fmt.Sprintf("paused by %s at %s: %s; nothing more is restarted until `restartctl resume`",
		orUnknown(e.Pause.By), e.Pause.At.UTC().Format(time.RFC3339), e.Pause.Reason)
}

// BreakerOpenError is returned by RestartBatch and by Run when the fleet's
// circuit breaker of the day is open: tonight's failed and rolled-back
// deployments reached the threshold (Config.Breaker), so no further batch
// is restarted until `restartctl resume`. Returned unwrapped
// ("BreakerOpenError" for the state machine); restartctl run exits with
// status 5 on it.
type BreakerOpenError struct {
	Breaker store.Breaker
}

func (e *BreakerOpenError) Error() string {
	return fmt.Sprintf("circuit breaker open since batch %d of run %s: %s; nothing more is restarted today until `restartctl resume`",
		e.Breaker.Batch, e.Breaker.RunID, e.Breaker.Reason)
}

func orUnknown(s string) string {
	if s == "" {
		return "someone"
	}
	return s
}

// Halt reasons: a run's Halt says why it stopped restarting.
const (
	HaltPaused  = "paused"
	HaltBreaker = "breaker"
)

// Breaker says when tonight's failed and rolled-back deployments stop the
// night. The fleet's breaker trips when at least MaxFailed of the
// restarts verified tonight failed or were rolled back, making at least
// MaxFailedShare of them, in more than one account (one account alone
// trips its own breaker): no further batch is restarted. An account's
// breaker trips likewise at AccountMaxFailed and AccountMaxFailedShare of
// its own restarts: its services are left out of the later batches, the
// other accounts go on. Both counts are needed so that one or two
// failures among the first few restarts, which any night has, trip
// nothing, and a tenth of a large fleet failing trips the breaker however
// its share compares.
type Breaker struct {
	MaxFailed             int
	MaxFailedShare        float64
	AccountMaxFailed      int
	AccountMaxFailedShare float64
}

// DefaultBreaker: the fleet stops at 10 failures that are a fifth of the
// verified restarts, an account at 3 that are half of its own.
var DefaultBreaker = Breaker{MaxFailed: 10, MaxFailedShare: 0.2, AccountMaxFailed: 3, AccountMaxFailedShare: 0.5}

// DefaultMaxDeferrals is how many batches a service with a deployment of
// its own in progress is moved on before it is left to the next night:
// two batches, 20 minutes with the default window.
const DefaultMaxDeferrals = 2

func (b Breaker) withDefaults() Breaker {
	d := DefaultBreaker
	if b.MaxFailed == 0 {
		b.MaxFailed = d.MaxFailed
	}
	if b.MaxFailedShare == 0 {
		b.MaxFailedShare = d.MaxFailedShare
	}
	if b.AccountMaxFailed == 0 {
		b.AccountMaxFailed = d.AccountMaxFailed
	}
	if b.AccountMaxFailedShare == 0 {
		b.AccountMaxFailedShare = d.AccountMaxFailedShare
	}
	return b
}

// controls is the day's pause switch and breakers, read once per step.
type controls struct {
	pause store.Pause
	fleet store.Breaker
	// accounts are the accounts' breakers by account.
	accounts map[string]store.Breaker
}

func (e *Engine) controls(ctx context.Context, day string) (controls, error) {
	c := controls{accounts: map[string]store.Breaker{}}
	var err error
	if c.pause, err = e.store.GetPause(ctx); err != nil {
		return c, err
	}
	bs, err := e.store.LoadBreakers(ctx, day)
	if err != nil {
		return c, err
	}
	for _, b := range bs {
		if b.Account == "" {
			c.fleet = b
		} else {
			c.accounts[b.Account] = b
		}
	}
	return c, nil
}

// halted returns the error that stops restarts now, if any.
func (c controls) halted() error {
	switch {
	case c.pause.Paused:
		return &PausedError{Pause: c.pause}
	case c.fleet.Open:
		return &BreakerOpenError{Breaker: c.fleet}
	}
	return nil
}

// countFrom is when the counts of an account start: its last reset, or
// the fleet's, whichever is later.
func (c controls) countFrom(account string) time.Time {
	from := c.fleet.CountFrom
	if a := c.accounts[account].CountFrom; a.After(from) {
		from = a
	}
	return from
}

// recordHalt keeps why the run stopped, for its report.
func (e *Engine) recordHalt(ctx context.Context, ref BatchRef, err error) {
	h := store.Halt{RunID: ref.RunID, Batch: ref.Batch, At: e.now()}
	switch x := err.(type) {
	case *PausedError:
		h.Kind, h.Reason, h.By, h.At = HaltPaused, x.Pause.Reason, x.Pause.By, x.Pause.At
	case *BreakerOpenError:
		h.Kind, h.Reason, h.At = HaltBreaker, x.Breaker.Reason, x.Breaker.At
	default:
		return
	}
	if perr := e.store.PutHalt(ctx, ref.Day, h); perr != nil {
		e.logf("run %s: %v", ref.RunID, perr)
	}
}

// tally counts the restarts of a batch for the breakers: recs are the
// batch's records as they stand after this check.
func (c controls) tally(ref BatchRef, recs []store.Record, at time.Time) store.Tally {
	t := store.Tally{RunID: ref.RunID, Batch: ref.Batch, Accounts: map[string]store.AccountTally{}, At: at}
	for _, r := range recs {
		switch r.Status {
		case store.StatusClaimed, fleet.StatusStarted:
			t.Pending++
			continue
		case fleet.StatusCompleted, fleet.StatusFailed, fleet.StatusRolledBack:
		default:
			continue
		}
		from := c.countFrom(r.Account)
		a := t.Accounts[r.Account]
		a.From = from
		if !r.FinishedAt.After(from) {
			t.Accounts[r.Account] = a
			continue
		}
		a.Verified++
		if r.Status != fleet.StatusCompleted {
			a.Failed++
			t.Failures = append(t.Failures, store.ServiceFailure{ARN: r.ARN, Account: r.Account, Status: r.Status, Detail: r.Detail})
		}
		t.Accounts[r.Account] = a
	}
	slices.SortFunc(t.Failures, func(a, b store.ServiceFailure) int { return strings.Compare(a.ARN, b.ARN) })
	return t
}

// counts are the run's verified and failed restarts since the breakers'
// last resets.
type counts struct {
	verified, failed int
	failures         []store.ServiceFailure
}

// sum adds up the run's tallies by account, leaving out those counted
// before the account's last reset.
func (c controls) sum(tallies []store.Tally) (fleetCounts counts, accounts map[string]*counts) {
	accounts = map[string]*counts{}
	for _, t := range tallies {
		for acct, a := range t.Accounts {
			if !a.From.Equal(c.countFrom(acct)) {
				continue
			}
			n := accounts[acct]
			if n == nil {
				n = &counts{}
				accounts[acct] = n
			}
			n.verified += a.Verified
			n.failed += a.Failed
			fleetCounts.verified += a.Verified
			fleetCounts.failed += a.Failed
		}
		for _, f := range t.Failures {
			if n := accounts[f.Account]; n != nil && t.Accounts[f.Account].From.Equal(c.countFrom(f.Account)) {
				n.failures = append(n.failures, f)
				fleetCounts.failures = append(fleetCounts.failures, f)
			}
		}
	}
	return fleetCounts, accounts
}

// maxListed bounds the failures a breaker keeps (one item).
const maxListed = 20

// evaluate trips the breakers whose thresholds the run's restarts have
// reached, and returns the fleet's breaker when it is open.
func (e *Engine) evaluate(ctx context.Context, ref BatchRef, c controls, tallies []store.Tally) (store.Breaker, error) {
	cfg := e.cfg.Breaker
	total, accounts := c.sum(tallies)
	trips := func(n counts, most int, share float64) bool {
		return most > 0 && n.verified > 0 && n.failed >= most && float64(n.failed) >= share*float64(n.verified)
	}
	now := e.now()
	failing := 0
	for _, acct := range sortedKeys(accounts) {
		n := accounts[acct]
		if n.failed > 0 {
			failing++
		}
		if c.accounts[acct].Open || !trips(*n, cfg.AccountMaxFailed, cfg.AccountMaxFailedShare) {
			continue
		}
		b := store.Breaker{
			Day: ref.Day, Account: acct, RunID: ref.RunID, Batch: ref.Batch, At: now,
			Failed: n.failed, Verified: n.verified, Services: firstN(n.failures, maxListed),
			Reason: fmt.Sprintf("%d of account %s's %d restarts verified tonight failed or were rolled back (the account's breaker trips at %d making %.0f%%)",
				n.failed, acct, n.verified, cfg.AccountMaxFailed, 100*cfg.AccountMaxFailedShare),
		}
		tripped, err := e.store.TripBreaker(ctx, b)
		if err != nil {
			return store.Breaker{}, err
		}
		if tripped {
			e.logf("circuit breaker of account %s tripped after batch %d: %s", acct, ref.Batch, b.Reason)
		}
	}
	if c.fleet.Open {
		return c.fleet, nil
	}
	// One account failing alone is that account's breaker's business.
	if !trips(total, cfg.MaxFailed, cfg.MaxFailedShare) || (failing < 2 && len(accounts) > 1) {
		return store.Breaker{}, nil
	}
	b := store.Breaker{
		Day: ref.Day, RunID: ref.RunID, Batch: ref.Batch, At: now, Open: true,
		Failed: total.failed, Verified: total.verified, Services: firstN(total.failures, maxListed),
		Reason: fmt.Sprintf("%d of the %d restarts verified tonight failed or were rolled back, in %d accounts (the breaker trips at %d making %.0f%%)",
			total.failed, total.verified, failing, cfg.MaxFailed, 100*cfg.MaxFailedShare),
	}
	tripped, err := e.store.TripBreaker(ctx, b)
	if err != nil {
		return store.Breaker{}, err
	}
	if tripped {
		e.logf("circuit breaker of the fleet tripped after batch %d: %s", ref.Batch, b.Reason)
	}
	return b, nil
}

func firstN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
