package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/store"
)

// The reasons the check just before a batch's restart skips a service,
// and the reason an account's open breaker does.
const (
	// ReasonOptedOutSinceDiscovery: the service's restart tag now says
	// "disabled".
	ReasonOptedOutSinceDiscovery fleet.Reason = "opted-out-since-discovery"
	// ReasonIneligibleSinceDiscovery: another rule of fleet.Classify now
	// excludes it (desired count 0, another deployment controller, the
	// tag removed); the skip's detail names the rule.
	ReasonIneligibleSinceDiscovery fleet.Reason = "ineligible-since-discovery"
	// ReasonDeploymentInProgress: a deployment the engine did not start
	// was still in progress after DefaultMaxDeferrals later batches (or
	// at the last batch); forcing another would supersede it.
	ReasonDeploymentInProgress fleet.Reason = "deployment-in-progress"
	// ReasonNotChecked: the check itself failed as often; the service is
	// not restarted unchecked.
	ReasonNotChecked fleet.Reason = "not-checked"
	// ReasonAccountBreakerOpen: the service's account tripped its
	// circuit breaker tonight.
	ReasonAccountBreakerOpen fleet.Reason = "account-breaker-open"
)

// CarriedOver reports whether a service skipped for reason is placed
// first the next night: the reasons that pass by themselves, not an
// owner's choice or a service that no longer qualifies.
func CarriedOver(reason fleet.Reason) bool {
	switch reason {
	case ReasonDeploymentInProgress, ReasonNotChecked, ReasonAccountBreakerOpen:
		return true
	}
	return false
}

// checked is the check of a batch's services just before their restart.
type checked struct {
	// restart are the services to restart, with what they ran (the
	// PRIMARY deployment's task definition).
	restart []store.Item
	before  map[string]fleet.Revision
	// gone are the services deleted since discovery, with the detail.
	gone map[string]string
	// deferred go to the next batch; skips are left out.
	deferred []store.Item
	skips    []store.Skip
}

// preflight checks the batch's services (DescribeServices by 10, with
// tags) just before their restart: a service deleted, opted out or no
// longer eligible since discovery is not restarted; one with a deployment
// of its own in progress, or that could not be checked, is moved to the
// next batch (next, when there is one) up to Config.MaxDeferrals times.
// Services already claimed today are not checked: their claim decides.
func (e *Engine) preflight(ctx context.Context, f Fleet, items []store.Item, claimed map[string]bool, next *store.Slot) checked {
	c := checked{before: map[string]fleet.Revision{}, gone: map[string]string{}}
	var targets []awsfleet.Target
	byARN := map[string]store.Item{}
	for _, it := range items {
		if claimed[it.ARN] {
			c.restart = append(c.restart, it)
			continue
		}
		targets = append(targets, awsfleet.Target{Account: it.Account, Region: it.Region, Cluster: it.Cluster, Service: it.Service.Service, ARN: it.ARN})
		byARN[it.ARN] = it
	}
	if len(targets) == 0 {
		return c
	}
	for _, cur := range f.Preflight(ctx, targets) {
		it, ok := byARN[cur.ARN]
		if !ok {
			continue
		}
		delete(byARN, cur.ARN)
		switch {
		case cur.Err != nil:
			c.later(e, it, next, ReasonNotChecked, cur.Err.Error())
		case cur.Gone:
			c.restart = append(c.restart, it)
			c.gone[it.ARN] = cur.Detail + " (seen by the check before the restart)"
		case strings.EqualFold(strings.TrimSpace(cur.Service.Tags[fleet.RestartTag]), fleet.OptOutValue):
			c.skip(e, it, ReasonOptedOutSinceDiscovery, fmt.Sprintf("%s is %q now", fleet.RestartTag, cur.Service.Tags[fleet.RestartTag]))
		default:
			if why, ok := fleet.Eligible(cur.Service, e.cfg.Enrollment); !ok {
				c.skip(e, it, ReasonIneligibleSinceDiscovery, string(why))
				continue
			}
			if cur.Busy != "" {
				c.later(e, it, next, ReasonDeploymentInProgress, cur.Busy)
				continue
			}
			c.restart = append(c.restart, it)
			c.before[it.ARN] = fleet.Revision{TaskDefinition: cur.TaskDefinition}
		}
	}
	// Not answered at all (the context ended): not restarted unchecked.
	for _, it := range byARN {
		c.later(e, it, next, ReasonNotChecked, "no answer from the check")
	}
	return c
}

func (c *checked) skip(e *Engine, it store.Item, reason fleet.Reason, detail string) {
	c.skips = append(c.skips, store.Skip{ARN: it.ARN, Reason: reason, Detail: detail})
	e.logf("%s: not restarted, %s: %s", it.ARN, reason, detail)
}

// later defers the service to the next batch, or skips it when there is
// none or it was deferred often enough.
func (c *checked) later(e *Engine, it store.Item, next *store.Slot, reason fleet.Reason, detail string) {
	if next == nil || e.cfg.MaxDeferrals < 0 || it.Deferrals >= e.cfg.MaxDeferrals {
		c.skip(e, it, reason, detail)
		return
	}
	it.Deferrals++
	it.Batch, it.Start = next.Index, next.Start
	c.deferred = append(c.deferred, it)
	e.logf("%s: moved to batch %d (%s), %s: %s", it.ARN, next.Index, next.Start, reason, detail)
}

// nextSlot is the planned batch after batch, or nil.
func nextSlot(slots []store.Slot, batch int) *store.Slot {
	var best *store.Slot
	for i := range slots {
		if s := &slots[i]; s.Index > batch && (best == nil || s.Index < best.Index) {
			best = s
		}
	}
	return best
}
