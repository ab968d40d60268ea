package fleet

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHashARNsHashesAsArnHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 12 {
		services := make([]Service, n)
		for i := range services {
			b := make([]byte, rng.IntN(90))
			for k := range b {
				b[k] = byte(rng.Uint32())
			}
			services[i].ARN = string(b)
		}
		order := make([]hashIndex, n)
		hashARNs(services, order, 7)
		for i, o := range order {
			if want := arnHash(services[i].ARN); o.hash != want || o.index != int32(7+i) {
				t.Fatalf("n=%d: order[%d] = %+v, want hash %x index %d", n, i, o, want, 7+i)
			}
		}
	}
}

// The radix sort orders as the comparison it replaces, copies of an ARN
// (equal hashes) and empty ARNs included.
func TestHashOrderSortsByHashThenARNThenIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 5, 255, 256, 3000} {
		services := make([]Service, n)
		for i := range services {
			switch r := rng.IntN(10); {
			case r == 0:
				services[i].ARN = ""
			case r < 3 && i > 0:
				services[i].ARN = services[rng.IntN(i)].ARN
			default:
				services[i].ARN = fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:service/c/s%d", rng.IntN(1<<20))
			}
		}
		got := hashOrder(services)
		want := make([]hashIndex, n)
		for i := range want {
			want[i] = hashIndex{hash: arnHash(services[i].ARN), index: int32(i)}
		}
		slices.SortFunc(want, func(a, b hashIndex) int { return compareHashIndex(services, a, b) })
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: hashOrder differs from the comparison sort", n)
		}
	}
}
