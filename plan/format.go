package plan

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// shown are the inputs worth a glance in the tree, per type.
var shown = map[string][]string{
	"aws:ec2/vpc:Vpc":                                     {"cidrBlock"},
	"aws:ec2/subnet:Subnet":                               {"cidrBlock", "availabilityZone"},
	"aws:ec2/natGateway:NatGateway":                       {"subnetId"},
	"aws:ec2/route:Route":                                 {"destinationCidrBlock", "natGatewayId", "gatewayId"},
	"aws:ec2/routeTableAssociation:RouteTableAssociation": {"subnetId", "routeTableId"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                     {"serviceName", "vpcEndpointType"},
	"aws:ec2/flowLog:FlowLog":                             {"trafficType", "logDestinationType"},
	"aws:cloudwatch/logGroup:LogGroup":                    {"name", "retentionInDays", "kmsKeyId"},
	"aws:kms/key:Key":                                     {"enableKeyRotation"},
	"aws:kms/alias:Alias":                                 {"name"},
	"aws:lambda/function:Function":                        {"runtime", "architectures", "memorySize", "timeout", "sourceCodeHash"},
	"aws:scheduler/schedule:Schedule":                     {"scheduleExpression", "scheduleExpressionTimezone"},
	"aws:sfn/stateMachine:StateMachine":                   {"type"},
	"aws:dynamodb/table:Table":                            {"billingMode", "pointInTimeRecovery", "serverSideEncryption"},
	"aws:sns/topic:Topic":                                 {"kmsMasterKeyId"},
	"aws:sqs/queue:Queue":                                 {"kmsMasterKeyId"},
	"aws:cloudformation/stackSet:StackSet":                {"permissionModel", "autoDeployment"},
}

// WriteTree prints the plan as an indented tree for people: each resource
// under its parent, references shown by the name of what they point at.
func (p *Plan) WriteTree(w io.Writer) error {
	fmt.Fprintf(w, "stack %s: %d resources\n", p.Stack, len(p.Resources))
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		kids := p.Children(parent)
		sort.SliceStable(kids, func(i, j int) bool {
			if kids[i].Type != kids[j].Type {
				return kids[i].Type < kids[j].Type
			}
			return kids[i].Name < kids[j].Name
		})
		for i, r := range kids {
			branch, next := "├── ", "│   "
			if i == len(kids)-1 {
				branch, next = "└── ", "    "
			}
			fmt.Fprintf(w, "%s%s%s  %s%s\n", indent, branch, r.Type, r.Name, p.details(r))
			walk(r.URN, indent+next)
		}
	}
	walk("", "")
	return nil
}

func (p *Plan) details(r Resource) string {
	var parts []string
	for _, k := range shown[r.Type] {
		v, ok := r.Inputs[k]
		if !ok || v == nil {
			continue
		}
		s := fmt.Sprint(v)
		if ref, ok := p.ByID(s); ok {
			s = "→" + ref.Name
		}
		parts = append(parts, k+"="+s)
	}
	if len(parts) == 0 {
		return ""
	}
	return "  (" + strings.Join(parts, ", ") + ")"
}

// Counts returns how many resources of each type the plan declares.
func (p *Plan) Counts() map[string]int {
	out := map[string]int{}
	for _, r := range p.Resources {
		out[r.Type]++
	}
	return out
}

// WriteMermaid prints the plan as a Mermaid flowchart: components as
// subgraphs, resources as nodes, and an edge wherever an input refers to
// another resource.
func (p *Plan) WriteMermaid(w io.Writer) error {
	ids := map[string]string{}
	for i, r := range p.Resources {
		ids[r.URN] = fmt.Sprintf("r%d", i)
	}
	fmt.Fprintln(w, "flowchart LR")
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		for _, r := range p.Children(parent) {
			label := fmt.Sprintf("%s<br/>%s", shortType(r.Type), r.Name)
			if len(p.Children(r.URN)) > 0 {
				fmt.Fprintf(w, "%ssubgraph %s[\"%s\"]\n", indent, ids[r.URN], label)
				walk(r.URN, indent+"  ")
				fmt.Fprintf(w, "%send\n", indent)
				continue
			}
			fmt.Fprintf(w, "%s%s[\"%s\"]\n", indent, ids[r.URN], label)
		}
	}
	walk("", "  ")
	for _, r := range p.Resources {
		keys := make([]string, 0, len(r.Inputs))
		for k := range r.Inputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		seen := map[string]bool{}
		for _, k := range keys {
			s, ok := r.Inputs[k].(string)
			if !ok {
				continue
			}
			if ref, ok := p.ByID(s); ok && !seen[ref.URN] && ref.Type != "aws:ec2/vpc:Vpc" {
				seen[ref.URN] = true
				fmt.Fprintf(w, "  %s -->|%s| %s\n", ids[r.URN], k, ids[ref.URN])
			}
		}
	}
	return nil
}

// shortType is "ec2.Subnet" for aws:ec2/subnet:Subnet.
func shortType(t string) string {
	parts := strings.Split(t, ":")
	if len(parts) != 3 {
		return t
	}
	mod, _, _ := strings.Cut(parts[1], "/")
	return mod + "." + parts[2]
}
