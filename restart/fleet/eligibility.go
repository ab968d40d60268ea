package fleet

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// ParseEnrollment parses the enrollment setting, "tagged" or "all". The
// empty string is the default, tagged, which restarts only the services
// whose owners asked for it.
func ParseEnrollment(s string) (Enrollment, error) {
	switch Enrollment(s) {
	case "", EnrollTagged:
		return EnrollTagged, nil
	case EnrollAll:
		return EnrollAll, nil
	}
	return "", fmt.Errorf("enrollment %q: want %q (restart only services tagged %s) or %q (restart untagged services too)",
		s, EnrollTagged, RestartTag, EnrollAll)
}

// OwnerServices is the services of one owner, for one notification.
type OwnerServices struct {
	// Owner is Service.Owner(); empty for services with neither an owner
	// nor a team tag, which go to the platform team's default topic.
	Owner string `json:"owner"`
	// ARNs are the owner's services, sorted.
	ARNs []string `json:"arns"`
}

// Classification is the eligibility decision for every service of an
// inventory: each input service is either eligible or skipped with a
// reason, never both, never neither.
type Classification struct {
	// Eligible are the services to restart, in the order of a hash of
	// their ARN: the planner's order, which does not depend on the input's.
	Eligible []Service
	// Skipped are the services not restarted, with the reason, sorted by
	// ARN then reason.
	Skipped []Skip
	// Unenrolled are the services without RestartTag that could otherwise
	// be restarted, grouped by owner (sorted), whether or not the
	// enrollment restarts them. Services skipped for another reason
	// (desired count 0, another deployment controller) are not listed:
	// tagging them would change nothing.
	Unenrolled []OwnerServices
}

// Classify decides which services are restarted. A service is skipped,
// checking in this order, when it:
//
//   - fails Service.Validate (invalid-inventory-entry);
//   - shares its ARN with another entry (duplicate-arn): identical copies
//     are collapsed and the extras skipped; when the copies differ, all of
//     them are skipped, since which one is true cannot be told;
//   - is opted out, RestartTag = "disabled", in any case (opted-out): the
//     owner's explicit choice wins over everything else;
//   - has desired count 0 (desired-count-zero): there are no tasks;
//   - is deployed by CodeDeploy or an external controller
//     (code-deploy-controller, external-deployment-controller):
//     forceNewDeployment is not allowed for them;
//   - lacks RestartTag while enrollment is tagged: short-arn when it has a
//     short ARN and so cannot carry the tag, else unenrolled.
//
// DAEMON services are restartable: forceNewDeployment replaces their tasks
// like a replica service's. An enrollment other than "all" is taken as
// tagged, which restarts the fewest services. The result does not depend
// on the order of services.
func Classify(services []Service, enrollment Enrollment) Classification {
	k := classify(services, enrollment, true)
	c := Classification{
		Eligible:   make([]Service, len(k.eligible)),
		Skipped:    k.skipped,
		Unenrolled: []OwnerServices{},
	}
	for i, e := range k.eligible {
		c.Eligible[i] = services[e.index]
	}
	unenrolled := map[string][]string{}
	for _, i := range k.unenrolled {
		s := &services[i]
		unenrolled[s.Owner()] = append(unenrolled[s.Owner()], s.ARN)
	}
	for _, owner := range slices.Sorted(maps.Keys(unenrolled)) {
		arns := unenrolled[owner]
		slices.Sort(arns)
		c.Unenrolled = append(c.Unenrolled, OwnerServices{Owner: owner, ARNs: arns})
	}
	return c
}

// hashIndex is a service's place in the planner's order: the hash of its
// ARN (see arnHash) and its index in the input.
type hashIndex struct {
	hash  uint64
	index int32
}

// classified is Classify's decision by index into the services, which is
// all PlanNight needs: no copies of the eligible services, and the
// unenrolled owners only when asked.
type classified struct {
	eligible   []hashIndex // in hash order, see hashOrder
	prefix     int         // the length of a prefix all eligible ARNs share
	skipped    []Skip      // sorted by ARN then reason
	unenrolled []int32     // with unenrolled: the services to tell their owners about
}

