package fleet

import "slices"

// Eligible reports why s would not be restarted, or ok, by the rules of
// Classify for one service (duplicates aside): the check just before a
// restart judges the service as it is then.
func Eligible(s Service, enrollment Enrollment) (Reason, bool) {
	return eligibility(&s, enrollment)
}

// PlaceFirst moves the planned services that first names (those the
// night before left not attempted) into the plan's earliest batches: each
// takes the place of a service not in first from an earlier batch, which
// takes its place in turn, so the batches keep their sizes. A swap is made
// only when both clusters stay within the planner's spread cap (no batch
// holds more than ceil(k/slots)+1 of a cluster's k services, see
// Schedule), so a cluster crowded by carried-over services keeps some of
// them later. Each batch stays sorted by ARN. It returns how many of the
// planned services are in first and how many of them moved.
func PlaceFirst(batches []Batch, services []Service, first map[string]bool, w Window) (carried, moved int) {
	if len(first) == 0 || len(batches) < 2 {
		for _, b := range batches {
			for _, arn := range b.Services {
				if first[arn] {
					carried++
				}
			}
		}
		return carried, 0
	}
	cluster := make(map[string]string, len(services))
	for _, s := range services {
		cluster[s.ARN] = s.ClusterKey()
	}
	size := map[string]int{}
	counts := make([]map[string]int, len(batches))
	later := make([]int, len(batches)) // carried services in each batch
	for i, b := range batches {
		counts[i] = map[string]int{}
		for _, arn := range b.Services {
			c := cluster[arn]
			size[c]++
			counts[i][c]++
			if first[arn] {
				later[i]++
				carried++
			}
		}
	}
	slots := max(w.Slots(), 1)
	capOf := func(c string) int { return (size[c]+slots-1)/slots + 1 }
	fits := func(c string, batch int) bool { return counts[batch][c] < capOf(c) }
	changed := make([]bool, len(batches))
	remaining := carried
	for i := 0; i < len(batches) && remaining > 0; i++ {
		remaining -= later[i]
		for qi, q := range batches[i].Services {
			if remaining == 0 {
				break
			}
			if first[q] {
				continue
			}
			cq := cluster[q]
		search:
			for j := len(batches) - 1; j > i; j-- {
				if later[j] == 0 {
					continue
				}
				for pi, p := range batches[j].Services {
					if !first[p] {
						continue
					}
					cp := cluster[p]
					if cp != cq && (!fits(cp, i) || !fits(cq, j)) {
						continue
					}
					batches[i].Services[qi], batches[j].Services[pi] = p, q
					counts[i][cp]++
					counts[i][cq]--
					counts[j][cq]++
					counts[j][cp]--
					later[j]--
					remaining--
					moved++
					changed[i], changed[j] = true, true
					break search
				}
			}
		}
	}
	for i, b := range batches {
		if changed[i] {
			slices.Sort(b.Services)
		}
	}
	return carried, moved
}
