package fleetsim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

// GenerateConfig sizes a generated fleet.
type GenerateConfig struct {
	Seed     int64
	Accounts int
	Clusters int
	Services int
	// Regions clusters are spread over (DefaultRegions when empty): most in
	// the first, the rest evenly over the others.
	Regions []string
	// HubAccount is never used as a member account id.
	HubAccount string
}

// Generate returns a fleet with a realistic mix, the same for the same
// config:
//   - cluster sizes follow a power law: many clusters with a handful of
//     services, a few with hundreds, about 3% empty; accounts too differ in
//     size, and every account has at least one cluster;
//   - about 3% of services have desired count 0, 3% an EXTERNAL and 3% a
//     CODE_DEPLOY deployment controller, 4% the DAEMON scheduling strategy;
//   - about 10% lack the ecs_task_daily_restart tag and 1% have it set to
//     "disabled"; the others hold "enabled" or a past restart time;
//   - most have an owner tag, some only a team tag, about 15% neither.
func Generate(cfg GenerateConfig) ([]fleet.Service, error) {
	if cfg.Accounts < 1 || cfg.Clusters < cfg.Accounts || cfg.Services < 0 {
		return nil, fmt.Errorf("generate: need accounts >= 1, clusters >= accounts and services >= 0, got %d accounts, %d clusters, %d services",
			cfg.Accounts, cfg.Clusters, cfg.Services)
	}
	if cfg.Accounts > 100_000 || cfg.Clusters > 1_000_000 || cfg.Services > 10_000_000 {
		return nil, errors.New("generate: fleet too large")
	}
	regions := cfg.Regions
	if len(regions) == 0 {
		regions = DefaultRegions
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15))

	accounts := make([]string, 0, cfg.Accounts)
	seen := map[string]bool{cfg.HubAccount: true}
	for len(accounts) < cfg.Accounts {
		id := fmt.Sprintf("%012d", 100_000_000_000+rng.Int64N(899_999_999_999))
		if !seen[id] {
			seen[id] = true
			accounts = append(accounts, id)
		}
	}

	// Every account gets one cluster; the rest are shared out by a mild
	// power law so that a few accounts hold many clusters.
	perAccount := apportion(cfg.Clusters-cfg.Accounts, powerWeights(rng, cfg.Accounts, 0.7, 0))
	// Cluster sizes: rank^-0.8 over shuffled ranks; with 1000 clusters and
	// 10,000 services the largest has ~600 services and the median ~5.
	sizes := apportion(cfg.Services, powerWeights(rng, cfg.Clusters, 0.8, 0.03))

	var out []fleet.Service
	k := 0
	for ai, acct := range accounts {
		n := 1 + perAccount[ai]
		for j := 0; j < n; j++ {
			region := regions[0]
			if len(regions) > 1 && rng.Float64() < 0.3 {
				region = regions[1+rng.IntN(len(regions)-1)]
			}
			team := teams[rng.IntN(len(teams))]
			env := envs[rng.IntN(len(envs))]
			clusterName := fmt.Sprintf("%s-%s-%03d", team, env, j+1)
			for si := 0; si < sizes[k]; si++ {
				out = append(out, genService(rng, acct, region, clusterName, team, env, si))
			}
			k++
		}
	}
	return out, nil
}

var (
	teams = []string{"payments", "ledger", "cards", "identity", "onboarding", "risk", "fraud", "notifications",
		"search", "catalog", "checkout", "lending", "savings", "support", "data", "platform", "growth", "wallet"}
	envs  = []string{"prod", "prod", "prod", "staging", "dev"}
	words = []string{"api", "worker", "gateway", "sync", "batch", "events", "auth", "profile", "quotes", "orders",
		"reports", "scheduler", "webhooks", "cache", "export", "import", "billing", "audit", "ingest", "router"}
	desiredCounts = []int32{1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 6, 8, 10, 12, 20, 40}
)

func genService(rng *rand.Rand, acct, region, clusterName, team, env string, i int) fleet.Service {
	name := fmt.Sprintf("%s-%s-%d", words[rng.IntN(len(words))], words[rng.IntN(len(words))], i+1)
	s := fleet.Service{
		Account: acct, Region: region, Cluster: clusterName, Service: name,
		ARN:                  serviceARN(region, acct, clusterName, name),
		DesiredCount:         desiredCounts[rng.IntN(len(desiredCounts))],
		SchedulingStrategy:   "REPLICA",
		DeploymentController: "ECS",
		Tags:                 map[string]string{"env": env},
	}
	if rng.Float64() < 0.03 {
		s.DesiredCount = 0
	}
	switch u := rng.Float64(); {
	case u < 0.04:
		s.SchedulingStrategy = "DAEMON" // daemon services only run under the ECS controller
	case u < 0.07:
		s.DeploymentController = "EXTERNAL"
	case u < 0.10:
		s.DeploymentController = "CODE_DEPLOY"
	}
	switch u := rng.Float64(); {
	case u < 0.60:
		s.Tags["owner"] = team + "@example.com"
		s.Tags["team"] = team
	case u < 0.85:
		s.Tags["team"] = team
	}
	switch u := rng.Float64(); {
	case u < 0.10:
		// unenrolled: no restart tag
	case u < 0.11:
		s.Tags[fleet.RestartTag] = fleet.OptOutValue
	case u < 0.45:
		s.Tags[fleet.RestartTag] = "enabled"
	default:
		last := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(60*24*60)) * time.Minute)
		s.Tags[fleet.RestartTag] = last.Format(time.RFC3339)
	}
	if rng.Float64() < 0.5 {
		s.Tags["app"] = name[:len(name)-len(fmt.Sprint(i+1))-1]
	}
	return s
}

// powerWeights returns n weights proportional to rank^-alpha over a random
// permutation of ranks, with about zeroFrac of them set to 0.
func powerWeights(rng *rand.Rand, n int, alpha, zeroFrac float64) []float64 {
	w := make([]float64, n)
	for i, r := range rng.Perm(n) {
		w[i] = math.Pow(float64(r+1), -alpha)
		if rng.Float64() < zeroFrac {
			w[i] = 0
		}
	}
	return w
}

// apportion splits total into integer parts proportional to weights by the
// largest remainder method, so the parts always sum to total.
func apportion(total int, weights []float64) []int {
	out := make([]int, len(weights))
	var sum float64
	for _, w := range weights {
		sum += w
	}
	if total <= 0 || sum == 0 {
		return out
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(weights))
	given := 0
	for i, w := range weights {
		exact := float64(total) * w / sum
		out[i] = int(exact)
		given += out[i]
		rems[i] = rem{i, exact - float64(out[i])}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for j := 0; given < total; j++ {
		out[rems[j%len(rems)].i]++
		given++
	}
	return out
}
