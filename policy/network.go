package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/plan"
)

const (
	typeVPC         = "aws:ec2/vpc:Vpc"
	typeSubnet      = "aws:ec2/subnet:Subnet"
	typeDefaultSG   = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	typeFlowLog     = "aws:ec2/flowLog:FlowLog"
	typeRoute       = "aws:ec2/route:Route"
	typeRouteTable  = "aws:ec2/routeTable:RouteTable"
	typeAssociation = "aws:ec2/routeTableAssociation:RouteTableAssociation"
	typeNATGateway  = "aws:ec2/natGateway:NatGateway"
	typeKMSKey      = "aws:kms/key:Key"
	internetIPv4    = "0.0.0.0/0"
	internetIPv6    = "::/0"
)

// securityGroupRuleTypes are the resources that add a rule to a group
// from outside it.
var securityGroupRuleTypes = []string{
	"aws:ec2/securityGroupRule:SecurityGroupRule",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
}

func checkDefaultSecurityGroup(p *plan.Plan) []Result {
	var out []Result
	for _, vpc := range p.OfType(typeVPC) {
		var sg *plan.Resource
		for _, s := range p.OfType(typeDefaultSG) {
			if s.String("vpcId") == vpc.ID {
				sg = &s
				break
			}
		}
		// Rules can be attached to the default group by id from anywhere
		// in the program, not only inline on the adopted group.
		var attached []string
		defaultID := plan.DefaultSecurityGroupID(vpc.ID)
		for _, typ := range securityGroupRuleTypes {
			for _, r := range p.OfType(typ) {
				if r.String("securityGroupId") == defaultID {
					attached = append(attached, r.Name)
				}
			}
		}
		switch {
		case sg == nil:
			out = append(out, fail(vpc, "the default security group is not managed, so AWS's allow-all rules stay on it; declare an aws:ec2/defaultSecurityGroup with no rules"))
		case len(sg.List("ingress")) > 0 || len(sg.List("egress")) > 0:
			out = append(out, fail(vpc, "the default security group %s has rules; remove them and use dedicated groups", sg.Name))
		case len(attached) > 0:
			out = append(out, fail(vpc, "rules %v are attached to the default security group; attach them to a dedicated group", attached))
		default:
			out = append(out, pass(vpc, "default security group %s has no rules", sg.Name))
		}
	}
	return out
}

// flowLogTrafficTypes record rejected traffic, which is what EC2.6 asks
// for (its trafficType parameter defaults to REJECT; ALL includes it).
var flowLogTrafficTypes = []string{"ALL", "REJECT"}

func checkFlowLogs(p *plan.Plan) []Result {
	var out []Result
	for _, vpc := range p.OfType(typeVPC) {
		var good, partial []string
		for _, fl := range p.OfType(typeFlowLog) {
			if fl.String("vpcId") != vpc.ID {
				continue
			}
			if slices.Contains(flowLogTrafficTypes, fl.String("trafficType")) {
				good = append(good, fmt.Sprintf("%s (%s to %s)", fl.Name, fl.String("trafficType"), fl.String("logDestinationType")))
			} else {
				partial = append(partial, fmt.Sprintf("%s (%s)", fl.Name, fl.String("trafficType")))
			}
		}
		switch {
		case len(good) > 0:
			out = append(out, pass(vpc, "flow log %s records rejected traffic", strings.Join(good, ", ")))
		case len(partial) > 0:
			out = append(out, fail(vpc, "flow log %s does not record rejected traffic; set its trafficType to ALL or REJECT", strings.Join(partial, ", ")))
		default:
			out = append(out, fail(vpc, "no flow log records this VPC's traffic; set network.flowLogs: true"))
		}
	}
	return out
}

func checkSubnetPublicIPs(p *plan.Plan) []Result {
	var out []Result
	for _, s := range p.OfType(typeSubnet) {
		if on, _ := s.Bool("mapPublicIpOnLaunch"); on {
			out = append(out, fail(s, "subnet %s gives every instance a public IP; set mapPublicIpOnLaunch to false", s.String("cidrBlock")))
			continue
		}
		out = append(out, pass(s, "subnet %s does not assign public IPs", s.String("cidrBlock")))
	}
	return out
}

