package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDiscoveryLowerBoundIsDecidedByTheBusiestPairsBuckets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sizes   map[string]map[string][]int
		latency time.Duration
		want    time.Duration
		busiest string
	}{
		{
			// 1 ListClusters, 10 ListServices and 100 DescribeServices:
			// 110 service-read calls, 10 past the burst of 100 at 20/s.
			name:    "one cluster of 1000 services: the service-read bucket",
			sizes:   map[string]map[string][]int{"a": {"r": {1000}}},
			latency: 20 * time.Millisecond,
			want:    20*time.Millisecond + 20*time.Millisecond + 500*time.Millisecond,
			busiest: "a/r",
		},
		{
			// 2 + 12 calls, inside the burst: only the latency of the
			// longest chain (ListClusters, 2 ListServices pages, a describe).
			name:    "small fleet: the latency of the longest chain",
			sizes:   map[string]map[string][]int{"a": {"r": {101, 0}}},
			latency: 20 * time.Millisecond,
			want:    4 * 20 * time.Millisecond,
			busiest: "a/r",
		},
		{
			name:    "the busiest account and Region decides, not the sum",
			sizes:   map[string]map[string][]int{"a": {"r": {1000}, "s": {10}}, "b": {"r": {2000}}},
			latency: 0,
			want:    (220 - 100) * time.Second / 20,
			busiest: "b/r",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, busiest := discoveryLowerBound(tc.sizes, tc.latency)
			if d := got - tc.want; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("lower bound %s, want %s", got, tc.want)
			}
			if !strings.HasPrefix(busiest, tc.busiest+" ") {
				t.Errorf("decided by %q, want %s", busiest, tc.busiest)
			}
		})
	}
}

func TestBenchRejectsAScaleBelowOne(t *testing.T) {
	var out, errOut bytes.Buffer
	err := Main(context.Background(), []string{"bench", "--scale", "0"}, nil, &out, &errOut)
	if !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), "--scale must be at least 1") {
		t.Errorf("err %v, stderr %q; want a usage error naming --scale", err, errOut.String())
	}
}
