package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/engine"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/meter"
	"github.com/nequi-platform/wordpress-ecs/restart/report"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
)

// engineFlags are the flags that say where the fleet and the state are:
// shared by run and invoke.
type engineFlags struct {
	endpoint, dynamoEndpoint, region    *string
	accounts, regions                   *string
	fromEndpoint                        *bool
	roleName, externalID                *string
	timeZone, inventoryTable, runsTable *string
	summaryTopic, ownerTopic            *string
	messages, metrics                   *string
	rateScale                           *float64
	updateRate                          *string
	bucketShare, accountShares          *string
	breaker                             breakerFlags
	verbose                             *bool
	window                              windowFlags
	outsideWindow                       *bool
	minInterval                         *time.Duration
	recordTTL                           *string
	deploymentTime                      *time.Duration
	callLog, hubAccount                 *string
	clusters, stack                     *string
	// appendOutputs appends to --messages and --metrics (invoke).
	appendOutputs bool
}

func addEngineFlags(fs *flag.FlagSet) *engineFlags {
	return &engineFlags{
		endpoint:       fs.String("endpoint", "", "ECS and STS endpoint `URL` (the local fleet); AWS when empty"),
		dynamoEndpoint: fs.String("dynamodb-endpoint", os.Getenv("DYNAMODB_ENDPOINT"), "DynamoDB endpoint `URL` (dynalite); AWS when empty; default $DYNAMODB_ENDPOINT"),
		region:         fs.String("region", "", "the hub's Region (STS, DynamoDB, SNS); default from the AWS environment, else us-east-1"),
		accounts:       fs.String("accounts", "", "member accounts: a `FILE` with one id per line, or a comma-separated LIST"),
		fromEndpoint:   fs.Bool("accounts-from-endpoint", false, "read the accounts, Regions, role and hub key from the local fleet (GET <endpoint>/_fleetsim/accounts)"),
		regions:        fs.String("regions", "", "Regions to restart, comma separated (default: the fleet's, with --accounts-from-endpoint)"),
		roleName:       fs.String("role-name", "", "member role `NAME` to assume in every account (default: the fleet's, else ecs-daily-restart)"),
		externalID:     fs.String("external-id", "", "AssumeRole external id"),
		timeZone:       fs.String("time-zone", "UTC", "IANA time `ZONE` of the window and the day"),
		inventoryTable: fs.String("inventory-table", "", "DynamoDB inventory table (default daily-restart-inventory)"),
		runsTable:      fs.String("runs-table", "", "DynamoDB run records table (default daily-restart-runs)"),
		summaryTopic:   fs.String("summary-topic", "", "SNS topic `ARN` for the run's summary (default: write it to --messages)"),
		ownerTopic:     fs.String("owner-topic", "", "SNS topic `ARN` for the owners' notifications (default: write them to --messages)"),
		messages:       fs.String("messages", "", "`FILE` receiving the notifications that are not published (- for stderr; default: dropped)"),
		metrics:        fs.String("metrics", "", "`FILE` receiving the EMF metric lines (- for stderr; default: dropped)"),
		rateScale:      fs.Float64("rate-scale", 1, "multiply the client-side request limits (match the local fleet's --throttle-scale)"),
		updateRate:     fs.String("update-rate", os.Getenv("UPDATE_RATE"), "UpdateService calls per `second` per account and Region, kept over any 10 s, at most 5 (default: the bucket share of ECS's 5/s, or $UPDATE_RATE); the engine backs off from it whenever ECS throttles"),
		bucketShare:    fs.String("bucket-share", os.Getenv("BUCKET_SHARE"), "part of each ECS bucket per account and Region the engine takes, reads and UpdateService alike, above 0 and at most 1 (default 0.5, or $BUCKET_SHARE; 1: the whole bucket)"),
		accountShares:  fs.String("account-shares", os.Getenv("ACCOUNT_BUCKET_SHARES"), "per-account bucket shares, `ACCOUNT=SHARE,...` (default $ACCOUNT_BUCKET_SHARES)"),
		breaker:        addBreakerFlags(fs),
		verbose:        fs.Bool("progress", isTerminal(os.Stderr), "progress lines on stderr (default: when stderr is a terminal)"),
		window:         addWindowFlags(fs),
		outsideWindow:  fs.Bool("outside-window", false, "restart even outside the window of the run's day (by default run refuses, exit status 3)"),
		minInterval:    fs.Duration("min-interval", engine.DefaultMinInterval, "skip services restarted less than this ago (their tag or the day before's run records)"),
		recordTTL:      fs.String("record-ttl", "90d", "how long the DynamoDB items are kept, in `DAYS` (90d)"),
		deploymentTime: fs.Duration("deployment-time", fleet.DefaultDeploymentTime, "how long a cluster's restarts take to complete, for the plan's window fit, until a night has observed it"),
		callLog:        fs.String("call-log", "", "append one JSON line per AWS request to `FILE` (who, IAM action, resources, condition keys), for the IAM evaluator (scripts/iam-judge)"),
		hubAccount:     fs.String("hub-account", "", "the hub credentials' account `ID`, for the call log's ARNs (default: asked of STS)"),
		clusters:       fs.String("clusters", os.Getenv("CLUSTERS"), "restart only these clusters, `ARNs` comma separated, as a stack sharing its account does (default: every cluster, or $CLUSTERS)"),
		stack:          fs.String("stack", os.Getenv("STACK"), "the Stack dimension of the metrics (default: none, or $STACK)"),
	}
}

