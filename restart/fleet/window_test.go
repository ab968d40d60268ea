package fleet

import (
	"strings"
	"testing"
	"time"
)

func TestParseWindowDefaultsGiveThirtyFourBatchesEndingAt0530(t *testing.T) {
	w, err := ParseWindow("00:00", 6*time.Hour, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if w != DefaultWindow() {
		t.Fatalf("ParseWindow(00:00, 6h, 10m) = %+v, want DefaultWindow() %+v", w, DefaultWindow())
	}
	if got := w.Slots(); got != 34 {
		t.Fatalf("slots = %d, want 34", got)
	}
	if got := w.SlotStart(33); got != "05:30" {
		t.Fatalf("last slot starts %s, want 05:30 (30m kept to verify)", got)
	}
}

func TestWindowSlots(t *testing.T) {
	for _, tc := range []struct {
		name   string
		w      Window
		starts []string
		offset time.Duration // of the last slot
	}{
		{
			name:   "wraps past midnight",
			w:      Window{Start: 22 * time.Hour, Length: 6 * time.Hour, Interval: time.Hour, VerifyReserve: 30 * time.Minute},
			starts: []string{"22:00", "23:00", "00:00", "01:00", "02:00", "03:00"},
			offset: 27 * time.Hour,
		},
		{
			name:   "without a reserve the last batch starts before the window closes",
			w:      Window{Length: time.Hour, Interval: 20 * time.Minute},
			starts: []string{"00:00", "00:20", "00:40"},
			offset: 40 * time.Minute,
		},
		{
			name:   "an interval that does not divide the window leaves the tail unused",
			w:      Window{Start: 23*time.Hour + 45*time.Minute, Length: time.Hour, Interval: 25 * time.Minute, VerifyReserve: 10 * time.Minute},
			starts: []string{"23:45", "00:10", "00:35"},
			offset: 23*time.Hour + 95*time.Minute,
		},
		{
			name:   "one slot when the interval is as long as the usable window",
			w:      Window{Start: time.Hour, Length: time.Hour, Interval: time.Hour, VerifyReserve: 30 * time.Minute},
			starts: []string{"01:00"},
			offset: time.Hour,
		},
		{
			name:   "a whole day of minutes",
			w:      Window{Length: 24 * time.Hour, Interval: time.Minute},
			starts: nil, // checked by count below
			offset: 24*time.Hour - time.Minute,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.w.Slots()
			if tc.starts != nil {
				var got []string
				for i := range n {
					got = append(got, tc.w.SlotStart(i))
				}
				if strings.Join(got, " ") != strings.Join(tc.starts, " ") {
					t.Fatalf("starts %v, want %v", got, tc.starts)
				}
			} else if n != 1440 {
				t.Fatalf("slots = %d, want 1440", n)
			}
			if got := tc.w.SlotOffset(n - 1); got != tc.offset {
				t.Fatalf("last offset %v, want %v", got, tc.offset)
			}
		})
	}
}

func TestParseWindowRejectsWithAReason(t *testing.T) {
	for _, tc := range []struct {
		start            string
		length, interval time.Duration
		want             string
	}{
		{"24:00", 6 * time.Hour, 10 * time.Minute, "between 00:00 and 23:59"},
		{"00:60", 6 * time.Hour, 10 * time.Minute, "between 00:00 and 23:59"},
		{"7:00", 6 * time.Hour, 10 * time.Minute, "want HH:MM"},
		{"", 6 * time.Hour, 10 * time.Minute, "want HH:MM"},
		{"ab:cd", 6 * time.Hour, 10 * time.Minute, "want HH:MM"},
		{"00:00", 0, 10 * time.Minute, "window is empty"},
		{"00:00", -time.Hour, 10 * time.Minute, "window is empty"},
		{"00:00", 25 * time.Hour, 10 * time.Minute, "at most 24h"},
		{"00:00", 6 * time.Hour, 0, "positive interval"},
		{"00:00", 6 * time.Hour, 90 * time.Second, "whole minutes"},
		{"00:00", 6 * time.Hour, 7 * time.Hour, "longer than the 6h0m0s window"},
		{"00:00", 30 * time.Minute, 10 * time.Minute, "verify the last batch"},
	} {
		_, err := ParseWindow(tc.start, tc.length, tc.interval)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseWindow(%q, %v, %v) = %v, want an error containing %q", tc.start, tc.length, tc.interval, err, tc.want)
		}
	}
}

func TestInvalidWindowHasNoSlots(t *testing.T) {
	if n := (Window{}).Slots(); n != 0 {
		t.Fatalf("zero window has %d slots, want 0", n)
	}
	if err := (Window{Start: 90 * time.Second, Length: time.Hour, Interval: time.Minute}).Validate(); err == nil {
		t.Fatal("start 00:01:30 accepted, want whole minutes")
	}
}
