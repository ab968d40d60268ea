package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"plan": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts pins what a person sees: exit codes, messages, formats.
func TestScripts(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("ROOT", root)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// stackcopy copies a stack file of the repository into the
			// work directory with the restart pipeline off: outside the
			// repository there are no sources to build its Lambda from.
			"stackcopy": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: stackcopy stack newname")
				}
				b, err := os.ReadFile(filepath.Join(root, "Pulumi."+args[0]+".yaml"))
				ts.Check(err)
				s := strings.Replace(string(b), "  wordpress:restart:\n    enabled: true", "  wordpress:restart:\n    enabled: false", 1)
				if s == string(b) && !strings.Contains(s, "  wordpress:restart:\n    enabled: false") {
					ts.Fatalf("Pulumi.%s.yaml: no wordpress:restart block starting with enabled: true or false", args[0])
				}
				ts.Check(os.WriteFile(ts.MkAbs("Pulumi."+args[1]+".yaml"), []byte(s), 0o644))
			},
			// jsonplan checks the contract: stack name and resource counts.
			"jsonplan": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 1 {
					ts.Fatalf("usage: jsonplan stack [type=count ...]")
				}
				var out struct {
					Stack     string `json:"stack"`
					Resources []struct {
						URN, Type, Name, Parent string
						Inputs                  map[string]any
					} `json:"resources"`
					Policy []struct{ ID, Resource, Status, Detail string } `json:"policy"`
				}
				ts.Check(json.Unmarshal([]byte(ts.ReadFile("stdout")), &out))
				if out.Stack != args[0] {
					ts.Fatalf("stack = %q, want %q", out.Stack, args[0])
				}
				counts := map[string]int{}
				for _, r := range out.Resources {
					if r.URN == "" || r.Type == "" || r.Name == "" || r.Inputs == nil {
						ts.Fatalf("resource lacks a contract field: %+v", r)
					}
					counts[r.Type]++
				}
				for _, a := range args[1:] {
					var typ string
					var n int
					for i := len(a) - 1; i >= 0; i-- {
						if a[i] == '=' {
							typ = a[:i]
							ts.Check(json.Unmarshal([]byte(a[i+1:]), &n))
							break
						}
					}
					if counts[typ] != n {
						ts.Fatalf("%s: %d resources, want %d", typ, counts[typ], n)
					}
				}
				if len(out.Policy) == 0 {
					ts.Fatalf("no policy results")
				}
			},
		},
	})
}
