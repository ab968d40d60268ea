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
		// A name can be its own resource's id (a log group's): only
		// references to another resource are followed.
		if ref, ok := p.ByID(s); ok && ref.URN != r.URN {
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

// shortType is "ec2.Subnet" for aws:ec2/subnet:Subnet.
func shortType(t string) string {
	parts := strings.Split(t, ":")
	if len(parts) != 3 {
		return t
	}
	mod, _, _ := strings.Cut(parts[1], "/")
	return mod + "." + parts[2]
}
