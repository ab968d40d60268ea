// Package iam writes the stack's policy documents one way: identity
// policies (what a role may do), resource policies (key, topic, queue,
// bucket and file system policies: who may use a resource) and trust
// policies (who may assume a role). A document is checked as it is
// encoded, so that a document IAM would refuse (a Resource in a trust
// policy, a Principal in an identity policy, a null anywhere) is an error
// at plan time instead of a MalformedPolicyDocument at `pulumi up`.
//
// The grammar is the IAM User Guide's "IAM JSON policy element reference"
// and "Grammar of the IAM JSON policy language".
package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Version is the policy language version every document declares
// ("IAM JSON policy elements: Version": 2012-10-17 is the current one;
// without it, policy variables are not expanded).
const Version = "2012-10-17"

// Kind is what a document is attached to, which decides the elements its
// statements must and must not have.
type Kind int

// The kinds of documents.
const (
	// IdentityPolicy is attached to a role: statements name actions and
	// resources, never a principal.
	IdentityPolicy Kind = iota
	// ResourcePolicy is attached to a resource (KMS key, SNS topic, S3
	// bucket, EFS file system, SQS queue): statements name a principal,
	// actions and resources.
	ResourcePolicy
	// TrustPolicy is a role's assume-role policy: statements name a
	// principal and sts actions, and no resource ("IAM JSON policy
	// elements: Resource": a role trust policy does not specify the
	// Resource element).
	TrustPolicy
)

