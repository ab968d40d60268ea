// Command fleetsim serves a simulated fleet of ECS services in many AWS
// accounts over the real ECS (JSON 1.1) and STS (query) protocols, for
// tests, demos and benchmarks of the daily restart engine.
//
//	fleetsim --addr 127.0.0.1:4566 --seed 1 --accounts 50 --clusters 1000 --services 10000
//
// It prints its URL on the first line of stdout once it accepts
// connections; point aws-sdk-go-v2 clients at it with BaseEndpoint and use
// an access key id starting with the hub key (AKIDHUB by default) as the
// hub. SIGINT or SIGTERM stops it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/fleetsim"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fleetsim:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fleetsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr       = fs.String("addr", "127.0.0.1:4566", "listen address (port 0 picks a free port)")
		seed       = fs.Int64("seed", 1, "seed of the generated fleet, deployment times and random faults")
		accounts   = fs.Int("accounts", 50, "member accounts to generate")
		clusters   = fs.Int("clusters", 1000, "clusters to generate")
		services   = fs.Int("services", 10000, "services to generate")
		regions    = fs.String("regions", strings.Join(fleetsim.DefaultRegions, ","), "comma-separated Regions to spread clusters over")
		inventory  = fs.String("inventory", "", "serve this inventory JSON array (fleet.Service) instead of a generated fleet")
		hubAccount = fs.String("hub-account", fleetsim.DefaultHubAccount, "account id of the hub credentials")
		hubKey     = fs.String("hub-key", fleetsim.DefaultHubAccessKeyID, "access key ids starting with this act as the hub")
		roleName   = fs.String("role-name", fleetsim.DefaultRoleName, "member role the hub may assume")
		externalID = fs.String("external-id", "", "external id AssumeRole must present (none when empty)")
		maxSession = fs.Duration("max-session", fleetsim.DefaultMaxSession, "member role's maximum session duration")
		deployTime = fs.Duration("deploy-time", 2*time.Second, "time a forced deployment takes")
		jitter     = fs.Float64("deploy-jitter", 0.25, "deployment times spread over deploy-time * (1 ± jitter)")
		scale      = fs.Float64("throttle-scale", 1, "multiply ECS's documented burst and sustained rates")
		noThrottle = fs.Bool("no-throttle", false, "turn ECS throttling off")
		latency    = fs.Duration("latency", 0, "added latency on every AWS call")
		errRate    = fs.Float64("5xx-rate", 0, "probability that an AWS call fails with HTTP 500")
		failRate   = fs.Float64("fail-rate", 0, "fraction of services whose forced deployments fail and roll back")
		hangRate   = fs.Float64("hang-rate", 0, "fraction of services whose forced deployments never finish")
		goneRate   = fs.Float64("gone-rate", 0, "fraction of services deleted right after discovery describes them")
		denyRate   = fs.Float64("deny-rate", 0, "fraction of member accounts whose role cannot be assumed")
		denyList   = fs.String("deny-accounts", "", "comma-separated member accounts whose role cannot be assumed")
		faultsFile = fs.String("faults", "", "JSON file with an array of faults to inject (see fleetsim.Fault)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := fleetsim.Config{
		Seed: *seed, Accounts: *accounts, Clusters: *clusters, Services: *services,
		Regions: splitList(*regions), HubAccount: *hubAccount, HubAccessKeyID: *hubKey, RoleName: *roleName,
		ExternalID: *externalID, MaxSessionDuration: *maxSession, DeployTime: *deployTime, DeployJitter: *jitter,
		ThrottleScale: *scale, NoThrottle: *noThrottle,
	}
	if *inventory != "" {
		b, err := os.ReadFile(*inventory)
		if err != nil {
			return fmt.Errorf("read inventory: %w", err)
		}
		if err := json.Unmarshal(b, &cfg.Fleet); err != nil {
			return fmt.Errorf("decode inventory %s: %w", *inventory, err)
		}
	}
	faults, err := flagFaults(*latency, *errRate, *failRate, *hangRate, *goneRate)
	if err != nil {
		return err
	}
	if *faultsFile != "" {
		b, err := os.ReadFile(*faultsFile)
		if err != nil {
			return fmt.Errorf("read faults: %w", err)
		}
		var more []fleetsim.Fault
		if err := json.Unmarshal(b, &more); err != nil {
			return fmt.Errorf("decode faults %s: %w", *faultsFile, err)
		}
		faults = append(faults, more...)
	}
	cfg.Faults = faults

	start := time.Now()
	sim, err := fleetsim.New(cfg)
	if err != nil {
		return err
	}
	denied := splitList(*denyList)
	if *denyRate > 0 {
		rng := rand.New(rand.NewPCG(uint64(*seed), 0xdeadbeef))
		for _, a := range sim.Accounts() {
			if rng.Float64() < *denyRate {
				denied = append(denied, a)
			}
		}
	}
	for _, a := range denied {
		if err := sim.Inject(fleetsim.Fault{Kind: fleetsim.FaultAccessDenied, Account: a}); err != nil {
			return err
		}
	}

	// Catch signals before announcing the URL: whoever reads it may stop us
	// right away.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	info := sim.Info()
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	logger := log.New(stderr, "fleetsim: ", 0)
	logger.Printf("%d services in %d accounts, regions %s, built in %v",
		info.Services, len(info.Accounts), strings.Join(info.Regions, ","), time.Since(start).Round(time.Millisecond))
	logger.Printf("hub account %s: access key id %s*, any secret; member role %s", info.HubAccount, info.HubAccessKeyID, info.RoleName)
	if len(denied) > 0 {
		logger.Printf("AssumeRole denied in %s", strings.Join(denied, ","))
	}
	logger.Printf("ground truth: GET /_fleetsim/inventory, counters: GET /_fleetsim/stats, faults: POST /_fleetsim/faults")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Printf("stopped")
	return nil
}

// flagFaults turns the rate flags into faults.
func flagFaults(latency time.Duration, errRate, failRate, hangRate, goneRate float64) ([]fleetsim.Fault, error) {
	var out []fleetsim.Fault
	for name, r := range map[string]float64{"5xx-rate": errRate, "fail-rate": failRate, "hang-rate": hangRate, "gone-rate": goneRate} {
		if r < 0 || r > 1 {
			return nil, fmt.Errorf("--%s must be in [0, 1], got %v", name, r)
		}
	}
	if latency > 0 {
		out = append(out, fleetsim.Fault{Kind: fleetsim.FaultLatency, Latency: latency})
	}
	if errRate > 0 {
		out = append(out, fleetsim.Fault{Kind: fleetsim.FaultServerError, Rate: errRate})
	}
	if failRate > 0 {
		out = append(out, fleetsim.Fault{Kind: fleetsim.FaultDeploymentFail, Rate: failRate})
	}
	if hangRate > 0 {
		out = append(out, fleetsim.Fault{Kind: fleetsim.FaultDeploymentHang, Rate: hangRate})
	}
	if goneRate > 0 {
		out = append(out, fleetsim.Fault{Kind: fleetsim.FaultServiceGone, Rate: goneRate, AfterDescribe: true})
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
