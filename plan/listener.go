package plan

import (
	"net/netip"
	"slices"
)

const typeListenerRule = "aws:lb/listenerRule:ListenerRule"

// ListenerRule is an Application Load Balancer listener rule as the plan
// declares it, with the load balancer's matching rules: the policy checks
// and the local WordPress run read the same.
type ListenerRule struct {
	Resource    Resource
	Priority    int
	PathPattern []string
	SourceIP    []string
	// Other names conditions of other kinds, which make the rule narrower
	// than its paths.
	Other []string
	// Action is "forward", "fixed-response" or "redirect"; StatusCode is
	// the fixed response's.
	Action     string
	StatusCode string
}

// ListenerRules returns the rules of the listener whose ARN is arn, in
// the order the load balancer evaluates them.
func (p *Plan) ListenerRules(arn string) []ListenerRule {
	var out []ListenerRule
	for _, r := range p.OfType(typeListenerRule) {
		if r.String("listenerArn") != arn {
			continue
		}
		prio, _ := r.Inputs["priority"].(float64)
		rule := ListenerRule{Resource: r, Priority: int(prio)}
		for _, c := range r.List("conditions") {
			m, _ := c.(map[string]any)
			for kind, v := range m {
				sub, _ := m[kind].(map[string]any)
				values := stringList(sub["values"])
				switch kind {
				case "pathPattern":
					rule.PathPattern = values
				case "sourceIp":
					rule.SourceIP = values
				default:
					if v != nil {
						rule.Other = append(rule.Other, kind)
					}
				}
			}
		}
		// The last action decides (forward, redirect or fixed-response
		// must be last: ELB guide, "Listener rules").
		if acts := r.List("actions"); len(acts) > 0 {
			m, _ := acts[len(acts)-1].(map[string]any)
			rule.Action, _ = m["type"].(string)
			fixed, _ := m["fixedResponse"].(map[string]any)
			rule.StatusCode, _ = fixed["statusCode"].(string)
		}
		out = append(out, rule)
	}
	slices.SortFunc(out, func(a, b ListenerRule) int { return a.Priority - b.Priority })
	return out
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// MatchesPath is the load balancer's path-pattern test: case-sensitive,
// "*" any run of characters, "?" exactly one (ELB guide, "Path
// conditions").
func (r ListenerRule) MatchesPath(path string) bool {
	if r.PathPattern == nil {
		return true
	}
	for _, pat := range r.PathPattern {
		if wildcardMatch(pat, path) {
			return true
		}
	}
	return false
}

// MatchesSource is the source-ip test on the client's own address.
func (r ListenerRule) MatchesSource(addr netip.Addr) bool {
	if r.SourceIP == nil {
		return true
	}
	for _, s := range r.SourceIP {
		if pfx, err := netip.ParsePrefix(s); err == nil && pfx.Contains(addr) {
			return true
		}
	}
	return false
}

func wildcardMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcardMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcardMatch(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && wildcardMatch(pattern[1:], s[1:])
}
