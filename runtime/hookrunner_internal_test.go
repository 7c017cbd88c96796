package runtime

import (
	goruntime "runtime"
	"sync"
	"testing"
	"time"
)

// Two stuck calls of one hook count as two: the first to return does not
// let events through while the other is still stuck.
func TestStuckHookCallsAreCounted(t *testing.T) {
	release := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	var mu sync.Mutex
	var seen []string
	sink := &eventSink{hook: func(e Event) {
		mu.Lock()
		seen = append(seen, e.Supervisor)
		mu.Unlock()
		if c := release[e.Supervisor]; c != nil {
			<-c
		}
	}}
	sink.slow.Store(true) // nothing to report through slog in a test
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &eventRunner{sink: sink, timeout: 10 * time.Millisecond}
			r.report(Event{Supervisor: name})
		}()
	}
	wg.Wait() // both reports gave up on their calls
	if n := sink.stuck.Load(); n != 2 {
		t.Fatalf("%d stuck calls counted, want 2", n)
	}
	close(release["a"])
	for deadline := time.Now().Add(10 * time.Second); sink.stuck.Load() != 1; {
		if time.Now().After(deadline) {
			t.Fatal("a's call returned but is still counted as stuck")
		}
		goruntime.Gosched() // no event tells when a stuck call has returned
	}
	r := &eventRunner{sink: sink, timeout: time.Second}
	r.report(Event{Supervisor: "c"})
	mu.Lock()
	for _, s := range seen {
		if s == "c" {
			t.Fatal("an event reached the hook while a call of it was still stuck")
		}
	}
	mu.Unlock()
	close(release["b"])
	for sink.stuck.Load() != 0 {
		goruntime.Gosched()
	}
}
