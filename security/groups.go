// Package security holds the security groups that more than one tier refers
// to, and every rule between them, in one place: the load balancer, the
// WordPress tasks, the bastion, the database and the file system.
//
// They live here, made before the data and compute tiers and passed to
// both, because the rules cross tiers (the database admits the tasks and
// the bastion; the tasks reach the database and the file system): if each
// tier made its own group, data would need compute's groups and compute
// data's, a cycle. Reading this one file also answers "what can reach
// what" for the whole stack.
package security

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NFSPort is the port EFS mount targets listen on.
const NFSPort = 2049

// GroupsArgs are the ports the rules open.
type GroupsArgs struct {
	VpcID pulumi.StringInput
	// AppPort is the port the WordPress container listens on.
	AppPort int
	// DBPort is the database's port.
	DBPort int
	// HTTPS opens 443 on the load balancer as well as 80 (which then only
	// redirects). Without it the tasks may also leave on 80, to reach
	// the site's own http:// URL.
	HTTPS bool
	// Endpoints, when the network has interface endpoints, are where the
	// bastion's HTTPS goes instead of the internet.
	Endpoints *EndpointsArgs
	Tags      map[string]string
}

// EndpointsArgs are the network's ways to AWS that need no internet.
type EndpointsArgs struct {
	// SecurityGroupID is the interface endpoints' group (SSM, Session
	// Manager's channels, CloudWatch Logs, ECR).
	SecurityGroupID pulumi.StringInput
	// S3PrefixListID is S3's prefix list, routed by the gateway endpoint:
	// the Amazon Linux package repositories.
	S3PrefixListID pulumi.StringInput
}

// Groups are the shared security groups.
type Groups struct {
	pulumi.ResourceState

	LoadBalancer pulumi.IDOutput
	Tasks        pulumi.IDOutput
	Bastion      pulumi.IDOutput
	Database     pulumi.IDOutput
	FileSystem   pulumi.IDOutput
}

