package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// need skips (fails on CI) when a local piece is missing.
func need(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%s: %v", what, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func TestDefinitionIsTheStacksStateMachine(t *testing.T) {
	ln := newLocalNight(t, fleetsim.Config{Seed: 7, Accounts: 3, Clusters: 8, Services: 40, DeployTime: 50 * time.Millisecond})
	sim := ln.sim
	var out, progress bytes.Buffer
	start := time.Now()
	err := Main(context.Background(), append([]string{"local"}, ln.args...), &out, &progress)
	if err != nil {
		t.Fatalf("local run: %v\n%s\n%s", err, out.String(), progress.String())
	}
	t.Logf("two executions in %v:\n%s", time.Since(start).Round(time.Millisecond), out.String())

	line := regexp.MustCompile(`execution (\d) .*: discovered (\d+), eligible (\d+) in (\d+) batches, restarted by this run (\d+), completed (\d+), failed (\d+)`)
	got := line.FindAllStringSubmatch(out.String(), -1)
	if len(got) != 2 {
		t.Fatalf("want two execution lines, got:\n%s", out.String())
	}
	num := func(s string) int { v, _ := strconv.Atoi(s); return v }
	first, second := got[0], got[1]
	eligible := num(first[3])
	if num(first[2]) != 40 || eligible == 0 || num(first[4]) != 4 {
		t.Errorf("first execution discovered %s, eligible %s in %s batches; want 40 services, some eligible, 4 batches", first[2], first[3], first[4])
	}
	if num(first[5]) != eligible || num(first[6]) != eligible || num(first[7]) != 0 {
		t.Errorf("first execution restarted %s and completed %s (failed %s) of %d eligible", first[5], first[6], first[7], eligible)
	}
	if num(second[5]) != 0 {
		t.Errorf("the rerun restarted %s services", second[5])
	}
	// The fleet's own count: one UpdateService per restarted service.
	total := 0
	for _, perService := range sim.Stats().UpdateService {
		for arn, calls := range perService {
			total += calls
			if calls != 1 {
				t.Errorf("%s got %d UpdateService calls in the day", arn, calls)
			}
		}
	}
	if total != eligible {
		t.Errorf("fleetsim saw %d restarts, want %d", total, eligible)
	}
}

// localNight is what a local execution of the dev stack's state machine
// needs: Node.js 22 and aws-local-stepfunctions, dynalite, a fleet served
// in this process and restartctl built into a work directory.
type localNight struct {
	sim  *fleetsim.Sim
	work string
	// args are the flags of every local execution: the repository and
	// stack, the endpoints, restartctl and the work directory, tables of
	// its own, a one-hour window (four batches) and short waits.
	args []string
}

func newLocalNight(t *testing.T, cfg fleetsim.Config) localNight {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, err = findNode(context.Background(), root, "")
	need(t, err, "no Node.js 22 for aws-local-stepfunctions")
	_, err = os.Stat(filepath.Join(root, "node_modules", "aws-local-stepfunctions"))
	need(t, err, "aws-local-stepfunctions is not installed (npm ci)")
	ddb := testenv.DynamoDB(t)
	sim, err := fleetsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	work := t.TempDir()
	restartctl := filepath.Join(work, "restartctl")
	build := exec.Command("go", "build", "-o", restartctl, "./cmd/restartctl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build restartctl: %v\n%s", err, out)
	}
	n := time.Now().UnixNano()
	return localNight{sim: sim, work: work, args: []string{
		"--dir", root, "--stack", "dev", "--endpoint", srv.URL, "--dynamodb-endpoint", ddb,
		"--restartctl", restartctl, "--work", work,
		"--inventory-table", fmt.Sprintf("inv-%d", n), "--runs-table", fmt.Sprintf("runs-%d", n),
		"--window", "1h", "--batch-interval", "10m", "--settle", "100ms", "--recheck", "100ms",
	}}
}
