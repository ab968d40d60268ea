// Package report turns a run's records into its report: counts, CloudWatch
// Embedded Metric Format lines, an SNS summary and one notification per
// owner of unenrolled or failed services.
package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// Outcome is one discovered service and what the day did with it.
type Outcome struct {
	Service fleet.Service
	// Skip is why the service is not restarted; empty when it is eligible.
	Skip fleet.Reason
	// Unenrolled is set when the service lacks fleet.RestartTag (whether
	// or not the enrollment restarts it).
	Unenrolled bool
	// SkipDetail says what the check just before the restart saw (empty
	// for the plan's reasons); such a skip is told to the owner.
	SkipDetail string
	// Status is the day's run record status; empty when no restart was
	// attempted.
	Status fleet.Status
	Detail string
	// Before and After are what the service ran before the restart and
	// what the restart deployed (task definition, image digests).
	Before, After fleet.Revision
}

// AccountError is an account and Region discovery could not read.
type AccountError struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Error   string `json:"error"`
}

// Counts are the run's numbers. Every eligible service is in exactly one of
// Completed, Failed, RolledBack, Gone, InProgress, NotStarted, Claimed and
// NotAttempted (Accounted checks it).
type Counts struct {
	Discovered     int `json:"discovered"`
	Eligible       int `json:"eligible"`
	Restarted      int `json:"restarted"`
	Completed      int `json:"completed"`
	Failed         int `json:"failed"`
	RolledBack     int `json:"rolledBack"`
	Gone           int `json:"gone"`
	InProgress     int `json:"inProgress"`
	NotStarted     int `json:"notStarted"`
	Claimed        int `json:"claimed"`
	NotAttempted   int `json:"notAttempted"`
	Skipped        int `json:"skipped"`
	Unenrolled     int `json:"unenrolled"`
	AccountsFailed int `json:"accountsFailed"`
	// ClustersGone counts clusters deleted during discovery.
	ClustersGone int `json:"clustersGone"`
	// ShortARN counts services with a short ARN (never tagged).
	ShortARN int `json:"shortArn"`
	// ClustersNotFitting counts the clusters whose restarts did not fit
	// the window by the plan's estimate (Summary.Fit).
	ClustersNotFitting int `json:"clustersNotFitting"`
	// SkippedByReason splits Skipped.
	SkippedByReason map[fleet.Reason]int `json:"skippedByReason"`
	// Paused is 1 when the pause switch stopped the night, Halted when
	// the fleet's circuit breaker did; AccountsHalted counts the
	// accounts whose own breakers tripped, BatchesFailed the batches
	// whose restart or check failed after every retry.
	Paused         int `json:"paused"`
	Halted         int `json:"halted"`
	AccountsHalted int `json:"accountsHalted"`
	BatchesFailed  int `json:"batchesFailed"`
	// ImagesChanged counts the restarts that deployed another image
	// digest than the service ran (a tag pushed again since).
	ImagesChanged int `json:"imagesChanged"`
	// CarriedOver is how many eligible services the night before left
	// not attempted (placed first tonight); LeftOver how many tonight
	// leaves to the next night.
	CarriedOver int `json:"carriedOver"`
	LeftOver    int `json:"leftOver"`
}

// Accounted reports an error when an eligible service is in no outcome.
func (c Counts) Accounted() error {
	sum := c.Completed + c.Failed + c.RolledBack + c.Gone + c.InProgress + c.NotStarted + c.Claimed + c.NotAttempted
	if sum != c.Eligible {
		return fmt.Errorf("%d eligible services but %d outcomes", c.Eligible, sum)
	}
	if c.Eligible+c.Skipped != c.Discovered {
		return fmt.Errorf("%d discovered services but %d eligible and %d skipped", c.Discovered, c.Eligible, c.Skipped)
	}
	return nil
}

// ServiceIssue is a service an owner has to look at.
type ServiceIssue struct {
	ARN    string       `json:"arn"`
	Status fleet.Status `json:"status"`
	Detail string       `json:"detail,omitempty"`
	// Changed is what the restart changed (Change), when it was read.
	Changed string `json:"changed,omitempty"`
}

// OwnerReport is what one owner is told: the services they should tag and
// the restarts that did not complete.
type OwnerReport struct {
	Owner      string         `json:"owner"`
	Unenrolled []string       `json:"unenrolled,omitempty"`
	Failed     []ServiceIssue `json:"failed,omitempty"`
	// ShortARN are the owner's services with a short ARN: they cannot be
	// tagged, so they are told how to move to the long ARN format.
	ShortARN []string `json:"shortArn,omitempty"`
	// Skipped are the services the check just before their restart left
	// alone (opted out since discovery, a deployment of their own in
	// progress, their account's breaker open...), with the reason as
	// Status: they are restarted another night.
	Skipped []ServiceIssue `json:"skipped,omitempty"`
}

