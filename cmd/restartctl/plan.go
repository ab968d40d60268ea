package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

func cmdPlan(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	inventory := fs.String("inventory", "", "inventory JSON `FILE` (an array of services; - for stdin)")
	wf := addWindowFlags(fs)
	ff := addFitFlags(fs)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return flagError(fs, stderr, "unexpected argument %q: pass the inventory with --inventory FILE", fs.Arg(0))
	}
	if *inventory == "" {
		return flagError(fs, stderr, "--inventory is required: pass the inventory JSON file, e.g. --inventory services.json (or - for stdin)")
	}
	w, enrollment, err := wf.parse(fs, stderr)
	if err != nil {
		return err
	}
	durations, rate, err := ff.durations(fs, stderr)
	if err != nil {
		return err
	}
	in := os.Stdin
	if *inventory != "-" {
		f, err := os.Open(*inventory)
		if err != nil {
			return fmt.Errorf("--inventory: %w", err)
		}
		defer f.Close()
		in = f
	}
	// Everything plan allocates (the inventory, its services, the plan)
	// stays in use until it exits, so a garbage collection finds nothing
	// to free: it only costs time, about a tenth of a 100,000-service
	// plan's CPU. The soft limit still collects should a huge inventory
	// approach it. GOGC, when set, is left to decide.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(planMemoryLimit))
	}
	services, err := fleet.ReadInventory(in)
	if err != nil {
		return fmt.Errorf("--inventory %s: %w", *inventory, err)
	}
	plan, err := fleet.PlanNight(services, enrollment, w)
	if err != nil {
		return err
	}
	fit := fleet.Fit(plan.Batches, services, w, rate, durations)
	writeFitSummary(stderr, fit)
	return plan.WriteJSON(stdout, fleet.JSONField{Name: "fit", Value: fit})
}

// planMemoryLimit is the heap at which plan collects garbage after all:
// about eight times what a 100,000-service inventory needs.
const planMemoryLimit = 1 << 30

// windowFlags are the window and enrollment flags of plan and run.
type windowFlags struct {
	start      *string
	length     *time.Duration
	interval   *time.Duration
	enrollment *string
}

func addWindowFlags(fs *flag.FlagSet) windowFlags {
	return windowFlags{
		start:      fs.String("window-start", "00:00", "local time `HH:MM` of the first batch"),
		length:     fs.Duration("window", fleet.DefaultWindowLength, "length of the restart window"),
		interval:   fs.Duration("batch-interval", fleet.DefaultBatchInterval, "time between two batch starts"),
		enrollment: fs.String("enrollment", "tagged", "which services to restart: tagged (only those with the ecs_task_daily_restart tag) or all"),
	}
}

func (wf windowFlags) parse(fs *flag.FlagSet, stderr io.Writer) (fleet.Window, fleet.Enrollment, error) {
	enrollment, err := fleet.ParseEnrollment(*wf.enrollment)
	if err != nil {
		return fleet.Window{}, "", flagError(fs, stderr, "--enrollment: %v", err)
	}
	if _, err := fleet.ParseClock(*wf.start); err != nil {
		return fleet.Window{}, "", flagError(fs, stderr, "--window-start: %v", err)
	}
	w, err := fleet.ParseWindow(*wf.start, *wf.length, *wf.interval)
	if err != nil {
		return fleet.Window{}, "", flagError(fs, stderr, "--window/--batch-interval: %v", err)
	}
	return w, enrollment, nil
}
