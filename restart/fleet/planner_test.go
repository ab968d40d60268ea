package fleet

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkPlan checks everything PlanNight promises: the skipped services are
// Classify's, every eligible one is in exactly one batch (so nothing is
// lost), and the batches have Schedule's properties.
func checkPlan(t testing.TB, services []Service, e Enrollment, w Window, p Plan) {
	t.Helper()
	c := Classify(services, e)
	if !reflect.DeepEqual(p.Skipped, c.Skipped) {
		t.Fatalf("skipped %d services, want Classify's %d", len(p.Skipped), len(c.Skipped))
	}
	planned := 0
	for _, b := range p.Batches {
		planned += len(b.Services)
	}
	if planned+len(p.Skipped) != len(services) {
		t.Fatalf("%d planned + %d skipped, want the %d inputs", planned, len(p.Skipped), len(services))
	}
	checkSchedule(t, c.Eligible, w, p.Batches)
}

var testWindows = []Window{
	DefaultWindow(),
	{Start: 22 * time.Hour, Length: 4 * time.Hour, Interval: 15 * time.Minute, VerifyReserve: 45 * time.Minute},
	{Start: 1 * time.Hour, Length: 1 * time.Hour, Interval: 30 * time.Minute}, // 2 slots
	{Start: 3 * time.Hour, Length: 1 * time.Hour, Interval: time.Hour},        // 1 slot
	{Length: 24 * time.Hour, Interval: 5 * time.Minute},                       // 288 slots
}

func TestPlanNightPropertiesOverRandomFleets(t *testing.T) {
	for _, n := range []int{0, 1, 5, 33, 34, 35, 200, 3000} {
		for wi, w := range testWindows {
			for seed := range uint64(3) {
				rng := rand.New(rand.NewPCG(seed, uint64(n)))
				clusters := 1 + rng.IntN(max(1, n/4))
				services := randomFleet(rng, n, 1+rng.IntN(10), clusters)
				for _, e := range []Enrollment{EnrollTagged, EnrollAll} {
					p, err := PlanNight(services, e, w)
					if err != nil {
						t.Fatalf("n=%d window %d seed %d: %v", n, wi, seed, err)
					}
					checkPlan(t, services, e, w, p)
				}
			}
		}
	}
}

func TestScheduleSpreadsLopsidedClusters(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, tc := range []struct {
		name  string
		sizes []int
		w     Window
	}{
		{"one cluster holds everything", []int{5000}, DefaultWindow()},
		{"one giant and many tiny clusters", append([]int{4000}, slices.Repeat([]int{3}, 300)...), DefaultWindow()},
		{"clusters just above the slot count", slices.Repeat([]int{35, 36, 70}, 20), DefaultWindow()},
		{"few slots, uneven clusters", []int{7, 7, 5, 4, 3, 1}, Window{Length: 3 * time.Hour, Interval: time.Hour}},
		{"big clusters in few slots", []int{100, 51, 50, 13, 2, 1}, Window{Length: 3 * time.Hour, Interval: time.Hour}},
		{"three-service clusters in many slots", slices.Repeat([]int{3}, 2000), Window{Length: 24 * time.Hour, Interval: time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var services []Service
			for c, k := range tc.sizes {
				for i := range k {
					name := fmt.Sprintf("s%d-%d", i, rng.IntN(1<<30))
					cluster := fmt.Sprintf("c%d", c)
					services = append(services, Service{
						Account: "123456789012", Region: "us-east-1", Cluster: cluster, Service: name,
						ARN: "arn:aws:ecs:us-east-1:123456789012:service/" + cluster + "/" + name, DesiredCount: 1,
					})
				}
			}
			batches, err := Schedule(services, tc.w)
			if err != nil {
				t.Fatal(err)
			}
			checkSchedule(t, services, tc.w, batches)
		})
	}
}

