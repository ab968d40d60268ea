package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// ClusterGone is a cluster that ListClusters returned and that was deleted
// before its services could be listed (ClusterNotFoundException): its
// services are not in the inventory, and nothing else of its account and
// Region was lost.
type ClusterGone struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Cluster string `json:"cluster"`
}

// SetClustersGone records the clusters deleted during discovery, sorted.
func (s *Summary) SetClustersGone(gone []ClusterGone) {
	s.ClustersGone = slices.SortedFunc(slices.Values(gone), func(a, b ClusterGone) int {
		return cmp.Or(strings.Compare(a.Account, b.Account), strings.Compare(a.Region, b.Region), strings.Compare(a.Cluster, b.Cluster))
	})
	s.Counts.ClustersGone = len(gone)
}

func writeClustersGone(b *strings.Builder, s Summary) {
	if len(s.ClustersGone) == 0 {
		return
	}
	fmt.Fprintf(b, "clusters deleted during discovery %d\n", len(s.ClustersGone))
	// Listed whole: a long message is sent in parts (see send).
	for _, c := range s.ClustersGone {
		fmt.Fprintf(b, "  %s %s: %s\n", c.Account, c.Region, c.Cluster)
	}
}

// ShortARNFix is what the owner of a service with a short ARN is told to
// do: tagging it is impossible ("In order to tag a service that has the
// following ARN format, you need to migrate the service to the long ARN",
// ECS API Reference, TagResource).
const ShortARNFix = "opt the account in to the long ARN format (aws ecs put-account-setting --name serviceLongArnFormat --value enabled), " +
	"then migrate the service to a long ARN (Amazon ECS Developer Guide: \"Migrate an Amazon ECS short service ARN to a long ARN\") or recreate it; " +
	"only then can it carry the tag ecs_task_daily_restart"

func writeShortARN(b *strings.Builder, o OwnerReport) {
	if len(o.ShortARN) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%d services have a short ARN and cannot be tagged, so they cannot enrol in (or record) the daily restart. To fix: %s.\n", len(o.ShortARN), ShortARNFix)
	for _, arn := range o.ShortARN {
		fmt.Fprintf(b, "  %s\n", arn)
	}
}
