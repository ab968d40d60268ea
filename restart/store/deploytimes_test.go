package store_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

func TestCompletedRecordKeepsHowLongItsDeploymentTook(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	day := "2026-03-01"
	for i, took := range []time.Duration{25*time.Minute + 1500*time.Millisecond, 0} {
		r := store.Record{RunRecord: fleet.RunRecord{Day: day, ARN: svc(i).ARN, Account: "111111111111", Region: "us-east-1", Cluster: "c1", Service: svc(i).Service}, RunID: "r1", ClaimedAt: time.Now()}
		if ok, err := s.Claim(ctx, r); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if err := s.MarkStarted(ctx, day, r.ARN, "r1", "ecs-svc/1", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishCompleted(ctx, day, r.ARN, "done", time.Now(), took); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishCompleted(ctx, day, r.ARN, "again", time.Now(), time.Hour); err == nil {
			t.Fatal("a final record was finished again")
		}
		got, ok, err := s.GetRecord(ctx, day, r.ARN)
		if err != nil || !ok || got.Status != fleet.StatusCompleted || got.DeploymentTime != took {
			t.Fatalf("record %+v (%v %v), want completed in %v", got, ok, err, took)
		}
	}
}

func TestDeploymentTimesRoundTripOverManyPages(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if got, err := s.LoadDeploymentTimes(ctx); err != nil || len(got) != 0 {
		t.Fatalf("before any night: %v %v", got, err)
	}
	// 10,000 clusters with long names need more than one 300 KB page.
	var many []store.ClusterDeploymentTime
	for i := range 10_000 {
		many = append(many, store.ClusterDeploymentTime{
			Cluster: fmt.Sprintf("123456789012/us-east-1/a-rather-long-cluster-name-for-payments-%05d", i), Milliseconds: int64(i) * 1000, Day: "2026-03-01"})
	}
	if err := s.PutDeploymentTimes(ctx, many); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadDeploymentTimes(ctx)
	if err != nil || !reflect.DeepEqual(got, many) {
		t.Fatalf("read back %d entries (%v), want %d", len(got), err, len(many))
	}
	// A shorter list replaces it: the pages of the longer one are ignored.
	few := many[:2]
	if err := s.PutDeploymentTimes(ctx, few); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadDeploymentTimes(ctx); err != nil || !reflect.DeepEqual(got, few) {
		t.Fatalf("after a shorter list: %d entries (%v), want 2", len(got), err)
	}
}

func TestMergeKeepsRecentClustersAndForgetsOldOnes(t *testing.T) {
	prev := []store.ClusterDeploymentTime{
		{Cluster: "a", Milliseconds: 60_000, Day: "2026-03-01"},  // observed again tonight
		{Cluster: "b", Milliseconds: 120_000, Day: "2026-02-20"}, // not restarted tonight, recent
		{Cluster: "c", Milliseconds: 180_000, Day: "2026-01-01"}, // not seen for two months
	}
	got := store.MergeDeploymentTimes(prev, "2026-03-02", map[string]time.Duration{"a": 5 * time.Minute, "d": time.Minute}, 30*24*time.Hour)
	want := []store.ClusterDeploymentTime{
		{Cluster: "a", Milliseconds: 300_000, Day: "2026-03-02"},
		{Cluster: "b", Milliseconds: 120_000, Day: "2026-02-20"},
		{Cluster: "d", Milliseconds: 60_000, Day: "2026-03-02"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merge = %+v\nwant %+v", got, want)
	}
}
