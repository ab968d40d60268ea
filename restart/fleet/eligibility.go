package fleet

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
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
	c := Classification{
		Eligible:   make([]Service, 0, len(services)),
		Skipped:    []Skip{},
		Unenrolled: []OwnerServices{},
	}
	unenrolled := map[string][]string{}

	// Visit the services in the order of a hash of their ARN (then the
	// ARN), so that copies of an ARN are adjacent and the outputs do not
	// depend on the input order. Sorting indexes by a number is much
	// cheaper than sorting services by ARNs that share long prefixes.
	order := make([]int32, len(services))
	hashes := make([]uint64, len(services))
	for i := range services {
		order[i] = int32(i)
		hashes[i] = mix64(fnv1a(services[i].ARN))
	}
	slices.SortFunc(order, func(a, b int32) int {
		// Not cmp.Or: it would compare the ARNs of every pair.
		if c := cmp.Compare(hashes[a], hashes[b]); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(services[a].ARN, services[b].ARN), cmp.Compare(a, b))
	})

	for i := 0; i < len(order); {
		s := services[order[i]]
		j := i + 1
		// Entries without an ARN are invalid each on its own, not copies.
		for j < len(order) && s.ARN != "" && services[order[j]].ARN == s.ARN {
			j++
		}
		if copies := j - i; copies > 1 {
			extra := copies - 1
			for _, k := range order[i+1 : j] {
				if !sameService(services[k], s) {
					extra = copies
					break
				}
			}
			for range extra {
				c.Skipped = append(c.Skipped, Skip{ARN: s.ARN, Reason: ReasonDuplicate})
			}
			if extra == copies {
				i = j
				continue
			}
		}
		i = j
		reason, ok := eligibility(s, enrollment)
		if !ok {
			c.Skipped = append(c.Skipped, Skip{ARN: s.ARN, Reason: reason})
		} else {
			c.Eligible = append(c.Eligible, s)
		}
		// A service with a short ARN cannot be tagged: its owner is told
		// the real fix (report), not to add the tag.
		if (ok || reason == ReasonUnenrolled) && !enrolled(s) && !s.ShortARN {
			unenrolled[s.Owner()] = append(unenrolled[s.Owner()], s.ARN)
		}
	}
	slices.SortFunc(c.Skipped, func(a, b Skip) int {
		return cmp.Or(strings.Compare(a.ARN, b.ARN), strings.Compare(string(a.Reason), string(b.Reason)))
	})
	for _, owner := range slices.Sorted(maps.Keys(unenrolled)) {
		arns := unenrolled[owner]
		slices.Sort(arns)
		c.Unenrolled = append(c.Unenrolled, OwnerServices{Owner: owner, ARNs: arns})
	}
	return c
}

// eligibility returns why s is not restarted, or ok.
func eligibility(s Service, enrollment Enrollment) (reason Reason, ok bool) {
	switch {
	case !s.valid():
		return ReasonInvalid, false
	case optedOut(s):
		return ReasonOptedOut, false
	case s.DesiredCount == 0:
		return ReasonDesiredZero, false
	case s.DeploymentController == ControllerCode:
		return ReasonCodeDeploy, false
	case s.DeploymentController == ControllerExtern:
		return ReasonExternalController, false
	case !enrolled(s) && enrollment != EnrollAll && s.ShortARN:
		return ReasonShortARN, false
	case !enrolled(s) && enrollment != EnrollAll:
		return ReasonUnenrolled, false
	}
	return "", true
}

// enrolled reports whether s carries RestartTag. Its value is the last
// restart time, or empty for a service that was never restarted.
func enrolled(s Service) bool {
	_, ok := s.Tags[RestartTag]
	return ok
}

// optedOut accepts "disabled" in any case and with stray spaces: a
// mistyped opt-out must not restart a service whose owner asked not to.
func optedOut(s Service) bool {
	v, ok := s.Tags[RestartTag]
	return ok && strings.EqualFold(strings.TrimSpace(v), OptOutValue)
}

func sameService(a, b Service) bool {
	return a.Account == b.Account && a.Region == b.Region && a.Cluster == b.Cluster &&
		a.Service == b.Service && a.ARN == b.ARN && a.ShortARN == b.ShortARN && a.DesiredCount == b.DesiredCount &&
		a.SchedulingStrategy == b.SchedulingStrategy && a.DeploymentController == b.DeploymentController &&
		maps.Equal(a.Tags, b.Tags)
}