// classify is Classify by index; with unenrolled it also lists the
// services Classify reports as Unenrolled.
func classify(services []Service, enrollment Enrollment, unenrolled bool) classified {
	k := classified{skipped: []Skip{}}
	// Decide every service in input order first: the services and their
	// strings lie in memory in that order, while in hash order every
	// service is a cache miss, several for its strings and tags.
	order := make([]hashIndex, len(services))
	// A byte per service, an index into reasonCodes, rather than the
	// reason itself: the hash-order pass below reads them at random.
	reasons := make([]uint8, len(services))
	var tell []bool
	if unenrolled {
		tell = make([]bool, len(services))
	}
	// The prefix the eligible ARNs share, for the planner's sort keys:
	// each range's, then the ranges' together.
	var mu sync.Mutex
	var first string
	k.prefix = -1
	parallel(len(services), minPerWorker, func(lo, hi int) {
		hashARNs(services[lo:hi], order[lo:hi], int32(lo))
		prefix, ref := -1, ""
		for i := lo; i < hi; i++ {
			s := &services[i]
			reason, ok := eligibility(s, enrollment)
			reasons[i] = reasonCode(reason)
			if ok {
				if prefix < 0 {
					prefix, ref = len(s.ARN), s.ARN
				}
				prefix = commonPrefix(ref, s.ARN, prefix)
			}
			// A service with a short ARN cannot be tagged: its owner is
			// told the real fix (report), not to add the tag.
			if unenrolled && (ok || reason == ReasonUnenrolled) && !enrolled(s) && !s.ShortARN {
				tell[i] = true
			}
		}
		if prefix >= 0 {
			mu.Lock()
			if k.prefix < 0 {
				k.prefix, first = prefix, ref
			}
			k.prefix = min(k.prefix, commonPrefix(first, ref, prefix))
			mu.Unlock()
		}
	})
	k.prefix = max(k.prefix, 0)
	sortHashOrder(services, order)
	k.eligible = order[:0] // the eligible services are a subsequence of the order
	for i := 0; i < len(order); {
		first := order[i]
		j := i + 1
		// Copies of an ARN have the same hash; entries without an ARN are
		// invalid each on its own, not copies.
		for j < len(order) && order[j].hash == first.hash && services[first.index].ARN != "" &&
			services[order[j].index].ARN == services[first.index].ARN {
			j++
		}
		s := &services[first.index]
		if copies := j - i; copies > 1 {
			extra := copies - 1
			for _, o := range order[i+1 : j] {
				if !sameService(&services[o.index], s) {
					extra = copies
					break
				}
			}
			for range extra {
				k.skipped = append(k.skipped, Skip{ARN: s.ARN, Reason: ReasonDuplicate})
			}
			if extra == copies {
				i = j
				continue
			}
		}
		i = j
		if code := reasons[first.index]; code != 0 {
			k.skipped = append(k.skipped, Skip{ARN: s.ARN, Reason: reasonCodes[code]})
		} else {
			k.eligible = append(k.eligible, first)
		}
		if unenrolled && tell[first.index] {
			k.unenrolled = append(k.unenrolled, first.index)
		}
	}
	k.skipped = sortSkips(k.skipped)
	return k
}

// sortSkips sorts skipped services by ARN then reason, the ARNs as the
// batches' are (see sortARNs).
func sortSkips(skips []Skip) []Skip {
	if len(skips) < 2 {
		return skips
	}
	prefix := len(skips[0].ARN)
	for _, s := range skips {
		prefix = commonPrefix(skips[0].ARN, s.ARN, prefix)
	}
	keys := make([]arnKey, len(skips))
	arns := make([]string, len(skips))
	for i, s := range skips {
		keys[i] = newARNKey(s.ARN, prefix)
		keys[i].n, arns[i] = int32(i), s.ARN
	}
	sortARNs(keys, arns, prefix, nil)
	sorted := make([]Skip, len(skips))
	for i, key := range keys {
		sorted[i] = skips[key.n]
	}
	// Copies of an ARN, skipped for more than one reason, by reason.
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j].ARN == sorted[i].ARN {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(sorted[i:j], func(a, b Skip) int { return strings.Compare(string(a.Reason), string(b.Reason)) })
		}
		i = j
	}
	return sorted
}

// hashOrder returns the services' indexes in the order of the hash of
// their ARN, then the ARN, then the index: copies of an ARN are adjacent,
// and the order does not depend on the input's. Sorting by a number is
// much cheaper than sorting by ARNs that share long prefixes.
func hashOrder(services []Service) []hashIndex {
	order := make([]hashIndex, len(services))
	hashARNs(services, order, 0)
	sortHashOrder(services, order)
	return order
}

// reasonCodes are the reasons eligibility returns, by code; 0 is eligible.
var reasonCodes = [...]Reason{"", ReasonInvalid, ReasonOptedOut, ReasonDesiredZero, ReasonCodeDeploy,
	ReasonExternalController, ReasonShortARN, ReasonUnenrolled}

func reasonCode(r Reason) uint8 {
	for i, c := range reasonCodes {
		if c == r {
			return uint8(i)
		}
	}
	panic("fleet: eligibility returned an unknown reason " + string(r))
}

// eligibility returns why s is not restarted, or ok.
func eligibility(s *Service, enrollment Enrollment) (reason Reason, ok bool) {
	if !s.valid() {
		return ReasonInvalid, false
	}
	v, tagged := s.Tags[RestartTag]
	switch {
	case tagged && isOptOut(v):
		return ReasonOptedOut, false
	case s.DesiredCount == 0:
		return ReasonDesiredZero, false
	case s.DeploymentController == ControllerCode:
		return ReasonCodeDeploy, false
	case s.DeploymentController == ControllerExtern:
		return ReasonExternalController, false
	case !tagged && enrollment != EnrollAll && s.ShortARN:
		return ReasonShortARN, false
	case !tagged && enrollment != EnrollAll:
		return ReasonUnenrolled, false
	}
	return "", true
}

// enrolled reports whether s carries RestartTag. Its value is the last
// restart time, or empty for a service that was never restarted.
func enrolled(s *Service) bool {
	_, ok := s.Tags[RestartTag]
	return ok
}

// isOptOut accepts "disabled" in any case and with stray spaces: a
// mistyped opt-out must not restart a service whose owner asked not to.
func isOptOut(v string) bool {
	return strings.EqualFold(strings.TrimSpace(v), OptOutValue)
}

func sameService(a, b *Service) bool {
	return a.Account == b.Account && a.Region == b.Region && a.Cluster == b.Cluster &&
		a.Service == b.Service && a.ARN == b.ARN && a.ShortARN == b.ShortARN && a.DesiredCount == b.DesiredCount &&
		a.SchedulingStrategy == b.SchedulingStrategy && a.DeploymentController == b.DeploymentController &&
		maps.Equal(a.Tags, b.Tags)
}
