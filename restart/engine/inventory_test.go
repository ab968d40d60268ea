package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// writeStore records PutInventory calls and fails from the failAt-th on.
type writeStore struct {
	Store
	mu     sync.Mutex
	calls  int
	items  []store.Item
	failAt int
}

func (s *writeStore) PutInventory(_ context.Context, _ string, items []store.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failAt > 0 && s.calls >= s.failAt {
		return errors.New("write inventory: throttled past the deadline")
	}
	s.items = append(s.items, items...)
	return nil
}

func services(pair string, n int) []fleet.Service {
	out := make([]fleet.Service, n)
	for i := range out {
		out[i] = fleet.Service{ARN: fmt.Sprintf("arn:%s:%d", pair, i)}
	}
	return out
}

func TestInventoryWriterWritesEveryPairsServicesOnce(t *testing.T) {
	st := &writeStore{}
	w := newInventoryWriter(t.Context(), st, "2026-11-27")
	want := 0
	for p := range 30 {
		n := 10 + p*97 // some pairs larger than a write chunk
		w.add("r1", services(fmt.Sprint(p), n))
		want += n
	}
	w.add("r1", nil)
	n, err := w.close()
	if err != nil || n != want {
		t.Fatalf("close = %d, %v; want %d written", n, err, want)
	}
	seen := map[string]bool{}
	for _, it := range st.items {
		if seen[it.ARN] || it.RunID != "r1" || it.Batch != store.NoBatch {
			t.Fatalf("item %+v written twice or without its run", it)
		}
		seen[it.ARN] = true
	}
	if len(seen) != want {
		t.Fatalf("%d distinct services written, want %d", len(seen), want)
	}
	if st.calls < want/writeChunk {
		t.Fatalf("%d writes for %d services: want chunks of at most %d", st.calls, want, writeChunk)
	}
}

func TestInventoryWriterFailureCancelsDiscoveryAndIsReturned(t *testing.T) {
	st := &writeStore{failAt: 1}
	w := newInventoryWriter(t.Context(), st, "2026-11-27")
	w.add("r1", services("a", 5))
	<-w.ctx.Done() // discovery's context: the pairs still listing stop
	w.add("r1", services("b", 5))
	if _, err := w.close(); err == nil || err.Error() != "write inventory: throttled past the deadline" {
		t.Fatalf("close error %v, want the write's", err)
	}
}
