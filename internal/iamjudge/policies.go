package iamjudge

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

// Role is a role the plan declares, with its documents.
type Role struct {
	ARN, Name, Account string
	Trust              json.RawMessage
	// Policies are its inline policies; Managed the ARNs of the managed
	// policies attached to it.
	Policies []NamedPolicy
	Managed  []string
}

// Policies are the documents of a plan, by whom or what they apply to.
type Policies struct {
	// Account and Partition are the plan's.
	Account, Partition string
	// Roles by ARN.
	Roles map[string]*Role
	// Functions maps a Lambda function's handler setting to its role's
	// ARN (every restart step is one function whose handler names it).
	Functions map[string]string
	// Resource maps a resource's ARN to its policy: KMS key policies, SNS
	// topic policies, S3 bucket policies, EFS file system policies, SQS
	// queue policies.
	Resource map[string]json.RawMessage
	// MemberRoles are the member roles a StackSet deploys, resolved per
	// member account; DirectMember is the member role the stack makes in
	// its own account (the dev stacks).
	memberTemplate *template
	DirectMember   *Role
}

// FromPlan reads the policies of a recorded plan.
func FromPlan(p *plan.Plan) (*Policies, error) {
	ps := &Policies{Roles: map[string]*Role{}, Functions: map[string]string{}, Resource: map[string]json.RawMessage{}}
	byName := map[string]*Role{}
	for _, r := range p.OfType("aws:iam/role:Role") {
		part, acct, err := arnParts(r.ARN)
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", r.Name, err)
		}
		ps.Account, ps.Partition = acct, part
		name := r.String("name")
		if name == "" {
			name = r.ARN[strings.LastIndex(r.ARN, "/")+1:]
		}
		path := r.String("path")
		if path == "" {
			path = "/"
		}
		role := &Role{
			Name: name, Account: acct,
			ARN:   fmt.Sprintf("arn:%s:iam::%s:role%s%s", part, acct, path, name),
			Trust: json.RawMessage(r.String("assumeRolePolicy")),
		}
		ps.Roles[role.ARN] = role
		byName[name] = role
	}
	for _, r := range p.OfType("aws:iam/rolePolicy:RolePolicy") {
		role, ok := byName[r.String("role")]
		if !ok {
			return nil, fmt.Errorf("role policy %s is attached to %q, which the plan does not declare", r.Name, r.String("role"))
		}
		role.Policies = append(role.Policies, NamedPolicy{Name: r.Name, Policy: json.RawMessage(r.String("policy"))})
	}
	for _, r := range p.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if role, ok := byName[r.String("role")]; ok {
			role.Managed = append(role.Managed, r.String("policyArn"))
		}
	}
	for _, r := range p.OfType("aws:lambda/function:Function") {
		ps.Functions[r.String("handler")] = r.String("role")
	}
	for _, r := range p.OfType("aws:kms/key:Key") {
		ps.Resource[r.ARN] = json.RawMessage(r.String("policy"))
	}
	for _, r := range p.OfType("aws:sns/topicPolicy:TopicPolicy") {
		ps.Resource[r.String("arn")] = json.RawMessage(r.String("policy"))
	}
	for _, r := range p.OfType("aws:sqs/queuePolicy:QueuePolicy") {
		if q, ok := byURLOrARN(p, "aws:sqs/queue:Queue", r.String("queueUrl")); ok {
			ps.Resource[q.ARN] = json.RawMessage(r.String("policy"))
		}
	}
	for _, r := range p.OfType("aws:s3/bucketPolicy:BucketPolicy") {
		// The bucket is named by its id, which is its name in AWS.
		arn := fmt.Sprintf("arn:%s:s3:::%s", ps.Partition, r.String("bucket"))
		if b, ok := p.ByID(r.String("bucket")); ok && b.ARN != "" {
			arn = b.ARN
		}
		ps.Resource[arn] = json.RawMessage(r.String("policy"))
	}
	for _, r := range p.OfType("aws:efs/fileSystemPolicy:FileSystemPolicy") {
		if fs, ok := p.ByID(r.String("fileSystemId")); ok {
			ps.Resource[fs.ARN] = json.RawMessage(r.String("policy"))
		}
	}
	if sets := p.OfType("aws:cloudformation/stackSet:StackSet"); len(sets) > 0 {
		t, err := parseTemplate(sets[0].String("templateBody"), sets[0].Inputs["parameters"])
		if err != nil {
			return nil, fmt.Errorf("stack set %s: %w", sets[0].Name, err)
		}
		ps.memberTemplate = t
	}
	return ps, nil
}

// FunctionRole is the role of the Lambda function whose handler is step.
func (ps *Policies) FunctionRole(step string) (*Role, error) {
	arn, ok := ps.Functions[step]
	if !ok {
		return nil, fmt.Errorf("no function of the plan runs the %q step", step)
	}
	role, ok := ps.Roles[arn]
	if !ok {
		return nil, fmt.Errorf("the %s function's role %s is not in the plan", step, arn)
	}
	return role, nil
}

// MemberRole is the member role in account: the stack's own (direct), or
// the StackSet template's, resolved for that account.
func (ps *Policies) MemberRole(account, name string) (*Role, error) {
	if ps.memberTemplate != nil {
		return ps.memberTemplate.role(ps.Partition, account)
	}
	for _, r := range ps.Roles {
		if r.Account == account && r.Name == name {
			return r, nil
		}
	}
	return nil, fmt.Errorf("the plan declares no member role %s in account %s (and no StackSet deploys one)", name, account)
}

// ByService finds the roles a service principal may assume (their trust
// names it).
func (ps *Policies) ByService(principal string) []*Role {
	var out []*Role
	for _, r := range ps.Roles {
		if strings.Contains(string(r.Trust), `"`+principal+`"`) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Role) int { return strings.Compare(a.ARN, b.ARN) })
	return out
}

func arnParts(arn string) (partition, account string, err error) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 || f[0] != "arn" {
		return "", "", fmt.Errorf("%q is not an ARN", arn)
	}
	return f[1], f[4], nil
}

// AccountOf is the account part of an ARN ("" for "*" or an S3 ARN).
func AccountOf(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 {
		return ""
	}
	return f[4]
}

func byURLOrARN(p *plan.Plan, typ, v string) (plan.Resource, bool) {
	for _, q := range p.OfType(typ) {
		if q.ARN == v || q.ID == v || strings.HasSuffix(v, "/"+q.String("name")) {
			return q, true
		}
	}
	return plan.Resource{}, false
}

// FunctionEnv is the environment of the plan's function whose handler is
// step: what the deployed step runs with (its tables, topics, role name).
func FunctionEnv(p *plan.Plan, step string) (map[string]string, error) {
	for _, fn := range p.OfType("aws:lambda/function:Function") {
		if fn.String("handler") != step {
			continue
		}
		env, _ := fn.Inputs["environment"].(map[string]any)
		vars, _ := env["variables"].(map[string]any)
		out := map[string]string{}
		for k, v := range vars {
			out[k], _ = v.(string)
		}
		return out, nil
	}
	return nil, fmt.Errorf("no function of the plan runs the %s step", step)
}
