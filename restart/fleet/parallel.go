package fleet

import (
	"runtime"
	"sync"
)

// minPerWorker is the least work, in services, worth a goroutine of its own:
// below it, starting and joining the goroutine costs more than it saves.
const minPerWorker = 8192

// parallel calls f over [0,n) cut into contiguous ranges, one per CPU
// (GOMAXPROCS) at most and at least minPer long, and returns when every
// call has. f must only write what belongs to its own range.
func parallel(n, minPer int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(minPer, 1))
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() { f(n*w/workers, n*(w+1)/workers) })
	}
	f(0, n/workers)
	wg.Wait()
}
