package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nequi-platform/wordpress-ecs/cost"
	"github.com/nequi-platform/wordpress-ecs/restart/meter"
	"github.com/nequi-platform/wordpress-ecs/restart/workflow"
)

// The files a metered run leaves in its work directory.
const usageFile = "usage.jsonl"

func statsFile(execution int) string { return fmt.Sprintf("stats-%d.json", execution) }

// defaultArch is the functions' architecture as the pipeline deploys them
// (pipeline.Architecture; a test keeps the two equal without pulling the
// Pulumi SDK into this command).
const defaultArch = "arm64"

// platformLogBytes is what Lambda itself logs per invocation: the START,
// END and REPORT lines (about 300 bytes with a request id and the REPORT
// line's durations and memory), ingested like the function's own lines.
const platformLogBytes = 300

// Stats is what local-sfn.cjs recorded of one execution.
type Stats struct {
	// Events counts the execution's history events by type.
	Events map[string]int `json:"events"`
	// Entered and Retried count StateEntered and StateRetried events by
	// state name (a Map's iterations' states included).
	Entered map[string]int `json:"entered"`
	Retried map[string]int `json:"retried"`
	// Invocations are the task commands run, in order, with their wall
	// time.
	Invocations []Invocation `json:"invocations"`
}

// Invocation is one task command.
type Invocation struct {
	State string  `json:"state"`
	Ms    float64 `json:"ms"`
	OK    bool    `json:"ok"`
}

// Transitions is what Step Functions Standard bills for the execution: a
// transition "each time a step of your workflow is executed ... including
// retries" (AWS Step Functions pricing): every state entered, in the Map's
// iterations too, every retry of a state, and the execution's start.
func (s Stats) Transitions() int {
	n := s.Events["ExecutionStarted"]
	for _, v := range s.Entered {
		n += v
	}
	for _, v := range s.Retried {
		n += v
	}
	return n
}

// check compares the event log with the commands run: each of the Task
// states entered or retried ran one command. A difference means the log
// lost events, and the transitions would be undercounted.
func (s Stats) check(taskStates []string) error {
	want := 0
	for _, state := range taskStates {
		want += s.Entered[state] + s.Retried[state]
	}
	if want != len(s.Invocations) {
		return fmt.Errorf("the execution's event log has %d task entries and retries, but %d task commands ran", want, len(s.Invocations))
	}
	if s.Events["ExecutionStarted"] != 1 {
		return fmt.Errorf("the execution's event log has %d ExecutionStarted events, want 1", s.Events["ExecutionStarted"])
	}
	return nil
}

// costFlags are cost's flags besides a local run's.
type costFlags struct {
	keyPrefix, jsonFile string
	memoryMB            int
	arch                string
	emailSubscribers    int
	perServiceMs        float64
}

