package fleet

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomFleet builds n services over the given number of accounts and
// clusters, with cluster sizes as uneven as in a real organisation (a few
// clusters hold most services), and a mix of the cases eligibility knows.
func randomFleet(rng *rand.Rand, n, accounts, clusters int) []Service {
	services := make([]Service, 0, n)
	regions := []string{"us-east-1", "us-west-2", "eu-west-1"}
	for i := range n {
		// Squaring a uniform number skews services towards low cluster
		// numbers: cluster 0 is the biggest.
		u := rng.Float64()
		c := int(u * u * float64(clusters))
		acct := fmt.Sprintf("%012d", 100000000000+c%accounts)
		region := regions[c%len(regions)]
		cluster := fmt.Sprintf("cluster-%d", c)
		name := fmt.Sprintf("svc-%d-%d", i, rng.IntN(1000))
		s := Service{
			Account:            acct,
			Region:             region,
			Cluster:            cluster,
			Service:            name,
			ARN:                fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", region, acct, cluster, name),
			DesiredCount:       int32(1 + rng.IntN(4)),
			SchedulingStrategy: StrategyReplica,
			Tags:               map[string]string{RestartTag: ""},
		}
		switch r := rng.IntN(100); {
		case r < 3:
			s.DesiredCount = 0
		case r < 5:
			s.DeploymentController = ControllerExtern
		case r < 7:
			s.DeploymentController = ControllerCode
		case r < 9:
			s.Tags[RestartTag] = OptOutValue
		case r < 15:
			delete(s.Tags, RestartTag)
		case r < 20:
			s.SchedulingStrategy = StrategyDaemon
		}
		if r := rng.IntN(3); r == 0 {
			s.Tags["owner"] = fmt.Sprintf("team-%d", c%7)
		}
		services = append(services, s)
	}
	return services
}

// eligibleFleet is randomFleet with every service eligible.
func eligibleFleet(rng *rand.Rand, n, accounts, clusters int) []Service {
	s := randomFleet(rng, n, accounts, clusters)
	for i := range s {
		s[i].DesiredCount = 1
		s[i].DeploymentController = ""
		s[i].Tags = map[string]string{RestartTag: ""}
	}
	return s
}

// slotsByARN maps each planned service to its slot index.
func slotsByARN(batches []Batch) map[string]int {
	m := map[string]int{}
	for _, b := range batches {
		for _, a := range b.Services {
			m[a] = b.Index
		}
	}
	return m
}

// moved counts the services planned in both assignments whose slot differs.
func moved(before, after map[string]int) int {
	n := 0
	for a, s := range before {
		if t, ok := after[a]; ok && t != s {
			n++
		}
	}
	return n
}

// checkSchedule checks every property Schedule promises for services in w.
func checkSchedule(t testing.TB, services []Service, w Window, batches []Batch) {
	t.Helper()
	slots := w.Slots()
	loads := make([]int, slots)
	seen := map[string]int{}
	perCluster := map[clusterID][]int{}
	size := map[clusterID]int{}
	for _, s := range services {
		size[clusterID{s.Account, s.Region, s.Cluster}]++
	}
	cluster := map[string]clusterID{}
	for _, s := range services {
		cluster[s.ARN] = clusterID{s.Account, s.Region, s.Cluster}
	}
	prev := -1
	for _, b := range batches {
		if b.Index <= prev || b.Index >= slots {
			t.Fatalf("batch index %d after %d, want increasing indexes below %d", b.Index, prev, slots)
		}
		prev = b.Index
		if b.Start != w.SlotStart(b.Index) || b.Offset != w.SlotOffset(b.Index) {
			t.Fatalf("batch %d starts %s (%v), want %s (%v)", b.Index, b.Start, b.Offset, w.SlotStart(b.Index), w.SlotOffset(b.Index))
		}
		if len(b.Services) == 0 {
			t.Fatalf("batch %d is empty; empty slots are omitted", b.Index)
		}
		if !slices.IsSorted(b.Services) {
			t.Fatalf("batch %d services not sorted", b.Index)
		}
		loads[b.Index] = len(b.Services)
		for _, a := range b.Services {
			seen[a]++
			id, ok := cluster[a]
			if !ok {
				t.Fatalf("batch %d holds %s, which was not an input", b.Index, a)
			}
			if perCluster[id] == nil {
				perCluster[id] = make([]int, slots)
			}
			perCluster[id][b.Index]++
		}
	}
	for _, s := range services {
		if seen[s.ARN] != 1 {
			t.Fatalf("service %s planned %d times, want once", s.ARN, seen[s.ARN])
		}
	}
	lo, hi := slices.Min(loads), slices.Max(loads)
	mean := float64(len(services)) / float64(slots)
	if tol := max(1, int(0.02*mean)); hi-lo > tol {
		t.Fatalf("batch sizes %d..%d (mean %.1f), want within %d", lo, hi, mean, tol)
	}
	for id, counts := range perCluster {
		k := size[id]
		limit := (k+slots-1)/slots + 1
		if m := slices.Max(counts); m > limit {
			t.Fatalf("cluster %v: %d of its %d services in one slot, want at most %d", id, m, k, limit)
		}
	}
}