func (k Kind) String() string {
	switch k {
	case IdentityPolicy:
		return "identity policy"
	case ResourcePolicy:
		return "resource policy"
	case TrustPolicy:
		return "trust policy"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Effect is Allow or Deny.
type Effect string

// The effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is one document.
type Policy struct {
	Kind       Kind
	Statements []Statement
}

// Identity is an identity policy of the statements.
func Identity(st ...Statement) Policy { return Policy{Kind: IdentityPolicy, Statements: st} }

// Resource is a resource policy of the statements.
func Resource(st ...Statement) Policy { return Policy{Kind: ResourcePolicy, Statements: st} }

// Trust is a trust policy of the statements.
func Trust(st ...Statement) Policy { return Policy{Kind: TrustPolicy, Statements: st} }

// Statement is one statement. Resources and condition values are strings,
// or CloudFormation intrinsics (maps such as {"Fn::Sub": ...}) in the
// member role's StackSet template.
type Statement struct {
	Sid       string
	Effect    Effect
	Principal Principal
	Actions   []string
	Resources []any
	Condition Condition
}

// Principal names who a resource or trust policy is about: "AWS" (account
// roots, roles), "Service" (service principals) or "Federated", each to
// one or more values. Anyone is the wildcard principal.
type Principal map[string][]any

// Anyone is the principal "*" (every caller, anonymous included): only for
// Deny statements and statements whose conditions pin the caller.
func Anyone() Principal { return Principal{"*": nil} }

// AWSPrincipal names accounts or roles by ARN.
func AWSPrincipal(arns ...any) Principal { return Principal{"AWS": arns} }

// ServicePrincipal names AWS services by principal name
// ("lambda.amazonaws.com"; account.Env.ServicePrincipal computes them).
func ServicePrincipal(names ...string) Principal {
	vals := make([]any, len(names))
	for i, n := range names {
		vals[i] = n
	}
	return Principal{"Service": vals}
}

// Condition is operator -> condition key -> value: a string, a bool, a
// []string or []any, or an intrinsic.
type Condition map[string]map[string]any

// AllowStatement allows actions on resources.
func AllowStatement(sid string, actions []string, resources ...string) Statement {
	return Statement{Sid: sid, Effect: Allow, Actions: actions, Resources: anys(resources)}
}

// DenyStatement denies actions on resources.
func DenyStatement(sid string, actions []string, resources ...string) Statement {
	return Statement{Sid: sid, Effect: Deny, Actions: actions, Resources: anys(resources)}
}

// On adds resources given as any (CloudFormation intrinsics).
func (s Statement) On(resources ...any) Statement {
	s.Resources = append(slices.Clone(s.Resources), resources...)
	return s
}

// By sets the statement's principal.
func (s Statement) By(p Principal) Statement {
	s.Principal = p
	return s
}

// If adds a condition: operator (StringEquals, ArnLike, Bool, ...), key and
// value. A key given twice under one operator keeps the last value.
func (s Statement) If(operator, key string, value any) Statement {
	c := make(Condition, len(s.Condition)+1)
	for op, keys := range s.Condition {
		c[op] = make(map[string]any, len(keys))
		for k, v := range keys {
			c[op][k] = v
		}
	}
	if c[operator] == nil {
		c[operator] = map[string]any{}
	}
	c[operator][key] = value
	s.Condition = c
	return s
}

// DenyInsecureTransport refuses every request to the resources made
// without TLS: the aws:SecureTransport pattern of Security Hub S3.5 and
// SNS.2 ("Enforce encryption of data in transit"). service is the action
// prefix ("s3", "sns", "sqs", "elasticfilesystem").
func DenyInsecureTransport(service string, resources ...string) Statement {
	return DenyStatement("DenyInsecureTransport", []string{service + ":*"}, resources...).
		By(Anyone()).
		If("Bool", "aws:SecureTransport", "false")
}

// JSON encodes the document, or says which statement IAM would refuse.
func (p Policy) JSON() (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// MarshalJSON encodes the document after checking it, so that a Policy
// embedded in a larger document (a CloudFormation template) is checked too.
func (p Policy) MarshalJSON() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	sts := make([]map[string]any, len(p.Statements))
	for i, s := range p.Statements {
		m := map[string]any{"Effect": string(s.Effect), "Action": oneOrMany(anys(s.Actions))}
		if s.Sid != "" {
			m["Sid"] = s.Sid
		}
		if s.Principal != nil {
			m["Principal"] = s.Principal.value()
		}
		if len(s.Resources) > 0 {
			m["Resource"] = oneOrMany(s.Resources)
		}
		if len(s.Condition) > 0 {
			m["Condition"] = s.Condition
		}
		sts[i] = m
	}
	return json.Marshal(struct {
		Version   string           `json:"Version"`
		Statement []map[string]any `json:"Statement"`
	}{Version, sts})
}

// Validate reports every statement IAM would refuse for the document's
// kind.
func (p Policy) Validate() error {
	if len(p.Statements) == 0 {
		return fmt.Errorf("%s: no statement", p.Kind)
	}
	var errs []error
	sids := map[string]bool{}
	for i, s := range p.Statements {
		where := fmt.Sprintf("%s statement %d", p.Kind, i)
		if s.Sid != "" {
			where += " (" + s.Sid + ")"
			if sids[s.Sid] {
				errs = append(errs, fmt.Errorf("%s: Sid %q is used twice; IAM requires unique Sids in a document", where, s.Sid))
			}
			sids[s.Sid] = true
			if !validSid(s.Sid) {
				errs = append(errs, fmt.Errorf("%s: Sid %q may hold only A-Z, a-z and 0-9", where, s.Sid))
			}
		}
		if s.Effect != Allow && s.Effect != Deny {
			errs = append(errs, fmt.Errorf("%s: Effect %q, want Allow or Deny", where, s.Effect))
		}
		if len(s.Actions) == 0 {
			errs = append(errs, fmt.Errorf("%s: no action", where))
		}
		for _, a := range s.Actions {
			if a != "*" && !validAction(a) {
				errs = append(errs, fmt.Errorf("%s: action %q is not service:Operation", where, a))
			}
		}
		for _, r := range s.Resources {
			if empty(r) {
				errs = append(errs, fmt.Errorf("%s: an empty or null resource", where))
			}
		}
		for op, keys := range s.Condition {
			for k, v := range keys {
				if empty(v) {
					errs = append(errs, fmt.Errorf("%s: condition %s %s has no value", where, op, k))
				}
			}
		}
		for k, vals := range s.Principal {
			if k == "*" {
				continue
			}
			if len(vals) == 0 {
				errs = append(errs, fmt.Errorf("%s: principal %s has no value", where, k))
			}
			for _, v := range vals {
				if empty(v) {
					errs = append(errs, fmt.Errorf("%s: principal %s has an empty or null value", where, k))
				}
			}
		}
		switch p.Kind {
		case IdentityPolicy:
			if s.Principal != nil {
				errs = append(errs, fmt.Errorf("%s: an identity policy names no Principal", where))
			}
			if len(s.Resources) == 0 {
				errs = append(errs, fmt.Errorf("%s: no Resource (an identity policy statement needs one)", where))
			}
		case ResourcePolicy:
			if len(s.Principal) == 0 {
				errs = append(errs, fmt.Errorf("%s: no Principal (a resource policy statement needs one)", where))
			}
			if len(s.Resources) == 0 {
				errs = append(errs, fmt.Errorf("%s: no Resource (a resource policy statement needs one)", where))
			}
		case TrustPolicy:
			if len(s.Principal) == 0 {
				errs = append(errs, fmt.Errorf("%s: no Principal (a trust policy statement needs one)", where))
			}
			if len(s.Resources) > 0 {
				errs = append(errs, fmt.Errorf("%s: a trust policy takes no Resource; IAM refuses the document (MalformedPolicyDocument)", where))
			}
			for _, a := range s.Actions {
				if !strings.HasPrefix(a, "sts:") {
					errs = append(errs, fmt.Errorf("%s: action %q in a trust policy; only sts actions apply", where, a))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (p Principal) value() any {
	if _, ok := p["*"]; ok && len(p) == 1 {
		return "*"
	}
	m := make(map[string]any, len(p))
	for k, v := range p {
		m[k] = oneOrMany(v)
	}
	return m
}

// oneOrMany writes a list of one as the value alone, as IAM's own
// examples do.
func oneOrMany(v []any) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []string:
		return len(x) == 0 || slices.Contains(x, "")
	case []any:
		if len(x) == 0 {
			return true
		}
		return slices.ContainsFunc(x, empty)
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func validSid(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func validAction(a string) bool {
	svc, op, ok := strings.Cut(a, ":")
	return ok && svc != "" && op != "" && !strings.ContainsAny(a, " \t")
}

// ActionsOf is the IAM actions of an interface's methods, sorted: an
// adapter that reaches AWS through a small interface (an API client's
// subset) is granted exactly the calls it can make. The SDK's operation
// names are the IAM action names for the services that use this
// (DynamoDB, ECS, STS, SNS: "Actions defined by" in each service's
// Service Authorization Reference).
func ActionsOf(service string, iface reflect.Type) []string {
	out := make([]string, 0, iface.NumMethod())
	for i := range iface.NumMethod() {
		out = append(out, service+":"+iface.Method(i).Name)
	}
	slices.Sort(out)
	return out
}
