package iamjudge

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/restart/calllog"
)

// Org is what the judge assumes of the organization the hub belongs to:
// its id, the value of aws:PrincipalOrgID for the hub's roles.
type Org struct {
	ID string
}

// CallRequests turns a call log into requests to judge: one per resource
// of each logged request, made by the step's Lambda role (hub requests) or
// by the member role in the member account, under that role's identity
// policies and the resource's own policy (for sts:AssumeRole, the trust
// of the role assumed). Requests that are the same in every respect are
// judged once. problems lists the log lines that cannot be judged (a hub
// request outside any step, an action the call log cannot place).
func CallRequests(ps *Policies, entries []calllog.Entry, org Org) (reqs []Request, problems []string) {
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Action == "sts:GetCallerIdentity" {
			continue // needs no permission (STS API Reference)
		}
		if e.Unmapped {
			problems = append(problems, fmt.Sprintf("%s in step %q: the call log does not know its resources (restart/calllog/resources.go)", e.Action, e.Step))
			continue
		}
		role, what, err := callerRole(ps, e)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, res := range e.Resources {
			ctx := maps.Clone(e.Context)
			if ctx == nil {
				ctx = map[string]any{}
			}
			// What AWS adds to every request of an SDK client signed with
			// the role's session ("AWS global condition context keys",
			// IAM User Guide).
			ctx["aws:SecureTransport"] = "true"
			ctx["aws:PrincipalArn"] = role.ARN
			ctx["aws:PrincipalAccount"] = role.Account
			ctx["aws:PrincipalType"] = "AssumedRole"
			if org.ID != "" {
				ctx["aws:PrincipalOrgID"] = org.ID
			}
			r := Request{
				Principal: role.ARN, Action: e.Action, Resource: res, Context: ctx,
				IdentityPolicies: role.Policies, What: what,
				ResourceAccount: AccountOf(res),
			}
			if r.ResourceAccount == "" {
				r.ResourceAccount = role.Account
			}
			if e.Action == "sts:AssumeRole" {
				target, err := ps.MemberRole(AccountOf(res), res[strings.LastIndex(res, "/")+1:])
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s: %v", what, err))
					continue
				}
				if target.ARN != res {
					problems = append(problems, fmt.Sprintf("%s: assumes %s, the plan's member role there is %s", what, res, target.ARN))
					continue
				}
				r.ResourcePolicy = target.Trust
			} else if p, ok := ps.Resource[res]; ok {
				r.ResourcePolicy = p
			}
			key := requestKey(r)
			if seen[key] {
				continue
			}
			seen[key] = true
			reqs = append(reqs, r)
		}
	}
	return reqs, problems
}

// callerRole is the role whose session sent e.
func callerRole(ps *Policies, e calllog.Entry) (*Role, string, error) {
	if e.Principal == calllog.Hub {
		if e.Step == "" {
			return nil, "", fmt.Errorf("%s by the hub outside any step: no function of the plan makes it", e.Action)
		}
		role, err := ps.FunctionRole(e.Step)
		if err != nil {
			return nil, "", fmt.Errorf("%s in step %s: %w", e.Action, e.Step, err)
		}
		return role, "the " + e.Step + " step", nil
	}
	name := e.Principal[strings.LastIndex(e.Principal, "/")+1:]
	role, err := ps.MemberRole(e.Account, name)
	if err != nil {
		return nil, "", fmt.Errorf("%s in step %s: %w", e.Action, e.Step, err)
	}
	if role.ARN != e.Principal {
		return nil, "", fmt.Errorf("%s in step %s: made as %s, the plan's member role there is %s", e.Action, e.Step, e.Principal, role.ARN)
	}
	return role, fmt.Sprintf("the %s step, as the member role in %s", e.Step, e.Account), nil
}

func requestKey(r Request) string {
	keys := slices.Sorted(maps.Keys(r.Context))
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s", r.Principal, r.Action, r.Resource, r.What)
	for _, k := range keys {
		if k == "sts:RoleSessionName" {
			continue // differs by run, judged the same
		}
		v, _ := json.Marshal(r.Context[k])
		fmt.Fprintf(&b, "|%s=%s", k, v)
	}
	return b.String()
}
