package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

const (
	minAZs = 2
	maxAZs = 6
	// The carved layout needs 3 extra bits for the private tier and 6 for
	// public and data, and AWS's smallest subnet is a /28.
	minVPCPrefix   = 16
	maxCarvePrefix = 21
	maxSubnetBits  = 28
)

// privateRanges are the blocks a VPC may use without colliding with the
// internet: RFC 1918 and the RFC 6598 shared space.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
}

// maxNamePrefix bounds "<project>-<stack>", the prefix of every resource
// name: IAM role names stop at 64 characters, and a role named after the
// prefix, a component suffix such as "-flow-logs" and Pulumi's 8-character
// random suffix must fit.
const maxNamePrefix = 32

// stackNamePattern is what AWS accepts in every name the stack builds (ALB
// and S3 names refuse upper case and underscores).
var stackNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

func (c *Config) validate() Problems {
	var p Problems
	if c.Stack != "" && !stackNamePattern.MatchString(c.Stack) {
		p.addf("stack name %q goes into AWS resource names; use lowercase letters, digits and hyphens, starting with a letter", c.Stack)
	}
	if prefix := c.Project + "-" + c.Stack; len(prefix) > maxNamePrefix {
		p.addf("stack name %q makes resource names start with %q (%d characters); AWS name limits (64 for IAM roles) leave room for %d: use a stack name of at most %d characters", c.Stack, prefix, len(prefix), maxNamePrefix, maxNamePrefix-len(c.Project)-1)
	}
	switch c.Environment {
	case Production, Development:
	default:
		p.addf("%s:environment: must be %q or %q, got %q", c.Project, Production, Development, c.Environment)
	}
	p = append(p, validateTags(c.Tags)...)
	p = append(p, c.Network.validate(c.Region, c.Environment)...)
	p = append(p, c.Cost.validate()...)
	p = append(p, c.validateAirflow()...)
	p = append(p, c.Governance.validate()...)
	p = append(p, c.Restart.validate()...)
	// Without the WordPress tiers (site: false) their settings are unused,
	// and the database needs no password.
	if c.Site {
		p = append(p, c.validateCompute()...)
		c.validateData(&p)
	}
	p = append(p, c.validatePlacement()...)
	for id, reason := range c.Policy.Waivers {
		if strings.TrimSpace(reason) == "" {
			p.addf("policy.waivers.%s: a waiver needs its reason, e.g. %q", id, "dev has no flow logs to save cost")
		}
	}
	slices.Sort(p)
	return p
}

func validateTags(tags map[string]string) Problems {
	var p Problems
	// AWS allows 50 tags per resource; leave room for the ones we add.
	if len(tags) > 40 {
		p.addf("tags: %d tags given, at most 40 (AWS allows 50 per resource and the program adds its own)", len(tags))
	}
	for k, v := range tags {
		switch {
		case k == "":
			p.addf("tags: a tag key is empty")
		case slices.Contains(ReservedTags, k):
			p.addf("tags.%s: is set by the program on every resource (from the stack name and %s); remove it from tags, and set environment instead of an Environment tag", k, "wordpress:environment")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			p.addf("tags.%s: keys starting with \"aws:\" are reserved by AWS", k)
		case len(k) > 128:
			p.addf("tags.%s: key is %d characters, AWS allows 128", clip(k), len(k))
		}
		if len(v) > 256 {
			p.addf("tags.%s: value is %d characters, AWS allows 256", k, len(v))
		}
	}
	return p
}

