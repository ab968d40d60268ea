package fleetsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
)

var bigFleet = GenerateConfig{Seed: 1, Accounts: 50, Clusters: 1000, Services: 10000}

func TestGenerateIsDeterministicAndRealistic(t *testing.T) {
	start := time.Now()
	a, err := Generate(bigFleet)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d services in %v", len(a), time.Since(start))
	b, _ := Generate(bigFleet)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different fleets")
	}
	other := bigFleet
	other.Seed = 2
	if c, _ := Generate(other); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds, same fleet")
	}
	if len(a) != 10000 {
		t.Fatalf("%d services, want 10000", len(a))
	}

	accounts, regions := map[string]bool{}, map[string]bool{}
	clusterSize := map[string]int{}
	count := map[string]int{}
	arns := map[string]bool{}
	for _, s := range a {
		accounts[s.Account] = true
		regions[s.Region] = true
		clusterSize[s.ClusterKey()]++
		if arns[s.ARN] {
			t.Fatalf("duplicate ARN %s", s.ARN)
		}
		arns[s.ARN] = true
		if s.DesiredCount == 0 {
			count["desired0"]++
		}
		count["controller:"+s.DeploymentController]++
		count["scheduling:"+s.SchedulingStrategy]++
		switch v, ok := s.Tags[fleet.RestartTag]; {
		case !ok:
			count["untagged"]++
		case v == fleet.OptOutValue:
			count["disabled"]++
		}
		if s.Owner() != "" {
			count["owned"]++
		}
	}
	if len(accounts) != 50 || len(regions) != 2 {
		t.Fatalf("%d accounts, %d regions", len(accounts), len(regions))
	}
	sizes := make([]int, 0, len(clusterSize))
	for _, n := range clusterSize {
		sizes = append(sizes, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(sizes)))
	median := sizes[len(sizes)/2]
	t.Logf("non-empty clusters %d, largest %v, median %d, mix %v", len(sizes), sizes[:5], median, count)
	if sizes[0] < 200 || median > 15 || len(sizes) < 900 {
		t.Fatalf("cluster sizes not power-law-ish: largest %v, median %d, %d non-empty", sizes[:5], median, len(sizes))
	}
	within := func(name string, lo, hi float64) {
		if f := float64(count[name]) / float64(len(a)); f < lo || f > hi {
			t.Errorf("%s: %.3f of services, want %.2f..%.2f", name, f, lo, hi)
		}
	}
	within("desired0", 0.015, 0.05)
	within("controller:EXTERNAL", 0.015, 0.05)
	within("controller:CODE_DEPLOY", 0.015, 0.05)
	within("scheduling:DAEMON", 0.02, 0.06)
	within("untagged", 0.08, 0.12)
	within("disabled", 0.005, 0.02)
	within("owned", 0.8, 0.9)
}

func TestNewGeneratesABigFleetFast(t *testing.T) {
	start := time.Now()
	sim, err := New(Config{Seed: 1, Accounts: 50, Clusters: 1000, Services: 10000})
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	t.Logf("New: %v", d)
	if d > 3*time.Second { // well under a second on an idle machine; this one is shared
		t.Fatalf("New took %v", d)
	}
	if inv := sim.Inventory(); len(inv) != 10000 || len(sim.Accounts()) != 50 {
		t.Fatalf("inventory %d services, %d accounts", len(inv), len(sim.Accounts()))
	}
}

