package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

func TestPauseKeepsWhoWhenAndWhyUntilResumed(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if p, err := s.GetPause(ctx); err != nil || p.Paused {
		t.Fatalf("fresh table: %+v %v, want not paused", p, err)
	}
	at := time.Date(2026, 11, 26, 2, 10, 0, 0, time.UTC)
	if err := s.SetPause(ctx, "ECR outage in us-east-1", "alice", at); err != nil {
		t.Fatal(err)
	}
	p, err := s.GetPause(ctx)
	if err != nil || !p.Paused || p.Reason != "ECR outage in us-east-1" || p.By != "alice" || !p.At.Equal(at) {
		t.Fatalf("paused: %+v %v", p, err)
	}
	prev, err := s.ClearPause(ctx, "bob", at.Add(time.Hour))
	if err != nil || !prev.Paused || prev.By != "alice" {
		t.Fatalf("resume returned %+v %v, want the pause it ended", prev, err)
	}
	p, _ = s.GetPause(ctx)
	if p.Paused || p.ResumedBy != "bob" || p.Reason != "ECR outage in us-east-1" {
		t.Fatalf("after resume: %+v", p)
	}
	if prev, err := s.ClearPause(ctx, "bob", at); err != nil || prev.Paused {
		t.Fatalf("resuming again: %+v %v, want nothing to end", prev, err)
	}
}

