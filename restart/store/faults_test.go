package store_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/nequi-platform/wordpress-ecs/internal/testenv"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// faultyStore is a store behind a DynamoFaults proxy.
func faultyStore(t testing.TB, f *testenv.DynamoFaults, opts ...store.Option) *store.Store {
	t.Helper()
	f.Upstream = testenv.DynamoDB(t)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s, _ := newStoreAt(t, srv.URL, opts...)
	return s
}

func planned(n, batches int) []store.Item {
	items := make([]store.Item, n)
	for i := range items {
		items[i] = store.Item{Service: svc(i), RunID: "r1", Batch: i % batches, Start: fmt.Sprintf("00:%02d", i%batches)}
	}
	return items
}

// With every partition key throttled at a few writes a second and every
// eventually consistent read missing what was written in the last two
// seconds, a batch planned a moment ago is read back whole, and so are
// the run records claimed a moment ago: the store retries throttled
// writes and reads only with strongly consistent reads.
func TestPlanAndRecordsReadBackWholeUnderHotKeysAndStaleReads(t *testing.T) {
	f := &testenv.DynamoFaults{PartitionRate: 5, PartitionBurst: 5, Delay: 2 * time.Second}
	s := faultyStore(t, f, store.WithBackoff(5*time.Millisecond, 200*time.Millisecond))
	ctx := t.Context()
	const n, batches = 600, 3
	items := planned(n, batches)
	inv := make([]store.Item, n)
	for i, it := range items {
		inv[i] = store.Item{Service: it.Service, RunID: "r1", Batch: store.NoBatch}
	}
	if err := s.PutInventory(ctx, "2026-11-26", inv); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPlan(ctx, "2026-11-26", "r1", items); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRunMeta(ctx, store.RunMeta{RunID: "r1", Day: "2026-11-26", Planned: true, Batches: []store.Slot{{Index: 0}, {Index: 1}, {Index: 2}}}); err != nil {
		t.Fatal(err)
	}
	b1, err := s.LoadBatch(ctx, "2026-11-26", "r1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(b1) != n/batches {
		t.Fatalf("batch 1 read back with %d services, want %d", len(b1), n/batches)
	}
	for _, it := range b1 {
		ok, err := s.Claim(ctx, store.Record{RunRecord: fleet.RunRecord{Day: "2026-11-26", ARN: it.ARN, Batch: 1}, RunID: "r1", ClaimedAt: time.Now()})
		if err != nil || !ok {
			t.Fatalf("claim %s: %v %v", it.ARN, ok, err)
		}
	}
	recs, err := s.LoadRunBatch(ctx, "2026-11-26", "r1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n/batches {
		t.Fatalf("%d run records of batch 1 read back, want %d", len(recs), n/batches)
	}
	all, err := s.LoadInventory(ctx, "2026-11-26", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n || all[0].Batch == store.NoBatch {
		t.Fatalf("inventory read back with %d services (first in batch %d), want %d planned", len(all), all[0].Batch, n)
	}
	st := f.Stats()
	t.Logf("proxy: %+v; store retries %d", st, s.Retries())
	if st.ThrottledItems == 0 || s.Retries() == 0 {
		t.Fatalf("nothing was throttled (%+v): the fault did not bite", st)
	}
	if st.EventualReads != 0 {
		t.Fatalf("%d eventually consistent reads, want none", st.EventualReads)
	}
}

// A batch manifest larger than a DynamoDB item is split into pages, and
// a page left by an earlier, longer write of the same plan is ignored.
func TestLargeBatchManifestsArePagedAndShrinkCleanly(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	items := planned(900, 1)
	for i := range items {
		items[i].Tags = map[string]string{fleet.RestartTag: "x", "notes": strings.Repeat("n", 1000)}
	}
	if err := s.PutPlan(ctx, "d", "r1", items); err != nil {
		t.Fatal(err) // ~1 MB in one batch: more than two 400 KB items
	}
	got, err := s.LoadBatch(ctx, "d", "r1", 0)
	if err != nil || len(got) != 900 {
		t.Fatalf("read back %d services, %v; want 900", len(got), err)
	}
	if err := s.PutPlan(ctx, "d", "r1", items[:10]); err != nil {
		t.Fatal(err)
	}
	got, err = s.LoadBatch(ctx, "d", "r1", 0)
	if err != nil || len(got) != 10 {
		t.Fatalf("after a shorter rewrite: %d services, %v; want 10", len(got), err)
	}
}

// A verifier may adopt the deployment of a claim before the restarting
// invocation records it: MarkStarted with that deployment then succeeds,
// with another deployment it does not.
func TestMarkStartedAfterTheVerifierAdoptedTheSameDeployment(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	r := store.Record{RunRecord: fleet.RunRecord{Day: "2026-11-26", ARN: svc(1).ARN}, RunID: "r1", ClaimedAt: time.Now()}
	if ok, err := s.Claim(ctx, r); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := s.Adopt(ctx, r.Day, r.ARN, "ecs-svc/1", time.Now(), "adopted"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkStarted(ctx, r.Day, r.ARN, "r1", "ecs-svc/1", time.Now()); err != nil {
		t.Fatalf("MarkStarted after the same deployment was adopted: %v", err)
	}
	if err := s.MarkStarted(ctx, r.Day, r.ARN, "r1", "ecs-svc/2", time.Now()); err == nil {
		t.Fatal("MarkStarted with another deployment succeeded")
	}
}

func TestEveryItemCarriesItsTTL(t *testing.T) {
	now := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	s, db := newStoreAt(t, testenv.DynamoDB(t), store.WithRecordTTL(30*24*time.Hour), store.WithClock(func() time.Time { return now }))
	ctx := t.Context()
	items := planned(3, 1)
	if err := s.PutInventory(ctx, "2026-11-26", items); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPlan(ctx, "2026-11-26", "r1", items); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, store.Record{RunRecord: fleet.RunRecord{Day: "2026-11-26", ARN: svc(0).ARN}, RunID: "r1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginNotice(ctx, "2026-11-26", "r1", "summary"); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(now.Add(30 * 24 * time.Hour).Unix())
	inv, runs := s.Tables()
	for _, schema := range store.Schemas(inv, runs) {
		if schema.TTLAttribute != store.AttrTTL {
			t.Fatalf("table %s: TTL attribute %q, want %q", schema.Name, schema.TTLAttribute, store.AttrTTL)
		}
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(schema.Name), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Items) == 0 {
			t.Fatalf("table %s is empty", schema.Name)
		}
		for _, it := range out.Items {
			v, ok := it[store.AttrTTL].(*types.AttributeValueMemberN)
			if !ok || v.Value != want {
				t.Errorf("%s item %v: TTL %v, want %s", schema.Name, it[store.AttrSK], it[store.AttrTTL], want)
			}
		}
	}
}

func TestANoticeIsSentOncePerRunUnlessItsSendFailed(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if first, err := s.BeginNotice(ctx, "d", "r1", "owner#team-a"); err != nil || !first {
		t.Fatalf("first notice: %v %v", first, err)
	}
	if first, _ := s.BeginNotice(ctx, "d", "r1", "owner#team-a"); first {
		t.Fatal("a retry would send the notice again")
	}
	if first, _ := s.BeginNotice(ctx, "d", "r2", "owner#team-a"); !first {
		t.Fatal("another run's notice was taken for sent")
	}
	if err := s.AbortNotice(ctx, "d", "r1", "owner#team-a"); err != nil {
		t.Fatal(err)
	}
	if first, _ := s.BeginNotice(ctx, "d", "r1", "owner#team-a"); !first {
		t.Fatal("a notice whose send failed is not sent again")
	}
}

// BenchmarkInventory100kHotKeys writes a 100,000-service discovery through
// the fault proxy with each partition key limited to 30 write units a
// second, below what dynalite takes, so that throttling is constant: the
// 32 shards take at most 960 writes a second (one key per day would take
// 30), and every throttled write is resent until it is in. Reports the
// throttled writes and the store's retries.
//
// It takes minutes, so `make bench` skips it; run it with
// BENCH_100K=1 go test -run '^$' -bench Inventory100k -benchtime 1x ./restart/store
func BenchmarkInventory100kHotKeys(b *testing.B) {
	if os.Getenv("BENCH_100K") == "" {
		b.Skip("set BENCH_100K=1 to write 100,000 items through the fault proxy (minutes)")
	}
	items := make([]store.Item, 100_000)
	for i := range items {
		items[i] = store.Item{Service: svc(i), RunID: "r1", Batch: store.NoBatch}
		items[i].ARN = fmt.Sprintf("arn:aws:ecs:us-east-1:111111111111:service/c%03d/s%06d", i%1000, i)
	}
	for b.Loop() {
		f := &testenv.DynamoFaults{PartitionRate: 30, PartitionBurst: 30}
		s := faultyStore(b, f, store.WithWriters(16))
		start := time.Now()
		if err := s.PutInventory(b.Context(), "2026-11-26", items); err != nil {
			b.Fatal(err)
		}
		st := f.Stats()
		b.ReportMetric(time.Since(start).Seconds(), "s/100k")
		b.ReportMetric(float64(st.ThrottledItems), "throttled-items")
		b.ReportMetric(float64(s.Retries()), "retries")
		b.Logf("100,000 items in %v: %d writes, %d throttled calls, %d throttled items, %d retries",
			time.Since(start).Round(time.Millisecond), st.Writes, st.ThrottledCalls, st.ThrottledItems, s.Retries())
	}
}
