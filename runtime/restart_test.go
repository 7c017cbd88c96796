package runtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/arborgo/arbor/runtime"
	"github.com/google/go-cmp/cmp"
)

var errNoStart = errors.New("cannot start")

// §3.3, §3.7: a failed restart is retried through the supervisor's own
// loop, and every retry counts.
func TestFailedRestartIsRetriedAndCounted(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForOne, 3, 5), Children: []runtime.ChildSpec{tr.child("x")}})
	tr.failNext("x", errNoStart, errNoStart)
	tr.exitWith(sup, "x", errCrash) // restart 1 fails, retry 2 fails, retry 3 starts
	tr.events.waitFor(t, 0, "x started again", func(e runtime.Event) bool {
		return e.Kind == runtime.ChildStarted && tr.startCount("x") == 4
	})
	wantIDs(t, sup, "x=running")
	if diff := cmp.Diff([]string{"start_error:x", "start_error:x"}, tr.events.kinds(runtime.StartError)); diff != "" {
		t.Fatal(diff)
	}
	// The window now holds 3 restarts: the next crash gives up.
	tr.exitWith(sup, "x", errCrash)
	if err := sup.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("Wait = %v", err)
	}
}

// OTP's one_for_one_escalation: a child that cannot be restarted drives the
// supervisor to give up.
func TestRetriesEscalate(t *testing.T) {
	for _, s := range []runtime.Strategy{runtime.OneForOne, runtime.OneForAll, runtime.RestForOne} {
		t.Run(s.String(), func(t *testing.T) {
			tr := newTree(t)
			sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s", Flags: flags(s, 3, 5), Children: []runtime.ChildSpec{tr.child("a"), tr.child("b")}})
			if err != nil {
				t.Fatal(err)
			}
			tr.failAlways("a", errNoStart)
			tr.exitWith(sup, "a", errCrash)
			if err := sup.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
				t.Fatalf("Wait = %v", err)
			}
			if got := len(tr.events.kinds(runtime.StartError)); got != 3 {
				t.Fatalf("start errors = %d, want 3 (restart + 2 retries)", got)
			}
		})
	}
}

// §3.7, OTP's hanging_restart_loop: while a child is being restarted, the
// API shows it, refuses restart_child and delete_child, and terminate_child
// cancels the retry loop.
func TestTerminateChildCancelsRetryLoop(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForOne, 1_000_000, 5), Children: []runtime.ChildSpec{tr.child("x")}})
	tr.failAlways("x", errNoStart)
	tr.exitWith(sup, "x", errCrash)
	info, err := sup.WhichChild(tr.ctx, "x")
	if err != nil || !info.Restarting || !info.Handle.IsZero() {
		t.Fatalf("WhichChild = %+v, %v; want restarting", info, err)
	}
	if _, err := sup.RestartChild(tr.ctx, "x"); !errors.Is(err, runtime.ErrRestarting) {
		t.Fatalf("RestartChild = %v, want ErrRestarting", err)
	}
	if err := sup.DeleteChild(tr.ctx, "x"); !errors.Is(err, runtime.ErrRestarting) {
		t.Fatalf("DeleteChild = %v, want ErrRestarting", err)
	}
	if _, err := sup.StartChild(tr.ctx, tr.child("x")); !errors.Is(err, runtime.ErrAlreadyPresent) {
		t.Fatalf("StartChild = %v, want ErrAlreadyPresent", err)
	}
	if n, _ := sup.CountChildren(tr.ctx); n.Active != 0 || n.Specs != 1 {
		t.Fatalf("counts = %+v, want 1 spec, 0 active", n)
	}
	if err := sup.TerminateChild(tr.ctx, "x"); err != nil {
		t.Fatal(err)
	}
	starts := tr.startCount("x")
	wantIDs(t, sup, "x=undefined") // a retry queued before the terminate has run by now
	wantIDs(t, sup, "x=undefined")
	if got := tr.startCount("x"); got != starts {
		t.Fatalf("starts went on after terminate_child: %d -> %d", starts, got)
	}
	tr.stopFailing("x")
	if _, err := sup.RestartChild(tr.ctx, "x"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, sup, "x=running")
}

// A supervisor stopped during a retry loop stops without hanging.
func TestStopDuringRetryLoop(t *testing.T) {
	tr := newTree(t)
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForOne, 1_000_000, 5), Children: []runtime.ChildSpec{tr.child("a"), tr.child("x")}})
	if err != nil {
		t.Fatal(err)
	}
	tr.failAlways("x", errNoStart)
	tr.exitWith(sup, "x", errCrash)
	if err := sup.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// OTP's one_for_all_other_child_fails_restart: a is restarted, b fails; the
// retry stops a again and starts both.
func TestOneForAllOtherChildFailsRestart(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForAll, 3, 5), Children: []runtime.ChildSpec{tr.child("a"), tr.child("b")}})
	tr.takeLog()
	tr.failNext("b", errNoStart)
	tr.exitWith(sup, "a", errCrash)
	tr.events.waitFor(t, 0, "b started", func(e runtime.Event) bool {
		return e.Kind == runtime.ChildStarted && e.Child.ID == "b" && tr.startCount("b") == 3
	})
	wantIDs(t, sup, "b=running", "a=running")
	wantLog(t, tr, "exit:a", "stop:b", "start:a", "stop:a", "start:a", "start:b")
}

// OTP's rest_for_one_other_child_fails_restart: the retry splits at the
// child that failed, so a is not restarted again.
func TestRestForOneOtherChildFailsRestart(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.RestForOne, 3, 5), Children: []runtime.ChildSpec{tr.child("a"), tr.child("b"), tr.child("c")}})
	tr.takeLog()
	tr.failNext("b", errNoStart)
	tr.exitWith(sup, "a", errCrash)
	tr.events.waitFor(t, 0, "c started", func(e runtime.Event) bool {
		return e.Kind == runtime.ChildStarted && e.Child.ID == "c" && tr.startCount("c") == 2
	})
	wantIDs(t, sup, "c=running", "b=running", "a=running")
	wantLog(t, tr, "exit:a", "stop:c", "stop:b", "start:a", "start:b", "start:c")
}

// §3.4: one_for_all restarts every remaining spec, including children that
// were stopped through the API or exited normally.
func TestOneForAllRestartsStoppedSpecs(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForAll, 3, 5),
		Children: []runtime.ChildSpec{tr.child("a"), tr.child("t", restart(runtime.Transient)), tr.child("stopped")}})
	tr.exitWith(sup, "t", nil)
	if err := sup.TerminateChild(tr.ctx, "stopped"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, sup, "stopped=undefined", "t=undefined", "a=running")
	tr.exitWith(sup, "a", errCrash)
	wantIDs(t, sup, "stopped=running", "t=running", "a=running")
}
