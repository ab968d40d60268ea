package fleetsim

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// account is one AWS account of the fleet. Everything in it, its Regions,
// buckets and counters, is guarded by mu so that calls for different
// accounts never wait for each other.
type account struct {
	id string

	mu        sync.Mutex
	regions   map[string]*regionState
	buckets   map[string]*bucket        // region + "/" + throttling category
	calls     map[string]int64          // op -> calls
	throttled map[string]int64          // op -> ThrottlingException returned
	updates   map[string]map[string]int // day -> service ARN -> accepted UpdateService calls
	started   map[string]map[string]int // day -> service ARN -> deployments started by UpdateService
	rates     map[string]*rateWindow    // region + "/" + throttling category -> calls over the last 10 s
}

func newAccount(id string) *account {
	return &account{
		id:        id,
		regions:   map[string]*regionState{},
		buckets:   map[string]*bucket{},
		calls:     map[string]int64{},
		throttled: map[string]int64{},
		updates:   map[string]map[string]int{},
		started:   map[string]map[string]int{},
		rates:     map[string]*rateWindow{},
	}
}

// rate returns the account's window of calls to a bucket of a Region.
// The caller holds the account lock.
func (a *account) rate(region, cat string) *rateWindow {
	k := region + "/" + cat
	w := a.rates[k]
	if w == nil {
		w = &rateWindow{}
		a.rates[k] = w
	}
	return w
}

// region returns the account's state in a Region, creating an empty one: an
// account has no clusters in a Region it never used, but the calls succeed.
func (a *account) region(name string) *regionState {
	r := a.regions[name]
	if r == nil {
		r = &regionState{name: name, clusters: map[string]*cluster{}}
		a.regions[name] = r
	}
	return r
}

type regionState struct {
	name     string
	order    []*cluster // sorted by name: ListClusters pages over it
	clusters map[string]*cluster
}

func (r *regionState) addCluster(c *cluster) {
	r.clusters[c.name] = c
	i := sort.Search(len(r.order), func(i int) bool { return r.order[i].name >= c.name })
	r.order = append(r.order, nil)
	copy(r.order[i+1:], r.order[i:])
	r.order[i] = c
}

type cluster struct {
	name, arn string
	tags      []tag
	order     []*service // sorted by name, ACTIVE and INACTIVE
	services  map[string]*service
}

func (c *cluster) addService(s *service) {
	c.services[s.name] = s
	i := sort.Search(len(c.order), func(i int) bool { return c.order[i].name >= s.name })
	c.order = append(c.order, nil)
	copy(c.order[i+1:], c.order[i:])
	c.order[i] = s
}

// remove forgets a service entirely, as ECS does some time after deletion.
func (c *cluster) remove(s *service) {
	delete(c.services, s.name)
	for i, o := range c.order {
		if o == s {
			c.order = append(c.order[:i], c.order[i+1:]...)
			return
		}
	}
}

type tag struct{ Key, Value string }

func setTag(tags []tag, k, v string) []tag {
	for i := range tags {
		if tags[i].Key == k {
			tags[i].Value = v
			return tags
		}
	}
	tags = append(tags, tag{k, v})
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return tags
}

func removeTag(tags []tag, k string) []tag {
	for i := range tags {
		if tags[i].Key == k {
			return append(tags[:i], tags[i+1:]...)
		}
	}
	return tags
}

// Service statuses as ECS reports them.
const (
	statusActive   = "ACTIVE"
	statusInactive = "INACTIVE"
)

type service struct {
	name, arn    string
	account      string
	region       string
	clusterName  string
	clusterArn   string
	status       string
	desired      int32
	scheduling   string
	controller   string
	launchType   string
	taskDef      string
	createdAt    time.Time
	tags         []tag
	deployments  []*deployment // PRIMARY first, then ACTIVE ones, newest first
	history      []*deployment // every deployment ever started, oldest first
	events       []event       // newest first, at most maxEvents
	goneOnRead   bool          // vanish after the next DescribeServices that returns it
	goneInactive bool          // when vanishing, stay visible as INACTIVE
	shortARN     bool          // created before the long ARN format (short-arn fault)
	// optOutOnRead: the owner opts the service out right after the next
	// DescribeServices that returns it (opt-out-after-discovery).
	optOutOnRead *activeFault
	// foreignOnRead: someone else deploys the service right after the
	// next DescribeServices that returns it (foreign-deployment).
	foreignOnRead *activeFault
	// image is the container image the task definition names; with a
	// mutable tag (latest-style, pushed again every day) each new
	// deployment resolves it to that day's digest.
	image      string
	mutableTag bool
}

