package fleet

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkPlanNight100k plans a night of 100,000 services in 1,000
// clusters over 50 accounts, eligibility included, in the default window.
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
