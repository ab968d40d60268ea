package fleet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func fitService(account, cluster, name string) Service {
	region := "us-east-1"
	return Service{
		Account: account, Region: region, Cluster: cluster, Service: name,
		ARN: fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", region, account, cluster, name),
	}
}

// fitBatch is a batch at offset at holding the services, in the given
// order (the tests name services so that it is also the ARN order).
func fitBatch(index int, at time.Duration, svcs ...Service) Batch {
	b := Batch{Index: index, Start: clock(at), Offset: at}
	for _, s := range svcs {
		b.Services = append(b.Services, s.ARN)
	}
	return b
}

func hm(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }

func TestFitDecidesEachClusterFromIssueTimesAndDurations(t *testing.T) {
	const acct, other = "111111111111", "222222222222"
	a1, a2 := fitService(acct, "alpha", "a1"), fitService(acct, "alpha", "a2")
	b1, b2 := fitService(acct, "beta", "b1"), fitService(acct, "beta", "b2")
	// Four clusters of one account, in ARN order.
	p1, p2, p3, z := fitService(acct, "p1", "s"), fitService(acct, "p2", "s"), fitService(acct, "p3", "s"), fitService(acct, "zeta", "s")
	c1, c2 := fitService(other, "gamma", "c1"), fitService(other, "gamma", "c2")
	c3 := fitService(other, "gamma", "c3")
	d1, d2, d3 := fitService(other, "delta", "d1"), fitService(other, "delta", "d2"), fitService(other, "delta", "d3")
	night := Window{Start: 0, Length: 6 * time.Hour, Interval: 10 * time.Minute}
	type want struct {
		cluster     string
		lastEnd     string
		afterWindow float64 // seconds
		deploying   int     // most at once, when more than the cap
		at          string
		overCap     float64 // seconds
		source      DurationSource
	}
	tests := []struct {
		name     string
		batches  []Batch
		services []Service
		window   Window
		rate     float64
		d        Durations
		clusters int
		want     []want // the clusters that do not fit
	}{
		{
			name:     "deployments that end before the window closes fit",
			batches:  []Batch{fitBatch(33, hm(5, 30), a1, a2)},
			services: []Service{a1, a2}, window: night, rate: 4,
			d:        Durations{Default: 10 * time.Minute},
			clusters: 1,
		},
		{
			name:     "a deployment that ends after the window does not fit, by the issue delay too",
			batches:  []Batch{fitBatch(33, hm(5, 30), a1, a2)},
			services: []Service{a1, a2}, window: night, rate: 4,
			d:        Durations{Default: 40 * time.Minute},
			clusters: 1,
			// a2 is issued 1/4 s after a1: 05:30:00.25 + 40m.
			want: []want{{cluster: acct + "/us-east-1/alpha", lastEnd: "06:10", afterWindow: 600.25, source: DurationDefault}},
		},
		{
			name:     "the account's pace delays the last of a batch past the window",
			batches:  []Batch{fitBatch(33, hm(5, 30), p1, p2, p3, z)},
			services: []Service{p1, p2, p3, z}, window: night, rate: 1.0 / 60,
			d:        Durations{Default: 28 * time.Minute},
			clusters: 4,
			// Issued 05:30, 05:31, 05:32, 05:33: the last ends 06:01.
			want: []want{{cluster: acct + "/us-east-1/zeta", lastEnd: "06:01", afterWindow: 60, source: DurationDefault}},
		},
		{
			name:     "without a pace the same batch fits",
			batches:  []Batch{fitBatch(33, hm(5, 30), p1, p2, p3, z)},
			services: []Service{p1, p2, p3, z}, window: night, rate: 0,
			d:        Durations{Default: 28 * time.Minute},
			clusters: 4,
		},
		{
			name:     "only the services of the same account and Region wait for each other",
			batches:  []Batch{fitBatch(33, hm(5, 30), b1, c1, b2, c2)},
			services: []Service{b1, b2, c1, c2}, window: night, rate: 1.0 / 60,
			// b2 and c2 are second in their accounts: issued 05:31, end 06:00.
			d:        Durations{Default: 29 * time.Minute},
			clusters: 2,
		},
		{
			name: "more of a cluster deploying at once than its spread allows does not fit",
			batches: []Batch{
				fitBatch(0, hm(0, 0), c1, d1),
				fitBatch(1, hm(0, 10), c2, d2),
				fitBatch(2, hm(0, 20), c3, d3),
			},
			services: []Service{c1, c2, c3, d1, d2, d3}, window: night, rate: 0,
			// 35 slots: each cluster may have ceil(3/35)+1 = 2 deploying.
			d: Durations{Cluster: map[string]time.Duration{
				// 00:00-00:25, 00:10-00:35, 00:20-00:45: three at 00:20.
				other + "/us-east-1/gamma": 25 * time.Minute,
				// 00:00-00:15, 00:10-00:25, 00:20-00:35: never more than two.
				other + "/us-east-1/delta": 15 * time.Minute,
			}},
			clusters: 2,
			// Three from 00:20 until the first ends at 00:25.
			want: []want{{cluster: other + "/us-east-1/gamma", lastEnd: "00:45", deploying: 3, at: "00:20", overCap: 300, source: DurationCluster}},
		},
		{
			name: "a cluster over its cap for less than a minute fits",
			batches: []Batch{
				fitBatch(0, hm(0, 0), c1),
				fitBatch(1, hm(0, 10), c2),
				fitBatch(2, hm(0, 20), c3),
			},
			services: []Service{c1, c2, c3}, window: night, rate: 0,
			// c1 runs until 00:20:59: three at once for 59 s.
			d:        Durations{Service: map[string]time.Duration{c1.ARN: 20*time.Minute + 59*time.Second}, Default: 20 * time.Minute},
			clusters: 1,
		},
		{
			name: "a cluster over its cap for a minute does not fit",
			batches: []Batch{
				fitBatch(0, hm(0, 0), c1),
				fitBatch(1, hm(0, 10), c2),
				fitBatch(2, hm(0, 20), c3),
			},
			services: []Service{c1, c2, c3}, window: night, rate: 0,
			d:        Durations{Service: map[string]time.Duration{c1.ARN: 21 * time.Minute}, Default: 20 * time.Minute},
			clusters: 1,
			want:     []want{{cluster: other + "/us-east-1/gamma", lastEnd: "00:40", deploying: 3, at: "00:20", overCap: 60, source: DurationObserved}},
		},
		{
			name: "a deployment ending as the next one starts is not running with it",
			batches: []Batch{
				fitBatch(0, hm(0, 0), c1),
				fitBatch(1, hm(0, 10), c2),
				fitBatch(2, hm(0, 20), c3),
			},
			services: []Service{c1, c2, c3}, window: night, rate: 0,
			// 00:00-00:20, 00:10-00:30, 00:20-00:40: two at any instant.
			d:        Durations{Default: 20 * time.Minute},
			clusters: 1,
		},
		{
			name: "a service's observed duration wins over its cluster's and the default",
			batches: []Batch{
				fitBatch(0, hm(5, 0), c1, d1),
			},
			services: []Service{c1, d1}, window: night, rate: 0,
			d: Durations{
				Service: map[string]time.Duration{c1.ARN: 70 * time.Minute},
				Cluster: map[string]time.Duration{other + "/us-east-1/gamma": time.Minute, other + "/us-east-1/delta": 50 * time.Minute},
				Default: time.Minute,
			},
			clusters: 2,
			want:     []want{{cluster: other + "/us-east-1/gamma", lastEnd: "06:10", afterWindow: 600, source: DurationObserved}},
		},
		{
			name: "a batch starts only once the previous one has issued its restarts",
			// 1200 restarts at 1/s keep batch 0 issuing until 00:19:59; the
			// 00:10 batch begins then and its deployment of 10m30s ends at
			// 00:30:29, after a 30-minute window. At its slot it would fit.
			batches:  []Batch{fitBatch(0, 0, manyServices(acct, "big", 1200)...), fitBatch(1, hm(0, 10), c1)},
			services: append(manyServices(acct, "big", 1200), c1),
			window:   Window{Start: 0, Length: 30 * time.Minute, Interval: 10 * time.Minute},
			rate:     1,
			d:        Durations{Cluster: map[string]time.Duration{acct + "/us-east-1/big": time.Second, other + "/us-east-1/gamma": 10*time.Minute + 30*time.Second}},
			clusters: 2,
			want:     []want{{cluster: other + "/us-east-1/gamma", lastEnd: "00:30", afterWindow: 29, source: DurationCluster}},
		},
		{
			name:     "a window that crosses midnight ends the next day",
			batches:  []Batch{fitBatch(0, hm(23, 50), a1), fitBatch(1, hm(24, 0), b1)},
			services: []Service{a1, b1},
			window:   Window{Start: hm(22, 0), Length: 3 * time.Hour, Interval: 10 * time.Minute},
			rate:     4,
			d:        Durations{Service: map[string]time.Duration{b1.ARN: 61 * time.Minute}, Default: 20 * time.Minute},
			clusters: 2,
			want:     []want{{cluster: acct + "/us-east-1/beta", lastEnd: "01:01", afterWindow: 60, source: DurationObserved}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Fit(tt.batches, tt.services, tt.window, tt.rate, tt.d)
			if r.Clusters != tt.clusters || r.Fitting != tt.clusters-len(tt.want) {
				t.Fatalf("clusters %d, fitting %d; want %d and %d (%+v)", r.Clusters, r.Fitting, tt.clusters, tt.clusters-len(tt.want), r.NotFitting)
			}
			if len(r.NotFitting) != len(tt.want) {
				t.Fatalf("not fitting %+v, want %+v", r.NotFitting, tt.want)
			}
			for i, w := range tt.want {
				g := r.NotFitting[i]
				if g.Cluster != w.cluster || g.LastEnd != w.lastEnd || g.Source != w.source ||
					math.Abs(g.AfterWindowSeconds-w.afterWindow) > 1e-6 || g.MaxDeploying != w.deploying || g.MaxDeployingAt != w.at || math.Abs(g.OverCapSeconds-w.overCap) > 1e-6 {
					t.Errorf("got %+v\nwant %+v", g, w)
				}
			}
		})
	}
}