func checkKeyRotation(p *plan.Plan) []Result {
	var out []Result
	for _, k := range p.OfType(typeKMSKey) {
		if on, _ := k.Bool("enableKeyRotation"); !on {
			out = append(out, fail(k, "key rotation is off; set enableKeyRotation"))
			continue
		}
		out = append(out, pass(k, "key rotation is on"))
	}
	return out
}

// routeTableOf returns the route table associated with a subnet.
func routeTableOf(p *plan.Plan, subnet plan.Resource) (plan.Resource, bool) {
	for _, a := range p.OfType(typeAssociation) {
		if a.String("subnetId") == subnet.ID {
			return p.ByID(a.String("routeTableId"))
		}
	}
	return plan.Resource{}, false
}

// defaultRoutes returns the routes of a route table that leave the VPC for
// the internet, declared as aws:ec2/route or inline.
func defaultRoutes(p *plan.Plan, rt plan.Resource) []map[string]any {
	var out []map[string]any
	for _, r := range p.OfType(typeRoute) {
		if r.String("routeTableId") == rt.ID && isInternet(r.Inputs) {
			out = append(out, r.Inputs)
		}
	}
	for _, inline := range rt.List("routes") {
		if m, ok := inline.(map[string]any); ok && isInternet(m) {
			out = append(out, m)
		}
	}
	return out
}

func isInternet(route map[string]any) bool {
	v4, _ := route["destinationCidrBlock"].(string)
	if v4 == "" {
		v4, _ = route["cidrBlock"].(string)
	}
	v6, _ := route["destinationIpv6CidrBlock"].(string)
	return v4 == internetIPv4 || v6 == internetIPv6
}

func checkDataTierIsolated(p *plan.Plan) []Result {
	var out []Result
	for _, s := range p.OfType(typeSubnet) {
		if s.Tag("Tier") != "data" {
			continue
		}
		rt, ok := routeTableOf(p, s)
		if !ok {
			out = append(out, fail(s, "data subnet %s has no route table of its own and would use the VPC's main table; associate it with the data route table", s.String("cidrBlock")))
			continue
		}
		if routes := defaultRoutes(p, rt); len(routes) > 0 {
			out = append(out, fail(s, "data subnet %s routes to the internet through %s; the data tier must stay inside the VPC", s.String("cidrBlock"), rt.Name))
			continue
		}
		out = append(out, pass(s, "data subnet %s (route table %s) has no internet route", s.String("cidrBlock"), rt.Name))
	}
	return out
}

func checkNATPerAZ(p *plan.Plan) []Result {
	var out []Result
	for _, s := range p.OfType(typeSubnet) {
		if s.Tag("Tier") != "private" {
			continue
		}
		az := s.String("availabilityZone")
		rt, ok := routeTableOf(p, s)
		if !ok {
			out = append(out, fail(s, "private subnet in %s has no route table of its own", az))
			continue
		}
		routes := defaultRoutes(p, rt)
		if len(routes) == 0 {
			out = append(out, fail(s, "private subnet in %s has no egress route; set network.natStrategy: perAz", az))
			continue
		}
		natID, _ := routes[0]["natGatewayId"].(string)
		nat, ok := p.ByID(natID)
		if !ok || nat.Type != typeNATGateway {
			out = append(out, fail(s, "private subnet in %s egresses through something other than a NAT gateway", az))
			continue
		}
		natSubnet, _ := p.ByID(nat.String("subnetId"))
		if natAZ := natSubnet.String("availabilityZone"); natAZ != az {
			out = append(out, fail(s, "private subnet in %s egresses through NAT %s in %s: losing that AZ cuts this one off; set network.natStrategy: perAz", az, nat.Name, natAZ))
			continue
		}
		out = append(out, pass(s, "private subnet in %s egresses through NAT %s in the same AZ", az, nat.Name))
	}
	return out
}
