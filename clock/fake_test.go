package clock_test

import (
	"testing"
	"time"

	"github.com/arborgo/arbor/clock"
)

func received(c <-chan time.Time) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Timers fire when the fake time reaches them, not before; Stop and Reset
// behave as time.Timer's.
func TestFakeTimers(t *testing.T) {
	start := time.Unix(100, 0)
	f := clock.NewFake(start)
	a, b := f.NewTimer(2*time.Second), f.NewTimer(time.Second)
	if f.Timers() != 2 {
		t.Fatalf("Timers = %d", f.Timers())
	}
	f.Advance(999 * time.Millisecond)
	if received(a.C()) || received(b.C()) {
		t.Fatal("a timer fired early")
	}
	f.Advance(time.Millisecond)
	if !received(b.C()) || received(a.C()) {
		t.Fatal("b should have fired, a not")
	}
	if !a.Stop() || a.Stop() {
		t.Fatal("Stop of an armed timer should report true once")
	}
	f.Advance(time.Hour)
	if received(a.C()) {
		t.Fatal("a stopped timer fired")
	}
	if a.Reset(time.Second) {
		t.Fatal("Reset of a stopped timer reported it armed")
	}
	f.Advance(time.Second)
	if !received(a.C()) {
		t.Fatal("a reset timer did not fire")
	}
	// Reset discards a value nobody received.
	c := f.NewTimer(time.Second)
	f.Advance(time.Second)
	c.Reset(time.Minute)
	if received(c.C()) {
		t.Fatal("Reset left a stale value")
	}
	if got := f.Now(); !got.Equal(start.Add(time.Hour + 3*time.Second)) {
		t.Fatalf("Now = %v", got)
	}
}

// AfterFunc runs its function when due; WaitForTimers waits for armed timers.
func TestFakeAfterFuncAndWait(t *testing.T) {
	f := clock.NewFake(time.Unix(0, 0))
	ran := make(chan struct{})
	go func() { f.AfterFunc(time.Second, func() { close(ran) }) }()
	if !f.WaitForTimers(1, nil) {
		t.Fatal("WaitForTimers gave up")
	}
	f.Advance(time.Second)
	<-ran
	done := make(chan struct{})
	close(done)
	if f.WaitForTimers(1, done) {
		t.Fatal("WaitForTimers should give up when done is closed")
	}
}