func (n Network) validate(region string, env Environment) Problems {
	var p Problems
	vpc, err := netip.ParsePrefix(n.CIDR)
	vpcOK := err == nil
	switch {
	case err != nil:
		p.addf("network.cidr: %q is not an IPv4 CIDR block such as 10.0.0.0/16", n.CIDR)
	case !vpc.Addr().Is4():
		p.addf("network.cidr: %q must be IPv4 (IPv6 is added by AWS, not chosen)", n.CIDR)
		vpcOK = false
	case vpc.Masked() != vpc:
		p.addf("network.cidr: %q has host bits set; did you mean %s?", n.CIDR, vpc.Masked())
		vpcOK = false
	case vpc.Bits() < minVPCPrefix || vpc.Bits() > maxSubnetBits:
		p.addf("network.cidr: AWS allows a VPC between /%d and /%d, got /%d", minVPCPrefix, maxSubnetBits, vpc.Bits())
		vpcOK = false
	case !slices.ContainsFunc(privateRanges, func(r netip.Prefix) bool { return r.Contains(vpc.Addr()) && r.Bits() <= vpc.Bits() }):
		p.addf("network.cidr: %s is not a private range; use a block inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10", n.CIDR)
	}

	azOK := true
	if n.AZCount < minAZs || n.AZCount > maxAZs {
		p.addf("network.azCount must be between %d and %d, got %d", minAZs, maxAZs, n.AZCount)
		azOK = false
	}
	if len(n.AvailabilityZones) > 0 {
		if len(n.AvailabilityZones) != n.AZCount {
			p.addf("network.availabilityZones lists %d zones but network.azCount is %d; make them agree", len(n.AvailabilityZones), n.AZCount)
		}
		seen := map[string]bool{}
		for i, az := range n.AvailabilityZones {
			if seen[az] {
				p.addf("network.availabilityZones[%d]: %q is listed twice; subnets of one tier must be in distinct AZs", i, az)
			}
			seen[az] = true
			if region != "" && (!strings.HasPrefix(az, region) || len(az) == len(region)) {
				p.addf("network.availabilityZones[%d]: %q is not a zone of region %s (expected e.g. %sa)", i, az, region, region)
			}
		}
	}

	switch n.NATStrategy {
	case NATPerAZ:
	case NATSingle, NATNone:
		if env == Production && strings.TrimSpace(n.SingleNATReason) == "" {
			p.addf("network.natStrategy is %q in a production stack: private subnets would lose egress with one AZ; use \"perAz\", or explain the choice in network.singleNatReason", n.NATStrategy)
		}
	default:
		p.addf("network.natStrategy: must be one of \"perAz\", \"single\", \"none\", got %q", n.NATStrategy)
	}

	if n.NATStrategy == NATNone && !n.InterfaceEndpoints {
		p.addf("network.natStrategy is \"none\" and network.interfaceEndpoints is false: private tasks could pull no images and ship no logs; turn network.interfaceEndpoints on, or choose natStrategy \"single\" or \"perAz\"")
	}

	if n.FlowLogs && !validRetention(n.FlowLogRetentionDays) {
		p.addf("network.flowLogRetentionDays: CloudWatch Logs accepts %v, got %d", RetentionDays, n.FlowLogRetentionDays)
	}

	if vpcOK && azOK {
		p = append(p, n.validateSubnets(vpc)...)
	}
	return p
}

// validateSubnets checks every subnet, carved or given, for fit and overlap.
func (n Network) validateSubnets(vpc netip.Prefix) Problems {
	var p Problems
	overridden := len(n.PublicSubnetCIDRs)+len(n.PrivateSubnetCIDRs)+len(n.DataSubnetCIDRs) > 0
	if !overridden && vpc.Bits() > maxCarvePrefix {
		p.addf("network.cidr: /%d is too small to carve three tiers for up to %d AZs; use /%d or larger, or list the subnets in network.publicSubnetCidrs, privateSubnetCidrs and dataSubnetCidrs", vpc.Bits(), maxAZs, maxCarvePrefix)
		return p
	}
	type subnet struct {
		name   string
		prefix netip.Prefix
	}
	var all []subnet
	for _, tier := range []struct {
		key   string
		given []string
		tier  Tier
	}{
		{"publicSubnetCidrs", n.PublicSubnetCIDRs, TierPublic},
		{"privateSubnetCidrs", n.PrivateSubnetCIDRs, TierPrivate},
		{"dataSubnetCidrs", n.DataSubnetCIDRs, TierData},
	} {
		if len(tier.given) == 0 {
			if vpc.Bits() > maxCarvePrefix {
				p.addf("network.%s: must be given when network.cidr is smaller than /%d", tier.key, maxCarvePrefix)
				continue
			}
			for i := range n.AZCount {
				all = append(all, subnet{fmt.Sprintf("%s subnet %d (carved)", tier.tier, i), carve(vpc, tier.tier, i)})
			}
			continue
		}
		if len(tier.given) != n.AZCount {
			p.addf("network.%s lists %d blocks but network.azCount is %d; give one per AZ", tier.key, len(tier.given), n.AZCount)
		}
		for i, s := range tier.given {
			name := fmt.Sprintf("network.%s[%d]", tier.key, i)
			sp, err := netip.ParsePrefix(s)
			switch {
			case err != nil || !sp.Addr().Is4():
				p.addf("%s: %q is not an IPv4 CIDR block", name, s)
				continue
			case sp.Masked() != sp:
				p.addf("%s: %q has host bits set; did you mean %s?", name, s, sp.Masked())
				continue
			case sp.Bits() > maxSubnetBits:
				p.addf("%s: %s is smaller than /%d, the smallest subnet AWS allows", name, s, maxSubnetBits)
			case !vpc.Contains(sp.Addr()) || sp.Bits() < vpc.Bits():
				p.addf("%s: %s does not fit inside network.cidr %s", name, s, vpc)
			}
			all = append(all, subnet{name + " " + s, sp})
		}
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if all[i].prefix.Overlaps(all[j].prefix) {
				p.addf("network: %s overlaps %s; subnets must not share addresses", all[i].name, all[j].name)
			}
		}
	}
	return p
}
