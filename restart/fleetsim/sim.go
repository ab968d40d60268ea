// Package fleetsim is a local emulator of exactly the ECS and STS calls the
// daily restart engine makes, over the real wire protocols (ECS JSON 1.1,
// STS query), so that the unmodified aws-sdk-go-v2 clients, their paging,
// retries and error handling are exercised against it.
//
// A Sim serves many accounts. The caller's access key id decides which
// account a call acts on: keys starting with Config.HubAccessKeyID are the
// hub account; AssumeRole from the hub into
// arn:aws:iam::<member>:role/<Config.RoleName> returns temporary keys of
// that member. ECS calls draw from per-account, per-Region token buckets
// sized as AWS documents them, and forced deployments take (scaled) time,
// can fail and roll back, or never finish. Faults are injected with
// Sim.Inject or POST /_fleetsim/faults; the ground truth and call counts are
// at GET /_fleetsim/inventory and GET /_fleetsim/stats.
//
// fleetsim is test infrastructure, not a product: it does not verify
// signatures and implements only the operations and fields the engine uses.
package fleetsim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// Defaults of Config.
const (
	DefaultHubAccount     = "111111111111"
	DefaultHubAccessKeyID = "AKIDHUB"
	DefaultRoleName       = "ecs-daily-restart"
	DefaultDeployTime     = 5 * time.Second
	DefaultMaxSession     = time.Hour
)

// DefaultRegions are the Regions the generator spreads clusters over.
var DefaultRegions = []string{"us-east-1", "us-west-2"}

// Config describes a simulated fleet. The zero value is a valid, empty
// fleet (a hub and no members); set Accounts, Clusters and Services to
// generate one from Seed, or Fleet to load an explicit inventory.
type Config struct {
	// Seed makes generation, deployment ids and durations, and probabilistic
	// faults reproducible.
	Seed int64
	// Accounts, Clusters and Services size the generated fleet
	// (see Generate). Ignored when Fleet is set.
	Accounts, Clusters, Services int
	// Regions the generated clusters are spread over; DefaultRegions when
	// empty.
	Regions []string
	// Fleet, when not empty, is the exact inventory to serve instead of a
	// generated one. Missing ARNs are derived from account, region, cluster
	// and service.
	Fleet []fleet.Service

	// HubAccount is the account of the hub credentials (DefaultHubAccount).
	HubAccount string
	// HubAccessKeyID is the prefix of the access key ids that act as the hub
	// (DefaultHubAccessKeyID): any secret is accepted.
	HubAccessKeyID string
	// RoleName is the member role the hub may assume (DefaultRoleName).
	RoleName string
	// ExternalID, when set, must match AssumeRole's ExternalId.
	ExternalID string
	// MaxSessionDuration is the member role's maximum session duration
	// (DefaultMaxSession); AssumeRole asking for more is refused as IAM does.
	MaxSessionDuration time.Duration

	// DeployTime is how long a forced deployment takes to complete, or to
	// trip the circuit breaker when it fails (DefaultDeployTime).
	DeployTime time.Duration
	// DeployJitter spreads deployment durations uniformly over
	// DeployTime * (1 ± DeployJitter); 0 means every deployment takes
	// exactly DeployTime.
	DeployJitter float64
	// ClusterDeployTime overrides DeployTime for the clusters it names
	// ("account/region/cluster"): slow clusters, for the window fit.
	ClusterDeployTime map[string]time.Duration

	// ThrottleScale multiplies every bucket's burst and refill rate (1 when
	// zero): 0.1 makes throttling easy to reach in a test, 10 makes a demo
	// run ten times faster.
	ThrottleScale float64
	// NoThrottle turns the token buckets off.
	NoThrottle bool

	// Clock is the time source (the system clock when nil).
	Clock Clock
	// Location decides which calendar day an UpdateService is counted on in
	// Stats (UTC when nil): the restart window is local midnight.
	Location *time.Location

	// Faults are injected from the start, as if passed to Inject.
	Faults []Fault
}

