// Package compute is the part of the stack a visitor sees: the load
// balancer (HTTPS, WAF), the WordPress service on ECS Fargate with its EFS
// file system, service autoscaling, and the bastion that reaches the
// database through Session Manager.
//
// It takes everything from its arguments (subnets, the shared security
// groups of package security, key ARNs, the database settings' parameter
// ARNs) and imports neither config nor the data tier.
package compute

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/account"
)

// SecurityGroups are the shared groups (package security) this tier's
// resources sit in; every rule between them is declared there.
type SecurityGroups struct {
	LoadBalancer pulumi.StringInput
	Tasks        pulumi.StringInput
	Bastion      pulumi.StringInput
	FileSystem   pulumi.StringInput
}

// Args are what the WordPress tier is built from.
type Args struct {
	Env               account.Env
	VpcID             pulumi.StringInput
	AvailabilityZones []string
	// Subnet ids per tier, in AvailabilityZones order.
	PublicSubnetIDs  pulumi.StringArrayInput
	PrivateSubnetIDs pulumi.StringArrayInput
	DataSubnetIDs    pulumi.StringArrayInput
	SecurityGroups   SecurityGroups
	// LogsKeyARN encrypts the log groups; LogGroupPrefix ("/wordpress/prod/")
	// starts their names, the prefix the logs key admits.
	LogsKeyARN     pulumi.StringInput
	LogGroupPrefix string
	// AppPort is the port WordPress listens on in the container.
	AppPort      int
	LoadBalancer LoadBalancerArgs
	// WAF, when set, puts a web ACL on the load balancer.
	WAF        *WAFArgs
	Service    ServiceArgs
	FileSystem FileSystemArgs
	// Bastion, when set, adds the Session Manager host.
	Bastion *BastionArgs
	Tags    map[string]string
}

// WordPress is the whole tier and the values other tiers read: the site's
// address, and what the governance alarms watch.
type WordPress struct {
	pulumi.ResourceState

	// URL is where the site answers.
	URL pulumi.StringOutput
	// LoadBalancerARNSuffix and TargetGroupARNSuffix are the LoadBalancer
	// and TargetGroup dimensions of AWS/ApplicationELB metrics.
	LoadBalancerARNSuffix pulumi.StringOutput
	TargetGroupARNSuffix  pulumi.StringOutput
	LoadBalancerDNSName   pulumi.StringOutput
	// ClusterName and ServiceName are the AWS/ECS metric dimensions.
	ClusterName pulumi.StringOutput
	ServiceName pulumi.StringOutput
	// FileSystemID and FileSystemThroughputMode are what EFS alarms watch.
	FileSystemID             pulumi.StringOutput
	FileSystemThroughputMode string
	// WebACLName is the WebACL dimension of AWS/WAFV2; empty without WAF.
	WebACLName pulumi.StringOutput
	HasWAF     bool
	// LogGroupName holds WordPress's container logs.
	LogGroupName pulumi.StringOutput
	// BastionInstanceID is empty without a bastion.
	BastionInstanceID pulumi.StringOutput
	HasBastion        bool
}

// NewWordPress declares the tier: each part is its own component under
// this one, so the plan's tree and diagram read as load balancer, firewall,
// file system, service and bastion.
func NewWordPress(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*WordPress, error) {
	if err := args.check(); err != nil {
		return nil, fmt.Errorf("wordpress %s: %w", name, err)
	}
	w := &WordPress{FileSystemThroughputMode: args.FileSystem.ThroughputMode}
	if err := ctx.RegisterComponentResource("wordpress:compute:WordPress", name, w, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(w)

	lb, err := newLoadBalancer(ctx, name, args, parent)
	if err != nil {
		return nil, fmt.Errorf("load balancer: %w", err)
	}
	w.URL, w.LoadBalancerARNSuffix, w.TargetGroupARNSuffix, w.LoadBalancerDNSName = lb.URL, lb.ARNSuffix, lb.TargetGroupARNSuffix, lb.DNSName

	w.WebACLName = pulumi.String("").ToStringOutput()
	if args.WAF != nil {
		fw, err := newFirewall(ctx, name, args, lb.ARN, parent)
		if err != nil {
			return nil, fmt.Errorf("firewall: %w", err)
		}
		w.WebACLName, w.HasWAF = fw.WebACLName, true
	}

	fs, err := newFileSystem(ctx, name, args, parent)
	if err != nil {
		return nil, fmt.Errorf("file system: %w", err)
	}
	w.FileSystemID = fs.ID

	svc, err := newService(ctx, name, args, lb, fs, parent)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	w.ClusterName, w.ServiceName, w.LogGroupName = svc.ClusterName, svc.ServiceName, svc.LogGroupName

	w.BastionInstanceID = pulumi.String("").ToStringOutput()
	if args.Bastion != nil {
		b, err := newBastion(ctx, name, args, parent)
		if err != nil {
			return nil, fmt.Errorf("bastion: %w", err)
		}
		w.BastionInstanceID, w.HasBastion = b.InstanceID, true
	}

	return w, ctx.RegisterResourceOutputs(w, pulumi.Map{
		"url":                   w.URL,
		"loadBalancerArnSuffix": w.LoadBalancerARNSuffix,
		"targetGroupArnSuffix":  w.TargetGroupARNSuffix,
		"clusterName":           w.ClusterName,
		"serviceName":           w.ServiceName,
		"fileSystemId":          w.FileSystemID,
		"webAclName":            w.WebACLName,
		"logGroupName":          w.LogGroupName,
		"bastionInstanceId":     w.BastionInstanceID,
	})
}

// check refuses arguments that would build a stack AWS rejects; config
// reports the same problems with the key to edit, so these fire only for
// a caller that skipped it.
func (a Args) check() error {
	switch {
	case len(a.AvailabilityZones) < 2:
		// An Application Load Balancer needs subnets in at least two AZs
		// (CreateLoadBalancer).
		return fmt.Errorf("an application load balancer needs at least 2 availability zones, got %d", len(a.AvailabilityZones))
	case a.AppPort <= 0:
		return fmt.Errorf("AppPort is required")
	case !strings.HasSuffix(a.LogGroupPrefix, "/"):
		return fmt.Errorf("LogGroupPrefix %q must end with /", a.LogGroupPrefix)
	case a.LoadBalancer.HTTPS != nil && a.LoadBalancer.HTTPS.CertificateARN == "" && a.LoadBalancer.HTTPS.DomainName == "":
		return fmt.Errorf("HTTPS needs a certificate ARN or a domain name")
	}
	return a.Service.check()
}

// tagged returns the stack's tags with a Name.
func tagged(tags map[string]string, name string) pulumi.StringMap {
	m := pulumi.ToStringMap(tags)
	m["Name"] = pulumi.String(name)
	return m
}

// azSuffix is the zone's letter part ("a" for us-east-1a), for names that
// must stay stable when zones are added.
func azSuffix(az, region string) string {
	if s, ok := strings.CutPrefix(az, region); ok && s != "" {
		return s
	}
	return az
}

// awsName fits name into an AWS name limit (load balancers and target
// groups: 32 characters), never ending in a hyphen.
func awsName(name string, limit int) string {
	if len(name) > limit {
		name = name[:limit]
	}
	return strings.TrimRight(name, "-")
}

func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
