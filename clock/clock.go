// Package clock is the time source of arbor's runtime, behind an interface so
// that tests can drive it.
//
// Real is the system clock. Fake is a manual clock for tests: time moves only
// when the test calls Advance, and WaitForTimers lets a test wait, without
// sleeping, until the code under test has armed the timers it is about to
// fire.
package clock

import "time"

// Clock tells the time and makes timers.
type Clock interface {
	// Now returns the current time. Durations between two Nows must be
	// monotonic: Real uses Go's monotonic clock reading.
	Now() time.Time
	// NewTimer returns a timer whose channel receives once, d after now.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine d after now, unless the timer is
	// stopped first.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a one-shot timer.
type Timer interface {
	// C is the channel the timer fires on. It is nil for AfterFunc timers.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether it did; false
	// means the timer had already fired or been stopped.
	Stop() bool
	// Reset makes the timer fire d after now, as if new; a value it sent
	// before and nobody received is discarded. It reports whether the timer
	// was armed. AfterFunc timers run their function again.
	Reset(d time.Duration) bool
}

// Real returns the system clock.
func Real() Clock { return realClock{} }

// Since returns the time elapsed on c since t, a time c gave. It is
// c.Now().Sub(t), but cheaper for the system clock, which then reads its
// monotonic clock alone (as time.Since does) instead of both the wall and
// the monotonic one: the runtime reads elapsed time on its hot paths.
func Since(c Clock, t time.Time) time.Duration {
	if s, ok := c.(sincer); ok {
		return s.Since(t)
	}
	return c.Now().Sub(t)
}

// sincer is a Clock that tells elapsed time more cheaply than Now.
type sincer interface {
	Since(t time.Time) time.Duration
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Since(t time.Time) time.Duration { return time.Since(t) }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{t: time.NewTimer(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{t: time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
