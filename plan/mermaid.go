package plan

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteMermaid prints the plan as an architecture diagram (a Mermaid
// flowchart): the subnet tiers as subgraphs, the things that run in them
// as nodes, and an edge for every path the security groups open, labelled
// with its ports, so that the request path (internet -> load balancer ->
// tasks -> database and file system) reads the way a person would draw
// it. Nothing is drawn by hand: nodes come from the resources' subnets and
// groups, edges from the ingress rules.
func (p *Plan) WriteMermaid(w io.Writer) error {
	a := p.architecture()
	fmt.Fprintln(w, "flowchart LR")
	fmt.Fprintln(w, `  internet(("Internet"))`)
	for _, t := range tierOrder {
		nodes := a.inTier(t)
		if len(nodes) == 0 {
			continue
		}
		fmt.Fprintf(w, "  subgraph tier_%s[\"%s tier\"]\n", t, t)
		for _, n := range nodes {
			fmt.Fprintf(w, "    %s%s\n", n.id, n.shape())
		}
		fmt.Fprintln(w, "  end")
	}
	for _, n := range a.inTier("") {
		fmt.Fprintf(w, "  %s%s\n", n.id, n.shape())
	}
	// The request path first: from the internet, then tier by tier.
	rank := map[string]int{"internet": -1}
	for _, n := range a.nodes {
		rank[n.id] = len(tierOrder)
		for i, t := range tierOrder {
			if n.tier == t {
				rank[n.id] = i
			}
		}
	}
	sort.SliceStable(a.edges, func(i, j int) bool { return rank[a.edges[i].from] < rank[a.edges[j].from] })
	for _, e := range a.edges {
		arrow := "-->"
		if e.dotted {
			arrow = "-.->"
		}
		fmt.Fprintf(w, "  %s %s|\"%s\"| %s\n", e.from, arrow, strings.Join(e.labels, ", "), e.to)
	}
	return nil
}

// tierOrder is left to right on the request path.
var tierOrder = []string{"public", "private", "data"}

type archNode struct {
	id, label, tier string
	round           bool
	// groups are the security group ids the node sits in.
	groups []string
}

func (n archNode) shape() string {
	if n.round {
		return fmt.Sprintf("{{\"%s\"}}", n.label)
	}
	return fmt.Sprintf("[\"%s\"]", n.label)
}

type archEdge struct {
	from, to string
	labels   []string
	dotted   bool
}

type arch struct {
	nodes []archNode
	edges []archEdge
}

func (a *arch) inTier(t string) []archNode {
	var out []archNode
	for _, n := range a.nodes {
		if n.tier == t {
			out = append(out, n)
		}
	}
	return out
}

func (a *arch) edge(from, to, label string, dotted bool) {
	for i, e := range a.edges {
		if e.from == from && e.to == to {
			for _, l := range e.labels {
				if l == label {
					return
				}
			}
			a.edges[i].labels = append(a.edges[i].labels, label)
			return
		}
	}
	a.edges = append(a.edges, archEdge{from: from, to: to, labels: []string{label}, dotted: dotted})
}

// strs reads a list input of strings.
func strs(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// architecture finds the nodes and the paths between them.
func (p *Plan) architecture() *arch {
	a := &arch{}
	tierOf := func(subnets ...string) string {
		for _, s := range subnets {
			if sn, ok := p.ByID(s); ok && sn.Tag("Tier") != "" {
				return sn.Tag("Tier")
			}
		}
		return ""
	}
	add := func(r Resource, label, tier string, groups []string) {
		a.nodes = append(a.nodes, archNode{id: nodeID(r), label: label, tier: tier, groups: groups})
	}
	for _, r := range p.OfType("aws:lb/loadBalancer:LoadBalancer") {
		add(r, "Load balancer<br/>"+r.Name, tierOf(strs(r.Inputs["subnets"])...), strs(r.Inputs["securityGroups"]))
	}
	for _, r := range p.OfType("aws:ec2/natGateway:NatGateway") {
		add(r, "NAT gateway<br/>"+r.Name, tierOf(r.String("subnetId")), nil)
	}
	for _, r := range p.OfType("aws:ecs/service:Service") {
		nc, _ := r.Inputs["networkConfiguration"].(map[string]any)
		label := fmt.Sprintf("ECS service %s<br/>%v Fargate tasks", r.String("name"), r.Inputs["desiredCount"])
		add(r, label, tierOf(strs(nc["subnets"])...), strs(nc["securityGroups"]))
	}
	for _, r := range p.OfType("aws:ec2/instance:Instance") {
		add(r, "EC2 instance<br/>"+r.Name, tierOf(r.String("subnetId")), strs(r.Inputs["vpcSecurityGroupIds"]))
	}
	for _, r := range p.OfType("aws:rds/instance:Instance") {
		tier := "data"
		for _, g := range p.OfType("aws:rds/subnetGroup:SubnetGroup") {
			if g.String("name") == r.String("dbSubnetGroupName") {
				tier = orTier(tierOf(strs(g.Inputs["subnetIds"])...), tier)
			}
		}
		kind := "RDS primary"
		if r.String("replicateSourceDb") != "" {
			kind = "RDS read replica"
		}
		add(r, fmt.Sprintf("%s<br/>%s %v", kind, r.String("engine"), r.String("instanceClass")), tier, strs(r.Inputs["vpcSecurityGroupIds"]))
	}
	// One node per file system, in the tier of its mount targets.
	mounts := map[string][]Resource{}
	for _, mt := range p.OfType("aws:efs/mountTarget:MountTarget") {
		mounts[mt.String("fileSystemId")] = append(mounts[mt.String("fileSystemId")], mt)
	}
	for _, fs := range p.OfType("aws:efs/fileSystem:FileSystem") {
		mts := mounts[fs.ID]
		var subnets, groups []string
		for _, mt := range mts {
			subnets = append(subnets, mt.String("subnetId"))
			groups = append(groups, strs(mt.Inputs["securityGroups"])...)
		}
		add(fs, fmt.Sprintf("EFS %s<br/>%d mount targets", fs.Name, len(mts)), tierOf(subnets...), dedupe(groups))
	}

	members := map[string][]string{}
	for _, n := range a.nodes {
		for _, g := range n.groups {
			members[g] = append(members[g], n.id)
		}
	}
	port := func(r Resource) string {
		from, _ := r.Inputs["fromPort"].(float64)
		to, _ := r.Inputs["toPort"].(float64)
		if from == to {
			return fmt.Sprintf("%s %d", r.String("ipProtocol"), int(from))
		}
		return fmt.Sprintf("%s %d-%d", r.String("ipProtocol"), int(from), int(to))
	}
	rules := p.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
	sort.SliceStable(rules, func(i, j int) bool { return port(rules[i]) < port(rules[j]) })
	for _, r := range rules {
		to := members[r.String("securityGroupId")]
		switch {
		case r.String("referencedSecurityGroupId") != "":
			for _, f := range members[r.String("referencedSecurityGroupId")] {
				for _, t := range to {
					a.edge(f, t, port(r), false)
				}
			}
		case r.String("cidrIpv4") == "0.0.0.0/0" || r.String("cidrIpv6") == "::/0":
			for _, t := range to {
				a.edge("internet", t, port(r), false)
			}
		}
	}
	// The firewall in front of the load balancer it inspects.
	for _, assoc := range p.OfType("aws:wafv2/webAclAssociation:WebAclAssociation") {
		for _, acl := range p.OfType("aws:wafv2/webAcl:WebAcl") {
			a.nodes = append(a.nodes, archNode{id: nodeID(acl), label: "WAF web ACL<br/>" + acl.Name, round: true})
			for _, lb := range p.OfType("aws:lb/loadBalancer:LoadBalancer") {
				if strings.Contains(assoc.String("resourceArn"), "/"+lb.String("name")+"/") {
					a.edge(nodeID(acl), nodeID(lb), "inspects", true)
				}
			}
		}
	}
	// Where the tasks read their settings from.
	var params []Resource
	for _, prm := range p.OfType("aws:ssm/parameter:Parameter") {
		if prm.String("type") == "SecureString" {
			params = append(params, prm)
		}
	}
	if len(params) > 0 {
		id := "ssm_parameters"
		used := false
		for _, td := range p.OfType("aws:ecs/taskDefinition:TaskDefinition") {
			if !strings.Contains(td.String("containerDefinitions"), `"valueFrom":"arn:`) {
				continue
			}
			for _, svc := range p.OfType("aws:ecs/service:Service") {
				if strings.Contains(svc.String("taskDefinition"), "task-definition/"+td.String("family")+":") {
					a.edge(nodeID(svc), id, "secrets at start", true)
					used = true
				}
			}
		}
		if used {
			a.nodes = append(a.nodes, archNode{id: id, label: fmt.Sprintf("SSM Parameter Store<br/>%d SecureStrings", len(params)), round: true})
		}
	}
	return a
}

func orTier(t, def string) string {
	if t == "" {
		return def
	}
	return t
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// nodeID is a Mermaid-safe id for a resource.
func nodeID(r Resource) string {
	var b strings.Builder
	b.WriteString("n_")
	for _, c := range shortType(r.Type) + "_" + r.Name {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
