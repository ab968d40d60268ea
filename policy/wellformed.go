package policy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

// wellFormedChecks find what AWS refuses at apply, after other resources
// were already created: input that the provider passes through unchecked.
var wellFormedChecks = []Check{
	{ID: "WP.NET.3", Title: "Security group and rule descriptions use only the characters EC2 accepts", Run: checkSecurityGroupDescriptions, Scope: "security groups or rules"},
	{ID: "WP.IAM.1", Title: "Role trust policies carry no Resource or NotResource", Run: checkTrustPolicies, Scope: "IAM roles"},
}

func init() { Checks = append(Checks, wellFormedChecks...) }

const (
	typeRole              = "aws:iam/role:Role"
	typeStackSet          = "aws:cloudformation/stackSet:StackSet"
	typeDefaultGroup      = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	typeEgressRule        = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	typeSecurityGroupRule = "aws:ec2/securityGroupRule:SecurityGroupRule"
)

// ec2DescriptionChars are the characters EC2 accepts in a security group's
// description and in a rule's (EC2 API reference: CreateSecurityGroup
// GroupDescription and IpRange/UserIdGroupPair Description, "a-z, A-Z,
// 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*", up to 255 characters).
const ec2DescriptionChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-:/()#,@[]+=&;{}!$*"

const maxEC2Description = 255

// badDescription says what EC2 refuses in a description, or "".
func badDescription(d string) string {
	var bad []string
	seen := map[rune]bool{}
	for _, c := range d {
		if !strings.ContainsRune(ec2DescriptionChars, c) && !seen[c] {
			seen[c] = true
			bad = append(bad, fmt.Sprintf("%q", c))
		}
	}
	switch {
	case len(bad) > 0:
		return fmt.Sprintf("has %s, which EC2 refuses (only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*)", strings.Join(bad, ", "))
	case len(d) > maxEC2Description:
		return fmt.Sprintf("is %d characters, EC2 takes %d", len(d), maxEC2Description)
	}
	return ""
}

func checkSecurityGroupDescriptions(p *plan.Plan) []Result {
	var out []Result
	check := func(r plan.Resource, where map[string]string) {
		keys := make([]string, 0, len(where))
		for k := range where {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var problems []string
		for _, k := range keys {
			if why := badDescription(where[k]); why != "" {
				problems = append(problems, fmt.Sprintf("%s %q %s", k, where[k], why))
			}
		}
		if len(problems) > 0 {
			out = append(out, fail(r, "%s: %s; reword it", r.Name, strings.Join(problems, "; ")))
			return
		}
		out = append(out, pass(r, "%s: %d description(s) EC2 accepts", r.Name, len(where)))
	}
	for _, typ := range []string{typeSecurityGroup, typeDefaultGroup} {
		for _, g := range p.OfType(typ) {
			where := map[string]string{}
			if d := g.String("description"); d != "" {
				where["description"] = d
			}
			for _, dir := range []string{"ingress", "egress"} {
				for i, rule := range g.List(dir) {
					m, _ := rule.(map[string]any)
					if d, _ := m["description"].(string); d != "" {
						where[fmt.Sprintf("%s[%d].description", dir, i)] = d
					}
				}
			}
			check(g, where)
		}
	}
	for _, typ := range []string{typeIngressRule, typeEgressRule, typeSecurityGroupRule} {
		for _, r := range p.OfType(typ) {
			where := map[string]string{}
			if d := r.String("description"); d != "" {
				where["description"] = d
			}
			check(r, where)
		}
	}
	return out
}

// checkTrustPolicies fails a role whose assume-role policy names a
// resource: IAM refuses it with MalformedPolicyDocument ("IAM JSON policy
// elements: Resource": a role's trust policy is a resource policy of the
// role itself and does not specify Resource), also when the value is null.
// The member role in the StackSet's template is checked the same way.
func checkTrustPolicies(p *plan.Plan) []Result {
	var out []Result
	for _, r := range p.OfType(typeRole) {
		doc := r.String("assumeRolePolicy")
		if doc == "" {
			out = append(out, Result{Resource: r.URN, Status: NotApplicable, Detail: fmt.Sprintf("role %s: its trust policy is only known at apply", r.Name)})
			continue
		}
		out = append(out, trustResult(r, "role "+r.Name, doc))
	}
	for _, s := range p.OfType(typeStackSet) {
		var tmpl struct {
			Resources map[string]struct {
				Type       string
				Properties map[string]json.RawMessage
			}
		}
		if json.Unmarshal([]byte(s.String("templateBody")), &tmpl) != nil {
			continue
		}
		names := make([]string, 0, len(tmpl.Resources))
		for n := range tmpl.Resources {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			res := tmpl.Resources[n]
			if res.Type == "AWS::IAM::Role" {
				out = append(out, trustResult(s, fmt.Sprintf("stack set %s role %s", s.Name, n), string(res.Properties["AssumeRolePolicyDocument"])))
			}
		}
	}
	return out
}

func trustResult(r plan.Resource, what, doc string) Result {
	var pol struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &pol); err != nil {
		return fail(r, "%s: the trust policy is not JSON: %v", what, err)
	}
	var statements []map[string]json.RawMessage
	if err := json.Unmarshal(pol.Statement, &statements); err != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(pol.Statement, &one) != nil {
			return fail(r, "%s: the trust policy has no Statement", what)
		}
		statements = []map[string]json.RawMessage{one}
	}
	for i, st := range statements {
		for _, k := range []string{"Resource", "NotResource"} {
			if v, ok := st[k]; ok {
				return fail(r, "%s: statement %d of its trust policy carries %q: %s, which IAM refuses in a trust policy (MalformedPolicyDocument); leave the element out", what, i, k, v)
			}
		}
	}
	return pass(r, "%s: its trust policy names principals and actions only", what)
}
