// Package network is the stack's VPC: three subnet tiers per availability
// zone, the NAT strategy, flow logs and private endpoints to AWS services.
package network

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
)

// NATStrategy says how private subnets reach the internet.
type NATStrategy string

// The NAT strategies.
const (
	NATPerAZ  NATStrategy = "perAz"
	NATSingle NATStrategy = "single"
	NATNone   NATStrategy = "none"
)

// NetworkArgs is everything the network is built from. Subnet lists are in
// AvailabilityZones order, one block per zone.
type NetworkArgs struct {
	CIDR               string
	AvailabilityZones  []string
	PublicSubnetCIDRs  []string
	PrivateSubnetCIDRs []string
	DataSubnetCIDRs    []string
	NATStrategy        NATStrategy
	// FlowLogs, when set, sends the VPC's flow logs to CloudWatch Logs.
	FlowLogs *FlowLogArgs
	// InterfaceEndpoints adds private endpoints for SSM, ECR and Logs.
	InterfaceEndpoints bool
	// Env is the account and Region: ARNs, principals, endpoint policies.
	Env  account.Env
	Tags map[string]string
}

// Network is the VPC and its tiers.
type Network struct {
	pulumi.ResourceState

	VpcID             pulumi.IDOutput
	CIDR              string
	AvailabilityZones []string
	PublicSubnetIDs   pulumi.IDArrayOutput
	PrivateSubnetIDs  pulumi.IDArrayOutput
	DataSubnetIDs     pulumi.IDArrayOutput
	NatGatewayIDs     pulumi.IDArrayOutput
	// EndpointSecurityGroupID is empty when InterfaceEndpoints is off.
	EndpointSecurityGroupID pulumi.IDOutput
	// S3PrefixListID is the prefix list of S3 in the Region, which the S3
	// gateway endpoint routes: what a security group names to let a
	// private host reach S3 and nothing else.
	S3PrefixListID pulumi.StringOutput
}

// tier is one row of subnets.
type tier struct {
	name    string
	cidrs   []string
	subnets []*ec2.Subnet
}