func cmdCost(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := addLocalFlags(fs)
	var c costFlags
	fs.StringVar(&c.keyPrefix, "key-prefix", "night_", "prefix of the keys of the machine-readable line")
	fs.StringVar(&c.jsonFile, "json", "", "also write the counts and the prices as JSON to `FILE`")
	fs.IntVar(&c.memoryMB, "memory", 0, "the functions' memory in MB (default: the stack's restart.lambdaMemoryMb)")
	fs.StringVar(&c.arch, "arch", defaultArch, "the functions' architecture, arm64 or x86_64 (default: as the pipeline deploys them)")
	fs.IntVar(&c.emailSubscribers, "email-subscribers", 1, "email subscriptions each published message reaches (the platform team's on the summary topic, the owner's on the owner topic)")
	fs.Float64Var(&c.perServiceMs, "per-service-ms", 100, "billed `ms` of one Lambda call of the per-service design (one UpdateService or DescribeServices and one DynamoDB write, warm)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// One night: the cost is the first execution's; a rerun restarts
	// nothing and is not part of a night.
	f.runsCount = 1
	if !isFlagSet(fs, "quiet") {
		f.quiet = true
	}
	f.metered = true
	r, err := f.localRun(stdout, stderr)
	if err != nil {
		return err
	}
	if c.memoryMB == 0 {
		c.memoryMB = r.stack.restart.LambdaMemoryMB
	}
	if f.work == "" {
		tmp, err := os.MkdirTemp("", "restart-sfn-cost-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		r.flags.work = tmp
	} else if err := os.Remove(filepath.Join(f.work, usageFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	d, err := definition(r.stack, r.window)
	if err != nil {
		return err
	}
	start := time.Now()
	results, err := r.run(ctx)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	rep, err := readNight(r.flags.work, results[0], d, c)
	if err != nil {
		return err
	}
	rep.WallSeconds = wall.Seconds()
	prices, err := cost.LoadPrices(r.stack.region)
	if err != nil {
		return err
	}
	if err := rep.price(prices, c); err != nil {
		return err
	}
	if err := rep.write(stdout, c.keyPrefix); err != nil {
		return err
	}
	if c.jsonFile != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.jsonFile, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	return nil
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// HandlerUse is what one handler's invocations took.
type HandlerUse struct {
	Invocations int     `json:"invocations"`
	WallMs      float64 `json:"wallMs"`
	MaxWallMs   float64 `json:"maxWallMs"`
	// InitMs and HandlerMs split the wall time as the process measured
	// it: start-up (process, config, clients) and the handler itself.
	InitMs    float64 `json:"initMs"`
	HandlerMs float64 `json:"handlerMs"`
	ReadUnits float64 `json:"readUnits"`
	WriteUnit float64 `json:"writeUnits"`
}

// NightReport is one night counted and priced.
type NightReport struct {
	Night       cost.Night `json:"night"`
	WallSeconds float64    `json:"wallSeconds"`
	// TransitionsFixed are the transitions outside the Map's iterations
	// and TransitionsPerBatch those of one iteration, on average.
	TransitionsFixed    int     `json:"transitionsFixed"`
	TransitionsPerBatch float64 `json:"transitionsPerBatch"`
	// ChecksPerBatch is how often a batch was verified, on average.
	ChecksPerBatch float64                   `json:"checksPerBatch"`
	Entered        map[string]int            `json:"entered"`
	Handlers       map[string]HandlerUse     `json:"handlers"`
	DynamoDB       map[string]meter.Op       `json:"dynamodb"`
	SNSPublishes   map[string]int            `json:"snsPublishes"`
	Cost           cost.NightCost            `json:"cost"`
	PerService     map[string]cost.NightCost `json:"perService"`
	PerServiceMs   float64                   `json:"perServiceMs"`
	Restarted      int                       `json:"restarted"`
	// Keys are the machine-readable line's pairs, without the prefix.
	Keys []string `json:"keys"`
}

// readNight adds up the counts a metered execution left in work.
func readNight(work string, res Result, d workflow.Definition, c costFlags) (*NightReport, error) {
	b, err := os.ReadFile(filepath.Join(work, statsFile(1)))
	if err != nil {
		return nil, fmt.Errorf("the execution's counts: %w", err)
	}
	var st Stats
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", statsFile(1), err)
	}
	if err := st.check(slices.Collect(maps.Keys(workflow.TaskHandlers))); err != nil {
		return nil, err
	}
	uf, err := os.Open(filepath.Join(work, usageFile))
	if err != nil {
		return nil, fmt.Errorf("the tasks' usage: %w", err)
	}
	defer uf.Close()
	uses, err := meter.Read(uf)
	if err != nil {
		return nil, err
	}
	if len(uses) != len(st.Invocations) {
		return nil, fmt.Errorf("%d task commands ran but %d recorded their usage", len(st.Invocations), len(uses))
	}
	return countNight(st, uses, res, d, c), nil
}

// countNight turns an execution's counts into a night.
func countNight(st Stats, uses []meter.Counts, res Result, d workflow.Definition, c costFlags) *NightReport {
	rep := &NightReport{Entered: st.Entered, Handlers: map[string]HandlerUse{}, SNSPublishes: map[string]int{}, Restarted: res.Report.RestartedThisRun}
	n := cost.Night{
		Services: res.Run.Discovered, Batches: len(res.Plan.Batches), Transitions: st.Transitions(),
		LambdaRequests: len(st.Invocations), LambdaMemoryMB: c.memoryMB, LambdaArch: c.arch,
	}
	for i, inv := range st.Invocations {
		n.LambdaBilledMs += cost.BilledMs(inv.Ms)
		u := uses[i]
		h := rep.Handlers[u.Handler]
		h.Invocations++
		h.WallMs += inv.Ms
		h.MaxWallMs = max(h.MaxWallMs, inv.Ms)
		h.InitMs += u.InitMs
		h.HandlerMs += u.HandlerMs
		h.ReadUnits += u.ReadUnits()
		h.WriteUnit += u.WriteUnits()
		rep.Handlers[u.Handler] = h
		n.ReadUnits += u.ReadUnits()
		n.WriteUnits += u.WriteUnits()
		n.SNSRequests += u.SNSRequests
		for topic, k := range u.SNSPublishes {
			rep.SNSPublishes[topic] += k
			n.EmailDeliveries += k * c.emailSubscribers
		}
		n.LogBytes += u.LogBytes + platformLogBytes
	}
	rep.DynamoDB, _ = meter.Total(uses)
	rep.Night = n
	if batch := d.States[workflow.StateBatches].ItemProcessor; batch != nil && n.Batches > 0 {
		inBatches := 0
		for name := range batch.States {
			inBatches += st.Entered[name] + st.Retried[name]
		}
		rep.TransitionsFixed = n.Transitions - inBatches
		rep.TransitionsPerBatch = float64(inBatches) / float64(n.Batches)
		rep.ChecksPerBatch = float64(st.Entered[workflow.StateVerify]) / float64(n.Batches)
	} else {
		rep.TransitionsFixed = n.Transitions
	}
	return rep
}

// price prices the night and the per-service designs for the same fleet.
func (rep *NightReport) price(p *cost.Prices, c costFlags) error {
	var err error
	if rep.Cost, err = cost.PriceNight(rep.Night, p); err != nil {
		return err
	}
	checks := max(1, rep.ChecksPerBatch)
	rep.PerServiceMs = c.perServiceMs
	rep.PerService = map[string]cost.NightCost{}
	for name, design := range map[string]cost.PerService{
		"map":        {Services: rep.Restarted, Checks: checks, LambdaMs: c.perServiceMs},
		"executions": {Services: rep.Restarted, Checks: checks, LambdaMs: c.perServiceMs, Executions: true},
	} {
		if rep.PerService[name], err = cost.PriceNight(design.Night(rep.Night), p); err != nil {
			return err
		}
	}
	return nil
}

// targetMonthUSD is issue 12's target for 10,000 services a night.
const targetMonthUSD = 5

// write prints the table, the comparison and the machine-readable line.
func (rep *NightReport) write(w io.Writer, prefix string) error {
	n := rep.Night
	fmt.Fprintf(w, "\none night of %d services in %d batches (restarted %d), run locally in %.1f s\n", n.Services, n.Batches, rep.Restarted, rep.WallSeconds)
	fmt.Fprintf(w, "state transitions: %d = %d outside the batches + %d batches x %.1f (the Map's iterations)\n",
		n.Transitions, rep.TransitionsFixed, n.Batches, rep.TransitionsPerBatch)
	fmt.Fprintln(w, "lambda invocations (wall time of `restartctl invoke`, process start included: above a warm Lambda's):")
	names := make([]string, 0, len(rep.Handlers))
	for h := range rep.Handlers {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		u := rep.Handlers[h]
		fmt.Fprintf(w, "  %-8s %4d calls, %8.0f ms (max %6.0f; start-up %6.0f, handler %8.0f), %8.1f RRU, %8.1f WRU\n",
			h, u.Invocations, u.WallMs, u.MaxWallMs, u.InitMs, u.HandlerMs, u.ReadUnits, u.WriteUnit)
	}
	ops := make([]string, 0, len(rep.DynamoDB))
	for op := range rep.DynamoDB {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	fmt.Fprint(w, "dynamodb (ConsumedCapacity per call):")
	for _, op := range ops {
		o := rep.DynamoDB[op]
		fmt.Fprintf(w, " %s %d calls %.1f RRU %.1f WRU;", op, o.Calls, o.ReadUnits, o.WriteUnits)
	}
	fmt.Fprintf(w, "\nsns: %d publishes (%d billed requests), %d emails\n\n", sumValues(rep.SNSPublishes), n.SNSRequests, n.EmailDeliveries)
	if err := rep.Cost.WriteText(w); err != nil {
		return err
	}
	mapCost, execCost := rep.PerService["map"], rep.PerService["executions"]
	fmt.Fprintf(w, "\nper-service designs restarting the same %d services, same prices (%.1f checks a service, %.0f ms a call):\n", rep.Restarted, max(1, rep.ChecksPerBatch), rep.PerServiceMs)
	for _, x := range []struct {
		name string
		c    cost.NightCost
	}{{"one Map iteration per service", mapCost}, {"one execution per service", execCost}} {
		fmt.Fprintf(w, "  %-30s %9.0f transitions, %7.0f invocations: $%.2f a month (Step Functions $%.2f, Lambda $%.2f)\n",
			x.name, x.c.Lines[0].Quantity, x.c.Lines[1].Quantity, x.c.MonthUSD, x.c.Service(cost.SvcStepFunctions), x.c.Service(cost.SvcLambda))
	}
	fmt.Fprintf(w, "  this design: $%.2f a month\n", rep.Cost.MonthUSD)

	kv := []string{
		kvInt("services", n.Services), kvInt("batches", n.Batches), kvInt("transitions", n.Transitions),
		kvF("transitions_per_batch", rep.TransitionsPerBatch, 1), kvInt("lambda_requests", n.LambdaRequests),
		kvF("lambda_gb_s", n.GBSeconds(), 1), kvF("ddb_rru", n.ReadUnits, 1), kvF("ddb_wru", n.WriteUnits, 1),
		kvInt("sns_requests", n.SNSRequests), kvInt("emails", n.EmailDeliveries), kvInt("log_bytes", int(n.LogBytes)),
		kvF("usd_night", rep.Cost.NightUSD, 4), kvF("usd_month", rep.Cost.MonthUSD, 2),
		kvF("sfn_usd_month", rep.Cost.Service(cost.SvcStepFunctions), 2), kvF("lambda_usd_month", rep.Cost.Service(cost.SvcLambda), 2),
		kvF("ddb_usd_month", rep.Cost.Service(cost.SvcDynamoDB), 2), kvF("sns_usd_month", rep.Cost.Service(cost.SvcSNS), 2),
		kvF("logs_usd_month", rep.Cost.Service(cost.SvcLogs), 2),
		kvF("per_service_map_usd_month", mapCost.MonthUSD, 2), kvF("per_service_exec_usd_month", execCost.MonthUSD, 2),
		"under_5usd=" + strconv.FormatBool(rep.Cost.MonthUSD < targetMonthUSD), kvF("wall_s", rep.WallSeconds, 1),
	}
	rep.Keys = kv
	line := make([]string, len(kv))
	for i := range kv {
		line[i] = prefix + kv[i]
	}
	_, err := fmt.Fprintln(w, strings.Join(line, " "))
	return err
}

func kvInt(k string, v int) string { return k + "=" + strconv.Itoa(v) }
func kvF(k string, v float64, prec int) string {
	return k + "=" + strconv.FormatFloat(v, 'f', prec, 64)
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