func TestBreakerTripsOnceAndResetStartsTheCountAgain(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	day, at := "2026-11-26", time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	trip := store.Breaker{Day: day, Reason: "12 of 30 failed", Failed: 12, Verified: 30, RunID: "r1", Batch: 2, At: at,
		Services: []store.ServiceFailure{{ARN: "arn:x", Account: "111111111111", Status: fleet.StatusFailed}}}
	if ok, err := s.TripBreaker(ctx, trip); err != nil || !ok {
		t.Fatalf("first trip: %v %v", ok, err)
	}
	if ok, err := s.TripBreaker(ctx, trip); err != nil || ok {
		t.Fatalf("second trip of an open breaker: %v %v, want no", ok, err)
	}
	if ok, err := s.TripBreaker(ctx, store.Breaker{Day: day, Account: "222222222222", Reason: "3 of 3"}); err != nil || !ok {
		t.Fatalf("account trip: %v %v", ok, err)
	}
	bs, err := s.LoadBreakers(ctx, day)
	if err != nil || len(bs) != 2 || bs[0].Account != "" || !bs[0].Open || bs[0].Failed != 12 || bs[1].Account != "222222222222" {
		t.Fatalf("breakers: %+v %v", bs, err)
	}
	closed, err := s.ResetBreakers(ctx, day, "", "carol", at.Add(time.Hour))
	if err != nil || len(closed) != 2 {
		t.Fatalf("reset: %+v %v, want both closed", closed, err)
	}
	bs, _ = s.LoadBreakers(ctx, day)
	for _, b := range bs {
		if b.Open || !b.CountFrom.Equal(at.Add(time.Hour)) || b.ResumedBy != "carol" || b.Reason == "" {
			t.Fatalf("after reset: %+v, want closed, counting from the reset, the trip kept", b)
		}
	}
	if ok, err := s.TripBreaker(ctx, trip); err != nil || !ok {
		t.Fatalf("trip after reset: %v %v", ok, err)
	}
	// An account never tripped can be reset: its count starts again.
	if _, err := s.ResetBreakers(ctx, day, "333333333333", "dave", at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	bs, _ = s.LoadBreakers(ctx, day)
	if len(bs) != 3 || bs[0].Account != "" || !bs[0].Open || bs[2].Account != "333333333333" || bs[2].Open {
		t.Fatalf("after an account's reset: %+v", bs)
	}
}

func TestTalliesFailuresAndCarryOverRoundTrip(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	day := "2026-11-26"
	for b := range 3 {
		if err := s.PutTally(ctx, day, store.Tally{RunID: "r1", Batch: b, Pending: b, Accounts: map[string]store.AccountTally{"111111111111": {Verified: 10, Failed: b}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutTally(ctx, day, store.Tally{RunID: "r2", Batch: 0}); err != nil {
		t.Fatal(err)
	}
	ts, err := s.LoadTallies(ctx, day, "r1")
	if err != nil || len(ts) != 3 || ts[2].Accounts["111111111111"].Failed != 2 || ts[1].Pending != 1 {
		t.Fatalf("tallies: %+v %v", ts, err)
	}
	if err := s.PutBatchFailure(ctx, day, store.BatchFailure{RunID: "r1", Batch: 4, Step: "restart", Error: "Sandbox.Timedout"}); err != nil {
		t.Fatal(err)
	}
	fs, err := s.LoadBatchFailures(ctx, day, "r1")
	if err != nil || len(fs) != 1 || fs[0].Batch != 4 || fs[0].Error != "Sandbox.Timedout" {
		t.Fatalf("failures: %+v %v", fs, err)
	}
	if _, ok, err := s.LoadCarryOver(ctx, day); err != nil || ok {
		t.Fatalf("no carry-over yet: %v %v", ok, err)
	}
	arns := []string{"arn:b", "arn:a"}
	if err := s.PutCarryOver(ctx, store.CarryOver{Day: day, ARNs: arns}); err != nil {
		t.Fatal(err)
	}
	c, ok, err := s.LoadCarryOver(ctx, day)
	if err != nil || !ok || !slices.Equal(c.ARNs, []string{"arn:a", "arn:b"}) {
		t.Fatalf("carry-over: %+v %v %v", c, ok, err)
	}
	if err := s.PutCarryOver(ctx, store.CarryOver{Day: day}); err != nil {
		t.Fatal(err)
	}
	if c, ok, _ := s.LoadCarryOver(ctx, day); !ok || len(c.ARNs) != 0 {
		t.Fatalf("emptied carry-over: %+v %v", c, ok)
	}
}

func TestDeferredServicesJoinTheirNewBatch(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	day := "2026-11-26"
	var items []store.Item
	for i := range 6 {
		items = append(items, store.Item{Service: svc(i), RunID: "r1", Batch: i % 2, Start: []string{"00:00", "00:10"}[i%2]})
	}
	if err := s.PutInventory(ctx, day, items); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPlan(ctx, day, "r1", items); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRunMeta(ctx, store.RunMeta{RunID: "r1", Day: day, Planned: true, Batches: []store.Slot{{Index: 0}, {Index: 1}}}); err != nil {
		t.Fatal(err)
	}
	moved := items[0]
	moved.Deferrals = 1
	if err := s.PutDeferrals(ctx, day, "r1", 1, "00:10", []store.Item{moved}); err != nil {
		t.Fatal(err)
	}
	b1, err := s.LoadBatch(ctx, day, "r1", 1)
	if err != nil || len(b1) != 4 || b1[3].ARN != moved.ARN || b1[3].Deferrals != 1 || b1[3].Batch != 1 {
		t.Fatalf("batch 1: %+v %v, want its 3 and the deferred one", b1, err)
	}
	inv, err := s.LoadInventory(ctx, day, "r1")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range inv {
		if it.ARN == moved.ARN && (it.Batch != 1 || it.Skip != "") {
			t.Fatalf("the deferred service is in batch %d (skip %q), want 1", it.Batch, it.Skip)
		}
	}
}

func TestChangeIsRecordedOnTheRunRecord(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	r := store.Record{RunRecord: fleet.RunRecord{Day: "2026-11-26", ARN: svc(1).ARN, Account: "111111111111"}, RunID: "r1",
		Before: fleet.Revision{TaskDefinition: "td:1"}}
	if ok, err := s.Claim(ctx, r); err != nil || !ok {
		t.Fatal(ok, err)
	}
	before := fleet.Revision{ARN: "rev/1", TaskDefinition: "td:1", Images: []fleet.Image{{Container: "app", Image: "repo:latest", Digest: "sha256:aa"}}}
	after := fleet.Revision{ARN: "rev/2", TaskDefinition: "td:1", Images: []fleet.Image{{Container: "app", Image: "repo:latest", Digest: "sha256:bb"}}}
	got, ok, _ := s.GetRecord(ctx, r.Day, r.ARN)
	if !ok || got.Before.TaskDefinition != "td:1" {
		t.Fatalf("claimed record: %+v", got)
	}
	if err := s.SetChange(ctx, r.Day, r.ARN, before, after); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.GetRecord(ctx, r.Day, r.ARN)
	if got.Before.ARN != "rev/1" || got.After.Images[0].Digest != "sha256:bb" || got.Status != store.StatusClaimed {
		t.Fatalf("after SetChange: %+v", got)
	}
}
