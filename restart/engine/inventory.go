package engine

import (
	"context"
	"sync"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// inventoryWriter writes the services of each account and Region as
// discovery hands them over, while the other pairs are still being listed:
// at 100,000 services the writes take about as long as the ECS calls, so
// doing one after the other would double the step. Discovery never waits
// for it (add only queues), and the step holds at most what is queued,
// not the whole fleet.
type inventoryWriter struct {
	ctx    context.Context
	cancel context.CancelFunc
	st     Store
	day    string

	mu      sync.Mutex
	queue   []store.Item
	more    chan struct{} // a token when queue went from empty to not
	closed  bool
	written int
	done    chan struct{}
	err     error
}

// writeChunk is the most items one PutInventory call takes from the queue:
// enough for the store's parallel BatchWriteItem calls (25 items each) to
// stay busy, few enough that the first pairs are written early.
const writeChunk = 1000

func newInventoryWriter(ctx context.Context, st Store, day string) *inventoryWriter {
	ctx, cancel := context.WithCancel(ctx)
	w := &inventoryWriter{ctx: ctx, cancel: cancel, st: st, day: day, more: make(chan struct{}, 1), done: make(chan struct{})}
	go w.run()
	return w
}

// add queues a pair's services.
func (w *inventoryWriter) add(runID string, services []fleet.Service) {
	if len(services) == 0 {
		return
	}
	w.mu.Lock()
	for _, s := range services {
		w.queue = append(w.queue, store.Item{Service: s, RunID: runID, Batch: store.NoBatch})
	}
	w.mu.Unlock()
	select {
	case w.more <- struct{}{}:
	default:
	}
}

// close writes what is still queued and returns how many services were
// written, or the first write's error (which also cancelled discovery: an
// inventory with holes must not be planned).
func (w *inventoryWriter) close() (int, error) {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.more <- struct{}{}:
	default:
	}
	<-w.done
	w.cancel()
	return w.written, w.err
}

func (w *inventoryWriter) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		n := min(len(w.queue), writeChunk)
		chunk := w.queue[:n:n]
		w.queue = w.queue[n:]
		closed := w.closed
		w.mu.Unlock()
		if n == 0 {
			if closed {
				return
			}
			select {
			case <-w.more:
			case <-w.ctx.Done():
				w.err = w.ctx.Err()
				return
			}
			continue
		}
		if err := w.st.PutInventory(w.ctx, w.day, chunk); err != nil {
			w.err = err
			w.cancel()
			return
		}
		w.written += n
	}
}
