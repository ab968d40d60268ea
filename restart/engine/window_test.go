package engine_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func window(t *testing.T, start string, length time.Duration) fleet.Window {
	t.Helper()
	w, err := fleet.ParseWindow(start, length, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// The run's day is the day of the window that last opened, in the stack's
// time zone, and the window is open from its start to its end on the
// local wall clock, also on the nights daylight saving time starts or ends.
func TestRunDayAndWindowFollowTheLocalClock(t *testing.T) {
	bogota, madrid := mustZone(t, "America/Bogota"), mustZone(t, "Europe/Madrid")
	for _, tc := range []struct {
		name   string
		zone   *time.Location
		start  string
		length time.Duration
		now    string // UTC
		day    string
		inside bool
	}{
		{"Bogota 00:30 local is 05:30 UTC of the same day", bogota, "00:00", 6 * time.Hour, "2026-11-27T05:30:00Z", "2026-11-27", true},
		{"Bogota 23:30 local is already the next day in UTC", bogota, "00:00", 6 * time.Hour, "2026-11-28T04:30:00Z", "2026-11-27", false},
		{"Bogota window 22:00+6h, 01:00 belongs to the day before", bogota, "22:00", 6 * time.Hour, "2026-11-27T06:00:00Z", "2026-11-26", true},
		{"Bogota window 22:00+6h, 04:30 is after it closed", bogota, "22:00", 6 * time.Hour, "2026-11-27T09:30:00Z", "2026-11-26", false},
		{"Bogota window 22:00+6h, 21:59 still belongs to the day before, closed", bogota, "22:00", 6 * time.Hour, "2026-11-28T02:59:00Z", "2026-11-26", false},
		{"Bogota window 22:00+6h, 22:00 opens it", bogota, "22:00", 6 * time.Hour, "2026-11-28T03:00:00Z", "2026-11-27", true},
		// Summer time ends in Madrid on 2026-10-25 at 03:00 CEST: the night
		// 00:00-06:00 lasts 7 hours; 05:30 CET is inside.
		{"Madrid, night summer time ends, 05:30 CET", madrid, "00:00", 6 * time.Hour, "2026-10-25T04:30:00Z", "2026-10-25", true},
		{"Madrid, night summer time ends, 06:00 CET closes", madrid, "00:00", 6 * time.Hour, "2026-10-25T05:00:00Z", "2026-10-25", false},
		{"Madrid, night summer time ends, 00:00 CEST opens", madrid, "00:00", 6 * time.Hour, "2026-10-24T22:00:00Z", "2026-10-25", true},
		// Summer time starts on 2026-03-29 at 02:00 CET: the night lasts 5
		// hours; 06:30 CEST is outside though only 5h30m after midnight.
		{"Madrid, night summer time starts, 05:59 CEST", madrid, "00:00", 6 * time.Hour, "2026-03-29T03:59:00Z", "2026-03-29", true},
		{"Madrid, night summer time starts, 06:30 CEST", madrid, "00:00", 6 * time.Hour, "2026-03-29T04:30:00Z", "2026-03-29", false},
		{"Madrid 23:59 CET is the day before", madrid, "00:00", 6 * time.Hour, "2026-11-26T22:59:00Z", "2026-11-26", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now, err := time.Parse(time.RFC3339, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			e := engine.New(engine.Config{Window: window(t, tc.start, tc.length), Location: tc.zone}, nil, nil, engine.WithClock(func() time.Time { return now }))
			if got := e.Day(now); got != tc.day {
				t.Errorf("day of %s (%s local) = %s, want %s", tc.now, now.In(tc.zone).Format("2006-01-02 15:04 MST"), got, tc.day)
			}
			err = e.CheckWindow(tc.day)
			var ow *engine.OutsideWindowError
			if inside := !errors.As(err, &ow); inside != tc.inside {
				t.Errorf("inside the window of %s at %s = %v, want %v (%v)", tc.day, now.In(tc.zone).Format("15:04 MST"), inside, tc.inside, err)
			}
		})
	}
}

func TestOutsideWindowIsAllowedOnlyWhenAsked(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := engine.WithClock(func() time.Time { return now })
	err := engine.New(engine.Config{}, nil, nil, clock).CheckWindow("2026-11-27")
	var ow *engine.OutsideWindowError
	if !errors.As(err, &ow) {
		t.Fatalf("noon in the default window: %v, want an OutsideWindowError", err)
	}
	for _, want := range []string{"2026-11-27 12:00 UTC", "2026-11-27 00:00 UTC to 2026-11-27 06:00 UTC", "has closed", "--outside-window"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not say %q", err, want)
		}
	}
	if err := engine.New(engine.Config{OutsideWindow: true}, nil, nil, clock).CheckWindow("2026-11-27"); err != nil {
		t.Fatalf("with OutsideWindow: %v", err)
	}
}

// The restart handler refuses outside the window with an error whose type
// name, which aws-lambda-go reports as the errorType, is
// OutsideWindowError, and calls UpdateService for nothing.
func TestRestartHandlerOutsideTheWindowFailsWithItsTypeNameAndRestartsNothing(t *testing.T) {
	lf := newLocalFleet(t, fleetsim.Config{Seed: 4, Accounts: 2, Clusters: 4, Services: 30, DeployTime: 20 * time.Millisecond})
	ctx := t.Context()
	e := lf.engine(t) // OutsideWindow: plans the night whenever the test runs
	d, err := e.Discover(ctx, engine.DiscoverInput{Day: lf.day})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(ctx, d.RunRef)
	if err != nil {
		t.Fatal(err)
	}
	lf.settings.OutsideWindow = false
	// A window that closed an hour ago.
	now := time.Now().UTC()
	lf.settings.Window = window(t, now.Add(-7*time.Hour).Format("15:04"), 6*time.Hour)
	guarded := lf.engine(t)
	day := guarded.Day(now)
	h, err := guarded.Handler(engine.HandlerRestart)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lambda.NewHandler(h).Invoke(ctx, fmt.Appendf(nil, `{"runId":%q,"day":%q,"batch":%d}`, d.RunID, day, p.Batches[0].Batch))
	if err == nil {
		t.Fatal("restart outside the window succeeded")
	}
	typ := reflect.TypeOf(err)
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ.Name() != "OutsideWindowError" {
		t.Fatalf("error type %s (%v), want OutsideWindowError for the state machine's Catch", typ.Name(), err)
	}
	if _, n := lf.updates(); n != 0 {
		t.Fatalf("%d UpdateService calls outside the window, want 0", n)
	}
	// Run refuses before discovering anything.
	before := lf.sim.Stats().TotalCalls
	if _, err := guarded.Run(ctx, engine.RunOptions{NoWait: true}); !errors.As(err, new(*engine.OutsideWindowError)) {
		t.Fatalf("run outside the window: %v, want an OutsideWindowError", err)
	}
	if after := lf.sim.Stats().TotalCalls; after != before {
		t.Fatalf("run outside the window made %d calls to the fleet, want 0", after-before)
	}
}
