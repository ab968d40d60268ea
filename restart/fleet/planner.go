package fleet

import (
	"fmt"
	"slices"
	"time"
)

// PlanNight classifies the services (see Classify) and spreads the eligible
// ones over the window's batches (see Schedule). It is what `restartctl
// plan` prints. The error says why no plan exists: an enrollment or window
// that cannot be used, or services that cannot be placed.
func PlanNight(services []Service, enrollment Enrollment, w Window) (Plan, error) {
	if _, err := ParseEnrollment(string(enrollment)); err != nil {
		return Plan{}, fmt.Errorf("plan: %w", err)
	}
	if err := w.Validate(); err != nil {
		return Plan{}, fmt.Errorf("plan: %w", err)
	}
	c := classify(services, enrollment, false)
	p := newPlanner(services, c.eligible, c.prefix, w)
	if err := p.run(); err != nil {
		return Plan{}, err
	}
	return Plan{Batches: p.batches(), Skipped: c.skipped}, nil
}

// Schedule assigns each service to one slot of the window and returns the
// non-empty slots as batches in time order. A batch's Index is its slot in
// the window, so that Start = window start + Index*Interval; slots left
// empty (only when there are fewer services than slots) are omitted, as the
// night's state machine would only wait through them. Services within a
// batch are sorted by ARN. The services must have distinct ARNs.
//
// The assignment:
//
//   - is balanced: with n services and s slots, the first n mod s slots
//     hold ceil(n/s) services and the others floor(n/s);
//   - spreads clusters: no slot holds more than ceil(k/s)+1 of the k
//     services of one cluster (account, region, cluster name), so that a
//     cluster's capacity is not drained by one batch;
//   - is deterministic and does not depend on the order of the services;
//   - is stable: each service prefers slots in the order of a rendezvous
//     hash of its ARN and the slot, so adding or removing a service moves
//     few others (consistent hashing with bounded loads).
//
// Services are placed one by one in the order of the hash of their ARN,
// each in its most preferred slot that still has room under both caps.
// When every such slot is full, an augmenting path moves a chain of
// already placed services one slot each to make room; as that is the
// augmenting-path step of a max-flow over clusters and slots, it fails
// only when no assignment exists, and one always does. By max-flow min-cut
// it suffices that for every set P of clusters holding K services and every
// t of the s slots, K <= (capacity of the other s-t slots) + t*sum over P of
// (ceil(k/s)+1). The other slots hold at least n - t*ceil(n/s), the sum is
// at least t*K/s + t*|P|, and as K <= n the right side is at least
// K + t*(|P| - (ceil(n/s) - n/s)) > K - t + t*|P| >= K for P not empty.
// The error is kept as a guard.
func Schedule(services []Service, w Window) ([]Batch, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	order := hashOrder(services)
	for i := 1; i < len(order); i++ {
		if arn := services[order[i].index].ARN; arn == services[order[i-1].index].ARN {
			return nil, fmt.Errorf("plan: service %s appears twice; each service is planned once (Classify drops duplicates)", arn)
		}
	}
	prefix := 0
	if len(services) > 0 {
		prefix = len(services[0].ARN)
		for i := range services {
			prefix = commonPrefix(services[0].ARN, services[i].ARN, prefix)
		}
	}
	p := newPlanner(services, order, prefix, w)
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.batches(), nil
}

func (p *planner) run() error {
	fav := p.favourites()
	for i := range p.items {
		// The favourite is the highest weight of all slots: when it is
		// open and has room for the cluster, it is the highest of those
		// too, the slot place would find.
		if j, c := fav[i], p.items[i].cluster; p.openPos[j] >= 0 && p.counts.get(c, j) < p.clusterCap[c] {
			p.add(int32(i), j)
			continue
		}
		if !p.place(int32(i)) {
			if !p.augment(int32(i)) {
				return p.infeasible(int32(i))
			}
			p.augmented++
		}
	}
	return nil
}

// favourites returns each item's most preferred slot of all, ties to the
// earliest slot as in place. This is most of the planner's arithmetic (a
// weight per service and slot) and, unlike the placement, needs nothing
// placed before: it runs on all CPUs.
func (p *planner) favourites() []int32 {
	fav := make([]int32, len(p.items))
	if p.slots == 0 {
		return fav
	}
	parallel(len(p.items), max(64, minPerWorker*16/p.slots), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			h := p.items[i].hash
			best, bestW := int32(0), mix64(h^p.seeds[0])
			for j, seed := range p.seeds[1:] {
				if w := mix64(h ^ seed); w > bestW {
					best, bestW = int32(j+1), w
				}
			}
			fav[i] = best
		}
	})
	return fav
}