func manyServices(account, cluster string, n int) []Service {
	out := make([]Service, n)
	for i := range out {
		out[i] = fitService(account, cluster, fmt.Sprintf("s%05d", i))
	}
	return out
}

func TestFitNamesTheClusterAndTheNumbersInItsReason(t *testing.T) {
	svcs := manyServices("123456789012", "payments", 3)
	batches := []Batch{
		fitBatch(31, hm(5, 10), svcs[0]),
		fitBatch(32, hm(5, 20), svcs[1]),
		fitBatch(33, hm(5, 30), svcs[2]),
	}
	// 34 slots: ceil(3/34)+1 = 2 of the cluster may deploy at once.
	w := DefaultWindow()
	r := Fit(batches, svcs, w, 4, Durations{Default: 25 * time.Minute})
	if len(r.NotFitting) != 1 {
		t.Fatalf("not fitting: %+v", r.NotFitting)
	}
	want := "123456789012/us-east-1/payments: 3 services, deployments take ~25m (default), " +
		"3 deploy at once from 05:30, more than the 2 its spread allows, for 5m"
	if got := r.NotFitting[0].Reason; got != want {
		t.Errorf("reason\n got %q\nwant %q", got, want)
	}
	if s := r.Summary(); s != "0 of 1 clusters fit the window; 1 do not" {
		t.Errorf("summary %q", s)
	}

	// Thirty-five-minute deployments also end after the window.
	r = Fit(batches, svcs, w, 4, Durations{Default: 35 * time.Minute})
	want = "123456789012/us-east-1/payments: 3 services, deployments take ~35m (default), " +
		"the last ends 06:05, 5m after the window; 3 deploy at once from 05:30, more than the 2 its spread allows, for 15m"
	if got := r.NotFitting[0].Reason; got != want {
		t.Errorf("reason\n got %q\nwant %q", got, want)
	}
}

