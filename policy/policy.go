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
	// NotApplicable says a check found nothing to check, and why.
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
}

// Checks are every rule, in report order.
var Checks = []Check{
	{"EC2.2", "VPC default security groups should not allow inbound or outbound traffic", checkDefaultSecurityGroup},
	{"EC2.6", "VPC flow logging should be enabled in all VPCs", checkFlowLogs},
	{"EC2.15", "EC2 subnets should not automatically assign public IP addresses", checkSubnetPublicIPs},
	{"KMS.4", "AWS KMS key rotation should be enabled", checkKeyRotation},
	{"WP.NET.1", "The data tier has no route to the internet", checkDataTierIsolated},
	{"WP.NET.2", "In production, each private subnet egresses through a NAT gateway in its own AZ", checkNATPerAZ},
}

// Evaluate runs every check and applies the stack's waivers (check id ->
// reason). A waiver for a check that does not exist is an error, so that a
// typo never silently waives nothing.
func Evaluate(p *plan.Plan, waivers map[string]string) ([]Result, error) {
	known := map[string]bool{}
	var ids []string
	for _, c := range Checks {
		known[c.ID] = true
		ids = append(ids, c.ID)
	}
	var bad []string
	for id := range waivers {
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
		results := c.Run(p)
		sort.SliceStable(results, func(i, j int) bool { return results[i].Resource < results[j].Resource })
		for _, r := range results {
			r.ID = c.ID
			if reason, ok := waivers[c.ID]; ok && r.Status == Fail {
				r.Status, r.Waiver = Waived, reason
			}
			out = append(out, r)
		}
	}
	return out, nil
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

func fail(r plan.Resource, format string, args ...any) Result {
	return Result{Resource: r.URN, Status: Fail, Detail: fmt.Sprintf(format, args...)}
}

// notApplicable is the result of a check that found nothing to check.
func notApplicable(format string, args ...any) Result {
	return Result{Status: NotApplicable, Detail: fmt.Sprintf(format, args...)}
}