// fleetInfo is what GET /_fleetsim/accounts returns.
type fleetInfo struct {
	HubAccessKeyID string   `json:"hubAccessKeyId"`
	RoleName       string   `json:"roleName"`
	ExternalID     string   `json:"externalId"`
	Accounts       []string `json:"accounts"`
	Regions        []string `json:"regions"`
}

func (f *engineFlags) settings(ctx context.Context, fs *flag.FlagSet, stderr io.Writer) (setup.Settings, []io.Closer, error) {
	var closers []io.Closer
	w, enrollment, err := f.window.parse(fs, stderr)
	if err != nil {
		return setup.Settings{}, nil, err
	}
	loc, err := time.LoadLocation(*f.timeZone)
	if err != nil {
		return setup.Settings{}, nil, flagError(fs, stderr, "--time-zone %q: %v; want an IANA zone such as America/Bogota", *f.timeZone, err)
	}
	if *f.minInterval <= 0 {
		return setup.Settings{}, nil, flagError(fs, stderr, "--min-interval %v: want a positive duration such as 20h", *f.minInterval)
	}
	ttl, err := setup.ParseTTLDays(*f.recordTTL)
	if err != nil {
		return setup.Settings{}, nil, flagError(fs, stderr, "--record-ttl: %v", err)
	}
	deploymentTime, err := setup.ParseDeploymentTime(f.deploymentTime.String())
	if err != nil {
		return setup.Settings{}, nil, flagError(fs, stderr, "--deployment-time: %v", err)
	}
	s := setup.Settings{
		OutsideWindow: *f.outsideWindow, MinInterval: *f.minInterval, RecordTTL: ttl, DeploymentTime: deploymentTime,
		Endpoint: *f.endpoint, DynamoDBEndpoint: *f.dynamoEndpoint, Region: *f.region,
		Regions:    setup.List(*f.regions),
		Roles:      awsfleet.Roles{Name: *f.roleName, ExternalID: *f.externalID},
		Enrollment: enrollment, Window: w, Location: loc,
		InventoryTable: *f.inventoryTable, RunsTable: *f.runsTable,
		CreateTables: *f.dynamoEndpoint != "",
		SummaryTopic: *f.summaryTopic, OwnerTopic: *f.ownerTopic,
		RateScale: *f.rateScale,
	}
	if s.Clusters, err = setup.ParseClusters(*f.clusters); err != nil {
		return s, nil, flagError(fs, stderr, "--clusters: %v", err)
	}
	s.Stack = *f.stack
	if *f.updateRate != "" {
		if s.UpdateRate, err = setup.ParseUpdateRate(*f.updateRate); err != nil {
			return s, nil, flagError(fs, stderr, "--update-rate %v", err)
		}
	}
	if *f.bucketShare != "" {
		if s.BucketShare, err = setup.ParseBucketShare(*f.bucketShare); err != nil {
			return s, nil, flagError(fs, stderr, "--bucket-share %v", err)
		}
	}
	if *f.accountShares != "" {
		if s.AccountShares, err = setup.ParseAccountShares(*f.accountShares); err != nil {
			return s, nil, flagError(fs, stderr, "--account-shares %v", err)
		}
	}
	if s.Breaker, err = f.breaker.parse(); err != nil {
		return s, nil, flagError(fs, stderr, "%v", err)
	}
	if *f.fromEndpoint {
		if *f.endpoint == "" {
			return s, nil, flagError(fs, stderr, "--accounts-from-endpoint needs --endpoint: pass the local fleet's URL, e.g. --endpoint http://127.0.0.1:4566")
		}
		info, err := getFleetInfo(ctx, *f.endpoint)
		if err != nil {
			return s, nil, fmt.Errorf("--accounts-from-endpoint: %w", err)
		}
		s.Accounts = info.Accounts
		if len(s.Regions) == 0 {
			s.Regions = info.Regions
		}
		if s.Roles.Name == "" {
			s.Roles.Name = info.RoleName
		}
		if s.Roles.ExternalID == "" {
			s.Roles.ExternalID = info.ExternalID
		}
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
			s.StaticKeyID = info.HubAccessKeyID
		}
	}
	if *f.accounts != "" {
		if *f.fromEndpoint {
			return s, nil, flagError(fs, stderr, "--accounts and --accounts-from-endpoint both given: keep one")
		}
		s.Accounts, err = readAccounts(*f.accounts)
		if err != nil {
			return s, nil, flagError(fs, stderr, "--accounts: %v", err)
		}
	}
	if len(s.Accounts) == 0 {
		return s, nil, flagError(fs, stderr, "no member accounts: pass --accounts FILE|LIST, or --accounts-from-endpoint with the local fleet")
	}
	if len(s.Regions) == 0 {
		return s, nil, flagError(fs, stderr, "no Regions: pass --regions us-east-1,us-west-2")
	}
	if s.Roles.Name == "" {
		s.Roles.Name = "ecs-daily-restart"
	}
	if *f.endpoint != "" && *f.dynamoEndpoint == "" {
		return s, nil, flagError(fs, stderr, "--endpoint is a local fleet but --dynamodb-endpoint is empty: pass the dynalite URL (e.g. --dynamodb-endpoint http://127.0.0.1:48567) or set DYNAMODB_ENDPOINT")
	}
	open := func(name string) (io.Writer, error) {
		switch name {
		case "":
			return nil, nil
		case "-":
			return stderr, nil
		}
		flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if f.appendOutputs {
			// A local state machine runs one invoke per task, some at
			// once: each adds its lines.
			flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
		}
		file, err := os.OpenFile(name, flags, 0o644)
		if err != nil {
			return nil, err
		}
		closers = append(closers, file)
		return file, nil
	}
	if s.Messages, err = open(*f.messages); err != nil {
		return s, closers, fmt.Errorf("--messages: %w", err)
	}
	if s.Metrics, err = open(*f.metrics); err != nil {
		return s, closers, fmt.Errorf("--metrics: %w", err)
	}
	if *f.callLog != "" {
		// Appended to: a local night runs one process per task.
		file, err := os.OpenFile(*f.callLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return s, closers, fmt.Errorf("--call-log: %w", err)
		}
		closers = append(closers, file)
		s.CallLog = file
	}
	if *f.hubAccount != "" {
		if id := *f.hubAccount; len(id) != 12 || strings.Trim(id, "0123456789") != "" {
			return s, closers, flagError(fs, stderr, "--hub-account %q: want a 12-digit AWS account id", *f.hubAccount)
		}
		s.HubAccount = *f.hubAccount
	}
	return s, closers, nil
}