func TestAdminEndpoints(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(2)})
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var inv []fleet.Service
	get("/_fleetsim/inventory", &inv)
	if len(inv) != 4 || inv[0].ARN != serviceARN(region, memberA, "big", "svc-000") || inv[0].Tags["owner"] != "team-a" {
		t.Fatalf("inventory %+v", inv)
	}

	body := `[{"kind":"latency","op":"ListServices","latency":"1ms"},{"kind":"deployment-fail","account":"` + memberA + `","rate":0.5}]`
	resp, err := http.Post(h.srv.URL+"/_fleetsim/faults", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(h.sim.Faults()) != 2 || h.sim.Faults()[0].Latency != time.Millisecond {
		t.Fatalf("POST faults: %s %s", resp.Status, b)
	}
	resp, _ = http.Post(h.srv.URL+"/_fleetsim/faults", "application/json", strings.NewReader(`{"kind":"nonsense"}`))
	if resp.StatusCode != 400 {
		t.Fatalf("bad fault accepted: %s", resp.Status)
	}

	c := h.ecsFor(h.memberCreds(memberA, "run-7"), 1)
	forceDeploy(t, c, "small", "web")
	var st Stats
	get("/_fleetsim/stats", &st)
	day := t0.Format(time.DateOnly)
	if st.UpdateService[day][serviceARN(region, memberA, "small", "web")] != 1 || st.Calls["AssumeRole"][DefaultHubAccount] != 1 ||
		len(st.Sessions) != 1 || st.Sessions[0].SessionName != "run-7" {
		t.Fatalf("stats %+v", st)
	}
	var info Info
	get("/_fleetsim/accounts", &info)
	if !reflect.DeepEqual(info.Accounts, []string{memberA, memberB}) || info.Services != 4 || info.HubAccessKeyID != DefaultHubAccessKeyID {
		t.Fatalf("info %+v", info)
	}
	req, _ := http.NewRequest(http.MethodDelete, h.srv.URL+"/_fleetsim/faults", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 || len(h.sim.Faults()) != 0 {
		t.Fatalf("DELETE faults: %v %v", resp, err)
	}
}

func TestRawWireErrors(t *testing.T) {
	h := newHarness(t, Config{Fleet: smallFleet(1)})
	post := func(hdr map[string]string, body string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/", strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post(map[string]string{"X-Amz-Target": ecsTargetPrefix + "ListClusters", "Content-Type": "application/x-amz-json-1.1"}, "{}")
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" ||
		!strings.Contains(body, `"__type":"MissingAuthenticationTokenException"`) {
		t.Fatalf("unsigned ECS call: %s %v %s", resp.Status, resp.Header, body)
	}
	resp, body = post(map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "Action=GetCallerIdentity&Version=2011-06-15")
	if resp.StatusCode != 403 || !strings.Contains(body, "<Code>MissingAuthenticationToken</Code>") || !strings.Contains(body, "<Type>Sender</Type>") {
		t.Fatalf("unsigned STS call: %s %s", resp.Status, body)
	}
	auth := "AWS4-HMAC-SHA256 Credential=AKIDNOBODY/20260310/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=00"
	resp, body = post(map[string]string{"Authorization": auth, "X-Amz-Target": ecsTargetPrefix + "ListClusters"}, "{}")
	if resp.StatusCode != 400 || !strings.Contains(body, "UnrecognizedClientException") {
		t.Fatalf("unknown key: %s %s", resp.Status, body)
	}
}

// BenchmarkDescribeServices describes 10 services per call, through the
// real SDK client, from many goroutines over all accounts of a generated
// 10,000-service fleet.
func BenchmarkDescribeServices(b *testing.B) {
	sim, err := New(Config{Seed: 1, Accounts: 50, Clusters: 1000, Services: 10000, NoThrottle: true})
	if err != nil {
		b.Fatal(err)
	}
	srv := newServer(b, sim)
	type target struct {
		client  *ecs.Client
		cluster string
		names   []string
	}
	var targets []target
	clients := map[string]*ecs.Client{}
	for _, s := range sim.Inventory() {
		key := s.Account + "/" + s.Region
		if clients[key] == nil {
			h := &harness{sim: sim, srv: srv}
			c := ecs.New(ecs.Options{Region: s.Region, BaseEndpoint: aws.String(srv.URL), Credentials: h.memberCreds(s.Account, "bench")})
			clients[key] = c
		}
		if n := len(targets); n == 0 || targets[n-1].cluster != s.Cluster || len(targets[n-1].names) == 10 {
			targets = append(targets, target{client: clients[key], cluster: s.Cluster})
		}
		targets[len(targets)-1].names = append(targets[len(targets)-1].names, s.Service)
	}
	var mu sync.Mutex
	next := 0
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			tg := targets[next%len(targets)]
			next++
			mu.Unlock()
			if _, err := tg.client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{
				Cluster: aws.String(tg.cluster), Services: tg.names}); err != nil {
				b.Fatal(fmt.Errorf("describe %s: %w", tg.cluster, err))
			}
		}
	})
}

// TestConcurrentDiscoverAndRestart runs a discover-and-restart pass per
// account in parallel through the real clients (paginators, stscreds) and
// checks the fleet's counters: every ECS-controlled service restarted
// exactly once, nothing else touched.
func TestConcurrentDiscoverAndRestart(t *testing.T) {
	h := newHarness(t, Config{Seed: 5, Accounts: 6, Clusters: 30, Services: 400, ThrottleScale: 100})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for _, acct := range h.sim.Accounts() {
		for _, rg := range h.sim.Regions() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := ecs.New(ecs.Options{Region: rg, BaseEndpoint: aws.String(h.srv.URL), Credentials: h.memberCreds(acct, "run-"+acct)})
				cp := ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{})
				for cp.HasMorePages() {
					cl, err := cp.NextPage(ctx)
					if err != nil {
						errs <- err
						return
					}
					for _, carn := range cl.ClusterArns {
						sp := ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{Cluster: aws.String(carn), MaxResults: aws.Int32(100)})
						for sp.HasMorePages() {
							page, err := sp.NextPage(ctx)
							if err != nil {
								errs <- err
								return
							}
							for i := 0; i < len(page.ServiceArns); i += 10 {
								d, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(carn),
									Services: page.ServiceArns[i:min(i+10, len(page.ServiceArns))]})
								if err != nil {
									errs <- err
									return
								}
								for _, s := range d.Services {
									if s.DeploymentController.Type != "ECS" {
										continue
									}
									if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(carn), Service: s.ServiceArn, ForceNewDeployment: true}); err != nil {
										errs <- err
										return
									}
								}
							}
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	updates := h.sim.Stats().UpdateService[t0.Format(time.DateOnly)]
	want := 0
	for _, s := range h.sim.Inventory() {
		if s.DeploymentController != "ECS" {
			if updates[s.ARN] != 0 {
				t.Fatalf("%s (%s) was restarted", s.ARN, s.DeploymentController)
			}
			continue
		}
		want++
		if updates[s.ARN] != 1 {
			t.Fatalf("%s restarted %d times", s.ARN, updates[s.ARN])
		}
	}
	if len(updates) != want {
		t.Fatalf("%d services restarted, want %d", len(updates), want)
	}
}
