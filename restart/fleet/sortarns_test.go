package fleet

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestSortARNsSortsAsSlicesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"", "\x00", "\x01", "a", "b", "/", ":", "arn:aws:ecs:", "us-east-1:", "123456789012:", "service/"}
	for round := range 2000 {
		seen := map[string]bool{}
		var arns []string
		for range rng.IntN(40) {
			var b strings.Builder
			for range rng.IntN(12) {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			if s := b.String(); !seen[s] {
				seen[s] = true
				arns = append(arns, s)
			}
		}
		keys := make([]arnKey, len(arns))
		for i, a := range arns {
			keys[i].arn = a
		}
		sortARNs(keys)
		slices.Sort(arns)
		for i := range arns {
			if keys[i].arn != arns[i] {
				t.Fatalf("round %d: position %d is %q, want %q", round, i, keys[i].arn, arns[i])
			}
		}
	}
}