func getFleetInfo(ctx context.Context, endpoint string) (fleetInfo, error) {
	url := strings.TrimRight(endpoint, "/") + "/_fleetsim/accounts"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fleetInfo{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fleetInfo{}, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fleetInfo{}, fmt.Errorf("get %s: %s (is the endpoint a local fleet?)", url, resp.Status)
	}
	var info fleetInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return fleetInfo{}, fmt.Errorf("get %s: %w", url, err)
	}
	return info, nil
}

// readAccounts reads a file of account ids (one per line or comma
// separated, # comments) or, when v is no file, a comma-separated list.
func readAccounts(v string) ([]string, error) {
	text := v
	if b, err := os.ReadFile(v); err == nil {
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if i := strings.IndexByte(l, '#'); i >= 0 {
				l = l[:i]
			}
			lines = append(lines, l)
		}
		text = strings.Join(lines, ",")
	} else if strings.ContainsAny(v, "/.") {
		return nil, err
	}
	ids := setup.List(text)
	for _, id := range ids {
		if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
			return nil, fmt.Errorf("%q is not an AWS account id (12 digits)", id)
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("no account ids found")
	}
	return ids, nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := addEngineFlags(fs)
	day := fs.String("day", "", "the run's day `YYYY-MM-DD` (default: today in --time-zone)")
	runID := fs.String("run-id", "", "the run's id (default: the day and a random suffix)")
	noWait := fs.Bool("no-wait", false, "restart the batches back to back instead of at their start times")
	timeScale := fs.Float64("time-scale", 0, "divide every wait by `N` (60: a 6-hour night in 6 minutes)")
	verifyTimeout := fs.Duration("verify-timeout", 0, "how long to keep checking unfinished restarts after the last batch (default: the window's verify reserve, scaled; 1m with --no-wait)")
	asJSON := fs.Bool("json", false, "print the run's result as JSON on stdout")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return flagError(fs, stderr, "unexpected argument %q", fs.Arg(0))
	}
	if *noWait && *timeScale > 0 {
		return flagError(fs, stderr, "--no-wait and --time-scale both given: keep one")
	}
	if *timeScale < 0 || (*timeScale > 0 && *timeScale < 1) {
		return flagError(fs, stderr, "--time-scale %v: want a factor >= 1 (e.g. 60)", *timeScale)
	}
	if *day != "" {
		if _, err := time.Parse(time.DateOnly, *day); err != nil {
			return flagError(fs, stderr, "--day %q: want YYYY-MM-DD, e.g. 2026-11-26", *day)
		}
	}
	e, closers, err := ef.engine(ctx, fs, stderr, nil)
	defer closeAll(closers)
	if err != nil {
		return err
	}
	started := time.Now()
	res, err := e.Run(ctx, engine.RunOptions{
		Input:  engine.DiscoverInput{RunID: *runID, Day: *day},
		NoWait: *noWait, TimeScale: *timeScale, VerifyTimeout: *verifyTimeout,
	})
	if err != nil && (res.Summary.RunID == "" || !reported(err)) {
		return err
	}
	// The window closed, the night was paused or halted, or batches
	// failed: the report is printed, then the error (exit status 3, 4, 5
	// or 1).
	closed := err
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			engine.RunResult
			Seconds float64 `json:"seconds"`
		}{res, time.Since(started).Seconds()}); err != nil {
			return err
		}
		return closed
	}
	fmt.Fprint(stdout, report.SummaryText(res.Summary))
	fmt.Fprintf(stdout, "restarted by this run %d, already restarted earlier today %d\n", res.Report.RestartedThisRun, alreadyClaimed(res))
	fmt.Fprintf(stdout, "batches %d, owners notified %d, wall time %s\n", len(res.Plan.Batches), len(res.Summary.Owners), time.Since(started).Round(time.Millisecond))
	return closed
}

