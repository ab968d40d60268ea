// Package policy checks a recorded plan against security and cost rules.
// Checks that match an AWS Security Hub control (Foundational Security Best
// Practices) carry its id, so a finding here and one in Security Hub read
// the same; project rules with no such control are named WP.*.
package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

// Status is a check's outcome for one resource.
type Status string

// The outcomes.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Waived is a failure the stack accepts in its config, with a reason.
	Waived Status = "waived"
	// NotApplicable says a check found nothing to check in this stack, and
	// why; it is never reported as a pass.
	NotApplicable Status = "n/a"
)

// Result is one check's outcome for one resource.
type Result struct {
	ID       string `json:"id"`
	Resource string `json:"resource"`
	Status   Status `json:"status"`
	Detail   string `json:"detail"`
	// Waiver is the reason from the stack's policy.waivers, when waived.
	Waiver string `json:"waiver,omitempty"`
}

// Check is one rule.
type Check struct {
	ID    string
	Title string
	Run   func(p *plan.Plan) []Result
	// RunWith is for checks that need the stack's options too (the
	// budget); it is used instead of Run when set.
	RunWith func(p *plan.Plan, o Options) []Result
	// Scope names what the check looks at ("VPCs"), for the n/a reason
	// when the stack has none.
	Scope string
	// ProductionOnly checks are n/a in other environments.
	ProductionOnly bool
	// RequiredInProduction checks fail, rather than say n/a, when a
	// production stack has nothing for them to check: a production stack
	// without a VPC to look at has lost something.
	RequiredInProduction bool
}

// Options are what Evaluate needs to know about the stack.
type Options struct {
	// Production comes from the stack's typed config (environment), never
	// from a tag.
	Production bool
	// Waivers maps a check id to the reason the stack accepts its failure.
	Waivers map[string]string
	// Cost is the stack's monthly estimate and budget, when priced.
	Cost *Budget
	// ManagedOutside maps the checks of account-wide services someone
	// else runs in the account (the stack adopts them: mode existing) to
	// the reason; such a check passes when the plan declares nothing of
	// its service, since there is nothing of this stack to evaluate.
	ManagedOutside map[string]string
	// NoNetwork says the stack has no network on purpose (the hub, with
	// site: false): the checks production requires a VPC for are n/a.
	NoNetwork bool
}

// Budget is what WP.COST.1 compares.
type Budget struct {
	EstimateUSD float64
	// BudgetUSD is 0 when the stack sets no budget.
	BudgetUSD float64
	// NotPriced counts billed resources the estimate leaves out.
	NotPriced int
}

// Checks are every rule, in report order.
var Checks = []Check{
	{ID: "EC2.2", Title: "VPC default security groups should not allow inbound or outbound traffic", Run: checkDefaultSecurityGroup, Scope: "VPCs", RequiredInProduction: true},
	{ID: "EC2.6", Title: "VPC flow logging should be enabled in all VPCs", Run: checkFlowLogs, Scope: "VPCs", RequiredInProduction: true},
	{ID: "EC2.15", Title: "EC2 subnets should not automatically assign public IP addresses", Run: checkSubnetPublicIPs, Scope: "subnets"},
	{ID: "KMS.4", Title: "AWS KMS key rotation should be enabled", Run: checkKeyRotation, Scope: "customer-managed KMS keys"},
	{ID: "WP.NET.1", Title: "The data tier has no route to the internet", Run: checkDataTierIsolated, Scope: "data-tier subnets"},
	{ID: "WP.NET.2", Title: "In production, each private subnet egresses through a NAT gateway in its own AZ", Run: checkNATPerAZ, Scope: "private subnets", ProductionOnly: true, RequiredInProduction: true},
}

// The restart pipeline's checks (restart.go) follow the network's in the report.
func init() { Checks = append(Checks, restartChecks...) }

// Evaluate runs every check and applies the stack's waivers (check id ->
// reason). A waiver for a check that does not exist is an error, so that a
// typo never silently waives nothing. A check with nothing to look at is
// reported n/a with the reason, never as a pass.
func Evaluate(p *plan.Plan, opts Options) ([]Result, error) {
	known := map[string]bool{}
	var ids []string
	for _, c := range Checks {
		known[c.ID] = true
		ids = append(ids, c.ID)
	}
	var bad []string
	for id := range opts.Waivers {
		if !known[id] {
			bad = append(bad, fmt.Sprintf("policy.waivers.%s: no such check; known checks are %s", id, strings.Join(ids, ", ")))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("%s", strings.Join(bad, "\n"))
	}
	var out []Result
	for _, c := range Checks {
		var results []Result
		if c.ProductionOnly && !opts.Production {
			results = []Result{{Status: NotApplicable, Detail: "applies to production stacks only (environment: production)"}}
		} else if c.RunWith != nil {
			results = c.RunWith(p, opts)
		} else {
			results = c.Run(p)
		}
		if reason, ok := opts.ManagedOutside[c.ID]; ok && accountLevelOnly(results) {
			results = []Result{{Status: Pass, Detail: reason}}
		}
		if len(results) == 0 {
			scope := c.Scope
			if scope == "" {
				scope = "resources it applies to"
			}
			r := Result{Status: NotApplicable, Detail: fmt.Sprintf("nothing to check: the stack declares no %s", scope)}
			if c.RequiredInProduction && opts.Production && !opts.NoNetwork {
				r = Result{Status: Fail, Detail: fmt.Sprintf("a production stack must have %s for this check to look at, and this one has none", scope)}
			}
			results = []Result{r}
		}
		sort.SliceStable(results, func(i, j int) bool { return results[i].Resource < results[j].Resource })
		for _, r := range results {
			r.ID = c.ID
			if reason, ok := opts.Waivers[c.ID]; ok && r.Status == Fail {
				r.Status, r.Waiver = Waived, reason
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// accountLevelOnly reports whether results say only that the stack
// declares nothing of an account-level service (no resource to point at).
func accountLevelOnly(results []Result) bool {
	for _, r := range results {
		if r.Resource != "" {
			return false
		}
	}
	return true
}

// Failed reports whether any result failed without a waiver.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

func pass(r plan.Resource, format string, args ...any) Result {
	return Result{Resource: r.URN, Status: Pass, Detail: fmt.Sprintf(format, args...)}
}

func notApplicable(format string, args ...any) Result {
	return Result{Status: NotApplicable, Detail: fmt.Sprintf(format, args...)}
}

func fail(r plan.Resource, format string, args ...any) Result {
	return Result{Resource: r.URN, Status: Fail, Detail: fmt.Sprintf(format, args...)}
}

// notApplicable is the result of a check that found nothing to check.