// Sim is a simulated fleet of ECS services in many accounts, served over
// HTTP by Handler. It is safe for concurrent use.
type Sim struct {
	cfg      Config
	clock    Clock
	loc      *time.Location
	accounts map[string]*account // fixed after New
	members  []string            // sorted member account ids
	regions  []string

	sessions   sync.Map // access key id -> *Session
	sessionsMu sync.Mutex
	sessionLog []*Session

	seq    atomic.Uint64 // request ids, deployment ids, session keys
	faults faultSet

	deletedMu       sync.Mutex
	deletedClusters []string

	faultedMu sync.Mutex
	faulted   map[FaultKind]map[string]bool

	handler http.Handler
}

// New builds the fleet described by cfg.
func New(cfg Config) (*Sim, error) {
	if cfg.HubAccount == "" {
		cfg.HubAccount = DefaultHubAccount
	}
	if cfg.HubAccessKeyID == "" {
		cfg.HubAccessKeyID = DefaultHubAccessKeyID
	}
	if cfg.RoleName == "" {
		cfg.RoleName = DefaultRoleName
	}
	if cfg.MaxSessionDuration == 0 {
		cfg.MaxSessionDuration = DefaultMaxSession
	}
	if cfg.DeployTime == 0 {
		cfg.DeployTime = DefaultDeployTime
	}
	if cfg.DeployJitter < 0 || cfg.DeployJitter >= 1 {
		return nil, fmt.Errorf("fleetsim: deploy jitter must be in [0, 1), got %v", cfg.DeployJitter)
	}
	if cfg.ThrottleScale < 0 {
		return nil, fmt.Errorf("fleetsim: throttle scale must not be negative, got %v", cfg.ThrottleScale)
	}
	if cfg.ThrottleScale == 0 {
		cfg.ThrottleScale = 1
	}
	if len(cfg.Regions) == 0 {
		cfg.Regions = DefaultRegions
	}
	s := &Sim{cfg: cfg, clock: cfg.Clock, loc: cfg.Location, accounts: map[string]*account{}}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	services := cfg.Fleet
	if len(services) == 0 && cfg.Services > 0 {
		var err error
		services, err = Generate(GenerateConfig{
			Seed: cfg.Seed, Accounts: cfg.Accounts, Clusters: cfg.Clusters, Services: cfg.Services,
			Regions: cfg.Regions, HubAccount: cfg.HubAccount,
		})
		if err != nil {
			return nil, fmt.Errorf("fleetsim: %w", err)
		}
	}
	if err := s.load(services); err != nil {
		return nil, fmt.Errorf("fleetsim: %w", err)
	}
	for _, f := range cfg.Faults {
		if err := s.Inject(f); err != nil {
			return nil, fmt.Errorf("fleetsim: %w", err)
		}
	}
	s.handler = s.routes()
	return s, nil
}

// load builds the state of every account from an inventory.
func (s *Sim) load(services []fleet.Service) error {
	s.accounts[s.cfg.HubAccount] = newAccount(s.cfg.HubAccount)
	regions := map[string]bool{}
	now := s.clock.Now()
	for i, fs := range services {
		if !isAccountID(fs.Account) || fs.Region == "" || fs.Cluster == "" || fs.Service == "" {
			return fmt.Errorf("inventory entry %d: account (12 digits), region, cluster and service are required", i)
		}
		a := s.accounts[fs.Account]
		if a == nil {
			a = newAccount(fs.Account)
			s.accounts[fs.Account] = a
			if fs.Account != s.cfg.HubAccount {
				s.members = append(s.members, fs.Account)
			}
		}
		regions[fs.Region] = true
		r := a.region(fs.Region)
		c := r.clusters[fs.Cluster]
		if c == nil {
			c = &cluster{name: fs.Cluster, arn: clusterARN(fs.Region, fs.Account, fs.Cluster), services: map[string]*service{}}
			r.addCluster(c)
		}
		if c.services[fs.Service] != nil {
			return fmt.Errorf("inventory entry %d: service %s/%s/%s/%s is listed twice", i, fs.Account, fs.Region, fs.Cluster, fs.Service)
		}
		c.addService(s.newService(fs, c, now))
	}
	sort.Strings(s.members)
	for r := range regions {
		s.regions = append(s.regions, r)
	}
	sort.Strings(s.regions)
	return nil
}

