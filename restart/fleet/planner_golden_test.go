package fleet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"
	"time"
)

// The plan of a given inventory is part of the contract: a faster planner
// must place every service in the same batch and skip the same services
// for the same reasons, or a night would move services between batches for
// no reason of theirs. These digests of `restartctl plan`'s output pin it
// over fleets with every skip reason, duplicates, lopsided clusters and
// windows from 1 to 1,440 slots.
func TestPlanNightKeepsItsPlans(t *testing.T) {
	minute := Window{Start: 22 * time.Hour, Length: 24 * time.Hour, Interval: time.Minute}
	for _, tc := range []struct {
		name                string
		n, accounts, clusts int
		seed                uint64
		enrollment          Enrollment
		w                   Window
		want                string
	}{
		{"tagged default window", 20000, 30, 400, 1, EnrollTagged, DefaultWindow(), "0ca2ba49779dc732"},
		{"all default window", 20000, 30, 400, 2, EnrollAll, DefaultWindow(), "5fdf5f646bdf91c7"},
		{"few big clusters", 5000, 2, 5, 3, EnrollAll, DefaultWindow(), "d8ab7e0399bcbf70"},
		{"minute slots", 20000, 10, 2000, 4, EnrollAll, minute, "2df0979d19f491f5"},
		{"one slot", 500, 3, 20, 5, EnrollTagged, Window{Start: 3 * time.Hour, Length: time.Hour, Interval: time.Hour}, "3af38a0679ce36be"},
		{"three slots", 3000, 3, 50, 6, EnrollAll, Window{Length: 3 * time.Hour, Interval: time.Hour}, "b6a92df736662397"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			services := randomFleet(rand.New(rand.NewPCG(tc.seed, 99)), tc.n, tc.accounts, tc.clusts)
			// Copies of some services, identical and differing, for the
			// duplicate-arn rule.
			for i := 0; i < len(services)/50; i += 7 {
				dup := services[i]
				if i%2 == 0 {
					dup.DesiredCount++
				}
				services = append(services, dup)
			}
			p, err := PlanNight(services, tc.enrollment, tc.w)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := p.WriteJSON(&b); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b.Bytes())
			if got := hex.EncodeToString(sum[:8]); got != tc.want {
				t.Errorf("plan digest %s, want %s: the planner places services differently than before", got, tc.want)
			}
		})
	}
}
