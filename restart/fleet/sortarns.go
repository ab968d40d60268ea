package fleet

import (
	"cmp"
	"slices"
	"strings"
)

// arnKey is the 16 bytes of an ARN that follow a prefix all the ARNs being
// sorted share, as two numbers, and the ARN's index n. It holds no
// pointer, so that the sort moves it without write barriers.
type arnKey struct {
	hi, lo uint64
	n      int32
}

// commonPrefix returns the length of the prefix a and b share, at most
// limit.
func commonPrefix(a, b string, limit int) int {
	n := 0
	for n < limit && n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// newARNKey returns the key of an ARN whose first prefix bytes are those of
// every ARN it is sorted with.
func newARNKey(arn string, prefix int) arnKey {
	rest := arn[min(prefix, len(arn)):]
	return arnKey{hi: bigEndianWord(rest, 0), lo: bigEndianWord(rest, 8)}
}

// arnWords are the 32 bytes of an ARN past the 16 of its arnKey, as four
// numbers.
type arnWords [4]uint64

func newARNWords(arn string, from int) arnWords {
	rest := arn[min(from, len(arn)):]
	return arnWords{bigEndianWord(rest, 0), bigEndianWord(rest, 8), bigEndianWord(rest, 16), bigEndianWord(rest, 24)}
}

// sortARNs sorts the keys of arns[key.n] as slices.Sort would sort the ARNs
// (copies of an ARN end next to each other, in no particular order).
// ARNs share long prefixes (arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/)
// and lie all over the heap: comparing them byte by byte was most of the
// cost of a plan. Instead, past the prefix they all share, the next 16
// bytes are compared as two numbers, and ARNs equal there by the next 16,
// and so on. The planner reads the first 48 bytes of every ARN in input
// order, where the ARNs lie in a row (more, indexed by arnKey.n; nil if
// not read); past those, ARNs still equal are read where they lie.
func sortARNs(keys []arnKey, arns []string, prefix int, more []arnWords) {
	sortARNsFrom(keys, arns, prefix, more, 0)
}

// sortARNsFrom sorts keys whose ARNs share their first prefix bytes by the
// 16 bytes after those; more[n][used:] are the words past the key.
func sortARNsFrom(keys []arnKey, arns []string, prefix int, more []arnWords, used int) {
	// Keys padded with zeros order as the strings do: where two differ,
	// the strings differ at that byte, or the shorter one has ended and
	// is a prefix of the other. Equal keys leave the order to the rest.
	slices.SortFunc(keys, func(a, b arnKey) int {
		if a.hi != b.hi {
			return cmp.Compare(a.hi, b.hi)
		}
		return cmp.Compare(a.lo, b.lo)
	})
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j].hi == keys[i].hi && keys[j].lo == keys[i].lo {
			j++
		}
		if j-i > 1 {
			sortTies(keys[i:j], arns, prefix+16, more, used)
		}
		i = j
	}
}

// sortTies sorts ARNs that agree on their first from bytes, or end before
// and agree on all they have: by the next 16 bytes read already, else by
// the 16 bytes past all they share.
func sortTies(run []arnKey, arns []string, from int, more []arnWords, used int) {
	if more != nil && used < len(arnWords{}) {
		for i := range run {
			w := &more[run[i].n]
			run[i].hi, run[i].lo = w[used], w[used+1]
		}
		sortARNsFrom(run, arns, from, more, used+2)
		return
	}
	first := arns[run[0].n]
	shared := len(first)
	for _, k := range run[1:] {
		// The first from bytes are shared or the ARN is short, which the
		// check below finds.
		a := arns[k.n]
		n := from
		for n < shared && n < len(a) && a[n] == first[n] {
			n++
		}
		shared = n
	}
	for _, k := range run {
		if len(arns[k.n]) <= shared {
			// The ARNs that end here are prefixes of others: compare
			// them whole, which is rare enough.
			slices.SortFunc(run, func(a, b arnKey) int { return strings.Compare(arns[a.n], arns[b.n]) })
			return
		}
	}
	for i := range run {
		key := newARNKey(arns[run[i].n], shared)
		run[i].hi, run[i].lo = key.hi, key.lo
	}
	sortARNsFrom(run, arns, shared, nil, 0)
}

// bigEndianWord returns bytes i to i+7 of s as a big-endian number, zeros
// past the end of s.
func bigEndianWord(s string, i int) uint64 {
	if i+8 <= len(s) {
		return uint64(s[i])<<56 | uint64(s[i+1])<<48 | uint64(s[i+2])<<40 | uint64(s[i+3])<<32 |
			uint64(s[i+4])<<24 | uint64(s[i+5])<<16 | uint64(s[i+6])<<8 | uint64(s[i+7])
	}
	var w uint64
	for k := i; k < i+8; k++ {
		w <<= 8
		if k < len(s) {
			w |= uint64(s[k])
		}
	}
	return w
}