func (s *Sim) newService(fs fleet.Service, c *cluster, now time.Time) *service {
	arn := fs.ARN
	if arn == "" {
		arn = serviceARN(fs.Region, fs.Account, fs.Cluster, fs.Service)
	}
	sv := &service{
		name: fs.Service, arn: arn, account: fs.Account, region: fs.Region,
		clusterName: c.name, clusterArn: c.arn, status: statusActive,
		desired: fs.DesiredCount, scheduling: fs.SchedulingStrategy, controller: fs.DeploymentController,
	}
	if sv.scheduling == "" {
		sv.scheduling = "REPLICA"
	}
	if sv.controller == "" {
		sv.controller = "ECS"
	}
	h := s.hash("service", arn)
	sv.launchType = "FARGATE"
	if sv.scheduling == "DAEMON" || h%10 < 3 {
		sv.launchType = "EC2"
	}
	// Services were created some days to two years before the simulation
	// starts; their current deployment completed a while ago.
	sv.createdAt = now.Add(-time.Duration(24+h%(24*700)) * time.Hour).Truncate(time.Second)
	sv.taskDef = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", fs.Region, fs.Account, fs.Service, 1+h%40)
	// Half the services run a mutable tag that their team pushes again
	// every day: a forced deployment resolves it to that day's digest.
	sv.mutableTag = h%2 == 0
	tagName := fmt.Sprintf("v1.%d.%d", h%17, h%5)
	if sv.mutableTag {
		tagName = "latest"
	}
	sv.image = fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s:%s", fs.Account, fs.Region, fs.Service, tagName)
	for k, v := range fs.Tags {
		sv.tags = append(sv.tags, tag{k, v})
	}
	sort.Slice(sv.tags, func(i, j int) bool { return sv.tags[i].Key < sv.tags[j].Key })
	d := s.newDeployment(sv, sv.taskDef, sv.createdAt.Add(time.Duration(h%(12*3600))*time.Second), outcomeComplete)
	d.rollout, d.reason = rolloutCompleted, fmt.Sprintf("ECS deployment %s completed.", d.id)
	d.sdStatus, d.sdReason = "SUCCESSFUL", "Service deployment completed successfully."
	d.updatedAt = d.createdAt.Add(d.duration)
	d.finishedAt = d.updatedAt
	sv.deployments = []*deployment{d}
	sv.addEvent(s, d.finishedAt, fmt.Sprintf("(service %s) has reached a steady state.", sv.name))
	return sv
}

// newDeployment starts a deployment of taskDef at `at` and records it in the
// service's history; the caller puts it in front of the deployments.
func (s *Sim) newDeployment(sv *service, taskDef string, at time.Time, o outcome) *deployment {
	n := s.seq.Add(1)
	h := s.hash("deployment", sv.arn, fmt.Sprint(n))
	id := fmt.Sprintf("ecs-svc/%019d", 1_000_000_000_000_000_000+h%8_000_000_000_000_000_000)
	dur := s.cfg.DeployTime
	if d, ok := s.cfg.ClusterDeployTime[sv.account+"/"+sv.region+"/"+sv.clusterName]; ok && d > 0 {
		dur = d
	}
	if j := s.cfg.DeployJitter; j > 0 {
		u := s.fraction("duration", id)
		dur = time.Duration(float64(dur) * (1 + j*(2*u-1)))
	}
	d := &deployment{
		id: id, taskDef: taskDef, desired: sv.desired, createdAt: at, updatedAt: at,
		duration: dur, outcome: o, rollout: rolloutInProgress,
		reason:   "ECS deployment " + id + " in progress.",
		sdStatus: "IN_PROGRESS",
	}
	d.digest = s.digestOf(sv, at)
	short := base32ID(s.hash("sd", id))
	d.sdArn = fmt.Sprintf("arn:aws:ecs:%s:%s:service-deployment/%s/%s/%s", sv.region, sv.account, sv.clusterName, sv.name, short)
	d.targetRev = fmt.Sprintf("arn:aws:ecs:%s:%s:service-revision/%s/%s/%d", sv.region, sv.account, sv.clusterName, sv.name, s.hash("rev", id)%10_000_000_000_000)
	if p := sv.primary(); p != nil {
		d.sourceRev = p.targetRev
	}
	sv.history = append(sv.history, d)
	if len(sv.history) > 50 { // ECS keeps 90 days; a bounded tail is enough here
		sv.history = sv.history[len(sv.history)-50:]
	}
	return d
}

