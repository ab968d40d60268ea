package fleet

import (
	"cmp"
	"fmt"
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
		// The longest prefix all share, or a shorter one.
		prefix := 0
		if len(arns) > 0 {
			prefix = len(arns[0])
			for _, a := range arns {
				n := 0
				for n < prefix && n < len(a) && a[n] == arns[0][n] {
					n++
				}
				prefix = n
			}
			prefix = rng.IntN(prefix + 1)
		}
		keys := make([]arnKey, len(arns))
		var more []arnWords // as the planner reads them, or not at all
		if round%2 == 0 {
			more = make([]arnWords, len(arns))
		}
		for i, a := range arns {
			keys[i] = newARNKey(a, prefix)
			keys[i].n = int32(i)
			if more != nil {
				more[i] = newARNWords(a, prefix+16)
			}
		}
		sortARNs(keys, arns, prefix, more)
		want := slices.Sorted(slices.Values(arns))
		for i := range want {
			if got := arns[keys[i].n]; got != want[i] {
				t.Fatalf("round %d: position %d is %q, want %q", round, i, got, want[i])
			}
		}
	}
}

func TestSortSkipsSortsByARNThenReason(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	reasons := []Reason{ReasonDuplicate, ReasonInvalid, ReasonOptedOut, ReasonUnenrolled}
	for round := range 300 {
		var skips []Skip
		for range rng.IntN(60) {
			arn := fmt.Sprintf("arn:aws:ecs:us-east-1:%012d:service/c%d/s%d", rng.IntN(3), rng.IntN(3), rng.IntN(40))
			if rng.IntN(10) == 0 {
				arn = arn[:rng.IntN(len(arn))]
			}
			skips = append(skips, Skip{ARN: arn, Reason: reasons[rng.IntN(len(reasons))]})
		}
		want := slices.Clone(skips)
		slices.SortFunc(want, func(a, b Skip) int {
			return cmp.Or(strings.Compare(a.ARN, b.ARN), strings.Compare(string(a.Reason), string(b.Reason)))
		})
		if got := sortSkips(skips); !slices.Equal(got, want) {
			t.Fatalf("round %d: got %v\nwant %v", round, got, want)
		}
	}
}