// NewNetwork declares the VPC. Resource names depend only on the component
// name, the tier and the AZ, so they are stable across runs and adding an
// AZ only adds resources.
func NewNetwork(ctx *pulumi.Context, name string, args NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if err := args.check(); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	n := &Network{CIDR: args.CIDR, AvailabilityZones: args.AvailabilityZones}
	if err := ctx.RegisterComponentResource("wordpress:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)
	tags := func(resourceName string) pulumi.StringMap {
		m := pulumi.ToStringMap(args.Tags)
		m["Name"] = pulumi.String(resourceName)
		return m
	}

	vpc, err := ec2.NewVpc(ctx, name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.CIDR),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               tags(name),
	}, parent)
	if err != nil {
		return nil, err
	}
	n.VpcID = vpc.ID()

	// Adopting the default security group with no rules strips the
	// allow-all rules AWS puts on it (Security Hub EC2.2).
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  tags(name + "-default-do-not-use"),
	}, parent); err != nil {
		return nil, err
	}

	tiers := []*tier{
		{name: "public", cidrs: args.PublicSubnetCIDRs},
		{name: "private", cidrs: args.PrivateSubnetCIDRs},
		{name: "data", cidrs: args.DataSubnetCIDRs},
	}
	for _, t := range tiers {
		for i, az := range args.AvailabilityZones {
			sn := fmt.Sprintf("%s-%s-%s", name, t.name, azSuffix(az, args.Env.Region))
			s, err := ec2.NewSubnet(ctx, sn, &ec2.SubnetArgs{
				VpcId:            vpc.ID(),
				CidrBlock:        pulumi.String(t.cidrs[i]),
				AvailabilityZone: pulumi.String(az),
				// Nothing launched here gets a public address by accident
				// (Security Hub EC2.15); the ALB and NAT bring their own.
				MapPublicIpOnLaunch: pulumi.Bool(false),
				Tags:                withTier(tags(sn), t.name),
			}, parent)
			if err != nil {
				return nil, err
			}
			t.subnets = append(t.subnets, s)
		}
	}
	public, private, data := tiers[0], tiers[1], tiers[2]
	n.PublicSubnetIDs = subnetIDs(public.subnets)
	n.PrivateSubnetIDs = subnetIDs(private.subnets)
	n.DataSubnetIDs = subnetIDs(data.subnets)

	igw, err := ec2.NewInternetGateway(ctx, name, &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags(name),
	}, parent)
	if err != nil {
		return nil, err
	}
	publicRT, err := routeTable(ctx, name+"-public", vpc, tags, parent)
	if err != nil {
		return nil, err
	}
	if _, err := ec2.NewRoute(ctx, name+"-public-internet", &ec2.RouteArgs{
		RouteTableId:         publicRT.ID(),
		DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
		GatewayId:            igw.ID(),
	}, parent); err != nil {
		return nil, err
	}
	if err := associate(ctx, name, public, publicRT, args, parent); err != nil {
		return nil, err
	}

	nats, err := natGateways(ctx, name, args, public.subnets, tags, parent, igw)
	if err != nil {
		return nil, err
	}
	n.NatGatewayIDs = natIDs(nats)

	// One private route table per AZ whatever the strategy, so that moving
	// between single and perAz only changes where the default route points.
	var privateRTs []*ec2.RouteTable
	for i, az := range args.AvailabilityZones {
		suffix := azSuffix(az, args.Env.Region)
		rt, err := routeTable(ctx, fmt.Sprintf("%s-private-%s", name, suffix), vpc, tags, parent)
		if err != nil {
			return nil, err
		}
		privateRTs = append(privateRTs, rt)
		if nat := natFor(nats, i); nat != nil {
			if _, err := ec2.NewRoute(ctx, fmt.Sprintf("%s-private-%s-egress", name, suffix), &ec2.RouteArgs{
				RouteTableId:         rt.ID(),
				DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
				NatGatewayId:         nat.ID(),
			}, parent); err != nil {
				return nil, err
			}
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-private-%s", name, suffix), &ec2.RouteTableAssociationArgs{
			SubnetId:     private.subnets[i].ID(),
			RouteTableId: rt.ID(),
		}, parent); err != nil {
			return nil, err
		}
	}

	// The data tier (RDS, EFS) has no route out of the VPC at all.
	dataRT, err := routeTable(ctx, name+"-data", vpc, tags, parent)
	if err != nil {
		return nil, err
	}
	if err := associate(ctx, name, data, dataRT, args, parent); err != nil {
		return nil, err
	}

	// S3 through a gateway endpoint is free and keeps ECR layer pulls off
	// the NAT, so it is always on for the private tier.
	rtIDs := pulumi.StringArray{}
	for _, rt := range privateRTs {
		rtIDs = append(rtIDs, rt.ID().ToStringOutput())
	}
	s3, err := s3Endpoint(ctx, name, args, vpc, rtIDs, tags, parent)
	if err != nil {
		return nil, err
	}
	n.S3PrefixListID = s3.PrefixListId

	if args.InterfaceEndpoints {
		sg, err := interfaceEndpoints(ctx, name, args, vpc, private.subnets, tags, parent)
		if err != nil {
			return nil, err
		}
		n.EndpointSecurityGroupID = sg.ID()
	}

	if args.FlowLogs != nil {
		if err := flowLogs(ctx, name, *args.FlowLogs, args.Env, vpc, args.Tags, parent); err != nil {
			return nil, err
		}
	}

	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":            n.VpcID,
		"publicSubnetIds":  n.PublicSubnetIDs,
		"privateSubnetIds": n.PrivateSubnetIDs,
		"dataSubnetIds":    n.DataSubnetIDs,
		"natGatewayIds":    n.NatGatewayIDs,
	})
}

