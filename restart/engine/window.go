package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// DefaultMinInterval is the least time between two restarts of a service:
// a run never restarts a service that another run (of this day or the
// day before, or anything that stamped its tag) restarted less than this
// ago.
const DefaultMinInterval = 20 * time.Hour

// ReasonRestartedRecently is the skip reason of a service restarted less
// than Config.MinInterval before its batch (by a run of another day, e.g.
// a late run of yesterday that went past midnight).
const ReasonRestartedRecently fleet.Reason = "restarted-recently"

// OutsideWindowError is returned by RestartBatch (the restart Lambda
// handler) and by Run when they are called outside the restart window of
// the run's day and Config.OutsideWindow is not set; nothing was
// restarted. It is returned unwrapped, so that aws-lambda-go, which
// reports an error's Go type name as its errorType, reports
// "OutsideWindowError": the state machine catches that name and goes on
// to Report. restartctl run exits with status 3 on it.
type OutsideWindowError struct {
	// Day is the run's day; Open and Close bound its window.
	Day         string
	Open, Close time.Time
	// Now is when the restart was refused.
	Now time.Time
}

func (e *OutsideWindowError) Error() string {
	const layout = "2006-01-02 15:04 MST"
	when := "has closed"
	if e.Now.Before(e.Open) {
		when = "has not opened"
	}
	return fmt.Sprintf("outside the restart window: it is %s and the window of %s (%s to %s) %s; nothing was restarted (set --outside-window, or OUTSIDE_WINDOW=true, to restart at another time)",
		e.Now.In(e.Open.Location()).Format(layout), e.Day, e.Open.Format(layout), e.Close.Format(layout), when)
}

// wall is the time offset d after local midnight of day, on the wall
// clock: the window "00:00-06:00" ends at 06:00 local even on the nights
// when daylight saving time starts or ends (the night is then 5 or 7
// hours long), as EventBridge Scheduler's schedules in a time zone fire at
// local times.
func (e *Engine) wall(day string, d time.Duration) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, day, e.cfg.Location)
	if err != nil {
		return time.Time{}, fmt.Errorf("day %q: want YYYY-MM-DD: %w", day, err)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, int(d), e.cfg.Location), nil
}

// Window returns when the window of a day opens and closes.
func (e *Engine) Window(day string) (open, close time.Time, err error) {
	if open, err = e.wall(day, e.cfg.Window.Start); err != nil {
		return
	}
	close, err = e.wall(day, e.cfg.Window.Start+e.cfg.Window.Length)
	return
}

// slotAt is the start time of batch i of a day (wall clock, see wall).
func (e *Engine) slotAt(day string, i int) (time.Time, error) {
	return e.wall(day, e.cfg.Window.SlotOffset(i))
}

// Day returns the run's day for an instant: the local day, in the stack's
// time zone, on which the last window to open before t opened. With a
// 22:00 window, a run started at 01:00 belongs to the previous day's
// window; with the default 00:00 window it is the local date.
func (e *Engine) Day(t time.Time) string {
	local := t.In(e.cfg.Location)
	day := local.Format(time.DateOnly)
	if open, err := e.wall(day, e.cfg.Window.Start); err == nil && t.Before(open) {
		day = local.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return day
}

// CheckWindow returns an *OutsideWindowError when now is outside the
// window of day and restarts outside it are not allowed.
func (e *Engine) CheckWindow(day string) error {
	if e.cfg.OutsideWindow {
		return nil
	}
	open, close, err := e.Window(day)
	if err != nil {
		return err
	}
	now := e.now()
	if now.Before(open) || !now.Before(close) {
		return &OutsideWindowError{Day: day, Open: open, Close: close, Now: now}
	}
	return nil
}

// skipRecent takes out of a batch the services restarted less than
// MinInterval ago by anything but this day's runs (whose claims already
// keep a service to one restart a day): their RestartTag says when they
// were last restarted, and so do the run records of the day before (which
// also cover a restart whose tag is not written yet). It returns the
// services kept, the skipped ones with ReasonRestartedRecently, and the
// services that already have a claim today (the claim decides for them).
func (e *Engine) skipRecent(ctx context.Context, ref BatchRef, items []store.Item) (kept []store.Item, skips []store.Skip, claimedToday map[string]bool, err error) {
	claimedToday = map[string]bool{}
	if len(items) == 0 {
		return items, nil, claimedToday, nil
	}
	day, err := time.Parse(time.DateOnly, ref.Day)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("day %q: want YYYY-MM-DD: %w", ref.Day, err)
	}
	arns := make([]string, len(items))
	for i, it := range items {
		arns[i] = it.ARN
	}
	today, err := e.store.GetRecords(ctx, ref.Day, arns)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, r := range today {
		claimedToday[r.ARN] = r.Status != store.StatusNotStarted
	}
	if e.cfg.MinInterval <= 0 {
		return items, nil, claimedToday, nil
	}
	yesterday, err := e.store.GetRecords(ctx, day.AddDate(0, 0, -1).Format(time.DateOnly), arns)
	if err != nil {
		return nil, nil, nil, err
	}
	last := map[string]time.Time{}
	for _, r := range yesterday {
		if at := restartedAt(r); at.After(last[r.ARN]) {
			last[r.ARN] = at
		}
	}
	now := e.now()
	kept = items[:0:0]
	for _, it := range items {
		at := last[it.ARN]
		if tag, err := time.Parse(time.RFC3339, it.Tags[fleet.RestartTag]); err == nil && tag.After(at) {
			at = tag
		}
		if !claimedToday[it.ARN] && !at.IsZero() && now.Sub(at) < e.cfg.MinInterval {
			skips = append(skips, store.Skip{ARN: it.ARN, Reason: ReasonRestartedRecently})
			e.logf("%s: restarted %s ago (at %s), less than the minimum interval %s: skipped", it.ARN, now.Sub(at).Round(time.Second), at.UTC().Format(time.RFC3339), e.cfg.MinInterval)
			continue
		}
		kept = append(kept, it)
	}
	return kept, skips, claimedToday, nil
}

// restartedAt is when a run record's restart began; zero when it started
// none.
func restartedAt(r store.Record) time.Time {
	switch r.Status {
	case store.StatusNotStarted, fleet.StatusGone, "":
		return time.Time{}
	}
	if !r.StartedAt.IsZero() {
		return r.StartedAt
	}
	return r.ClaimedAt
}
