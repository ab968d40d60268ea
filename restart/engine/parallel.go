package engine

import (
	"context"
	"sync"
)

// byPair calls fn for every item, grouping the items by key (an account and
// Region): up to pairs groups run at once, each with at most perPair calls
// in flight. The requests of one account and Region share its rate
// limiter, so a single pool of workers would fill up with the largest
// account's waiters while the others idle; per-group workers keep every
// account moving at its own pace. Items not yet started when ctx ends are
// skipped.
func byPair[T any](ctx context.Context, items []T, key func(T) string, pairs, perPair int, fn func(T)) {
	groups := map[string][]T{}
	var order []string
	for _, it := range items {
		k := key(it)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], it)
	}
	sem := make(chan struct{}, max(1, pairs))
	var wg sync.WaitGroup
	for _, k := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			inner := make(chan struct{}, max(1, perPair))
			var iwg sync.WaitGroup
			for _, it := range groups[k] {
				if ctx.Err() != nil {
					break
				}
				inner <- struct{}{}
				iwg.Add(1)
				go func() {
					defer func() { <-inner; iwg.Done() }()
					fn(it)
				}()
			}
			iwg.Wait()
		}()
	}
	wg.Wait()
}
