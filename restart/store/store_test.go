package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var tableSeq atomic.Int64

func newStore(t testing.TB, opts ...store.Option) *store.Store {
	t.Helper()
	s, _ := newStoreAt(t, testenv.DynamoDB(t), opts...)
	return s
}

// newStoreAt returns a store with fresh tables at endpoint ep, and its
// client.
func newStoreAt(t testing.TB, ep string, opts ...store.Option) (*store.Store, *dynamodb.Client) {
	t.Helper()
	db := dynamodb.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ep); o.Retryer = store.SDKRetryer() })
	n := fmt.Sprintf("%s-%d-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano(), tableSeq.Add(1))
	s := store.New(db, append([]store.Option{store.WithTables("inv-"+n, "runs-"+n)}, opts...)...)
	if err := s.EnsureTables(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	return s, db
}

func svc(i int) fleet.Service {
	return fleet.Service{
		Account: "111111111111", Region: "us-east-1", Cluster: "c1",
		Service: fmt.Sprintf("s%03d", i), ARN: fmt.Sprintf("arn:aws:ecs:us-east-1:111111111111:service/c1/s%03d", i),
		DesiredCount: 2, SchedulingStrategy: "REPLICA", DeploymentController: "ECS",
		Tags: map[string]string{fleet.RestartTag: "2026-01-01T00:00:00Z", "owner": "team-a"},
	}
}

func TestInventoryRoundTripsAndLoadsOneBatch(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	var items []store.Item
	for i := range 60 { // more than two BatchWriteItem calls
		items = append(items, store.Item{Service: svc(i), RunID: "r1", Batch: store.NoBatch})
	}
	if err := s.PutInventory(ctx, "2026-11-26", items); err != nil {
		t.Fatal(err)
	}
	all, err := s.LoadInventory(ctx, "2026-11-26", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 60 || all[0].Batch != store.NoBatch {
		t.Fatalf("loaded %d items (first %+v), want 60 in no batch", len(all), all[0])
	}
	for i := range items {
		items[i].Batch, items[i].Start = i%3, fmt.Sprintf("00:%02d", (i%3)*10)
		if i == 59 {
			items[i].Batch, items[i].Start, items[i].Skip = store.NoBatch, "", fleet.ReasonDesiredZero
		}
	}
	if err := s.PutPlan(ctx, "2026-11-26", "r1", items); err != nil {
		t.Fatal(err)
	}
	meta := store.RunMeta{RunID: "r1", Day: "2026-11-26", Planned: true, Batches: []store.Slot{{Index: 0}, {Index: 1}, {Index: 2}}}
	if err := s.PutRunMeta(ctx, meta); err != nil {
		t.Fatal(err)
	}
	all, err = s.LoadInventory(ctx, "2026-11-26", "r1")
	if err != nil {
		t.Fatal(err)
	}
	perBatch := map[int]int{}
	for _, it := range all {
		perBatch[it.Batch]++
	}
	if perBatch[0] != 20 || perBatch[1] != 20 || perBatch[2] != 19 || perBatch[store.NoBatch] != 1 || all[59].Skip != fleet.ReasonDesiredZero {
		t.Fatalf("planned inventory: %v per batch, last %+v; want 20, 20, 19 and one skipped", perBatch, all[59])
	}
	if other, _ := s.LoadInventory(ctx, "2026-11-26", "r0"); len(other) != 0 {
		t.Fatalf("another run's inventory holds %d items, want 0", len(other))
	}
	b1, err := s.LoadBatch(ctx, "2026-11-26", "r1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(b1) != 20 {
		t.Fatalf("batch 1 holds %d services, want 20", len(b1))
	}
	if b1[0].Tags["owner"] != "team-a" || b1[0].DesiredCount != 2 || b1[0].Start != "00:10" {
		t.Fatalf("item did not round-trip: %+v", b1[0])
	}
}

func TestClaimIsOncePerDayAndNotStartedCanBeClaimedAgain(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	r := store.Record{RunRecord: fleet.RunRecord{Day: "2026-11-26", ARN: svc(1).ARN, Batch: 2}, RunID: "r1", ClaimedAt: time.Now()}
	if ok, err := s.Claim(ctx, r); err != nil || !ok {
		t.Fatalf("first claim = %v, %v; want true", ok, err)
	}
	r2 := r
	r2.RunID = "r2"
	if ok, err := s.Claim(ctx, r2); err != nil || ok {
		t.Fatalf("second claim = %v, %v; want false", ok, err)
	}
	if err := s.MarkStarted(ctx, r.Day, r.ARN, "r2", "ecs-svc/1", time.Now()); !errors.Is(err, store.ErrNotOwner) {
		t.Fatalf("another run marked the claim started: %v", err)
	}
	if err := s.Release(ctx, r.Day, r.ARN, "throttled"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Claim(ctx, r2); err != nil || !ok {
		t.Fatalf("claim after release = %v, %v; want true", ok, err)
	}
	if err := s.MarkStarted(ctx, r.Day, r.ARN, "r2", "ecs-svc/1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Claim(ctx, r); ok {
		t.Fatal("an in-progress record was claimed again")
	}
	if err := s.Finish(ctx, r.Day, r.ARN, fleet.StatusCompleted, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, r.Day, r.ARN, fleet.StatusFailed, "late", time.Now()); !errors.Is(err, store.ErrNotOwner) {
		t.Fatalf("a final record was finished again: %v", err)
	}
	recs, err := s.GetRecords(ctx, r.Day, []string{r.ARN, svc(2).ARN})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Status != fleet.StatusCompleted || recs[0].DeploymentID != "ecs-svc/1" || recs[0].RunID != "r2" {
		t.Fatalf("records = %+v", recs)
	}
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	s := newStore(t)
	var wins atomic.Int32
	done := make(chan error, 20)
	for i := range 20 {
		go func() {
			ok, err := s.Claim(t.Context(), store.Record{RunRecord: fleet.RunRecord{Day: "d", ARN: "arn:x"}, RunID: fmt.Sprint(i)})
			if ok {
				wins.Add(1)
			}
			done <- err
		}()
	}
	for range 20 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if wins.Load() != 1 {
		t.Fatalf("%d claims won, want 1", wins.Load())
	}
}

// flaky returns some items as unprocessed on every call.
type flaky struct {
	store.API
	calls       int
	keepFailing bool
}

func (f *flaky) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.calls++
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
	for table, reqs := range in.RequestItems {
		if len(reqs) > 1 || f.keepFailing {
			out.UnprocessedItems[table] = reqs[len(reqs)/2:]
		}
	}
	return out, nil
}

func TestUnprocessedItemsAreResentAndNeverDropped(t *testing.T) {
	items := []store.Item{{Service: svc(1), Batch: store.NoBatch}, {Service: svc(2), Batch: store.NoBatch}, {Service: svc(3), Batch: store.NoBatch}}
	f := &flaky{}
	s := store.New(f, store.WithBackoff(time.Millisecond, time.Millisecond))
	if err := s.PutInventory(t.Context(), "d", items); err != nil {
		t.Fatalf("resending unprocessed items: %v", err)
	}
	if f.calls < 2 {
		t.Fatalf("%d calls, want the unprocessed items resent", f.calls)
	}
	// Resent until the step's deadline, then reported, never dropped.
	f = &flaky{keepFailing: true}
	s = store.New(f, store.WithBackoff(time.Millisecond, 5*time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := s.PutInventory(ctx, "d", items)
	if err == nil || !strings.Contains(err.Error(), "still unprocessed") {
		t.Fatalf("err = %v, want unprocessed items reported", err)
	}
	if f.calls < 10 {
		t.Fatalf("%d calls before the deadline, want the items resent until it (far more than a fixed few)", f.calls)
	}
}

func TestReportNamesTheClaimStatesLikeTheStore(t *testing.T) {
	// report keeps its own copy of these names to stay free of DynamoDB.
	if store.StatusClaimed != "claimed" || store.StatusNotStarted != "not-started" {
		t.Fatal("claim states renamed: update restart/report's copies")
	}
}