func TestFitSkipsServicesItDoesNotKnowAndCountsEveryCluster(t *testing.T) {
	a, b := fitService("111111111111", "one", "x"), fitService("111111111111", "two", "y")
	batches := []Batch{fitBatch(0, 0, a, b)}
	r := Fit(batches, []Service{a}, DefaultWindow(), 4, Durations{})
	if r.Clusters != 1 || r.Fitting != 1 || !r.Fits() || r.Summary() != "all 1 clusters fit the window" {
		t.Fatalf("%+v %q", r, r.Summary())
	}
	if d, src := (Durations{}).For(a); d != DefaultDeploymentTime || src != DurationDefault {
		t.Fatalf("zero Durations: %v %s", d, src)
	}
}

func TestRoundDurReadsLikeAPerson(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:                       "30s",
		90 * time.Second:                       "1m30s",
		25*time.Minute + 20*time.Second:        "25m",
		2 * time.Hour:                          "2h",
		time.Hour + 5*time.Minute:              "1h5m",
		10*time.Minute + 29*time.Second:        "10m",
		9*time.Minute + 59*time.Second:         "9m59s",
		250 * time.Millisecond:                 "0s",
		600*time.Second + 250*time.Millisecond: "10m",
	} {
		if got := roundDur(d); got != want {
			t.Errorf("roundDur(%v) = %q, want %q", d, got, want)
		}
	}
}

// BenchmarkFit100k judges the fit of a planned night of 100,000 services
// in 1,000 clusters (what `restartctl plan` adds to the planning).
func BenchmarkFit100k(b *testing.B) {
	services := randomFleet(rand.New(rand.NewPCG(7, 7)), 100_000, 50, 1000)
	w := DefaultWindow()
	plan, err := PlanNight(services, EnrollAll, w)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Fit(plan.Batches, services, w, 4, Durations{Default: DefaultDeploymentTime})
	}
}
