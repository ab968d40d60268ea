package fleetsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// AdminPrefix is the path under which the inspection and fault endpoints
// live; AWS requests are always POSTed to "/".
const AdminPrefix = "/_fleetsim/"

func (s *Sim) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+AdminPrefix+"inventory", func(w http.ResponseWriter, r *http.Request) {
		writeAdmin(w, s.Inventory())
	})
	mux.HandleFunc("GET "+AdminPrefix+"stats", func(w http.ResponseWriter, r *http.Request) {
		writeAdmin(w, s.Stats())
	})
	mux.HandleFunc("GET "+AdminPrefix+"accounts", func(w http.ResponseWriter, r *http.Request) {
		writeAdmin(w, s.Info())
	})
	mux.HandleFunc("GET "+AdminPrefix+"faults", func(w http.ResponseWriter, r *http.Request) {
		writeAdmin(w, s.Faults())
	})
	mux.HandleFunc("POST "+AdminPrefix+"faults", func(w http.ResponseWriter, r *http.Request) {
		faults, err := readFaults(r.Body)
		if err == nil {
			for _, f := range faults {
				if err = s.Inject(f); err != nil {
					break
				}
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeAdmin(w, s.Faults())
	})
	mux.HandleFunc("DELETE "+AdminPrefix+"faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc(AdminPrefix, func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	})
	mux.HandleFunc("/", s.serveAWS)
	return mux
}

// readFaults accepts one fault object or an array of them.
func readFaults(r io.Reader) ([]Fault, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read faults: %w", err)
	}
	var list []Fault
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "[") {
		err = json.Unmarshal(b, &list)
	} else {
		var f Fault
		err = json.Unmarshal(b, &f)
		list = []Fault{f}
	}
	if err != nil {
		return nil, fmt.Errorf("decode faults: %w", err)
	}
	return list, nil
}

