// Command restartctl runs the daily restart of ECS services from a shell:
//
//	restartctl plan --inventory FILE [--window-start 00:00] [--window 6h] [--batch-interval 10m] [--enrollment tagged|all]
//	restartctl run [--endpoint URL] [--dynamodb-endpoint URL] [--accounts FILE|LIST | --accounts-from-endpoint]
//	               [--time-zone ZONE] [--outside-window] [--min-interval 20h] [--record-ttl 90d] ...
//	restartctl pause --reason TEXT [--dynamodb-endpoint URL] [--runs-table T] [--by WHO]
//	restartctl resume [--day YYYY-MM-DD] [--account ID] [--dynamodb-endpoint URL] [--runs-table T] [--by WHO]
//	restartctl invoke HANDLER [run's flags] [EVENT_JSON] (else the event is read from stdin)
//	restartctl bench [--latency 20ms] [--scale 1] [--naive=true]
//
// plan prints the night's batches for an inventory; run discovers, plans,
// restarts, verifies and reports against AWS or any AWS-compatible
// endpoint (the local fleet), and exits with status 3, restarting nothing,
// when started outside the window of the run's day without
// --outside-window, 4 when the night was paused and 5 when the fleet's
// circuit breaker halted it (the report is printed first); pause and
// resume flip the switch every run reads before discovering and before
// every batch, and resume also resets the night's circuit breakers;
// invoke runs one Lambda handler on an event, as the Lambda runtime
// would, so that a local Step Functions runner can call the real code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/nequi-platform/wordpress-ecs/restart/engine"
)

// errUsage marks errors for which the usage has been printed (exit 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(exit(Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr), os.Stderr))
}

// Exit statuses besides 0 (success) and 1 (the run failed).
const (
	// exitUsage: a flag or argument problem, printed with its fix.
	exitUsage = 2
	// exitOutsideWindow: run refused to restart outside the window of the
	// run's day (engine.OutsideWindowError); nothing was restarted.
	exitOutsideWindow = 3
	// exitPaused: the pause switch stopped the night (engine.PausedError).
	exitPaused = 4
	// exitHalted: the fleet's circuit breaker stopped the night
	// (engine.BreakerOpenError).
	exitHalted = 5
)

// exit prints err, if any, and returns the process's exit status.
func exit(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return exitUsage
	}
	fmt.Fprintln(stderr, "restartctl:", err)
	switch {
	case errors.As(err, new(*engine.OutsideWindowError)):
		return exitOutsideWindow
	case errors.As(err, new(*engine.PausedError)):
		return exitPaused
	case errors.As(err, new(*engine.BreakerOpenError)):
		return exitHalted
	}
	return 1
}

const usage = `usage:
  restartctl plan --inventory FILE [--window-start 00:00] [--window 6h] [--batch-interval 10m] [--enrollment tagged|all]
  restartctl run [--endpoint URL] [--dynamodb-endpoint URL] (--accounts FILE|LIST | --accounts-from-endpoint) [--regions LIST]
                 [--time-zone ZONE] [--outside-window] [--min-interval 20h] [--record-ttl 90d] [flags]
                 (exit status 3: outside the window of the run's day, nothing restarted; 4: paused; 5: halted by the circuit breaker;
                  1: failed, or some batches failed; the report is printed before 3, 4, 5 and failed batches)
  restartctl pause --reason TEXT [--dynamodb-endpoint URL] [--runs-table T] [--by WHO]
                 (every run restarts nothing from its next batch on, until resumed; hub credentials in AWS)
  restartctl resume [--day YYYY-MM-DD] [--account ID] [--time-zone ZONE] [--dynamodb-endpoint URL] [--runs-table T] [--by WHO]
                 (ends the pause and resets the night's circuit breakers, or one account's)
  restartctl invoke HANDLER [run's flags] [EVENT_JSON]     (HANDLER: discover, plan, restart, verify, report; event on stdin when not given)
  restartctl bench [--latency 20ms] [--scale 1] [--naive=true]   (discovery of an in-process fleet against its lower bound and a naive script)

Run 'restartctl COMMAND -h' for a command's flags.
`

// Main runs restartctl with args (without the program name).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "plan":
		return cmdPlan(args[1:], stdout, stderr)
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "pause":
		return cmdPause(ctx, args[1:], stdout, stderr)
	case "resume":
		return cmdResume(ctx, args[1:], stdout, stderr)
	case "invoke":
		return cmdInvoke(ctx, args[1:], stdin, stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "restartctl: unknown command %q\n%s", args[0], usage)
	return errUsage
}

// flagError prints a flag problem with its fix and the command's flags.
func flagError(fs *flag.FlagSet, stderr io.Writer, format string, args ...any) error {
	fmt.Fprintf(stderr, "restartctl %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "run 'restartctl %s -h' for its flags\n", fs.Name())
	return errUsage
}
