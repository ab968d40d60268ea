package fleet

import (
	"cmp"
	"slices"
	"strings"
)

// sortHashOrder sorts order by hash, then the services' ARN, then index,
// the order hashOrder returns. The hashes are uniformly spread 64-bit
// numbers, so a least-significant-digit radix sort (eight stable passes
// over a byte each) does it in linear time, several times faster than a
// comparison sort for 100,000 services; equal hashes, which only copies
// of an ARN share in practice, are then put in ARN order. order must come
// in index order, as hashOrder builds it.
func sortHashOrder(services []Service, order []hashIndex) {
	if len(order) < 256 {
		slices.SortFunc(order, func(a, b hashIndex) int {
			return compareHashIndex(services, a, b)
		})
		return
	}
	tmp := make([]hashIndex, len(order))
	src, dst := order, tmp
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for _, o := range src {
			count[byte(o.hash>>shift)]++
		}
		// A byte that is the same in every hash sorts nothing.
		if count[byte(src[0].hash>>shift)] == len(src) {
			continue
		}
		pos := 0
		for b, c := range count {
			count[b] = pos
			pos += c
		}
		for _, o := range src {
			b := byte(o.hash >> shift)
			dst[count[b]] = o
			count[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &order[0] {
		copy(order, src)
	}
	// The passes are stable and the input was in index order, so runs of
	// an equal hash are in index order: a stable sort by ARN completes
	// the order.
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && order[j].hash == order[i].hash {
			j++
		}
		if j-i > 1 {
			slices.SortStableFunc(order[i:j], func(a, b hashIndex) int {
				return strings.Compare(services[a.index].ARN, services[b.index].ARN)
			})
		}
		i = j
	}
}

func compareHashIndex(services []Service, a, b hashIndex) int {
	// Not cmp.Or: it would compare the ARNs of every pair.
	if a.hash != b.hash {
		return cmp.Compare(a.hash, b.hash)
	}
	return cmp.Or(strings.Compare(services[a.index].ARN, services[b.index].ARN), cmp.Compare(a.index, b.index))
}

// hashARNs sets order[i] to the hash of services[i].ARN and the index
// first+i. FNV-1a is a chain of multiplications, one per byte, each
// waiting for the one before: hashing four ARNs side by side lets the CPU
// run four chains at once.
func hashARNs(services []Service, order []hashIndex, first int32) {
	const prime = 1099511628211
	i := 0
	for ; i+4 <= len(services); i += 4 {
		a, b, c, d := services[i].ARN, services[i+1].ARN, services[i+2].ARN, services[i+3].ARN
		ha, hb, hc, hd := uint64(fnvOffset), uint64(fnvOffset), uint64(fnvOffset), uint64(fnvOffset)
		n := min(len(a), len(b), len(c), len(d))
		for k := 0; k < n; k++ {
			ha = (ha ^ uint64(a[k])) * prime
			hb = (hb ^ uint64(b[k])) * prime
			hc = (hc ^ uint64(c[k])) * prime
			hd = (hd ^ uint64(d[k])) * prime
		}
		order[i] = hashIndex{hash: mix64(fnvMore(ha, a[n:])), index: first + int32(i)}
		order[i+1] = hashIndex{hash: mix64(fnvMore(hb, b[n:])), index: first + int32(i+1)}
		order[i+2] = hashIndex{hash: mix64(fnvMore(hc, c[n:])), index: first + int32(i+2)}
		order[i+3] = hashIndex{hash: mix64(fnvMore(hd, d[n:])), index: first + int32(i+3)}
	}
	for ; i < len(services); i++ {
		order[i] = hashIndex{hash: arnHash(services[i].ARN), index: first + int32(i)}
	}
}