// TestScheduleRepairsWhenTheGreedyPassIsStuck builds fleets where placing
// services one by one runs into slots full of other clusters, and checks
// that the augmenting paths are taken and the result still holds.
func TestScheduleRepairsWhenTheGreedyPassIsStuck(t *testing.T) {
	w := Window{Length: 3 * time.Hour, Interval: time.Hour} // 3 slots
	augmented := 0
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 5))
		services := eligibleFleet(rng, 10+rng.IntN(30), 1, 1+rng.IntN(4))
		p := newPlanner(services, hashOrder(services), 0, w)
		if err := p.run(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		augmented += p.augmented
		checkSchedule(t, services, w, p.batches())
	}
	if augmented == 0 {
		t.Fatal("no fleet needed an augmenting path; the test no longer covers them")
	}
	t.Logf("%d services placed by augmenting paths", augmented)
}

func TestPlanNightDoesNotDependOnInputOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	services := randomFleet(rng, 5000, 20, 200)
	want, err := PlanNight(services, EnrollAll, DefaultWindow())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		rng.Shuffle(len(services), func(i, j int) { services[i], services[j] = services[j], services[i] })
		got, err := PlanNight(services, EnrollAll, DefaultWindow())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatal("shuffled input gives another plan")
		}
	}
}

// TestScheduleMovesFewServicesWhenOneIsAddedOrRemoved is the stability
// property: on 10,000 services in 34 slots, adding or removing one service
// moves a handful of others, where a sort-and-deal would move about half.
func TestScheduleMovesFewServicesWhenOneIsAddedOrRemoved(t *testing.T) {
	const n, trials = 10_000, 20
	rng := rand.New(rand.NewPCG(2, 2))
	services := eligibleFleet(rng, n+trials, 50, 1000)
	base, extra := services[:n], services[n:]
	w := DefaultWindow()
	b0, err := Schedule(base, w)
	if err != nil {
		t.Fatal(err)
	}
	before := slotsByARN(b0)
	var adds, removes []int
	for i := range trials {
		added := append(slices.Clip(base), extra[i])
		b, err := Schedule(added, w)
		if err != nil {
			t.Fatal(err)
		}
		checkSchedule(t, added, w, b)
		adds = append(adds, moved(before, slotsByARN(b)))

		k := rng.IntN(n)
		removed := append(slices.Clone(base[:k]), base[k+1:]...)
		b, err = Schedule(removed, w)
		if err != nil {
			t.Fatal(err)
		}
		checkSchedule(t, removed, w, b)
		removes = append(removes, moved(before, slotsByARN(b)))
	}
	t.Logf("moved on add: %v; on remove: %v", adds, removes)
	for _, m := range [][]int{adds, removes} {
		sum := 0
		for _, x := range m {
			sum += x
		}
		// 0.5% of the fleet at worst, 0.2% on average.
		if slices.Max(m) > n/200 || sum/len(m) > n/500 {
			t.Fatalf("moved %v services, want at most %d and %d on average", m, n/200, n/500)
		}
	}
}

func TestScheduleKeepsSlotPreferencesWhenTheWindowShrinks(t *testing.T) {
	services := eligibleFleet(rand.New(rand.NewPCG(4, 4)), 3400, 10, 100)
	long := DefaultWindow()
	short := long
	short.Length -= time.Hour // 28 slots instead of 34
	b0, err := Schedule(services, long)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := Schedule(services, short)
	if err != nil {
		t.Fatal(err)
	}
	before, after := slotsByARN(b0), slotsByARN(b1)
	kept := 0
	for a, s := range before {
		if after[a] == s {
			kept++
		}
	}
	// Services in the 28 remaining slots (28/34 of them) mostly stay: at
	// least 3/4 of those.
	if want := len(services) * 28 / 34 * 3 / 4; kept < want {
		t.Fatalf("%d services kept their slot, want at least %d", kept, want)
	}
}