// NewGroups declares the groups and their rules. Each rule is its own
// resource (aws:vpc/securityGroupIngressRule and ...EgressRule), so adding
// one never rewrites the others; the groups themselves declare no inline
// rules, and the provider removes the allow-all egress rule AWS adds to a
// new group, so a group with no egress rule here can open no connection.
func NewGroups(ctx *pulumi.Context, name string, args GroupsArgs, opts ...pulumi.ResourceOption) (*Groups, error) {
	if args.AppPort <= 0 || args.DBPort <= 0 {
		return nil, fmt.Errorf("security groups %s: AppPort and DBPort are required", name)
	}
	g := &Groups{}
	if err := ctx.RegisterComponentResource("wordpress:security:Groups", name, g, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(g)
	group := func(role, description string) (*ec2.SecurityGroup, error) {
		n := fmt.Sprintf("%s-%s", name, role)
		tags := pulumi.ToStringMap(args.Tags)
		tags["Name"] = pulumi.String(n)
		return ec2.NewSecurityGroup(ctx, n, &ec2.SecurityGroupArgs{
			VpcId:       args.VpcID,
			Description: pulumi.String(description),
			Tags:        tags,
		}, parent)
	}
	alb, err := group("alb", "WordPress load balancer: HTTP(S) from the internet, to the tasks only")
	if err != nil {
		return nil, err
	}
	tasks, err := group("tasks", "WordPress tasks: from the load balancer only")
	if err != nil {
		return nil, err
	}
	bastion, err := group("bastion", "Bastion: no inbound at all; reached through SSM Session Manager")
	if err != nil {
		return nil, err
	}
	db, err := group("db", "Database: from the WordPress tasks and the bastion only")
	if err != nil {
		return nil, err
	}
	efs, err := group("efs", "WordPress file system: NFS from the tasks only")
	if err != nil {
		return nil, err
	}

	r := rules{ctx: ctx, name: name, parent: parent, tags: args.Tags}
	listeners := []int{80}
	if args.HTTPS {
		listeners = append(listeners, 443)
	}
	for _, port := range listeners {
		r.fromInternet(alb, fmt.Sprintf("alb-%d-internet", port), port, "visitors")
	}
	r.between(alb, tasks, "alb-to-tasks", args.AppPort, "requests and health checks")
	r.between(tasks, db, "tasks-to-db", args.DBPort, "WordPress queries")
	r.between(bastion, db, "bastion-to-db", args.DBPort, "port forwarding through Session Manager")
	r.between(tasks, efs, "tasks-to-efs", NFSPort, "wp-content over NFS")
	// HTTPS out, through the NAT or the VPC endpoints: image pulls (ECR),
	// logs, SSM parameters and, for the bastion, the Session Manager agent.
	r.toInternet(tasks, "tasks-https-out", 443, "ECR, CloudWatch Logs, SSM, WordPress updates")
	// WordPress requests its own URL: WP-Cron from page loads, Site
	// Health's loopback test, the editor's check for fatal errors. The
	// URL is the load balancer's public name, reached through the NAT;
	// with HTTPS that is 443, open above, and without it port 80.
	if !args.HTTPS {
		r.toInternet(tasks, "tasks-site-http-out", 80, "WordPress calling its own http:// URL (WP-Cron, Site Health)")
	}
	if e := args.Endpoints; e != nil {
		// The agent needs ssm, ssmmessages, ec2messages and logs, all of
		// them interface endpoints; dnf reads the AL2023 repositories in S3.
		r.egress(bastion, peer{groupRef: e.SecurityGroupID}, "bastion-https-endpoints", 443, "Session Manager agent and session logs, through the VPC endpoints")
		r.egress(bastion, peer{prefixList: e.S3PrefixListID}, "bastion-https-s3", 443, "Amazon Linux package repositories in S3, through the gateway endpoint")
	} else {
		r.toInternet(bastion, "bastion-https-out", 443, "Session Manager agent")
	}
	if r.err != nil {
		return nil, r.err
	}

	g.LoadBalancer, g.Tasks, g.Bastion, g.Database, g.FileSystem = alb.ID(), tasks.ID(), bastion.ID(), db.ID(), efs.ID()
	return g, ctx.RegisterResourceOutputs(g, pulumi.Map{
		"loadBalancer": g.LoadBalancer, "tasks": g.Tasks, "bastion": g.Bastion,
		"database": g.Database, "fileSystem": g.FileSystem,
	})
}

// rules declares rules and keeps the first error, so the table of rules
// above reads as a table.
type rules struct {
	ctx    *pulumi.Context
	name   string
	parent pulumi.ResourceOption
	tags   map[string]string
	err    error
}

// peer is the other side of a rule: a security group of this package or
// of another (groupRef: the network's endpoints), a managed prefix list,
// or an address range (only ever the internet, for the load balancer's
// listeners and HTTPS out).
type peer struct {
	group      *ec2.SecurityGroup
	groupRef   pulumi.StringInput
	prefixList pulumi.StringInput
	cidr       string
}

func (p peer) groupID() pulumi.StringPtrInput {
	switch {
	case p.group != nil:
		return p.group.ID().ToStringOutput().ToStringPtrOutput()
	case p.groupRef != nil:
		return p.groupRef.ToStringOutput().ToStringPtrOutput()
	}
	return nil
}

func (p peer) prefixListID() pulumi.StringPtrInput {
	if p.prefixList == nil {
		return nil
	}
	return p.prefixList.ToStringOutput().ToStringPtrOutput()
}

func (p peer) cidrBlock() pulumi.StringPtrInput {
	if p.cidr == "" {
		return nil
	}
	return pulumi.String(p.cidr)
}

var internet = peer{cidr: "0.0.0.0/0"}

// between lets from open TCP connections to to on port: an egress rule on
// from and the matching ingress rule on to, both naming the other group,
// never an address range.
func (r *rules) between(from, to *ec2.SecurityGroup, id string, port int, why string) {
	r.egress(from, peer{group: to}, id+"-out", port, why)
	r.ingress(to, peer{group: from}, id+"-in", port, why)
}

func (r *rules) fromInternet(sg *ec2.SecurityGroup, id string, port int, why string) {
	r.ingress(sg, internet, id, port, why)
}

func (r *rules) toInternet(sg *ec2.SecurityGroup, id string, port int, why string) {
	r.egress(sg, internet, id, port, why)
}

func (r *rules) ingress(sg *ec2.SecurityGroup, from peer, id string, port int, why string) {
	if r.err != nil {
		return
	}
	_, r.err = vpc.NewSecurityGroupIngressRule(r.ctx, r.name+"-"+id, &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           sg.ID(),
		ReferencedSecurityGroupId: from.groupID(),
		CidrIpv4:                  from.cidrBlock(),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(port),
		ToPort:                    pulumi.Int(port),
		Description:               pulumi.String(why),
		Tags:                      pulumi.ToStringMap(r.tags),
	}, r.parent)
}

func (r *rules) egress(sg *ec2.SecurityGroup, to peer, id string, port int, why string) {
	if r.err != nil {
		return
	}
	_, r.err = vpc.NewSecurityGroupEgressRule(r.ctx, r.name+"-"+id, &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId:           sg.ID(),
		ReferencedSecurityGroupId: to.groupID(),
		CidrIpv4:                  to.cidrBlock(),
		PrefixListId:              to.prefixListID(),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(port),
		ToPort:                    pulumi.Int(port),
		Description:               pulumi.String(why),
		Tags:                      pulumi.ToStringMap(r.tags),
	}, r.parent)
}
