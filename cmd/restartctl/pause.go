package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// controlFlags say where the pause switch and the breakers are: the hub's
// runs table, in AWS or a local DynamoDB.
type controlFlags struct {
	dynamoEndpoint, region, inventoryTable, runsTable, by *string
}

func addControlFlags(fs *flag.FlagSet) controlFlags {
	return controlFlags{
		dynamoEndpoint: fs.String("dynamodb-endpoint", os.Getenv("DYNAMODB_ENDPOINT"), "DynamoDB endpoint `URL` (dynalite); AWS with the hub's credentials when empty; default $DYNAMODB_ENDPOINT"),
		region:         fs.String("region", "", "the hub's Region; default from the AWS environment, else us-east-1"),
		inventoryTable: fs.String("inventory-table", "", "DynamoDB inventory table (default daily-restart-inventory; the stack's is <project>-<stack>-restart-inventory)"),
		runsTable:      fs.String("runs-table", "", "DynamoDB run records table, where the switch lives (default daily-restart-runs; the stack's is <project>-<stack>-restart-runs)"),
		by:             fs.String("by", "", "who does it, for the record (default: the caller's ARN in AWS, $USER locally)"),
	}
}

func (c controlFlags) open(ctx context.Context) (*store.Store, string, error) {
	s := setup.Settings{DynamoDBEndpoint: *c.dynamoEndpoint, Region: *c.region, InventoryTable: *c.inventoryTable, RunsTable: *c.runsTable,
		CreateTables: *c.dynamoEndpoint != ""}
	if s.DynamoDBEndpoint != "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		s.StaticKeyID = "local"
	}
	st, err := setup.Controls(ctx, s)
	if err != nil {
		return nil, "", err
	}
	by := strings.TrimSpace(*c.by)
	switch {
	case by != "":
	case s.DynamoDBEndpoint == "":
		if by, err = setup.CallerARN(ctx, s); err != nil {
			return nil, "", fmt.Errorf("%w; or say who with --by", err)
		}
	default:
		by = os.Getenv("USER")
		if h, err := os.Hostname(); err == nil && by != "" {
			by += "@" + h
		}
	}
	return st, by, nil
}

func cmdPause(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pause", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addControlFlags(fs)
	reason := fs.String("reason", "", "why, for the on-call team and the report (required)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return flagError(fs, stderr, "unexpected argument %q (quote the reason: --reason \"...\")", fs.Arg(0))
	}
	if strings.TrimSpace(*reason) == "" {
		return flagError(fs, stderr, "--reason is required: say why the restarts stop, e.g. --reason \"ECR outage in us-east-1\"")
	}
	st, by, err := cf.open(ctx)
	if err != nil {
		return err
	}
	prev, err := st.GetPause(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	if err := st.SetPause(ctx, strings.TrimSpace(*reason), by, now); err != nil {
		return err
	}
	if prev.Paused {
		fmt.Fprintf(stdout, "already paused by %s at %s (%s); the reason is now yours\n", prev.By, prev.At.UTC().Format(time.RFC3339), prev.Reason)
	}
	fmt.Fprintf(stdout, "paused by %s at %s: %s\n", by, now.UTC().Format(time.RFC3339), strings.TrimSpace(*reason))
	fmt.Fprintln(stdout, "discovery and every batch of every run now restart nothing (a batch already restarting finishes); `restartctl resume` ends the pause")
	return nil
}

func cmdResume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("resume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addControlFlags(fs)
	day := fs.String("day", "", "the night whose circuit breakers to reset, `YYYY-MM-DD` (default: the night whose window opened last, in --time-zone)")
	account := fs.String("account", "", "reset only this account's breaker (default: the fleet's and every account's)")
	timeZone := fs.String("time-zone", "UTC", "IANA time `ZONE` of the window")
	windowStart := fs.String("window-start", "00:00", "the window's start, `HH:MM` local")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return flagError(fs, stderr, "unexpected argument %q", fs.Arg(0))
	}
	if *account != "" && (len(*account) != 12 || strings.Trim(*account, "0123456789") != "") {
		return flagError(fs, stderr, "--account %q: want a 12-digit AWS account id", *account)
	}
	loc, err := time.LoadLocation(*timeZone)
	if err != nil {
		return flagError(fs, stderr, "--time-zone %q: %v; want an IANA zone such as America/Bogota", *timeZone, err)
	}
	start, err := fleet.ParseClock(*windowStart)
	if err != nil {
		return flagError(fs, stderr, "--window-start: %v", err)
	}
	if *day == "" {
		*day = nightOf(time.Now(), loc, start)
	} else if _, err := time.Parse(time.DateOnly, *day); err != nil {
		return flagError(fs, stderr, "--day %q: want YYYY-MM-DD, e.g. 2026-11-26", *day)
	}
	st, by, err := cf.open(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	if *account == "" {
		prev, err := st.ClearPause(ctx, by, now)
		if err != nil {
			return err
		}
		if prev.Paused {
			fmt.Fprintf(stdout, "pause ended by %s (set by %s at %s: %s)\n", by, prev.By, prev.At.UTC().Format(time.RFC3339), prev.Reason)
		} else {
			fmt.Fprintln(stdout, "not paused")
		}
	}
	closed, err := st.ResetBreakers(ctx, *day, *account, by, now)
	if err != nil {
		return err
	}
	if len(closed) == 0 {
		fmt.Fprintf(stdout, "no circuit breaker was open for %s; counts start again from now\n", *day)
	}
	for _, b := range closed {
		scope := "the fleet's"
		if b.Account != "" {
			scope = "account " + b.Account + "'s"
		}
		fmt.Fprintf(stdout, "%s circuit breaker for %s reset by %s (tripped at batch %d of run %s: %s); failures before now no longer count\n",
			scope, *day, by, b.Batch, b.RunID, b.Reason)
	}
	fmt.Fprintln(stdout, "the next run of the night goes on where the last one stopped (services restarted tonight are not restarted again): start one with `aws stepfunctions start-execution --state-machine-arn <the stack's stateMachineArn>`, or `restartctl run`")
	return nil
}

// nightOf is the day of the window that opened last before t: with a
// 22:00 window, 01:00 belongs to the day before (engine.Engine.Day).
func nightOf(t time.Time, loc *time.Location, start time.Duration) string {
	local := t.In(loc)
	open := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, int(start), loc)
	if local.Before(open) {
		local = local.AddDate(0, 0, -1)
	}
	return local.Format(time.DateOnly)
}