// shownARN is the service's ARN as ECS reports it: the old format,
// arn:aws:ecs:<region>:<account>:service/<name>, for a service created
// before the long ARN format. fleetsim keys its state and stats by the
// long form, which stays unique across clusters.
func (s *service) shownARN() string {
	if s.shortARN {
		return "arn:aws:ecs:" + s.region + ":" + s.account + ":service/" + s.name
	}
	return s.arn
}

// shownTags are the service's tags as ECS reports them: none for a service
// with a short ARN, which cannot be tagged.
func (s *service) shownTags() []tag {
	if s.shortARN {
		return nil
	}
	return s.tags
}

const maxEvents = 100

type event struct {
	id      string
	at      time.Time
	message string
}

// outcome is how a deployment will end; it is decided when it starts.
type outcome int

const (
	outcomeComplete outcome = iota
	outcomeFail             // the circuit breaker trips and rolls back
	outcomeHang             // never reaches a steady state
)

// Rollout states and deployment statuses as ECS reports them.
const (
	rolloutInProgress = "IN_PROGRESS"
	rolloutCompleted  = "COMPLETED"
	rolloutFailed     = "FAILED"
	deployPrimary     = "PRIMARY"
	deployActive      = "ACTIVE"
)

type deployment struct {
	id         string
	taskDef    string
	desired    int32
	createdAt  time.Time
	updatedAt  time.Time
	duration   time.Duration
	outcome    outcome
	rollout    string
	reason     string
	finishedAt time.Time
	rollback   bool // started by the circuit breaker to undo a failed one

	// Service deployment (ListServiceDeployments) view; rollbacks belong to
	// the service deployment they undo and have none of their own.
	sdArn        string
	sdStatus     string
	sdReason     string
	sdStopped    time.Time
	rollbackOf   *deployment // for a rollback deployment: the failed one
	rollbackFrom *deployment // for a failed deployment: its rollback
	sourceRev    string
	targetRev    string
	// digest is the image digest the deployment's service revision
	// resolved its image to (ECS resolves a tag to a digest once per
	// deployment, "Container image resolution", ECS developer guide).
	digest string
	// foreign: started by someone else than the restart engine.
	foreign bool
}

func (s *service) primary() *deployment {
	if len(s.deployments) == 0 {
		return nil
	}
	return s.deployments[0]
}

func (s *service) addEvent(sim *Sim, at time.Time, msg string) {
	if sim.hasServiceFault(FaultEventChurn, s) {
		// A message identical to one still listed is not repeated.
		for _, e := range s.events {
			if e.message == msg {
				return
			}
		}
	}
	e := event{id: sim.uuid("event", s.arn, fmt.Sprint(len(s.history), len(s.events), at.UnixNano())), at: at, message: msg}
	s.events = append([]event{e}, s.events...)
	if len(s.events) > maxEvents {
		s.events = s.events[:maxEvents]
	}
}

// settle brings the service's deployments up to now. Nothing runs in the
// background: the state at any time is a function of the start times, the
// durations and the outcomes chosen when each deployment started, so it is
// computed when someone looks. The caller holds the account lock.
func (s *service) settle(sim *Sim, now time.Time) {
	for {
		p := s.primary()
		if p == nil || p.rollout != rolloutInProgress {
			return
		}
		end := p.createdAt.Add(p.duration)
		if p.outcome == outcomeHang || now.Before(end) {
			return
		}
		switch p.outcome {
		case outcomeComplete:
			p.rollout = rolloutCompleted
			p.reason = fmt.Sprintf("ECS deployment %s completed.", p.id)
			p.updatedAt, p.finishedAt = end, end
			for _, old := range s.deployments[1:] {
				if old.rollout == rolloutInProgress {
					old.sdStatus, old.sdReason, old.sdStopped = "STOPPED", "Service deployment superseded by a newer deployment.", end
				}
			}
			s.deployments = s.deployments[:1]
			if f := p.rollbackOf; f != nil {
				f.sdStatus, f.sdReason, f.finishedAt = "ROLLBACK_SUCCESSFUL", "Service deployment rolled back because the circuit breaker threshold was exceeded.", end
			} else {
				p.sdStatus, p.sdReason = "SUCCESSFUL", "Service deployment completed successfully."
			}
			s.addEvent(sim, end, s.deploymentMessage(sim, p, "deployment completed."))
			s.addEvent(sim, end, fmt.Sprintf("(service %s) has reached a steady state.", s.name))
			s.churn(sim, end)
		case outcomeFail:
			p.rollout = rolloutFailed
			p.reason = "ECS deployment circuit breaker: tasks failed to start."
			p.updatedAt = end
			prev := s.lastCompleted(p)
			taskDef, prevID := s.taskDef, ""
			if prev != nil {
				taskDef, prevID = prev.taskDef, prev.id
			}
			rb := sim.newDeployment(s, taskDef, end, outcomeComplete)
			rb.rollback, rb.rollbackOf, rb.sdArn = true, p, ""
			if prev != nil {
				// Back to the previous revision, image digest included.
				rb.digest = prev.digest
			}
			p.rollbackFrom = rb
			p.sdStatus, p.sdReason = "ROLLBACK_IN_PROGRESS", "Service deployment rolling back because the circuit breaker threshold was exceeded."
			s.deployments = append([]*deployment{rb}, s.deployments...)
			s.addEvent(sim, end, s.deploymentMessage(sim, p, "deployment failed: tasks failed to start."))
			if prevID != "" {
				s.addEvent(sim, end, fmt.Sprintf("(service %s) rolling back to deployment %s.", s.name, prevID))
			}
			s.churn(sim, end)
		}
	}
}