// reported says whether Run made the night's report before returning
// err: the night stopped early, or batches failed.
func reported(err error) bool {
	return errors.As(err, new(*engine.OutsideWindowError)) || errors.As(err, new(*engine.PausedError)) ||
		errors.As(err, new(*engine.BreakerOpenError)) || errors.Is(err, engine.ErrBatchesFailed)
}

func alreadyClaimed(res engine.RunResult) int {
	n := 0
	for _, r := range res.Restarts {
		n += r.AlreadyClaimed
	}
	return n
}

func progressTo(w io.Writer) func(string, ...any) {
	start := time.Now()
	return func(format string, args ...any) {
		fmt.Fprintf(w, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
}

// engine builds the engine the flags describe; the closers are to be
// closed when the command ends, even on error.
func (ef *engineFlags) engine(ctx context.Context, fs *flag.FlagSet, stderr io.Writer, m *meter.Meter) (*engine.Engine, []io.Closer, error) {
	s, closers, err := ef.settings(ctx, fs, stderr)
	if err != nil {
		return nil, closers, err
	}
	s.Meter = m
	var opts []engine.Option
	if *ef.verbose {
		opts = append(opts, engine.WithProgress(progressTo(stderr)))
	}
	e, err := setup.Build(ctx, s, opts...)
	return e, closers, err
}

func closeAll(cs []io.Closer) {
	for _, c := range cs {
		c.Close()
	}
}

func cmdInvoke(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := addEngineFlags(fs)
	usage := fs.String("usage", "", "append the invocation's DynamoDB request units, SNS publishes, log bytes and times as one JSON line to `FILE` (restart-sfn cost reads it)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return flagError(fs, stderr, "missing HANDLER: want one of %s, e.g. restartctl invoke discover < event.json", strings.Join(engine.HandlerNames(), ", "))
	}
	name := args[0]
	if !slices.Contains(engine.HandlerNames(), name) {
		return flagError(fs, stderr, "unknown handler %q: want one of %s", name, strings.Join(engine.HandlerNames(), ", "))
	}
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	var m *meter.Meter
	if *usage != "" {
		m = meter.New(name)
	}
	ef.appendOutputs = true
	e, closers, err := ef.engine(ctx, fs, stderr, m)
	defer closeAll(closers)
	if err != nil {
		return err
	}
	h, err := e.Handler(name)
	if err != nil {
		return flagError(fs, stderr, "%v", err)
	}
	var payload []byte
	switch fs.NArg() {
	case 0:
		if payload, err = io.ReadAll(stdin); err != nil {
			return fmt.Errorf("read event: %w", err)
		}
	case 1:
		// aws-local-stepfunctions passes the state's input as the first
		// argument.
		payload = []byte(fs.Arg(0))
	default:
		return flagError(fs, stderr, "too many arguments: pass the event as one JSON argument or on stdin")
	}
	if len(strings.TrimSpace(string(payload))) == 0 {
		payload = []byte("{}")
	}
	start := time.Now()
	out, err := lambda.NewHandler(h).Invoke(ctx, payload)
	if m != nil {
		m.Timing(msSince(processStart, start), msSince(start, time.Now()))
		if werr := m.Append(*usage); werr != nil {
			return errors.Join(err, werr)
		}
	}
	if err != nil {
		// What the Lambda runtime answers for a failed handler: the
		// error's type name is the errorType that the state machine's
		// Retry and Catch match on (a local runner reads it here).
		b, _ := json.Marshal(struct {
			Message string `json:"errorMessage"`
			Type    string `json:"errorType"`
		}{err.Error(), errorType(err)})
		fmt.Fprintf(stdout, "%s\n", b)
		return fmt.Errorf("invoke %s: %w", name, err)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}

// errorType is the name aws-lambda-go reports for a handler's error: its
// Go type's, without the pointer.
func errorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// processStart is when the process started, as near as Go lets a program
// know: a local invocation's init time runs from it to the handler.
var processStart = time.Now()

func msSince(from, to time.Time) float64 { return float64(to.Sub(from).Microseconds()) / 1000 }