// planItem is a service as the planner sees it.
type planItem struct {
	hash    uint64
	cluster int32
	// The 16 bytes of the ARN past the prefix all planned ARNs share, to
	// sort the batches by (see sortARNs); the 32 after those are in
	// planner.moreKeys.
	keyHi, keyLo uint64
}

type clusterID struct{ account, region, cluster string }

type planner struct {
	w         Window
	slots     int
	items     []planItem // in hash order
	arns      []string   // items[i]'s ARN
	slotOf    []int32    // items[i]'s slot, -1 before it is placed
	seeds     []uint64   // per slot, mixed into the rendezvous weight
	capacity  []int32    // per slot
	members   [][]int32  // per slot, indexes into items
	open      []int32    // slots with room, any order
	openSeeds []uint64   // seeds[open[k]], so that place reads them in a row
	openPos   []int32    // position of each slot in open, -1 when full

	prefix       int        // the length of the prefix all items' ARNs share
	moreKeys     []arnWords // per item, see planItem.keyHi
	clusterNames []clusterID
	clusterSize  []int32
	clusterCap   []int32 // ceil(k/slots)+1
	counts       clusterCounts

	augmented int // services placed by an augmenting path, for tests
}

// newPlanner prepares the placement of the services that order lists (in
// hash order, see hashOrder; distinct ARNs), whose ARNs share their first
// prefix bytes.
func newPlanner(services []Service, order []hashIndex, prefix int, w Window) *planner {
	slots := w.Slots()
	n := len(order)
	p := &planner{
		w:         w,
		slots:     slots,
		items:     make([]planItem, n),
		arns:      make([]string, n),
		slotOf:    make([]int32, n),
		seeds:     make([]uint64, slots),
		capacity:  make([]int32, slots),
		members:   make([][]int32, slots),
		open:      make([]int32, 0, slots),
		openSeeds: make([]uint64, 0, slots),
		openPos:   make([]int32, slots),
	}
	// item[k] of service i is at pos[i]; -1 for services not planned.
	pos := make([]int32, len(services))
	for i := range pos {
		pos[i] = -1
	}
	for k, o := range order {
		pos[o.index] = int32(k)
		p.items[k].hash = o.hash
		p.slotOf[k] = -1
	}
	p.prefix = prefix
	p.moreKeys = make([]arnWords, n)
	// Number the clusters in input order: discovery lists a cluster's
	// services together, so most services are of the previous one's
	// cluster and need no map lookup. The numbering does not change the
	// placement. The sort keys too are read in input order, in which the
	// ARNs lie in memory, on all CPUs.
	index := make(map[clusterID]int32)
	var prev *Service
	c := int32(-1)
	for i := range services {
		k := pos[i]
		if k < 0 {
			continue
		}
		s := &services[i]
		if prev == nil || s.Cluster != prev.Cluster || s.Account != prev.Account || s.Region != prev.Region {
			id := clusterID{s.Account, s.Region, s.Cluster}
			var ok bool
			if c, ok = index[id]; !ok {
				c = int32(len(p.clusterNames))
				index[id] = c
				p.clusterNames = append(p.clusterNames, id)
				p.clusterSize = append(p.clusterSize, 0)
			}
		}
		prev = s
		p.items[k].cluster = c
		p.clusterSize[c]++
	}
	parallel(len(services), minPerWorker, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if k := pos[i]; k >= 0 {
				arn := services[i].ARN
				key := newARNKey(arn, p.prefix)
				p.arns[k], p.items[k].keyHi, p.items[k].keyLo = arn, key.hi, key.lo
				p.moreKeys[k] = newARNWords(arn, p.prefix+16)
			}
		}
	})

	// Balanced capacities that sum to n: the first n mod slots slots take
	// one more, so that earlier batches, which have longer to be verified,
	// carry the remainder.
	q, r := n/slots, n%slots
	backing := make([]int32, n)
	off := 0
	for j := range slots {
		c := q
		if j < r {
			c++
		}
		p.capacity[j] = int32(c)
		p.members[j] = backing[off : off : off+c]
		off += c
		// The seed depends on the slot's minute in the window, not on the
		// window's length, so that lengthening or shortening the window
		// keeps the preferences among the slots that remain.
		p.seeds[j] = mix64(uint64(time.Duration(j)*w.Interval/time.Minute) + 0x9e3779b97f4a7c15)
		p.openPos[j] = -1
		if c > 0 {
			p.openPos[j] = int32(len(p.open))
			p.open = append(p.open, int32(j))
			p.openSeeds = append(p.openSeeds, p.seeds[j])
		}
	}

	p.clusterCap = make([]int32, len(p.clusterSize))
	base := make([]int32, len(p.clusterSize))
	binding := 0
	for c, k := range p.clusterSize {
		p.clusterCap[c] = (k+int32(slots)-1)/int32(slots) + 1
		// A cluster no larger than its cap can never reach it: it needs no
		// counts, which keeps the memory at one counter per slot for the
		// clusters that matter only.
		base[c] = -1
		if k > p.clusterCap[c] {
			base[c] = int32(binding * slots)
			binding++
		}
	}
	p.counts = newClusterCounts(base, binding*slots)
	return p
}

