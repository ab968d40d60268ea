package fleet

import (
	"fmt"
	"slices"
	"testing"
)

func TestCarriedOverServicesArePlacedInTheFirstBatches(t *testing.T) {
	var services []Service
	for i := range 120 {
		services = append(services, Service{
			Account: "111111111111", Region: "us-east-1", Cluster: fmt.Sprintf("c%d", i%12), Service: fmt.Sprintf("s%03d", i),
			ARN:          fmt.Sprintf("arn:aws:ecs:us-east-1:111111111111:service/c%d/s%03d", i%12, i),
			DesiredCount: 1, SchedulingStrategy: "REPLICA", DeploymentController: "ECS", Tags: map[string]string{RestartTag: ""},
		})
	}
	w := DefaultWindow()
	plan, err := PlanNight(services, EnrollTagged, w)
	if err != nil {
		t.Fatal(err)
	}
	// Yesterday's tail: the services of the last batches.
	first := map[string]bool{}
	for _, b := range plan.Batches[len(plan.Batches)-4:] {
		for _, arn := range b.Services {
			first[arn] = true
		}
	}
	sizes := func() []int {
		var out []int
		for _, b := range plan.Batches {
			out = append(out, len(b.Services))
		}
		return out
	}
	before := sizes()
	carried, moved := PlaceFirst(plan.Batches, services, first, w)
	if carried != len(first) || moved != len(first) {
		t.Fatalf("carried %d, moved %d of %d", carried, moved, len(first))
	}
	if !slices.Equal(sizes(), before) {
		t.Fatalf("batch sizes changed: %v -> %v", before, sizes())
	}
	// The carried-over services fill the first batches.
	seen, inFirst := 0, 0
	for _, b := range plan.Batches {
		if seen >= len(first) {
			break
		}
		for _, arn := range b.Services {
			if first[arn] {
				inFirst++
			}
		}
		seen += len(b.Services)
	}
	if inFirst != len(first) {
		t.Fatalf("%d of %d carried-over services in the first %d places", inFirst, len(first), seen)
	}
	all := map[string]int{}
	for _, b := range plan.Batches {
		if !slices.IsSorted(b.Services) {
			t.Fatalf("batch %d is not sorted", b.Index)
		}
		for _, arn := range b.Services {
			all[arn]++
		}
	}
	if len(all) != 120 {
		t.Fatalf("%d services planned after the moves, want 120", len(all))
	}
	// The spread cap still holds: 10 services a cluster over 34 slots, at
	// most ceil(10/34)+1 = 2 of a cluster in a batch.
	for _, b := range plan.Batches {
		per := map[string]int{}
		for _, arn := range b.Services {
			per[arn[:len("arn:aws:ecs:us-east-1:111111111111:service/c1")+1]]++
		}
		for c, n := range per {
			if n > 2 {
				t.Fatalf("batch %d holds %d services of %s", b.Index, n, c)
			}
		}
	}
}

func TestPlaceFirstLeavesAPlanWithoutCarryOverAlone(t *testing.T) {
	b := []Batch{{Index: 0, Services: []string{"b", "a"}}, {Index: 1, Services: []string{"c"}}}
	if c, m := PlaceFirst(b, nil, nil, DefaultWindow()); c != 0 || m != 0 || b[0].Services[0] != "b" {
		t.Fatalf("carried %d, moved %d, batches %v", c, m, b)
	}
}
