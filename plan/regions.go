package plan

import (
	"fmt"
	"slices"
	"strings"
)

// zone is one entry of DescribeAvailabilityZones.
type zone struct {
	name, id, optIn, zoneType string
}

// regionZones are the zones DescribeAvailabilityZones lists in the Regions
// the offline plan knows, as a typical account sees them (zone names map to
// different physical zones per account; the set of names does not). Local
// Zones are listed too, as AWS does, so that the program's filters are
// exercised: they are not opted in and have no NAT gateways.
var regionZones = map[string][]zone{
	"us-east-1": {
		{"us-east-1a", "use1-az1", "opt-in-not-required", "availability-zone"},
		{"us-east-1b", "use1-az2", "opt-in-not-required", "availability-zone"},
		{"us-east-1c", "use1-az4", "opt-in-not-required", "availability-zone"},
		{"us-east-1d", "use1-az6", "opt-in-not-required", "availability-zone"},
		{"us-east-1e", "use1-az3", "opt-in-not-required", "availability-zone"},
		{"us-east-1f", "use1-az5", "opt-in-not-required", "availability-zone"},
		{"us-east-1-bos-1a", "use1-bos1-az1", "not-opted-in", "local-zone"},
	},
	"us-east-2":      threeZones("us-east-2", "use2", "abc"),
	"us-west-1":      threeZones("us-west-1", "usw1", "ac"),
	"us-west-2":      append(threeZones("us-west-2", "usw2", "abcd"), zone{"us-west-2-lax-1a", "usw2-lax1-az1", "not-opted-in", "local-zone"}),
	"ca-central-1":   threeZones("ca-central-1", "cac1", "abd"),
	"sa-east-1":      threeZones("sa-east-1", "sae1", "abc"),
	"eu-west-1":      threeZones("eu-west-1", "euw1", "abc"),
	"eu-west-2":      threeZones("eu-west-2", "euw2", "abc"),
	"eu-west-3":      threeZones("eu-west-3", "euw3", "abc"),
	"eu-central-1":   threeZones("eu-central-1", "euc1", "abc"),
	"eu-north-1":     threeZones("eu-north-1", "eun1", "abc"),
	"ap-northeast-1": threeZones("ap-northeast-1", "apne1", "acd"),
	"ap-northeast-2": threeZones("ap-northeast-2", "apne2", "abcd"),
	"ap-southeast-1": threeZones("ap-southeast-1", "apse1", "abc"),
	"ap-southeast-2": threeZones("ap-southeast-2", "apse2", "abc"),
	"ap-south-1":     threeZones("ap-south-1", "aps1", "abc"),
	"cn-north-1":     threeZones("cn-north-1", "cnn1", "abd"),
	"us-gov-west-1":  threeZones("us-gov-west-1", "usgw1", "abc"),
	// Opened in November 2022: load balancers deliver access logs there as
	// a service principal, not an account.
	"eu-central-2": threeZones("eu-central-2", "euc2", "abc"),
}

func threeZones(region, idPrefix, letters string) []zone {
	var out []zone
	for i, l := range letters {
		out = append(out, zone{fmt.Sprintf("%s%c", region, l), fmt.Sprintf("%s-az%d", idPrefix, i+1), "opt-in-not-required", "availability-zone"})
	}
	return out
}

// partitionOf is the partition a Region belongs to, with its DNS suffix
// and the reverse prefix of endpoint service names.
func partitionOf(region string) (name, dnsSuffix, reverse string) {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn", "amazonaws.com.cn", "cn.com.amazonaws"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov", "amazonaws.com", "com.amazonaws"
	}
	return "aws", "amazonaws.com", "com.amazonaws"
}

// zonesOf answers DescribeAvailabilityZones with its filters. Only the
// filters the program uses are understood; any other is an error, so that a
// new filter is taught here rather than silently ignored.
func zonesOf(region, state string, filters map[string][]string) ([]zone, error) {
	all, ok := regionZones[region]
	if !ok {
		known := make([]string, 0, len(regionZones))
		for r := range regionZones {
			known = append(known, r)
		}
		slices.Sort(known)
		return nil, fmt.Errorf("the offline plan does not know the zones of region %q; known regions: %s (add it to plan/regions.go)", region, strings.Join(known, ", "))
	}
	var out []zone
	for _, z := range all {
		keep := state == "" || state == "available"
		for name, values := range filters {
			var field string
			switch name {
			case "opt-in-status":
				field = z.optIn
			case "zone-type":
				field = z.zoneType
			case "zone-name":
				field = z.name
			default:
				return nil, fmt.Errorf("the offline plan does not understand the availability-zone filter %q (plan/regions.go)", name)
			}
			keep = keep && slices.Contains(values, field)
		}
		if keep {
			out = append(out, z)
		}
	}
	return out, nil
}
