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

func TestBenchRejectsBadFlagsBeforeStartingAnything(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scales", "0"}, `--scales "0": want multiples of the seed fleet of 1 or more`},
		{[]string{"--scales", "1,x"}, `--scales "1,x"`},
		{[]string{"--update-rate", "6"}, "--update-rate 6: want more than 0 and at most 5"},
		{[]string{"--latency", "-1s"}, "--latency must not be negative"},
	} {
		var out, errOut bytes.Buffer
		err := Main(context.Background(), append([]string{"bench"}, tc.args...), nil, &out, &errOut)
		if !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("bench %v: err %v, stderr %q; want a usage error saying %q", tc.args, err, errOut.String(), tc.want)
		}
	}
}

func TestRestartLowerBoundIsTheBurstThenTheRefill(t *testing.T) {
	for _, tc := range []struct {
		n     int
		scale float64
		want  time.Duration
	}{
		{50, 1, 20 * time.Millisecond},                   // the burst: one latency
		{200, 1, 20*time.Millisecond + 30*time.Second},   // 150 past the burst at 5/s
		{1000, 10, 20*time.Millisecond + 10*time.Second}, // x10: burst 500, 50/s
	} {
		if got := restartLowerBound(tc.n, tc.scale, 20*time.Millisecond); got != tc.want {
			t.Errorf("restartLowerBound(%d, x%g) = %v, want %v", tc.n, tc.scale, got, tc.want)
		}
	}
}