func TestScheduleOmitsEmptySlotsAndKeepsSlotIndexes(t *testing.T) {
	services := []Service{svc("a"), svc("b"), svc("c")}
	batches, err := Schedule(services, DefaultWindow())
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 3 {
		t.Fatalf("%d batches, want 3 of one service each", len(batches))
	}
	checkSchedule(t, services, DefaultWindow(), batches)
}

func TestPlanNightSaysWhyItCannotPlan(t *testing.T) {
	services := []Service{svc("a")}
	for _, tc := range []struct {
		name string
		e    Enrollment
		w    Window
		want string
	}{
		{"empty window", EnrollTagged, Window{}, "window is empty"},
		{"verify reserve fills the window", EnrollTagged, Window{Length: time.Hour, Interval: 10 * time.Minute, VerifyReserve: time.Hour}, "no time to restart"},
		{"unknown enrollment", "some", DefaultWindow(), `enrollment "some"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PlanNight(services, tc.e, tc.w)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := Schedule([]Service{svc("a"), svc("a")}, DefaultWindow()); err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Fatalf("duplicate ARN: err = %v", err)
	}
}

func TestPlanJSONIsTheContract(t *testing.T) {
	services := []Service{svc("a"), svc("z", func(s *Service) { s.DesiredCount = 0 })}
	p, err := PlanNight(services, EnrollTagged, Window{Start: 23 * time.Hour, Length: time.Hour, Interval: 10 * time.Minute, VerifyReserve: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(p)
	want := `{"batches":[{"index":IDX,"start":"START","services":["arn:aws:ecs:us-east-1:123456789012:service/web/a"]}],` +
		`"skipped":[{"arn":"arn:aws:ecs:us-east-1:123456789012:service/web/z","reason":"desired-count-zero"}]}`
	want = strings.NewReplacer("IDX", fmt.Sprint(p.Batches[0].Index), "START", p.Batches[0].Start).Replace(want)
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	empty, err := PlanNight(nil, EnrollTagged, DefaultWindow())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(empty); string(got) != `{"batches":[],"skipped":[]}` {
		t.Fatalf("empty plan is %s, want empty arrays", got)
	}
}

// FuzzPlanNight plans random fleets in random windows and checks every
// property of the plan; a window that cannot be planned must be reported.
func FuzzPlanNight(f *testing.F) {
	f.Add(uint64(1), uint16(100), uint8(5), uint16(0), uint16(360), uint8(10), true)
	f.Add(uint64(2), uint16(1000), uint8(3), uint16(1320), uint16(240), uint8(15), false)
	f.Add(uint64(3), uint16(40), uint8(1), uint16(60), uint16(180), uint8(60), true)
	f.Add(uint64(4), uint16(7), uint8(200), uint16(1439), uint16(1440), uint8(1), true)
	f.Add(uint64(5), uint16(3), uint8(2), uint16(0), uint16(30), uint8(10), true)
	f.Add(uint64(6), uint16(500), uint8(2), uint16(0), uint16(120), uint8(0), false)
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, clusters uint8, startMin, lengthMin uint16, intervalMin uint8, tagged bool) {
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		services := randomFleet(rng, int(n%3000), 1+int(clusters%16), 1+int(clusters))
		w := Window{
			Start:         time.Duration(startMin) * time.Minute,
			Length:        time.Duration(lengthMin) * time.Minute,
			Interval:      time.Duration(intervalMin) * time.Minute,
			VerifyReserve: DefaultVerifyReserve,
		}
		e := EnrollAll
		if tagged {
			e = EnrollTagged
		}
		p, err := PlanNight(services, e, w)
		if w.Validate() != nil {
			if err == nil {
				t.Fatalf("window %+v is invalid but was planned", w)
			}
			return
		}
		if err != nil {
			t.Fatalf("window %+v: %v", w, err)
		}
		checkPlan(t, services, e, w, p)
	})
}