// digestOf is the digest sv's image tag points at when a deployment
// starts at `at`: a pinned tag always the same, a mutable one that day's.
func (s *Sim) digestOf(sv *service, at time.Time) string {
	gen := "pinned"
	if sv.mutableTag {
		gen = at.UTC().Format(time.DateOnly)
	}
	return fmt.Sprintf("sha256:%016x%016x%016x%016x", s.hash("digest", sv.image, gen, "0"), s.hash("digest", sv.image, gen, "1"),
		s.hash("digest", sv.image, gen, "2"), s.hash("digest", sv.image, gen, "3"))
}

// Handler returns the HTTP handler serving ECS, STS and the admin endpoints.
func (s *Sim) Handler() http.Handler { return s.handler }

// HubAccount returns the hub's account id.
func (s *Sim) HubAccount() string { return s.cfg.HubAccount }

// HubAccessKeyID returns an access key id that acts as the hub.
func (s *Sim) HubAccessKeyID() string { return s.cfg.HubAccessKeyID }

// RoleName returns the member role name the hub may assume.
func (s *Sim) RoleName() string { return s.cfg.RoleName }

// RoleARN returns the member role's ARN in account.
func (s *Sim) RoleARN(account string) string {
	return "arn:aws:iam::" + account + ":role/" + s.cfg.RoleName
}

// Accounts returns the member account ids, sorted.
func (s *Sim) Accounts() []string { return append([]string(nil), s.members...) }

// Regions returns the Regions that hold clusters, sorted.
func (s *Sim) Regions() []string { return append([]string(nil), s.regions...) }

// Now returns the simulation's current time.
func (s *Sim) Now() time.Time { return s.clock.Now() }

// hash is a seeded, stable 64-bit hash: every "random" choice that must be
// reproducible derives from it.
func (s *Sim) hash(parts ...string) uint64 { return seededHash(s.cfg.Seed, parts...) }

// fraction is a seeded, repeatable number in [0, 1) for parts.
func (s *Sim) fraction(parts ...string) float64 {
	return float64(s.hash(parts...)%1_000_000) / 1_000_000
}

func seededHash(seed int64, parts ...string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return mix64(h.Sum64())
}

// mix64 is splitmix64's finalizer: FNV alone leaves low bits correlated.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uuid formats a stable hash of parts as a UUID, the shape of AWS request
// and event ids.
func (s *Sim) uuid(parts ...string) string {
	a, b := s.hash(append(parts, "a")...), s.hash(append(parts, "b")...)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, 0x4000|(a&0x0fff), 0x8000|(b>>48)&0x3fff, b&0xffffffffffff)
}

func (s *Sim) requestID() string { return s.uuid("request", fmt.Sprint(s.seq.Add(1))) }

const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func base32ID(h uint64) string {
	var b [12]byte
	for i := range b {
		b[i] = base32Alphabet[h%32]
		h = h/32 ^ mix64(h+uint64(i))
	}
	return string(b[:])
}

func clusterARN(region, acct, name string) string {
	return "arn:aws:ecs:" + region + ":" + acct + ":cluster/" + name
}

func serviceARN(region, acct, cluster, name string) string {
	return "arn:aws:ecs:" + region + ":" + acct + ":service/" + cluster + "/" + name
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
