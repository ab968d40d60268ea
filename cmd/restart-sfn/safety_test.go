package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// arg returns the value of flag name in args.
func arg(args []string, name string) string {
	i := slices.Index(args, name)
	return args[i+1]
}

// localStore is the store of a local night's tables.
func localStore(args []string) *store.Store {
	db := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(arg(args, "--dynamodb-endpoint")) })
	return store.New(db, store.WithTables(arg(args, "--inventory-table"), arg(args, "--runs-table")))
}

func TestAFailedBatchIsRecordedAndTheStateMachineGoesOnWithTheNext(t *testing.T) {
	ln := newLocalNight(t, fleetsim.Config{Seed: 8, Accounts: 3, Clusters: 8, Services: 40, DeployTime: 50 * time.Millisecond})
	// DynamoDB fails every claim of batch 1: its Restart task fails after
	// the store's retries, and the Lambda's (the error is not transient).
	i := slices.Index(ln.args, "--dynamodb-endpoint")
	proxy := &testenv.FailingDynamo{Upstream: ln.args[i+1], Fail: func(op string, body []byte) bool {
		return op == "PutItem" && bytes.Contains(body, []byte(`"batch":{"N":"1"}`)) && bytes.Contains(body, []byte(`"status":{"S":"claimed"}`))
	}}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	args := slices.Clone(ln.args)
	args[i+1] = srv.URL
	var out, progress bytes.Buffer
	if err := Main(context.Background(), append([]string{"local", "--runs", "1"}, args...), &out, &progress); err != nil {
		t.Fatalf("local run: %v\n%s\n%s", err, out.String(), progress.String())
	}
	t.Logf("%s", out.String())
	if !strings.Contains(out.String(), "execution 1 ended failed: RunIncomplete") || proxy.Failed() == 0 {
		t.Fatalf("want the execution to end failed after its report, a batch having failed:\n%s", out.String())
	}
	if !regexp.MustCompile(`(?m)^  Restart .*"batch":2`).Match(progress.Bytes()) || !regexp.MustCompile(`(?m)^  RecordVerifyFailure|^  Verify .*"batch":1.*"failure":\{"restart"`).Match(progress.Bytes()) {
		t.Errorf("batch 1's failure was not handed to its Verify, or batch 2 did not run:\n%s", progress.String())
	}
	msgs, err := os.ReadFile(filepath.Join(ln.work, "messages.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msgs), "batch 1: its restart failed after every retry") {
		t.Errorf("the report does not name the failed batch:\n%s", msgs)
	}
	restarted := 0
	for _, perService := range ln.sim.Stats().UpdateService {
		restarted += len(perService)
	}
	if restarted == 0 || !strings.Contains(string(msgs), "not attempted") {
		t.Errorf("%d services restarted; want batches 0, 2 and 3 restarted and batch 1's services not attempted:\n%s", restarted, msgs)
	}
}

func TestAPausedAndAHaltedNightGoStraightToTheirReport(t *testing.T) {
	ln := newLocalNight(t, fleetsim.Config{Seed: 9, Accounts: 3, Clusters: 8, Services: 60, DeployTime: 50 * time.Millisecond,
		Faults: []fleetsim.Fault{{Kind: fleetsim.FaultDeploymentFail}}})
	st := localStore(ln.args)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(arg(ln.args, "--dynamodb-endpoint")) })
	if err := st.EnsureTables(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPause(ctx, "demo of the pause", "dave", time.Now()); err != nil {
		t.Fatal(err)
	}
	var out, progress bytes.Buffer
	if err := Main(ctx, append([]string{"local", "--runs", "1"}, ln.args...), &out, &progress); err != nil {
		t.Fatalf("paused run: %v\n%s\n%s", err, out.String(), progress.String())
	}
	if !strings.Contains(out.String(), "discovered 0") || !strings.Contains(out.String(), "halted: paused") {
		t.Fatalf("want a paused execution that discovered nothing and succeeded:\n%s", out.String())
	}
	if strings.Contains(progress.String(), "  Plan ") {
		t.Errorf("a paused night was planned:\n%s", progress.String())
	}
	if _, err := st.ClearPause(ctx, "dave", time.Now()); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	progress.Reset()
	if err := Main(ctx, append([]string{"local", "--runs", "1"}, ln.args...), &out, &progress); err != nil {
		t.Fatalf("failing run: %v\n%s\n%s", err, out.String(), progress.String())
	}
	t.Logf("%s", out.String())
	if !strings.Contains(out.String(), "execution 1 ended failed: RunIncomplete") {
		t.Fatalf("want the halted execution to end failed after its report:\n%s", out.String())
	}
	msgs, err := os.ReadFile(filepath.Join(ln.work, "messages.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msgs), "HALTED by the circuit breaker") {
		t.Errorf("the report does not say the night was halted:\n%s", msgs)
	}
	// The batch whose check tripped the breaker ended the Map. (Step
	// Functions stops a Map's other iterations when one fails;
	// aws-local-stepfunctions goes on with them, and their Restart tasks
	// find the breaker open and restart nothing.)
	if !regexp.MustCompile(`(?m)^  Verify .*"batch":0`).Match(progress.Bytes()) || regexp.MustCompile(`(?m)^  Verify .*"batch":[1-9]`).Match(progress.Bytes()) {
		t.Errorf("want the breaker tripped by batch 0's check, and no later batch checked:\n%s", progress.String())
	}
	restarted := 0
	for _, perService := range ln.sim.Stats().UpdateService {
		restarted += len(perService)
	}
	if restarted == 0 || restarted > 40/4+4 {
		t.Errorf("%d services restarted, want batch 0's only", restarted)
	}
}