// Summary is a run's report.
type Summary struct {
	RunID    string         `json:"runId"`
	Day      string         `json:"day"`
	Counts   Counts         `json:"counts"`
	Accounts []AccountError `json:"accountsFailed,omitempty"`
	// ClustersGone are the clusters deleted between ListClusters and the
	// listing of their services; their accounts were otherwise discovered.
	ClustersGone []ClusterGone `json:"clustersGone,omitempty"`
	// Fit is whether the plan's clusters fit the window (nil when the
	// run was not planned).
	Fit *WindowFit `json:"fit,omitempty"`
	// Owners are the per-owner notifications, sorted by owner; the
	// services without an owner go to DefaultOwner.
	Owners []OwnerReport `json:"owners,omitempty"`
	// Halted says why the night stopped before its last batch (nil when
	// it did not); AccountsHalted are the accounts whose breakers tripped
	// and BatchesFailed the batches that failed.
	Halted         *Halt          `json:"halted,omitempty"`
	AccountsHalted []AccountHalt  `json:"accountsHalted,omitempty"`
	BatchesFailed  []BatchFailure `json:"batchesFailed,omitempty"`
}

// The claim protocol's states (store.StatusClaimed, store.StatusNotStarted),
// named here so that the report does not depend on the DynamoDB adapter.
const (
	statusClaimed    fleet.Status = "claimed"
	statusNotStarted fleet.Status = "not-started"
)

// DefaultOwner receives the services with neither an owner nor a team tag.
const DefaultOwner = "platform"

// Build computes the summary of a run.
func Build(runID, day string, outcomes []Outcome, accounts []AccountError) Summary {
	s := Summary{RunID: runID, Day: day, Accounts: accounts}
	c := &s.Counts
	c.SkippedByReason = map[fleet.Reason]int{}
	c.AccountsFailed = len(accounts)
	owners := map[string]*OwnerReport{}
	owner := func(svc fleet.Service) *OwnerReport {
		o := svc.Owner()
		if o == "" {
			o = DefaultOwner
		}
		if owners[o] == nil {
			owners[o] = &OwnerReport{Owner: o}
		}
		return owners[o]
	}
	for _, o := range outcomes {
		c.Discovered++
		if o.Service.ShortARN {
			c.ShortARN++
			r := owner(o.Service)
			r.ShortARN = append(r.ShortARN, o.Service.ARN)
		}
		if o.Unenrolled {
			c.Unenrolled++
			r := owner(o.Service)
			r.Unenrolled = append(r.Unenrolled, o.Service.ARN)
		}
		if o.Skip != "" {
			c.Skipped++
			c.SkippedByReason[o.Skip]++
			if o.SkipDetail != "" {
				r := owner(o.Service)
				r.Skipped = append(r.Skipped, ServiceIssue{ARN: o.Service.ARN, Status: fleet.Status(o.Skip), Detail: o.SkipDetail})
			}
			continue
		}
		if imageChanged(o.Before, o.After) {
			c.ImagesChanged++
		}
		c.Eligible++
		switch o.Status {
		case fleet.StatusCompleted:
			c.Completed++
		case fleet.StatusFailed:
			c.Failed++
		case fleet.StatusRolledBack:
			c.RolledBack++
		case fleet.StatusGone:
			c.Gone++
		case fleet.StatusStarted:
			c.InProgress++
		case statusNotStarted:
			c.NotStarted++
		case statusClaimed:
			c.Claimed++
		default:
			c.NotAttempted++
		}
		switch o.Status {
		case fleet.StatusCompleted, fleet.StatusFailed, fleet.StatusRolledBack, fleet.StatusStarted:
			c.Restarted++
		}
		switch o.Status {
		case fleet.StatusFailed, fleet.StatusRolledBack, fleet.StatusStarted, statusNotStarted, statusClaimed:
			r := owner(o.Service)
			r.Failed = append(r.Failed, ServiceIssue{ARN: o.Service.ARN, Status: o.Status, Detail: o.Detail, Changed: Change(o.Before, o.After)})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(owners)) {
		r := owners[k]
		slices.Sort(r.Unenrolled)
		slices.Sort(r.ShortARN)
		slices.SortFunc(r.Failed, func(a, b ServiceIssue) int { return strings.Compare(a.ARN, b.ARN) })
		slices.SortFunc(r.Skipped, func(a, b ServiceIssue) int { return strings.Compare(a.ARN, b.ARN) })
		s.Owners = append(s.Owners, *r)
	}
	slices.SortFunc(s.Accounts, func(a, b AccountError) int {
		return strings.Compare(a.Account+a.Region, b.Account+b.Region)
	})
	return s
}

func sortedReasons(m map[fleet.Reason]int) []fleet.Reason {
	return slices.Sorted(maps.Keys(m))
}
