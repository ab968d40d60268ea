package fleet

import (
	"fmt"
	"time"
)

// The default window: batches start every 10 minutes from 00:00, and the
// window closes at 06:00.
const (
	DefaultWindowStart   = 0 * time.Hour
	DefaultWindowLength  = 6 * time.Hour
	DefaultBatchInterval = 10 * time.Minute
	// DefaultVerifyReserve keeps the last 30 minutes of the window free of
	// batch starts: a rolling deployment of a typical service (new tasks
	// pass health checks, old ones drain for the ALB's deregistration
	// delay, 5 minutes by default) finishes well within it, so the last
	// batch is verified before the window closes. With the defaults the
	// last batch starts at 05:30 and the night has 34 batches.
	DefaultVerifyReserve = 30 * time.Minute
	// MaxWindowLength is one day: a longer window would overlap the next
	// night's run.
	MaxWindowLength = 24 * time.Hour
)

// DefaultWindow returns the 00:00-06:00 window with 10-minute batches and
// the default verify reserve.
func DefaultWindow() Window {
	return Window{
		Start:         DefaultWindowStart,
		Length:        DefaultWindowLength,
		Interval:      DefaultBatchInterval,
		VerifyReserve: DefaultVerifyReserve,
	}
}

// ParseWindow builds a window from the restartctl flags: start as "HH:MM"
// local time, the window length and the batch interval. The verify reserve
// is DefaultVerifyReserve. The result is validated (see Window.Validate).
func ParseWindow(start string, length, interval time.Duration) (Window, error) {
	s, err := ParseClock(start)
	if err != nil {
		return Window{}, fmt.Errorf("window start: %w", err)
	}
	w := Window{Start: s, Length: length, Interval: interval, VerifyReserve: DefaultVerifyReserve}
	if err := w.Validate(); err != nil {
		return Window{}, err
	}
	return w, nil
}

// ParseClock parses a local time of day "HH:MM" (00:00 to 23:59) into an
// offset from midnight.
func ParseClock(s string) (time.Duration, error) {
	if len(s) != 5 || s[2] != ':' || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[3]) || !isDigit(s[4]) {
		return 0, fmt.Errorf("%q: want HH:MM, like 00:00 or 22:30", s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("%q: want a time between 00:00 and 23:59", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Validate reports why a window cannot be planned, if it cannot. Batch
// starts are printed as "HH:MM", so the start and the interval must be whole
// minutes; the window lasts at most a day, the interval fits in it, and the
// verify reserve leaves time for at least the first batch to start.
func (w Window) Validate() error {
	switch {
	case w.Start < 0 || w.Start >= 24*time.Hour:
		return fmt.Errorf("window start %v: want a time of day between 00:00 and 23:59", w.Start)
	case w.Start%time.Minute != 0:
		return fmt.Errorf("window start %v: want whole minutes, batch starts are HH:MM", w.Start)
	case w.Length <= 0:
		return fmt.Errorf("window length %v: the window is empty, want a length such as 6h", w.Length)
	case w.Length > MaxWindowLength:
		return fmt.Errorf("window length %v: want at most 24h, a longer window overlaps the next night", w.Length)
	case w.Interval <= 0:
		return fmt.Errorf("batch interval %v: want a positive interval such as 10m", w.Interval)
	case w.Interval%time.Minute != 0:
		return fmt.Errorf("batch interval %v: want whole minutes, batch starts are HH:MM", w.Interval)
	case w.Interval > w.Length:
		return fmt.Errorf("batch interval %v: longer than the %v window, want at most the window length", w.Interval, w.Length)
	case w.VerifyReserve < 0:
		return fmt.Errorf("verify reserve %v: want zero or more", w.VerifyReserve)
	case w.VerifyReserve >= w.Length:
		return fmt.Errorf("window length %v: leaves no time to restart before the %v kept to verify the last batch, want a window longer than %v",
			w.Length, w.VerifyReserve, w.VerifyReserve)
	}
	return nil
}

// Slots is the number of batch starts in the window: every Interval from
// Start, the last no later than Length-VerifyReserve after Start and before
// the window closes (which matters without a reserve: a 6h window of 10m
// batches then ends with a batch at 05:50, not 06:00). An invalid window
// has no slots.
func (w Window) Slots() int {
	if w.Validate() != nil {
		return 0
	}
	n := int((w.Length-w.VerifyReserve)/w.Interval) + 1
	if w.VerifyReserve == 0 && w.Length%w.Interval == 0 {
		n--
	}
	return n
}

// SlotOffset is the start of slot i as an offset from the midnight before
// the window opens; it passes 24h when the window crosses midnight, so that
// adding it to that midnight gives the slot's time.
func (w Window) SlotOffset(i int) time.Duration {
	return w.Start + time.Duration(i)*w.Interval
}

// SlotStart is the start of slot i as "HH:MM" local time, wrapped past
// midnight (a 22:00 window's seventh hourly slot starts at "04:00").
func (w Window) SlotStart(i int) string {
	return clock(w.SlotOffset(i))
}

// clock formats an offset from midnight as "HH:MM", modulo one day.
func clock(d time.Duration) string {
	m := int((d % (24 * time.Hour)) / time.Minute)
	if m < 0 {
		m += 24 * 60
	}
	return string([]byte{
		byte('0' + m/600), byte('0' + m/60%10), ':',
		byte('0' + m%60/10), byte('0' + m%10),
	})
}
