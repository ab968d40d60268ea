package config

import (
	"net/netip"
)

// Tier is one of the three subnet tiers.
type Tier string

// The subnet tiers.
const (
	TierPublic  Tier = "public"
	TierPrivate Tier = "private"
	TierData    Tier = "data"
)

// carve returns the block of tier for the AZ with index i. The layout gives
// the private tier (tasks, bastion) the most room and never depends on the
// AZ count, so that adding an AZ later adds subnets without renumbering any:
//
//	/16 VPC:  private  /19 blocks 0..5  (10.0.0.0/19, 10.0.32.0/19, ...)
//	          public   /22 inside block 6 (10.0.192.0/22, 10.0.196.0/22, ...)
//	          data     /22 inside block 7 (10.0.224.0/22, 10.0.228.0/22, ...)
//
// Blocks beyond the AZs in use are left free to grow into.
func carve(vpc netip.Prefix, tier Tier, i int) netip.Prefix {
	switch tier {
	case TierPrivate:
		return subPrefix(vpc, 3, i)
	case TierPublic:
		return subPrefix(subPrefix(vpc, 3, 6), 3, i)
	default:
		return subPrefix(subPrefix(vpc, 3, 7), 3, i)
	}
}

// subPrefix is the i-th block of parent's size plus newBits.
func subPrefix(parent netip.Prefix, newBits, i int) netip.Prefix {
	bits := parent.Bits() + newBits
	a := parent.Addr().As4()
	base := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	base += uint32(i) << (32 - bits)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(base >> 24), byte(base >> 16), byte(base >> 8), byte(base)}), bits)
}

// Subnets is the CIDR block of every subnet, per tier, in AZ order.
type Subnets struct {
	Public, Private, Data []string
}

// Subnets returns the blocks the network uses: the ones given in config,
// else the carved layout. It assumes the config has been validated.
func (n Network) Subnets() Subnets {
	vpc := netip.MustParsePrefix(n.CIDR)
	pick := func(given []string, tier Tier) []string {
		if len(given) > 0 {
			return given
		}
		out := make([]string, n.AZCount)
		for i := range out {
			out[i] = carve(vpc, tier, i).String()
		}
		return out
	}
	return Subnets{
		Public:  pick(n.PublicSubnetCIDRs, TierPublic),
		Private: pick(n.PrivateSubnetCIDRs, TierPrivate),
		Data:    pick(n.DataSubnetCIDRs, TierData),
	}
}