// deploymentMessage is an event about deployment d; under event-churn it
// carries no deployment id, as some of ECS's messages do not.
func (s *service) deploymentMessage(sim *Sim, d *deployment, what string) string {
	if sim.hasServiceFault(FaultEventChurn, s) {
		return fmt.Sprintf("(service %s) %s", s.name, what)
	}
	return fmt.Sprintf("(service %s) (deployment %s) %s", s.name, d.id, what)
}

// churn adds, for a service under event-churn, a full page of task events
// after an outcome: a busy service's tasks push the outcome out of the
// 100 events ECS keeps.
func (s *service) churn(sim *Sim, at time.Time) {
	af := sim.serviceFault(FaultEventChurn, s)
	if af == nil {
		return
	}
	af.fire()
	for i := range maxEvents {
		task := sim.uuid("task", s.arn, fmt.Sprint(len(s.history), i))
		verb := "started"
		if i%2 == 1 {
			verb = "stopped"
		}
		s.addEvent(sim, at.Add(time.Duration(i+1)*time.Millisecond), fmt.Sprintf("(service %s) has %s 1 tasks: (task %s).", s.name, verb, task))
	}
}

// lastCompleted is the newest deployment other than p that completed: the
// one a circuit breaker rolls back to.
func (s *service) lastCompleted(p *deployment) *deployment {
	for i := len(s.history) - 1; i >= 0; i-- {
		if d := s.history[i]; d != p && d.rollout == rolloutCompleted {
			return d
		}
	}
	return nil
}

// counts returns the running, pending and failed task counts of d at now.
// A deployment in progress takes over the desired count linearly over its
// duration; one that fails or hangs never gets a task running.
func (s *service) counts(d *deployment, now time.Time) (running, pending, failed int32) {
	switch {
	case d.rollout == rolloutCompleted:
		return d.desired, 0, 0
	case d.rollout == rolloutFailed:
		return 0, 0, failedTasks(d)
	case d.outcome != outcomeComplete:
		frac := fraction(d, now)
		f := int32(0)
		if d.outcome == outcomeFail {
			f = int32(frac * float64(failedTasks(d)))
		}
		return 0, d.desired, f
	}
	up := int32(fraction(d, now) * float64(d.desired))
	return up, d.desired - up, 0
}

func fraction(d *deployment, now time.Time) float64 {
	if d.duration <= 0 {
		return 1
	}
	f := float64(now.Sub(d.createdAt)) / float64(d.duration)
	return min(max(f, 0), 1)
}

// failedTasks is how many tasks failed before the circuit breaker tripped:
// ECS's threshold is half the desired count, at least 10 and at most 200.
func failedTasks(d *deployment) int32 {
	return min(max(d.desired/2, 10), 200)
}

// deploymentCounts spreads the service's running tasks over its
// deployments: what the new one has not yet taken over is still served by
// the older ones (the newest ACTIVE first).
func (s *service) deploymentCounts(now time.Time) (per [][3]int32, running, pending int32) {
	per = make([][3]int32, len(s.deployments))
	left := s.desired
	for i, d := range s.deployments {
		r, p, f := s.counts(d, now)
		if i > 0 && d.rollout != rolloutFailed {
			r, p = max(left, 0), 0
		}
		r = min(r, max(left, 0))
		left -= r
		per[i] = [3]int32{r, p, f}
		running += r
		pending += p
	}
	return per, running, pending
}