// allowed reports whether item i's cluster has room in slot j.
func (p *planner) allowed(i int32, j int32) bool {
	c := p.items[i].cluster
	return p.counts.get(c, j) < p.clusterCap[c]
}

// place puts item i in its most preferred open slot where its cluster has
// room, and reports whether there was one. Taking the highest weight among
// the open slots is the same as walking i's full ranking of slots and
// stopping at the first with room, without sorting the ranking.
func (p *planner) place(i int32) bool {
	h := p.items[i].hash
	c := p.items[i].cluster
	best, bestW := int32(-1), uint64(0)
	if p.counts.base[c] < 0 {
		// The cluster's cap cannot bind: every open slot has room.
		for k, seed := range p.openSeeds {
			if w := mix64(h ^ seed); best < 0 || w > bestW || w == bestW && p.open[k] < best {
				best, bestW = p.open[k], w
			}
		}
	} else if row := p.counts.row(c, p.slots); row != nil {
		limit := p.clusterCap[c]
		for k, j := range p.open {
			if row[j] >= limit {
				continue
			}
			if w := mix64(h ^ p.openSeeds[k]); best < 0 || w > bestW || w == bestW && j < best {
				best, bestW = j, w
			}
		}
	} else {
		limit := p.clusterCap[c]
		for k, j := range p.open {
			if p.counts.get(c, j) >= limit {
				continue
			}
			if w := mix64(h ^ p.openSeeds[k]); best < 0 || w > bestW || w == bestW && j < best {
				best, bestW = j, w
			}
		}
	}
	if best < 0 {
		return false
	}
	p.add(i, best)
	return true
}

func (p *planner) add(i, j int32) {
	p.slotOf[i] = j
	p.members[j] = append(p.members[j], i)
	p.counts.add(p.items[i].cluster, j, 1)
	p.closeIfFull(j)
}

// closeIfFull takes slot j out of the open slots once it is full.
func (p *planner) closeIfFull(j int32) {
	if p.openPos[j] >= 0 && int32(len(p.members[j])) == p.capacity[j] {
		// Remove j from the open slots by swapping in the last one.
		pos := p.openPos[j]
		end := len(p.open) - 1
		last := p.open[end]
		p.open[pos], p.openSeeds[pos] = last, p.openSeeds[end]
		p.openPos[last] = pos
		p.open, p.openSeeds = p.open[:end], p.openSeeds[:end]
		p.openPos[j] = -1
	}
}

// move moves the placed item i from its slot to slot to, which has room:
// along an augmenting path, to has just lost an item or is the path's end.
// The caller closes the end if it fills up.
func (p *planner) move(i, to int32) {
	from := p.slotOf[i]
	m := p.members[from]
	k := slices.Index(m, i)
	m[k] = m[len(m)-1]
	p.members[from] = m[:len(m)-1]
	p.counts.add(p.items[i].cluster, from, -1)
	p.members[to] = append(p.members[to], i)
	p.counts.add(p.items[i].cluster, to, 1)
	p.slotOf[i] = to
}

// augment places item x when every slot where its cluster has room is full:
// a breadth-first search over slots finds the shortest chain x -> a0,
// y0: a0 -> a1, ..., yk: ak -> b where b has room and each moved item's
// cluster has room in its new slot. Clusters are explored once each, since
// a second item of the same cluster reaches the same slots.
func (p *planner) augment(x int32) bool {
	const root, unseen = -2, -1
	prevSlot := make([]int32, p.slots) // slot the item came from, root for x's entry
	prevItem := make([]int32, p.slots)
	for j := range prevSlot {
		prevSlot[j] = unseen
	}
	seenCluster := make(map[int32]bool)
	var queue []int32
	for j := range int32(p.slots) {
		if p.allowed(x, j) {
			prevSlot[j], prevItem[j] = root, x
			queue = append(queue, j)
		}
	}
	seenCluster[p.items[x].cluster] = true
	end := int32(-1)
search:
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		if p.openPos[a] >= 0 {
			end = a
			break
		}
		for _, y := range p.members[a] {
			c := p.items[y].cluster
			if seenCluster[c] {
				continue
			}
			seenCluster[c] = true
			for b := range int32(p.slots) {
				if prevSlot[b] != unseen || !p.allowed(y, b) {
					continue
				}
				prevSlot[b], prevItem[b] = a, y
				if p.openPos[b] >= 0 {
					end = b
					break search
				}
				queue = append(queue, b)
			}
		}
	}
	if end < 0 {
		return false
	}
	// Walk back from the slot with room, moving each item one step
	// forward: every slot but end loses one item before it gains one, and
	// the root slot of the path takes x.
	for j := end; ; {
		from, y := prevSlot[j], prevItem[j]
		if from == root {
			p.slotOf[x] = j
			p.members[j] = append(p.members[j], x)
			p.counts.add(p.items[x].cluster, j, 1)
			break
		}
		p.move(y, j)
		j = from
	}
	p.closeIfFull(end)
	return true
}

