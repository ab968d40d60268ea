package fleetsim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// FaultKind names a kind of injected fault.
type FaultKind string

// The faults fleetsim can inject.
const (
	// FaultAccessDenied refuses AssumeRole into Account (AccessDenied, HTTP
	// 403); with Op set to an ECS action, that action fails in Account with
	// AccessDeniedException instead.
	FaultAccessDenied FaultKind = "access-denied"
	// FaultServerError answers matching calls with HTTP 500
	// (ServerException for ECS, InternalFailure for STS).
	FaultServerError FaultKind = "server-error"
	// FaultThrottle answers matching ECS calls with ThrottlingException
	// whatever the buckets hold.
	FaultThrottle FaultKind = "throttle"
	// FaultLatency delays matching calls by Latency.
	FaultLatency FaultKind = "latency"
	// FaultRegionDisabled makes a Region of Account behave as a disabled
	// opt-in Region: every ECS call fails with UnrecognizedClientException.
	FaultRegionDisabled FaultKind = "region-disabled"
	// FaultServiceGone deletes services: Service, or the fraction Rate of
	// the services matching Account/Region. Mode "missing" (default) makes
	// them vanish (DescribeServices failure MISSING, UpdateService
	// ServiceNotFoundException); "inactive" leaves them described as
	// INACTIVE (UpdateService ServiceNotActiveException). With
	// AfterDescribe the deletion happens right after the next
	// DescribeServices that returns the service: between discovery and
	// restart.
	FaultServiceGone FaultKind = "service-gone"
	// FaultDeploymentFail makes the next forced deployments of matching
	// services fail: the circuit breaker marks them FAILED after the deploy
	// time and a rollback deployment becomes PRIMARY.
	FaultDeploymentFail FaultKind = "deployment-fail"
	// FaultDeploymentHang makes the next forced deployments of matching
	// services stay IN_PROGRESS forever.
	FaultDeploymentHang FaultKind = "deployment-hang"

	// FaultNoRolloutState makes the fraction Rate of the services behave as
	// services behind a Classic Load Balancer: DescribeServices returns
	// their deployments without rolloutState ("The rolloutState of a
	// service is only returned for services that use the rolling update
	// (ECS) deployment type that aren't behind a Classic Load Balancer",
	// ECS API Reference, Deployment). Their service deployments
	// (ListServiceDeployments) are unaffected.
	FaultNoRolloutState FaultKind = "no-rollout-state"
	// FaultEventChurn makes the events of the fraction Rate of the services
	// an unreliable record, as they are for a busy service: ECS shows only
	// the 100 latest events (Service.events: "A maximum of 100 of the
	// latest events are displayed"), so task churn pushes a deployment's
	// outcome out of the list; a message identical to one still listed is
	// not repeated; and the outcome messages carry no deployment id.
	FaultEventChurn FaultKind = "event-churn"
	// FaultShortARN turns the fraction Rate of the services, from
	// discovery after the injection on, into services created before the
	// long ARN format: ECS reports them as
	// arn:aws:ecs:<region>:<account>:service/<name> (no cluster), they
	// carry no tags, and TagResource on them fails with
	// InvalidParameterException (ECS API Reference, TagResource:
	// "If you try to tag a service with a short ARN, you receive an
	// InvalidParameterException error").
	FaultShortARN FaultKind = "short-arn"
	// FaultClusterGone deletes the fraction Rate of the clusters right
	// after the ListClusters call that returns them, with their services:
	// ListServices and DescribeServices on them then fail with
	// ClusterNotFoundException.
	FaultClusterGone FaultKind = "cluster-gone"
	// FaultAppliedServerError applies a matching UpdateService (Op
	// defaults to UpdateService) and then answers it with HTTP 500
	// ServerException, with probability Rate: the caller cannot tell
	// whether the deployment started.
	FaultAppliedServerError FaultKind = "applied-server-error"
	// FaultTokenExpiry makes the member sessions AssumeRole issues from
	// now on (for Account, or every member) last After instead of the
	// requested duration; calls made with them afterwards fail with
	// ExpiredTokenException.
	FaultTokenExpiry FaultKind = "token-expiry"
	// FaultSharedBucket is a neighbour in every matching account (Account
	// and Region filters) drawing the fraction Rate of the sustained rate
	// of the throttling bucket of Op (required, e.g. UpdateService): the
	// bucket refills at (1 - Rate) of its rate for everybody else, as when
	// Application Auto Scaling, CI or people call the same actions.
	FaultSharedBucket FaultKind = "shared-bucket"
	// FaultOptOutAfterDiscovery opts out the fraction Rate of the services
	// matching Account/Region (or Service): right after the next
	// DescribeServices that returns them (discovery reads their tags),
	// their restart tag becomes "disabled", as when an owner opts out
	// during the night.
	FaultOptOutAfterDiscovery FaultKind = "opt-out-after-discovery"
	// FaultForeignDeployment makes someone else deploy the fraction Rate
	// of the services matching Account/Region (or Service) right after the
	// next DescribeServices that returns them: a deployment of their own,
	// in progress when the restart comes (it lasts After, or never ends
	// when After is zero), with the previous one still ACTIVE.
	FaultForeignDeployment FaultKind = "foreign-deployment"
)

