package fleet

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkPlanNight100k plans a night of 100,000 services in 1,000
// clusters over 50 accounts, eligibility included, in the default window.
// Issue 12's target: under 0.1 s.
func BenchmarkPlanNight100k(b *testing.B) {
	services := randomFleet(rand.New(rand.NewPCG(7, 7)), 100_000, 50, 1000)
	w := DefaultWindow()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PlanNight(services, EnrollAll, w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSchedule100kMinuteSlots schedules 100,000 eligible services over
// a day of one-minute slots (1,440), the most slots a window can have.
func BenchmarkSchedule100kMinuteSlots(b *testing.B) {
	services := eligibleFleet(rand.New(rand.NewPCG(7, 7)), 100_000, 50, 1000)
	w := Window{Length: 24 * time.Hour, Interval: time.Minute}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Schedule(services, w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanInventory100k is `restartctl plan` without the process:
// read a 100,000-service inventory, plan it, write the plan's JSON.
func BenchmarkPlanInventory100k(b *testing.B) {
	data, err := json.Marshal(randomFleet(rand.New(rand.NewPCG(7, 7)), 100_000, 50, 1000))
	if err != nil {
		b.Fatal(err)
	}
	w := DefaultWindow()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		services, err := ReadInventory(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		p, err := PlanNight(services, EnrollAll, w)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.WriteJSON(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