func (p *planner) infeasible(x int32) error {
	it := p.items[x]
	id := p.clusterNames[it.cluster]
	return fmt.Errorf("plan: cannot place service %s: every slot with room holds %d services of cluster %s/%s/%s already (its %d services, %d slots); the window needs more slots",
		p.arns[x], p.clusterCap[it.cluster], id.account, id.region, id.cluster, p.clusterSize[it.cluster], p.slots)
}

func (p *planner) batches() []Batch {
	out := make([]Batch, 0, p.slots)
	arns := make([]string, len(p.items))
	off := 0
	for j, m := range p.members {
		if len(m) == 0 {
			continue
		}
		out = append(out, Batch{
			Index:    j,
			Start:    p.w.SlotStart(j),
			Offset:   p.w.SlotOffset(j),
			Services: arns[off : off+len(m) : off+len(m)],
		})
		off += len(m)
	}
	// Sort the batches' ARNs, the batches shared out among the CPUs.
	parallel(len(out), max(1, len(out)*minPerWorker/max(1, len(p.items))), func(lo, hi int) {
		var keys []arnKey
		for _, b := range out[lo:hi] {
			keys = keys[:0]
			for _, i := range p.members[b.Index] {
				it := &p.items[i]
				keys = append(keys, arnKey{hi: it.keyHi, lo: it.keyLo, n: i})
			}
			sortARNs(keys, p.arns, p.prefix, p.moreKeys)
			for k, key := range keys {
				b.Services[k] = p.arns[key.n]
			}
		}
	})
	return out
}

// clusterCounts counts the items of each cluster in each slot, for the
// clusters whose cap can bind (base >= 0); the others always read 0. The
// counts are dense while they fit in a few megabytes, else a map: a day-long
// window of one-minute slots and many three-service clusters would
// otherwise need a counter per slot for each of them.
type clusterCounts struct {
	base   []int32
	dense  []int32
	sparse map[int64]int32
}

const maxDenseCounts = 1 << 22

func newClusterCounts(base []int32, size int) clusterCounts {
	cc := clusterCounts{base: base}
	if size <= maxDenseCounts {
		cc.dense = make([]int32, size)
	} else {
		cc.sparse = make(map[int64]int32)
	}
	return cc
}

// row returns cluster c's counts by slot when they are dense, else nil.
func (cc *clusterCounts) row(c int32, slots int) []int32 {
	b := cc.base[c]
	if b < 0 || cc.dense == nil {
		return nil
	}
	return cc.dense[b : int(b)+slots]
}

func (cc *clusterCounts) get(c, slot int32) int32 {
	b := cc.base[c]
	if b < 0 {
		return 0
	}
	if cc.dense != nil {
		return cc.dense[b+slot]
	}
	return cc.sparse[int64(b)+int64(slot)]
}

func (cc *clusterCounts) add(c, slot, d int32) {
	b := cc.base[c]
	if b < 0 {
		return
	}
	if cc.dense != nil {
		cc.dense[b+slot] += d
		return
	}
	cc.sparse[int64(b)+int64(slot)] += d
}

// arnHash is the hash that orders the services for the planner and, mixed
// with each slot's seed, ranks the slots for a service.
func arnHash(arn string) uint64 { return mix64(fnv1a(arn)) }

// fnv1a is the 64-bit FNV-1a hash of s, computed without converting s to
// bytes (which would allocate).
func fnv1a(s string) uint64 { return fnvMore(fnvOffset, s) }

// fnvOffset is FNV-1a's initial value.
const fnvOffset = 14695981039346656037

// fnvMore continues an FNV-1a hash h over the bytes of s.
func fnvMore(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix64 is the splitmix64 finalizer: it spreads every input bit over the
// output, which FNV alone does poorly in the high bits that decide the
// ranking.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
