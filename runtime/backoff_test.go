package runtime_test

import (
	"errors"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
)

func backoff(min, max time.Duration) childOpt {
	return func(s *runtime.ChildSpec, _ *workerOpts) {
		s.Backoff = &runtime.Backoff{Min: min, Max: max}
	}
}

// restartAfter crashes id and checks that it restarts only once the clock
// has moved by want: it is restarting until then.
func restartAfter(t *testing.T, tr *tree, sup *runtime.Supervisor, id string, want time.Duration) {
	t.Helper()
	starts := tr.startCount(id)
	tr.exitWith(sup, id, errCrash)
	wantIDs(t, sup, id+"=restarting")
	if !tr.clk.WaitForTimers(1, sup.Done()) {
		t.Fatal("no backoff timer")
	}
	tr.clk.Advance(want - time.Millisecond)
	wantIDs(t, sup, id+"=restarting")
	tr.clk.Advance(time.Millisecond)
	tr.events.waitFor(t, 0, id+" restarted", func(e runtime.Event) bool {
		return e.Kind == runtime.ChildStarted && e.Child.ID == id && tr.startCount(id) == starts+1
	})
	wantIDs(t, sup, id+"=running")
}

// Backoff doubles from Min up to Max, and starts again from Min after the
// child has stayed up for Max.
func TestBackoffDelays(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForOne, 100, 5),
		Children: []runtime.ChildSpec{tr.child("x", backoff(time.Second, 4*time.Second))}})
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		restartAfter(t, tr, sup, "x", want)
	}
	tr.clk.Advance(4 * time.Second) // up for Max
	restartAfter(t, tr, sup, "x", time.Second)
}

// Each restart counts towards the intensity when it is decided, before the
// delay: backoff never lets a crash loop outlive OTP's rule.
func TestBackoffCountsWhenDecided(t *testing.T) {
	tr := newTree(t)
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForOne, 1, 60),
		Children: []runtime.ChildSpec{tr.child("x", backoff(time.Second, time.Minute))}})
	if err != nil {
		t.Fatal(err)
	}
	restartAfter(t, tr, sup, "x", time.Second)
	tr.exitWith(sup, "x", errCrash) // the 2nd restart within 60s: refused at once
	if err := sup.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("Wait = %v", err)
	}
	if n := tr.clk.Timers(); n != 0 {
		t.Fatalf("%d timers left armed", n)
	}
}

// With one_for_all, the siblings stop at once and the group starts after
// the delay; terminate_child during the delay cancels the restart.
func TestBackoffGroupAndCancel(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForAll, 10, 5),
		Children: []runtime.ChildSpec{tr.child("a"), tr.child("x", backoff(time.Second, time.Minute))}})
	tr.takeLog()
	tr.exitWith(sup, "x", errCrash)
	wantIDs(t, sup, "x=restarting", "a=undefined")
	wantLog(t, tr, "exit:x", "stop:a")
	tr.clk.WaitForTimers(1, nil)
	tr.clk.Advance(time.Second)
	tr.events.waitFor(t, 0, "x restarted", func(e runtime.Event) bool {
		return e.Kind == runtime.ChildStarted && e.Child.ID == "x" && tr.startCount("x") == 2
	})
	wantIDs(t, sup, "x=running", "a=running")
	wantLog(t, tr, "start:a", "start:x")

	tr.exitWith(sup, "x", errCrash)
	if err := sup.TerminateChild(tr.ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if n := tr.clk.Timers(); n != 0 {
		t.Fatalf("terminate_child left %d timers", n)
	}
	wantIDs(t, sup, "x=undefined", "a=undefined")
}
