package iamjudge_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/account"
	"github.com/nequi-platform/wordpress-ecs/internal/iamjudge"
	"github.com/nequi-platform/wordpress-ecs/internal/stacktest"
)

// What AWS services do on the stacks' behalf, judged by the evaluator
// against the policies the plans declare. Each row names the AWS document
// its requests come from (iamjudge.OnBehalf); a row must have something to
// judge in one of the stacks.
func TestWhatServicesDoOnTheStacksBehalfIsAllowed(t *testing.T) {
	root := stacktest.Root(t)
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the IAM evaluator is not installed (npm ci)")
		}
		t.Skip("the IAM evaluator is not installed (npm ci)")
	}
	judged := map[string]int{}
	// prod as committed adopts the account's Config recorder; the variant
	// that creates it delivers to a bucket and key of its own.
	for _, variant := range []string{"dev", "prod", "hub", "prod+create"} {
		stack, create := strings.CutSuffix(variant, "+create")
		raw := stacktest.RawConfig(t, stack)
		if create {
			stacktest.Set(t, raw, "governance", map[string]any{
				"securityHub": map[string]any{"mode": "create"}, "guardDuty": map[string]any{"mode": "create"}, "awsConfig": map[string]any{"mode": "create"},
				"s3AccountPublicAccessBlock": map[string]any{"mode": "create"}, "sessionManagerPreferences": map[string]any{"mode": "create"},
			})
		}
		p, cfg := stacktest.Record(t, stack, raw)
		ps, err := iamjudge.FromPlan(p)
		if err != nil {
			t.Fatal(err)
		}
		env := account.Env{AccountID: ps.Account, Region: cfg.Region, Partition: ps.Partition, DNSSuffix: "amazonaws.com"}
		rows := iamjudge.OnBehalf(p, ps, env)
		var reqs []iamjudge.Request
		var rowOf []string
		for _, row := range rows {
			judged[row.Name] += len(row.Requests)
			for _, r := range row.Requests {
				reqs = append(reqs, r)
				rowOf = append(rowOf, row.Name+" ("+row.Doc+")")
			}
		}
		verdicts, err := iamjudge.Judge(t.Context(), root, reqs)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range verdicts {
			if !v.Allowed() {
				r := reqs[i]
				t.Errorf("%s: %s: %s by %s on %s (%s): %s", variant, rowOf[i], r.Action, r.Principal, r.Resource, r.What, v)
			}
		}
		t.Logf("%s: %d requests in %d rows", variant, len(reqs), len(rows))
	}
	for name, n := range judged {
		if n == 0 {
			t.Errorf("%s: no stack has anything for this row to judge", name)
		}
	}
	if len(judged) < 15 || !strings.Contains(strings.Join(keys(judged), ","), "execution role") {
		t.Errorf("only %d rows", len(judged))
	}
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