func writeAdmin(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// serveAWS routes an AWS request to ECS or STS by the SigV4 credential
// scope's service, falling back to the protocol's headers.
func (s *Sim) serveAWS(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	sc, signed := parseScope(r)
	service := sc.service
	if service == "" {
		switch {
		case strings.HasPrefix(r.Header.Get("X-Amz-Target"), ecsTargetPrefix):
			service = "ecs"
		case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
			service = "sts"
		}
	}
	switch service {
	case "ecs":
		if !signed {
			writeJSONError(w, s.requestID(), errMissingAuth)
			return
		}
		s.serveECS(w, r, sc, body)
	case "sts":
		s.serveSTS(w, r, sc, body)
	default:
		writeJSONError(w, s.requestID(), ecsError("UnknownOperationException", "fleetsim serves only ecs and sts, not %q", service))
	}
}

// Inventory returns the ground truth: every ACTIVE service, in the
// inventory format of fleet.Service, sorted by account, Region, cluster and
// service.
func (s *Sim) Inventory() []fleet.Service {
	out := []fleet.Service{}
	for _, id := range s.accountIDs() {
		a := s.accounts[id]
		a.mu.Lock()
		regions := make([]string, 0, len(a.regions))
		for r := range a.regions {
			regions = append(regions, r)
		}
		sort.Strings(regions)
		for _, rn := range regions {
			for _, c := range a.regions[rn].order {
				for _, sv := range c.order {
					if sv.status != statusActive {
						continue
					}
					shown := sv.shownTags()
					tags := make(map[string]string, len(shown))
					for _, t := range shown {
						tags[t.Key] = t.Value
					}
					out = append(out, fleet.Service{
						Account: id, Region: rn, Cluster: c.name, Service: sv.name, ARN: sv.arn,
						DesiredCount: sv.desired, SchedulingStrategy: sv.scheduling,
						DeploymentController: sv.controller, Tags: tags, ShortARN: sv.shortARN,
					})
				}
			}
		}
		a.mu.Unlock()
	}
	return out
}

func (s *Sim) accountIDs() []string {
	ids := make([]string, 0, len(s.accounts))
	for id := range s.accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Stats is what the fleet has seen: calls, throttles and restarts.
type Stats struct {
	// Calls counts requests per action and account (STS actions under the
	// caller's account), including throttled and failed ones.
	Calls map[string]map[string]int64 `json:"calls"`
	// Throttled counts ThrottlingException answers per action and account.
	Throttled map[string]map[string]int64 `json:"throttled"`
	// TotalCalls and TotalThrottled sum the above.
	TotalCalls     int64 `json:"totalCalls"`
	TotalThrottled int64 `json:"totalThrottled"`
	// UpdateService counts accepted UpdateService calls per day (in
	// Config.Location) and service ARN (the long form, also for services
	// ECS reports with a short ARN): a service restarted exactly once on a
	// day has 1. An UpdateService answered with an injected
	// applied-server-error is counted: it was applied.
	UpdateService map[string]map[string]int `json:"updateService"`
	// Deployments counts the deployments UpdateService started per day and
	// service ARN (a circuit breaker's rollback is not counted): a service
	// with 2 on a day was restarted twice.
	Deployments map[string]map[string]int `json:"deployments"`
	// ClustersDeleted are the ARNs of the clusters cluster-gone deleted.
	ClustersDeleted []string `json:"clustersDeleted"`
	// Faults are the injected faults and how often each fired.
	Faults []FaultStatus `json:"faults"`
	// Sessions are the sessions AssumeRole issued.
	Sessions []Session `json:"sessions"`
	// Faulted lists, per fault kind, the services it affected (see
	// Sim.Faulted).
	Faulted map[FaultKind][]string `json:"faulted"`
	// PeakRate10s is, per "<account>/<region>" and throttling bucket
	// ("service-read", "service-modify", ...), the highest rate of calls
	// over any 10-second window, in calls per second: throttled calls
	// included, as they draw from (or find empty) the same bucket that
	// every other caller in the account uses.
	PeakRate10s map[string]map[string]float64 `json:"peakRate10s"`
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	st := Stats{
		Calls: map[string]map[string]int64{}, Throttled: map[string]map[string]int64{},
		UpdateService: map[string]map[string]int{}, Deployments: map[string]map[string]int{},
		Faults: s.Faults(), Sessions: s.Sessions(), ClustersDeleted: s.ClustersDeleted(),
		Faulted: s.Faulted(), PeakRate10s: map[string]map[string]float64{},
	}
	add := func(m map[string]map[string]int64, op, acct string, n int64) {
		if m[op] == nil {
			m[op] = map[string]int64{}
		}
		m[op][acct] += n
	}
	for _, id := range s.accountIDs() {
		a := s.accounts[id]
		a.mu.Lock()
		for op, n := range a.calls {
			add(st.Calls, op, id, n)
			st.TotalCalls += n
		}
		for op, n := range a.throttled {
			add(st.Throttled, op, id, n)
			st.TotalThrottled += n
		}
		for k, w := range a.rates {
			region, cat, _ := strings.Cut(k, "/")
			pair := id + "/" + region
			if st.PeakRate10s[pair] == nil {
				st.PeakRate10s[pair] = map[string]float64{}
			}
			st.PeakRate10s[pair][cat] = w.peakPerSecond()
		}
		for _, c := range []struct{ from, to map[string]map[string]int }{{a.updates, st.UpdateService}, {a.started, st.Deployments}} {
			for day, m := range c.from {
				if c.to[day] == nil {
					c.to[day] = map[string]int{}
				}
				for arn, n := range m {
					c.to[day][arn] += n
				}
			}
		}
		a.mu.Unlock()
	}
	return st
}

// Info is how to reach the fleet: what cmd/fleetsim prints and
// GET /_fleetsim/accounts returns.
type Info struct {
	HubAccount     string   `json:"hubAccount"`
	HubAccessKeyID string   `json:"hubAccessKeyId"`
	RoleName       string   `json:"roleName"`
	ExternalID     string   `json:"externalId,omitempty"`
	Accounts       []string `json:"accounts"`
	Regions        []string `json:"regions"`
	Services       int      `json:"services"`
}

// Info describes the fleet's identities and size.
func (s *Sim) Info() Info {
	n := 0
	for _, a := range s.accounts {
		a.mu.Lock()
		for _, r := range a.regions {
			for _, c := range r.order {
				for _, sv := range c.order {
					if sv.status == statusActive {
						n++
					}
				}
			}
		}
		a.mu.Unlock()
	}
	return Info{
		HubAccount: s.cfg.HubAccount, HubAccessKeyID: s.cfg.HubAccessKeyID, RoleName: s.cfg.RoleName,
		ExternalID: s.cfg.ExternalID, Accounts: s.Accounts(), Regions: s.Regions(), Services: n,
	}
}

// ClusterSizes returns, per account and Region, the number of ACTIVE
// services of each cluster (empty clusters included, as 0), in ListClusters
// order: what the calls of a complete discovery follow from, for computing
// its lower bound under the buckets.
func (s *Sim) ClusterSizes() map[string]map[string][]int {
	out := map[string]map[string][]int{}
	for _, id := range s.accountIDs() {
		a := s.accounts[id]
		a.mu.Lock()
		for name, r := range a.regions {
			sizes := make([]int, 0, len(r.order))
			for _, c := range r.order {
				n := 0
				for _, sv := range c.order {
					if sv.status == statusActive {
						n++
					}
				}
				sizes = append(sizes, n)
			}
			if out[id] == nil {
				out[id] = map[string][]int{}
			}
			out[id][name] = sizes
		}
		a.mu.Unlock()
	}
	return out
}
