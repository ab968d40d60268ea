package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ClusterDeploymentTime is how long the deployments of a cluster's
// restarts took on the last night they were observed: the longest of that
// night's completed deployments of its services.
type ClusterDeploymentTime struct {
	// Cluster is "account/region/cluster" (fleet.Service.ClusterKey).
	Cluster string `json:"c"`
	// Milliseconds is the duration.
	Milliseconds int64 `json:"ms"`
	// Day is the night it was observed.
	Day string `json:"d"`
}

// Duration is the deployment time as a time.Duration.
func (c ClusterDeploymentTime) Duration() time.Duration {
	return time.Duration(c.Milliseconds) * time.Millisecond
}

// deployTimesPK is the partition key of the deployment times: one list for
// the whole fleet, replaced each night, so that a plan reads a few pages
// (10,000 clusters take about 600 KB, three pages) instead of the previous
// night's run records (one item per service, 100,000 of them).
const deployTimesPK = "deployment-times"

const deployTimesPrefix = "page#"

// PutDeploymentTimes replaces the list of the clusters' deployment times
// (LoadDeploymentTimes reads it).
func (s *Store) PutDeploymentTimes(ctx context.Context, times []ClusterDeploymentTime) error {
	slices.SortFunc(times, func(a, b ClusterDeploymentTime) int { return strings.Compare(a.Cluster, b.Cluster) })
	docs, err := pages(times)
	if err != nil {
		return fmt.Errorf("write deployment times: %w", err)
	}
	if len(docs) == 0 {
		docs = []string{"[]"}
	}
	if err := s.batchWrite(ctx, s.inventory, s.pageItems(deployTimesPK, deployTimesPrefix, docs, nil)); err != nil {
		return fmt.Errorf("write deployment times: %w", err)
	}
	return nil
}

// LoadDeploymentTimes returns the clusters' deployment times as last
// written (none before the first night's report).
func (s *Store) LoadDeploymentTimes(ctx context.Context) ([]ClusterDeploymentTime, error) {
	var pages [][]ClusterDeploymentTime
	want := -1
	err := s.queryPrefix(ctx, s.inventory, deployTimesPK, deployTimesPrefix, func(av map[string]types.AttributeValue) error {
		var p []ClusterDeploymentTime
		if err := json.Unmarshal([]byte(getS(av, "doc")), &p); err != nil {
			return fmt.Errorf("%s: %w", getS(av, AttrSK), err)
		}
		if want < 0 {
			want = int(getN(av, "pages"))
		}
		pages = append(pages, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load deployment times: %w", err)
	}
	if want > len(pages) {
		return nil, fmt.Errorf("load deployment times: %d of %d pages found", len(pages), want)
	}
	var out []ClusterDeploymentTime
	for _, p := range pages[:max(want, 0)] {
		out = append(out, p...)
	}
	return out, nil
}

// MergeDeploymentTimes is the list a night's report writes: the clusters
// observed that night (observed, by cluster) replace their earlier
// entries; the others are kept while they are less than maxAge old, so
// that a cluster not restarted for a night keeps its time and a deleted
// one is forgotten.
func MergeDeploymentTimes(prev []ClusterDeploymentTime, day string, observed map[string]time.Duration, maxAge time.Duration) []ClusterDeploymentTime {
	out := make([]ClusterDeploymentTime, 0, len(prev)+len(observed))
	for c, d := range observed {
		out = append(out, ClusterDeploymentTime{Cluster: c, Milliseconds: d.Milliseconds(), Day: day})
	}
	today, err := time.Parse(time.DateOnly, day)
	for _, p := range prev {
		if _, ok := observed[p.Cluster]; ok {
			continue
		}
		if then, perr := time.Parse(time.DateOnly, p.Day); err == nil && (perr != nil || today.Sub(then) >= maxAge) {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b ClusterDeploymentTime) int { return strings.Compare(a.Cluster, b.Cluster) })
	return out
}