func (a NetworkArgs) check() error {
	n := len(a.AvailabilityZones)
	if n == 0 {
		return fmt.Errorf("no availability zones given")
	}
	for _, t := range []struct {
		name  string
		cidrs []string
	}{{"public", a.PublicSubnetCIDRs}, {"private", a.PrivateSubnetCIDRs}, {"data", a.DataSubnetCIDRs}} {
		if len(t.cidrs) != n {
			return fmt.Errorf("%d %s subnet blocks for %d availability zones", len(t.cidrs), t.name, n)
		}
	}
	switch a.NATStrategy {
	case NATPerAZ, NATSingle, NATNone:
	default:
		return fmt.Errorf("unknown NAT strategy %q", a.NATStrategy)
	}
	return nil
}

// natGateways declares one NAT per AZ (perAz), one in the first AZ
// (single) or none.
func natGateways(ctx *pulumi.Context, name string, args NetworkArgs, public []*ec2.Subnet, tags func(string) pulumi.StringMap, parent pulumi.ResourceOption, igw *ec2.InternetGateway) ([]*ec2.NatGateway, error) {
	count := 0
	switch args.NATStrategy {
	case NATPerAZ:
		count = len(public)
	case NATSingle:
		count = 1
	}
	var nats []*ec2.NatGateway
	for i := range count {
		nn := fmt.Sprintf("%s-nat-%s", name, azSuffix(args.AvailabilityZones[i], args.Env.Region))
		eip, err := ec2.NewEip(ctx, nn, &ec2.EipArgs{
			Domain: pulumi.String("vpc"),
			Tags:   tags(nn),
		}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
		if err != nil {
			return nil, err
		}
		nat, err := ec2.NewNatGateway(ctx, nn, &ec2.NatGatewayArgs{
			AllocationId: eip.ID(),
			SubnetId:     public[i].ID(),
			Tags:         tags(nn),
		}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
		if err != nil {
			return nil, err
		}
		nats = append(nats, nat)
	}
	return nats, nil
}

// natFor is the NAT the private subnet of AZ i routes to: its own under
// perAz, the shared one under single, none under none.
func natFor(nats []*ec2.NatGateway, i int) *ec2.NatGateway {
	switch len(nats) {
	case 0:
		return nil
	case 1:
		return nats[0]
	}
	return nats[i]
}

func routeTable(ctx *pulumi.Context, name string, vpc *ec2.Vpc, tags func(string) pulumi.StringMap, parent pulumi.ResourceOption) (*ec2.RouteTable, error) {
	return ec2.NewRouteTable(ctx, name, &ec2.RouteTableArgs{VpcId: vpc.ID(), Tags: tags(name)}, parent)
}

func associate(ctx *pulumi.Context, name string, t *tier, rt *ec2.RouteTable, args NetworkArgs, parent pulumi.ResourceOption) error {
	for i, s := range t.subnets {
		an := fmt.Sprintf("%s-%s-%s", name, t.name, azSuffix(args.AvailabilityZones[i], args.Env.Region))
		if _, err := ec2.NewRouteTableAssociation(ctx, an, &ec2.RouteTableAssociationArgs{
			SubnetId:     s.ID(),
			RouteTableId: rt.ID(),
		}, parent); err != nil {
			return err
		}
	}
	return nil
}

func subnetIDs(subnets []*ec2.Subnet) pulumi.IDArrayOutput {
	ids := make(pulumi.IDArray, len(subnets))
	for i, s := range subnets {
		ids[i] = s.ID()
	}
	return ids.ToIDArrayOutput()
}

func natIDs(nats []*ec2.NatGateway) pulumi.IDArrayOutput {
	ids := make(pulumi.IDArray, len(nats))
	for i, n := range nats {
		ids[i] = n.ID()
	}
	return ids.ToIDArrayOutput()
}

func withTier(m pulumi.StringMap, tier string) pulumi.StringMap {
	m["Tier"] = pulumi.String(tier)
	return m
}

// azSuffix is the part of the AZ name after the region ("a" for
// us-east-1a), short enough to keep resource names readable.
func azSuffix(az, region string) string {
	if s := strings.TrimPrefix(az, region); s != az && s != "" {
		return strings.TrimPrefix(s, "-")
	}
	return az
}
