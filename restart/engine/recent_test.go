package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

// zoneAt returns a time zone in which now is the given local time of day.
func zoneAt(now time.Time, clock time.Duration) *time.Location {
	utc := now.UTC()
	since := time.Duration(utc.Hour())*time.Hour + time.Duration(utc.Minute())*time.Minute + time.Duration(utc.Second())*time.Second
	off := (clock - since) % (24 * time.Hour)
	if off < -12*time.Hour {
		off += 24 * time.Hour
	} else if off >= 12*time.Hour {
		off -= 24 * time.Hour
	}
	return time.FixedZone(fmt.Sprintf("UTC%+.0fm", off.Minutes()), int(off.Seconds()))
}

func totalUpdates(lf *localFleet) int {
	n := 0
	for _, byARN := range lf.sim.Stats().UpdateService {
		for _, c := range byARN {
			n += c
		}
	}
	return n
}

// A late run of yesterday restarts the fleet at 23:50; the scheduled run
// of today starts at 00:10 inside its window. No service is restarted
// twice: the second run skips every service the first restarted, as
// restarted-recently, whether it learns it from yesterday's run records
// or only from the services' tags.
func TestRunsEitherSideOfMidnightNeverRestartAServiceTwice(t *testing.T) {
	lf := newLocalFleet(t, fleetsim.Config{Seed: 8, Accounts: 2, Clusters: 6, Services: 50, DeployTime: 30 * time.Millisecond})
	ctx := t.Context()
	now := time.Now()
	late := zoneAt(now, 23*time.Hour+50*time.Minute)
	lf.settings.Location = late
	lf.settings.OutsideWindow = true // a person runs it late, on purpose
	resA, err := lf.engine(t).Run(ctx, engine.RunOptions{NoWait: true, VerifyEvery: 50 * time.Millisecond, VerifyTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	restarted := totalUpdates(lf)
	if restarted == 0 || resA.Report.RestartedThisRun != restarted {
		t.Fatalf("late run restarted %d services (%d UpdateService calls), want some", resA.Report.RestartedThisRun, restarted)
	}

	for _, tc := range []struct {
		name      string
		freshRuns bool
	}{
		{"from yesterday's run records", false},
		{"from the tags alone", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 00:10 of the next day: twenty minutes east of the late run's
			// zone, not zoneAt's, which keeps offsets within 12 hours
			// and, run at about 12:00 UTC, would wrap back to the same day.
			_, off := time.Now().In(late).Zone()
			lf.settings.Location = time.FixedZone("late+20m", off+20*60)
			lf.settings.OutsideWindow = false
			if tc.freshRuns {
				lf.settings.RunsTable += "-fresh"
			}
			e := lf.engine(t)
			dayB := e.Day(time.Now())
			if dayB == resA.Discover.Day {
				t.Fatalf("second run on day %s, want the day after %s", dayB, resA.Discover.Day)
			}
			resB, err := e.Run(ctx, engine.RunOptions{NoWait: true, VerifyEvery: 50 * time.Millisecond, VerifyTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if n := totalUpdates(lf); n != restarted {
				t.Errorf("the run after midnight made %d UpdateService calls, want 0", n-restarted)
			}
			c := resB.Summary.Counts
			if got := c.SkippedByReason[engine.ReasonRestartedRecently]; got != restarted {
				t.Errorf("%d services reported %s, want the %d restarted before midnight (%+v)", got, engine.ReasonRestartedRecently, restarted, c)
			}
			recent := 0
			for _, r := range resB.Restarts {
				recent += r.RestartedRecently
			}
			if recent != restarted {
				t.Errorf("batches skipped %d services as restarted recently, want %d", recent, restarted)
			}
			if err := c.Accounted(); err != nil {
				t.Error(err)
			}
		})
	}
}
