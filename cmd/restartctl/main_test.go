package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

func TestMain(m *testing.M) {
	testscript.Main(testenv.CleanupM(m), map[string]func(){
		"restartctl": func() {
			os.Exit(exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr), os.Stderr))
		},
	})
}

// TestScripts runs testdata/script/*.txtar. The command localaws starts an
// in-process fleetsim ($FLEET) and gives the script a DynamoDB ($DDB);
// scripts that use it start with [!localaws] skip.
func TestScripts(t *testing.T) {
	ddb, ddbErr := testenv.TryDynamoDB()
	if ddbErr != nil && os.Getenv("CI") == "true" {
		t.Fatalf("no DynamoDB for the run scripts: %v", ddbErr)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("AWS_ACCESS_KEY_ID", "")
			env.Setenv("AWS_CONFIG_FILE", "/dev/null")
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "localaws" {
				return ddbErr == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// updatecalls prints how many UpdateService calls the local
			// fleet received (GET $FLEET/_fleetsim/stats), throttled and
			// failed ones included.
			"updatecalls": func(ts *testscript.TestScript, neg bool, args []string) {
				resp, err := http.Get(ts.Getenv("FLEET") + "/_fleetsim/stats")
				ts.Check(err)
				defer resp.Body.Close()
				var st struct {
					Calls map[string]map[string]int64 `json:"calls"`
				}
				ts.Check(json.NewDecoder(resp.Body).Decode(&st))
				var n int64
				for _, c := range st.Calls["UpdateService"] {
					n += c
				}
				fmt.Fprintf(ts.Stdout(), "UpdateService calls: %d\n", n)
			},
			// exitstatus N restartctl ARGS... runs restartctl and wants
			// exit status N.
			"exitstatus": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 || args[1] != "restartctl" {
					ts.Fatalf("usage: exitstatus N restartctl ARGS...")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				for i, a := range args {
					args[i] = os.Expand(a, ts.Getenv)
				}
				got := exit(Main(context.Background(), args[2:], strings.NewReader(""), ts.Stdout(), ts.Stderr()), ts.Stderr())
				if got != want {
					ts.Fatalf("restartctl exited with status %d, want %d", got, want)
				}
			},
			// fault JSON injects faults into the local fleet (POST
			// $FLEET/_fleetsim/faults).
			"fault": func(ts *testscript.TestScript, neg bool, args []string) {
				resp, err := http.Post(ts.Getenv("FLEET")+"/_fleetsim/faults", "application/json", strings.NewReader(strings.Join(args, " ")))
				ts.Check(err)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					ts.Fatalf("inject %s: %s", strings.Join(args, " "), resp.Status)
				}
			},
			"localaws": func(ts *testscript.TestScript, neg bool, args []string) {
				// localaws [SCALE]: ECS's buckets times SCALE (pass
				// restartctl --rate-scale SCALE).
				scale := 1.0
				if len(args) > 0 {
					var err error
					scale, err = strconv.ParseFloat(args[0], 64)
					ts.Check(err)
				}
				sim, err := fleetsim.New(fleetsim.Config{Seed: 5, Accounts: 3, Clusters: 10, Services: 60, DeployTime: 50 * time.Millisecond, ThrottleScale: scale})
				ts.Check(err)
				srv := httptest.NewServer(sim.Handler())
				ts.Defer(srv.Close)
				ts.Setenv("FLEET", srv.URL)
				ts.Setenv("DDB", ddb)
				// Fresh tables: the DynamoDB may be shared ($DYNAMODB_ENDPOINT).
				n := time.Now().UnixNano()
				ts.Setenv("INV", fmt.Sprintf("inv-%d", n))
				ts.Setenv("RUNS", fmt.Sprintf("runs-%d", n))
			},
		},
	})
}