// Fault is one injected fault. Empty filters match everything.
//
// For call faults (access-denied, server-error, throttle, latency,
// region-disabled) Rate is the probability that a matching call is hit (0
// means every call) and Count caps how many calls are hit (0: no cap). For
// AssumeRole, Account is the account of the role being assumed.
//
// For service faults (service-gone, deployment-fail, deployment-hang) a
// service matches when it is Service (an ARN), or when Service is empty, it
// is in Account/Region and a seeded hash of its ARN falls under Rate (0
// means every service). Count caps how many deployments fail or hang.
type Fault struct {
	Kind    FaultKind     `json:"kind"`
	Account string        `json:"account,omitempty"`
	Region  string        `json:"region,omitempty"`
	Op      string        `json:"op,omitempty"`
	Service string        `json:"service,omitempty"`
	Rate    float64       `json:"rate,omitempty"`
	Count   int           `json:"count,omitempty"`
	Latency time.Duration `json:"-"`
	// Mode is "missing" or "inactive" for service-gone.
	Mode          string `json:"mode,omitempty"`
	AfterDescribe bool   `json:"afterDescribe,omitempty"`
	// After is the session lifetime of token-expiry ("20s" in JSON).
	After time.Duration `json:"-"`
}

// MarshalJSON writes Latency and After as duration strings.
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	v := struct {
		plain
		Latency string `json:"latency,omitempty"`
		After   string `json:"after,omitempty"`
	}{plain: plain(f)}
	if f.Latency > 0 {
		v.Latency = f.Latency.String()
	}
	if f.After > 0 {
		v.After = f.After.String()
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads Latency and After as duration strings ("250ms").
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var v struct {
		plain
		Latency string `json:"latency,omitempty"`
		After   string `json:"after,omitempty"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Fault(v.plain)
	for _, d := range []struct {
		name string
		in   string
		out  *time.Duration
	}{{"latency", v.Latency, &f.Latency}, {"after", v.After, &f.After}} {
		if d.in == "" {
			continue
		}
		v, err := time.ParseDuration(d.in)
		if err != nil {
			return fmt.Errorf("fault %s: %w", d.name, err)
		}
		*d.out = v
	}
	return nil
}

func (f Fault) validate() error {
	switch f.Kind {
	case FaultAccessDenied:
		if f.Account == "" {
			return fmt.Errorf("fault %s needs an account", f.Kind)
		}
	case FaultServerError, FaultThrottle:
	case FaultLatency:
		if f.Latency <= 0 {
			return fmt.Errorf("fault %s needs a positive latency", f.Kind)
		}
	case FaultRegionDisabled:
		if f.Account == "" || f.Region == "" {
			return fmt.Errorf("fault %s needs an account and a region", f.Kind)
		}
	case FaultServiceGone:
		if f.Mode != "" && f.Mode != "missing" && f.Mode != "inactive" {
			return fmt.Errorf("fault %s: mode must be missing or inactive, got %q", f.Kind, f.Mode)
		}
	case FaultDeploymentFail, FaultDeploymentHang, FaultNoRolloutState, FaultEventChurn, FaultShortARN,
		FaultClusterGone, FaultAppliedServerError, FaultOptOutAfterDiscovery, FaultForeignDeployment:
	case FaultTokenExpiry:
		if f.After <= 0 {
			return fmt.Errorf("fault %s needs a positive after (a duration, e.g. \"20s\")", f.Kind)
		}
	case FaultSharedBucket:
		if ecsOpCategory[f.Op] == "" {
			return fmt.Errorf("fault %s needs op, an ECS action fleetsim throttles (e.g. UpdateService), got %q", f.Kind, f.Op)
		}
		if f.Rate <= 0 || f.Rate >= 1 {
			return fmt.Errorf("fault %s: rate is the neighbour's share of the bucket, in (0, 1), got %v", f.Kind, f.Rate)
		}
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Rate < 0 || f.Rate > 1 {
		return fmt.Errorf("fault %s: rate must be in [0, 1], got %v", f.Kind, f.Rate)
	}
	if f.Count < 0 {
		return fmt.Errorf("fault %s: count must not be negative", f.Kind)
	}
	return nil
}

// activeFault is an injected fault with its counters.
type activeFault struct {
	Fault
	index int
	seen  atomic.Uint64 // matching calls, for the per-call draw
	fired atomic.Int64
}

// faultSet is copy-on-write: requests read the current list without a lock,
// so faults never serialize calls of different accounts.
type faultSet struct {
	mu   sync.Mutex // serializes writers
	list atomic.Pointer[[]*activeFault]
	n    int
}

func (fs *faultSet) load() []*activeFault {
	if p := fs.list.Load(); p != nil {
		return *p
	}
	return nil
}

func (fs *faultSet) add(f Fault) *activeFault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	old := fs.load()
	af := &activeFault{Fault: f, index: fs.n}
	fs.n++
	next := append(append(make([]*activeFault, 0, len(old)+1), old...), af)
	fs.list.Store(&next)
	return af
}

func (fs *faultSet) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list.Store(nil)
}

// Inject adds a fault. Service-gone faults without AfterDescribe take effect
// immediately.
func (s *Sim) Inject(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	af := s.faults.add(f)
	switch f.Kind {
	case FaultServiceGone:
		s.applyGone(af)
	case FaultShortARN:
		s.applyShortARN(af)
	case FaultOptOutAfterDiscovery, FaultForeignDeployment:
		s.applyOnRead(af)
	}
	return nil
}

// ClearFaults removes every injected fault. Deleted services stay deleted
// and deployments already started keep the outcome they were given.
func (s *Sim) ClearFaults() { s.faults.clear() }

// Faults returns the injected faults and how often each fired.
func (s *Sim) Faults() []FaultStatus {
	var out []FaultStatus
	for _, af := range s.faults.load() {
		out = append(out, FaultStatus{Fault: af.Fault, Fired: af.fired.Load()})
	}
	return out
}

// FaultStatus is an injected fault and how many times it fired: calls hit
// for call faults, services or clusters hit for service-gone, short-arn
// and cluster-gone, deployments for deployment-fail and deployment-hang,
// outcomes buried for event-churn, DescribeServices answers without
// rolloutState for no-rollout-state, sessions shortened for token-expiry,
// UpdateService answers lost for applied-server-error, and calls
// throttled while the neighbour shares the bucket for shared-bucket.
type FaultStatus struct {
	Fault
	Fired int64 `json:"fired"`
}

// MarshalJSON flattens the fault and its counter into one object.
func (fs FaultStatus) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(fs.Fault)
	if err != nil {
		return nil, err
	}
	return append(b[:len(b)-1], []byte(fmt.Sprintf(`,"fired":%d}`, fs.Fired))...), nil
}

// callFault returns the first fault of kind that hits this call, counting
// it as fired.
func (s *Sim) callFault(kind FaultKind, acct, region, op string) *activeFault {
	for _, af := range s.faults.load() {
		if af.Kind != kind || !matches(af.Account, acct) || !matches(af.Region, region) {
			continue
		}
		if kind == FaultAccessDenied {
			// Without an op, access-denied is about assuming the role.
			want := af.Op
			if want == "" {
				want = "AssumeRole"
			}
			if want != op {
				continue
			}
		} else if !matches(af.Op, op) {
			continue
		}
		if af.Rate > 0 {
			n := af.seen.Add(1)
			if s.fraction("call", fmt.Sprint(af.index), fmt.Sprint(n)) >= af.Rate {
				continue
			}
		}
		if !af.fire() {
			continue
		}
		return af
	}
	return nil
}

// fire counts one firing of the fault and reports whether it may fire: a
// fault with a Count stops once it has fired Count times.
func (af *activeFault) fire() bool {
	if af.Count > 0 && af.fired.Add(1) > int64(af.Count) {
		af.fired.Add(-1)
		return false
	}
	if af.Count == 0 {
		af.fired.Add(1)
	}
	return true
}

func matches(filter, v string) bool { return filter == "" || strings.EqualFold(filter, v) }

// serviceMatches reports whether a service fault selects sv.
func (s *Sim) serviceMatches(af *activeFault, sv *service) bool {
	if af.Service != "" {
		return af.Service == sv.arn || af.Service == sv.name
	}
	if !matches(af.Account, sv.account) || !matches(af.Region, sv.region) {
		return false
	}
	return af.Rate == 0 || s.fraction("pick", fmt.Sprint(af.index), sv.arn) < af.Rate
}

// deploymentOutcome decides how a deployment of sv that starts now ends.
// The caller holds the account lock.
func (s *Sim) deploymentOutcome(sv *service) outcome {
	for _, af := range s.faults.load() {
		var o outcome
		switch af.Kind {
		case FaultDeploymentFail:
			o = outcomeFail
		case FaultDeploymentHang:
			o = outcomeHang
		default:
			continue
		}
		if !s.serviceMatches(af, sv) {
			continue
		}
		if !af.fire() {
			continue
		}
		s.markFaulted(af.Kind, sv.arn)
		return o
	}
	return outcomeComplete
}

// applyGone deletes the services a service-gone fault selects now, or marks
// them to vanish after their next DescribeServices.
func (s *Sim) applyGone(af *activeFault) {
	for _, id := range s.members {
		a := s.accounts[id]
		if !matches(af.Account, id) && af.Service == "" {
			continue
		}
		a.mu.Lock()
		for _, r := range a.regions {
			for _, c := range r.order {
				for _, sv := range append([]*service(nil), c.order...) {
					if sv.status != statusActive || !s.serviceMatches(af, sv) {
						continue
					}
					if af.Count > 0 && af.fired.Load() >= int64(af.Count) {
						continue
					}
					af.fired.Add(1)
					s.markFaulted(af.Kind, sv.arn)
					inactive := af.Mode == "inactive"
					if af.AfterDescribe {
						sv.goneOnRead, sv.goneInactive = true, inactive
						continue
					}
					s.deleteService(c, sv, inactive)
				}
			}
		}
		a.mu.Unlock()
	}
}

// deleteService deletes sv as DeleteService --force would: it stays
// describable as INACTIVE, or (as ECS does after a while) disappears.
func (s *Sim) deleteService(c *cluster, sv *service, inactive bool) {
	sv.goneOnRead = false
	if inactive {
		sv.status = statusInactive
		sv.desired = 0
		return
	}
	c.remove(sv)
}

// hasServiceFault reports whether a fault of kind selects sv. The caller
// holds the account lock.
func (s *Sim) hasServiceFault(kind FaultKind, sv *service) bool {
	return s.serviceFault(kind, sv) != nil
}

// serviceFault returns the first fault of kind that selects sv. The caller
// holds the account lock.
func (s *Sim) serviceFault(kind FaultKind, sv *service) *activeFault {
	for _, af := range s.faults.load() {
		if af.Kind == kind && s.serviceMatches(af, sv) {
			return af
		}
	}
	return nil
}

// applyShortARN marks the services a short-arn fault selects as created
// before the long ARN format.
func (s *Sim) applyShortARN(af *activeFault) {
	for _, id := range s.members {
		a := s.accounts[id]
		a.mu.Lock()
		for _, r := range a.regions {
			for _, c := range r.order {
				for _, sv := range c.order {
					if !sv.shortARN && s.serviceMatches(af, sv) && af.fire() {
						sv.shortARN = true
						s.markFaulted(af.Kind, sv.arn)
					}
				}
			}
		}
		a.mu.Unlock()
	}
}

// clusterGone reports whether a cluster-gone fault deletes c now: a seeded
// draw over the cluster's ARN against Rate. The caller holds the account
// lock.
func (s *Sim) clusterGone(acct, region string, c *cluster) bool {
	for _, af := range s.faults.load() {
		if af.Kind != FaultClusterGone || !matches(af.Account, acct) || !matches(af.Region, region) {
			continue
		}
		if af.Rate > 0 && s.fraction("cluster", fmt.Sprint(af.index), c.arn) >= af.Rate {
			continue
		}
		if af.fire() {
			return true
		}
	}
	return false
}

// sessionLifetime returns the lifetime a token-expiry fault imposes on a
// session of acct issued now, or 0.
func (s *Sim) sessionLifetime(acct string) time.Duration {
	for _, af := range s.faults.load() {
		if af.Kind == FaultTokenExpiry && matches(af.Account, acct) && af.fire() {
			return af.After
		}
	}
	return 0
}

// neighbours returns the shared-bucket faults drawing from bucket category
// cat in acct and region, and the fraction of its sustained rate they take.
func (s *Sim) neighbours(acct, region, cat string) ([]*activeFault, float64) {
	var list []*activeFault
	share := 0.0
	for _, af := range s.faults.load() {
		if af.Kind == FaultSharedBucket && ecsOpCategory[af.Op] == cat && matches(af.Account, acct) && matches(af.Region, region) {
			list = append(list, af)
			share += af.Rate
		}
	}
	return list, min(share, 1)
}

// deleteCluster deletes c and its services, as DeleteCluster after
// DeleteService --force on each would. The caller holds the account lock.
func (s *Sim) deleteCluster(r *regionState, c *cluster) {
	delete(r.clusters, c.name)
	for i, o := range r.order {
		if o == c {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	s.deletedMu.Lock()
	s.deletedClusters = append(s.deletedClusters, c.arn)
	s.deletedMu.Unlock()
}

// ClustersDeleted returns the ARNs of the clusters cluster-gone deleted, in
// the order they went.
func (s *Sim) ClustersDeleted() []string {
	s.deletedMu.Lock()
	defer s.deletedMu.Unlock()
	return append([]string{}, s.deletedClusters...)
}

// applyOnRead marks the services an opt-out-after-discovery or
// foreign-deployment fault selects: the change happens right after their
// next DescribeServices (see onRead).
func (s *Sim) applyOnRead(af *activeFault) {
	for _, id := range s.members {
		a := s.accounts[id]
		a.mu.Lock()
		for _, r := range a.regions {
			for _, c := range r.order {
				for _, sv := range c.order {
					if sv.status != statusActive || !s.serviceMatches(af, sv) {
						continue
					}
					if af.Count > 0 && af.fired.Load() >= int64(af.Count) {
						continue
					}
					af.fired.Add(1)
					switch af.Kind {
					case FaultOptOutAfterDiscovery:
						sv.optOutOnRead = af
					case FaultForeignDeployment:
						sv.foreignOnRead = af
					}
				}
			}
		}
		a.mu.Unlock()
	}
}

// onRead applies what happens to sv right after a DescribeServices
// returned it: a deletion, an owner opting out, someone else's
// deployment. The caller holds the account lock.
func (s *Sim) onRead(c *cluster, sv *service, now time.Time) {
	if af := sv.optOutOnRead; af != nil {
		sv.optOutOnRead = nil
		sv.tags = setTag(sv.tags, fleet.RestartTag, fleet.OptOutValue)
		s.markFaulted(af.Kind, sv.arn)
	}
	if af := sv.foreignOnRead; af != nil {
		sv.foreignOnRead = nil
		o := outcomeHang
		if af.After > 0 {
			o = outcomeComplete
		}
		d := s.newDeployment(sv, sv.taskDef, now, o)
		d.foreign = true
		if af.After > 0 {
			d.duration = af.After
		}
		sv.deployments = append([]*deployment{d}, sv.deployments...)
		sv.addEvent(s, now, fmt.Sprintf("(service %s) has started 1 tasks: (deployment %s).", sv.name, d.id))
		s.markFaulted(af.Kind, sv.arn)
	}
	if sv.goneOnRead {
		s.deleteService(c, sv, sv.goneInactive)
	}
}

// markFaulted records that a fault of kind affected the service arn
// (Stats.Faulted).
func (s *Sim) markFaulted(kind FaultKind, arn string) {
	s.faultedMu.Lock()
	defer s.faultedMu.Unlock()
	if s.faulted == nil {
		s.faulted = map[FaultKind]map[string]bool{}
	}
	if s.faulted[kind] == nil {
		s.faulted[kind] = map[string]bool{}
	}
	s.faulted[kind][arn] = true
}

// Faulted returns, per fault kind, the services it affected, sorted: the
// deployments a deployment-fail or deployment-hang fault decided, the
// services service-gone deleted or short-arn aged, and those that
// opt-out-after-discovery opted out or foreign-deployment deployed.
func (s *Sim) Faulted() map[FaultKind][]string {
	s.faultedMu.Lock()
	defer s.faultedMu.Unlock()
	out := make(map[FaultKind][]string, len(s.faulted))
	for k, set := range s.faulted {
		arns := make([]string, 0, len(set))
		for arn := range set {
			arns = append(arns, arn)
		}
		sort.Strings(arns)
		out[k] = arns
	}
	return out
}
