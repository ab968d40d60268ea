// Command plan prints the offline plan of a stack: every resource the
// program would declare, and the policy report, without an AWS account.
//
//	go run ./cmd/plan --stack prod --format json
//
// Exit status: 0 when every policy check passes or is waived, 1 when one
// fails, 2 when the stack or its config is unusable.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/config"
	"github.com/nequi-platform/wordpress-ecs/cost"
	"github.com/nequi-platform/wordpress-ecs/plan"
	"github.com/nequi-platform/wordpress-ecs/platform"
	"github.com/nequi-platform/wordpress-ecs/policy"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// report is the JSON contract of the offline plan.
type report struct {
	Stack     string          `json:"stack"`
	Resources []plan.Resource `json:"resources"`
	Policy    []policy.Result `json:"policy"`
	Cost      *cost.Estimate  `json:"cost,omitempty"`
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "", "stack to plan: the name in Pulumi.<stack>.yaml (dev, prod)")
	format := fs.String("format", "tree", "output: tree (for people), json (the contract), mermaid (a diagram), cost (the monthly estimate)")
	against := fs.String("against", "", "with --format cost: a saved JSON plan to compare with (what a change adds or removes per month)")
	dir := fs.String("dir", ".", "directory holding Pulumi.yaml")
	var sets []string
	fs.Func("set", "key.sub=value: plan the stack with one setting changed, as `pulumi config set --path` would change it (value is JSON or a plain string; repeatable)", func(s string) error {
		sets = append(sets, s)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: plan --stack <dev|prod> [--format tree|json|mermaid|cost] [--against FILE] [--dir DIR] [--set key.sub=value ...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *stack == "" {
		fmt.Fprintf(stderr, "plan: --stack is required; stacks here: %v\n", plan.Stacks(*dir))
		return 2
	}
	switch *format {
	case "tree", "json", "mermaid", "cost":
	default:
		fmt.Fprintf(stderr, "plan: --format must be tree, json, mermaid or cost, got %q\n", *format)
		return 2
	}
	if *against != "" && *format != "cost" {
		fmt.Fprintln(stderr, "plan: --against compares costs; use it with --format cost")
		return 2
	}

	project, err := plan.LoadProject(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return 2
	}
	raw, err := project.StackConfig(*dir, *stack)
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return 2
	}
	for _, s := range sets {
		path, value, ok := strings.Cut(s, "=")
		if !ok {
			fmt.Fprintf(stderr, "plan: --set %q: write key.sub=value, e.g. --set 'compute.adminCidrs=[\"203.0.113.7/32\"]'\n", s)
			return 2
		}
		if err := project.Set(raw, path, value); err != nil {
			fmt.Fprintf(stderr, "plan: --set: %v\n", err)
			return 2
		}
	}
	cfg, err := config.Load(raw, project.Name, *stack, config.Offline())
	if err != nil {
		fmt.Fprintf(stderr, "plan: stack %s: %v\n", *stack, err)
		return 2
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stderr, "plan: warning: stack %s: %s (pulumi preview and up refuse it)\n", *stack, w)
	}
	p, err := plan.Record(platform.DeployOffline, plan.Options{Project: project.Name, Stack: *stack, Config: raw, RootDirectory: *dir})
	if err != nil {
		fmt.Fprintf(stderr, "plan: stack %s: %v\n", *stack, err)
		return 2
	}
	prices, err := cost.LoadPrices(cfg.Region)
	var estimate *cost.Estimate
	var budget *policy.Budget
	if err == nil {
		estimate = cost.Compute(p, prices, cfg.Cost.Usage)
		budget = &policy.Budget{EstimateUSD: estimate.MonthlyUSD, BudgetUSD: cfg.Cost.MonthlyBudgetUSD, NotPriced: estimate.NotPriced}
	} else if *format == "cost" {
		fmt.Fprintf(stderr, "plan: stack %s: %v\n", *stack, err)
		return 2
	}
	results, err := policy.Evaluate(p, policy.Options{
		Production: cfg.Production(), Waivers: cfg.Policy.Waivers, Cost: budget,
		ManagedOutside: cfg.Governance.ManagedOutside(),
		// The hub has no network on purpose.
		NoNetwork: !cfg.Site && !cfg.Airflow.Enabled,
	})
	if err != nil {
		fmt.Fprintf(stderr, "plan: stack %s: %v\n", *stack, err)
		return 2
	}

	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report{Stack: p.Stack, Resources: p.Resources, Policy: results, Cost: estimate})
	case "cost":
		if *against != "" {
			var before *cost.Estimate
			if before, err = savedEstimate(*against); err == nil {
				cost.WriteDiff(stdout, before, estimate)
			}
		} else {
			err = estimate.WriteText(stdout, p.Stack)
		}
	case "mermaid":
		err = p.WriteMermaid(stdout)
	default:
		if err = p.WriteTree(stdout); err == nil {
			err = writePolicy(stdout, results)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return 2
	}
	if policy.Failed(results) {
		if *format != "tree" {
			fmt.Fprintln(stderr, "plan: policy checks failed; run with --format tree to see them")
		}
		return 1
	}
	return 0
}

// savedEstimate reads the cost section of a JSON plan saved earlier.
func savedEstimate(path string) (*cost.Estimate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var saved report
	if err := json.Unmarshal(b, &saved); err != nil {
		return nil, fmt.Errorf("%s: not a JSON plan: %w", path, err)
	}
	if saved.Cost == nil {
		return nil, fmt.Errorf("%s: has no cost section; save it with `plan --stack <stack> --format json`", path)
	}
	return saved.Cost, nil
}

// writePolicy prints a summary per check and every failure or waiver.
func writePolicy(w io.Writer, results []policy.Result) error {
	counts := map[policy.Status]int{}
	for _, r := range results {
		counts[r.Status]++
	}
	fmt.Fprintf(w, "\npolicy: %d pass, %d fail, %d waived, %d n/a\n", counts[policy.Pass], counts[policy.Fail], counts[policy.Waived], counts[policy.NotApplicable])
	for _, c := range policy.Checks {
		per := map[policy.Status]int{}
		var notable []policy.Result
		for _, r := range results {
			if r.ID != c.ID {
				continue
			}
			per[r.Status]++
			if r.Status != policy.Pass {
				notable = append(notable, r)
			}
		}
		state := "PASS"
		switch {
		case per[policy.Fail] > 0:
			state = "FAIL"
		case per[policy.Waived] > 0:
			state = "WAIVED"
		case per[policy.Pass] == 0:
			state = "n/a"
		}
		fmt.Fprintf(w, "  %-7s %-15s %s\n", state, c.ID, c.Title)
		for _, r := range notable {
			fmt.Fprintf(w, "            %s\n", r.Detail)
			if r.Waiver != "" {
				fmt.Fprintf(w, "            waived by the stack: %s\n", r.Waiver)
			}
		}
	}
	return nil
}
