package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
	"github.com/google/go-cmp/cmp"
)

func flags(s runtime.Strategy, maxR, maxS int) runtime.Flags {
	return runtime.Flags{Strategy: s, MaxRestarts: maxR, MaxSeconds: maxS}
}

func wantLog(t *testing.T, tr *tree, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, tr.takeLog()); diff != "" {
		t.Fatalf("log (-want +got):\n%s", diff)
	}
}

func wantIDs(t *testing.T, sup *runtime.Supervisor, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, ids(t, sup)); diff != "" {
		t.Fatalf("which_children (-want +got):\n%s", diff)
	}
}

// §3.1, §3.2: children start in list order and stop in reverse.
func TestStartInOrderStopInReverse(t *testing.T) {
	tr := newTree(t)
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{
		Name:     "top",
		Flags:    flags(runtime.OneForOne, 3, 5),
		Children: []runtime.ChildSpec{tr.child("a"), tr.child("b"), tr.child("c")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantLog(t, tr, "start:a", "start:b", "start:c")
	wantIDs(t, sup, "c=running", "b=running", "a=running")
	if err := sup.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantLog(t, tr, "stop:c", "stop:b", "stop:a")
	if err := sup.Wait(); err != nil {
		t.Fatalf("Wait after Stop = %v, want nil (normal)", err)
	}
	if _, err := sup.WhichChildren(context.Background()); !errors.Is(err, runtime.ErrNoProc) {
		t.Fatalf("call after stop = %v, want ErrNoProc", err)
	}
}

// Cancelling the context given to StartSupervisor stops the tree in reverse
// order, and Wait returns a shutdown-class reason.
func TestCancelContextStopsTree(t *testing.T) {
	tr := newTree(t)
	ctx, cancel := context.WithCancel(tr.ctx)
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
		Name:     "top",
		Children: []runtime.ChildSpec{tr.child("a"), tr.child("b")},
	})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := sup.Wait(); !runtime.IsShutdown(err) {
		t.Fatalf("Wait = %v, want shutdown", err)
	}
	wantLog(t, tr, "start:a", "start:b", "stop:b", "stop:a")
}

// §1.1: one_for_one restarts only the child that exited.
func TestOneForOne(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{
		Name:     "s",
		Flags:    flags(runtime.OneForOne, 3, 5),
		Children: []runtime.ChildSpec{tr.child("a"), tr.child("b"), tr.child("c")},
	})
	tr.takeLog()
	old := handleOf(t, sup, "b")
	tr.exitWith(sup, "b", errCrash)
	wantIDs(t, sup, "c=running", "b=running", "a=running")
	wantLog(t, tr, "exit:b", "start:b")
	if h := handleOf(t, sup, "b"); h == old || !h.Alive() {
		t.Fatalf("b's handle after restart = %v (old %v), want a new live one", h, old)
	}
	if reason := old.Reason(); !errors.Is(reason, errCrash) {
		t.Fatalf("old b reason = %v", reason)
	}
}

// §3.4: one_for_all stops the others in reverse order, then starts all in order.
func TestOneForAll(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{
		Name:     "s",
		Flags:    flags(runtime.OneForAll, 3, 5),
		Children: []runtime.ChildSpec{tr.child("a"), tr.child("b"), tr.child("c")},
	})
	tr.takeLog()
	tr.exitWith(sup, "b", errCrash)
	wantIDs(t, sup, "c=running", "b=running", "a=running")
	wantLog(t, tr, "exit:b", "stop:c", "stop:a", "start:a", "start:b", "start:c")
}

// §3.5, OTP's order_of_children: killing ch10 stops ch5 then ch2, restarts
// ch10, ch2, ch5; stopping stops ch5, ch2, ch10, ch3, ch7.
func TestRestForOneOrderOfChildren(t *testing.T) {
	tr := newTree(t)
	var children []runtime.ChildSpec
	for _, id := range []string{"ch7", "ch3", "ch10", "ch2", "ch5"} {
		children = append(children, tr.child(id))
	}
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.RestForOne, 3, 5), Children: children})
	if err != nil {
		t.Fatal(err)
	}
	tr.takeLog()
	tr.exitWith(sup, "ch10", errCrash)
	wantIDs(t, sup, "ch5=running", "ch2=running", "ch10=running", "ch3=running", "ch7=running")
	wantLog(t, tr, "exit:ch10", "stop:ch5", "stop:ch2", "start:ch10", "start:ch2", "start:ch5")
	if err := sup.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantLog(t, tr, "stop:ch5", "stop:ch2", "stop:ch10", "stop:ch3", "stop:ch7")
}

// §2.2: the restart decision table.
func TestRestartTable(t *testing.T) {
	shutdownWithReason := runtime.Shutdown(errors.New("bye"))
	cases := []struct {
		restart   runtime.Restart
		reason    error
		restarted bool
		kept      bool // spec kept
		reported  bool // child_terminated
	}{
		{runtime.Permanent, nil, true, true, true},
		{runtime.Permanent, runtime.ErrShutdown, true, true, true},
		{runtime.Permanent, errCrash, true, true, true},
		{runtime.Transient, nil, false, true, false},
		{runtime.Transient, runtime.ErrShutdown, false, true, false},
		{runtime.Transient, shutdownWithReason, false, true, false},
		{runtime.Transient, errCrash, true, true, true},
		{runtime.Temporary, nil, false, false, false},
		{runtime.Temporary, shutdownWithReason, false, false, false},
		{runtime.Temporary, errCrash, false, false, true},
	}
	for _, c := range cases {
		t.Run(c.restart.String()+"/"+reasonName(c.reason), func(t *testing.T) {
			tr := newTree(t)
			sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{tr.child("x", restart(c.restart))}})
			tr.exitWith(sup, "x", c.reason)
			got := ids(t, sup)
			want := []string{}
			switch {
			case c.restarted:
				want = []string{"x=running"}
			case c.kept:
				want = []string{"x=undefined"}
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") })); diff != "" {
				t.Fatalf("children (-want +got):\n%s", diff)
			}
			terminated := tr.events.kinds(runtime.ChildTerminated)
			if reported := len(terminated) > 0; reported != c.reported {
				t.Fatalf("child_terminated reported = %v, want %v", reported, c.reported)
			}
		})
	}
}

func reasonName(err error) string {
	if err == nil {
		return "normal"
	}
	return strings.ReplaceAll(err.Error(), " ", "_")
}

// A panic in Serve is a crash whose reason keeps the value and the stack.
func TestPanicIsCrashWithStack(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{tr.child("x", restart(runtime.Transient))}})
	tr.panicWith(sup, "x", "boom")
	e, _ := tr.events.waitFor(t, 0, "child_terminated", func(e runtime.Event) bool { return e.Kind == runtime.ChildTerminated })
	var pe *runtime.PanicError
	if !errors.As(e.Reason, &pe) || pe.Value != "boom" || !strings.Contains(string(pe.Stack), "harness_test.go") {
		t.Fatalf("reason = %#v, want a PanicError with value and stack", e.Reason)
	}
	wantIDs(t, sup, "x=running")
}

// §3.1: a failed start at init stops the started children in reverse order;
// the error names the child and the reason.
func TestInitFailureRollsBack(t *testing.T) {
	tr := newTree(t)
	boom := errors.New("boom")
	tr.failNext("c", boom)
	_, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{
		Name:     "s",
		Children: []runtime.ChildSpec{tr.child("a"), tr.child("b"), tr.child("c"), tr.child("d")},
	})
	var sce *runtime.StartChildError
	if !errors.As(err, &sce) || sce.ID != "c" || !errors.Is(err, boom) || !runtime.IsShutdown(err) {
		t.Fatalf("err = %v, want shutdown{failed_to_start_child c boom}", err)
	}
	wantLog(t, tr, "start:a", "start:b", "stop:b", "stop:a")
	if diff := cmp.Diff([]string{"start_error:c"}, tr.events.kinds(runtime.StartError)); diff != "" {
		t.Fatal(diff)
	}
	if tr.startCount("d") != 0 {
		t.Fatal("d was started after c failed")
	}
}

// A panicking start function is a failed start.
func TestStartPanicIsStartError(t *testing.T) {
	tr := newTree(t)
	spec := runtime.ChildSpec{ID: "p", Start: func(context.Context) (runtime.Service, error) { panic("nope") }}
	_, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{spec}})
	var pe *runtime.PanicError
	if !errors.As(err, &pe) || pe.Value != "nope" {
		t.Fatalf("err = %v, want a PanicError", err)
	}
}

// §3.1: ignore drops a temporary child and keeps any other without a process.
func TestIgnoreAtInit(t *testing.T) {
	tr := newTree(t)
	tr.failNext("tmp", runtime.ErrIgnore)
	tr.failNext("perm", runtime.ErrIgnore)
	sup := tr.start(runtime.SupervisorSpec{
		Name:     "s",
		Children: []runtime.ChildSpec{tr.child("tmp", restart(runtime.Temporary)), tr.child("perm"), tr.child("ok")},
	})
	wantIDs(t, sup, "ok=running", "perm=undefined")
	n, err := sup.CountChildren(tr.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != (runtime.Counts{Specs: 2, Active: 1, Workers: 2}) {
		t.Fatalf("counts = %+v", n)
	}
}

// §3.6, OTP's temporary_bystander: a temporary sibling stopped by a group
// restart is removed, not restarted; a temporary child's own exit never
// restarts its siblings.
func TestTemporaryBystander(t *testing.T) {
	for _, strategy := range []runtime.Strategy{runtime.OneForAll, runtime.RestForOne} {
		t.Run(strategy.String(), func(t *testing.T) {
			tr := newTree(t)
			sup := tr.start(runtime.SupervisorSpec{
				Name:     "s",
				Flags:    flags(strategy, 3, 5),
				Children: []runtime.ChildSpec{tr.child("perm"), tr.child("tmp", restart(runtime.Temporary)), tr.child("tmp2", restart(runtime.Temporary))},
			})
			tr.exitWith(sup, "tmp2", errCrash)
			wantIDs(t, sup, "tmp=running", "perm=running")
			tr.takeLog()
			tr.exitWith(sup, "perm", errCrash)
			wantIDs(t, sup, "perm=running")
			wantLog(t, tr, "exit:perm", "stop:tmp", "start:perm")
		})
	}
}

// §1.2: the intensity rule's worked examples, on a fake clock.
func TestIntensityWorkedExamples(t *testing.T) {
	cases := []struct {
		maxR, maxS int
		at         []time.Duration // offsets of the restarts from the start
		gaveUp     int             // index of the restart that terminates; -1 none
	}{
		{1, 5, []time.Duration{0, 5 * time.Second}, 1},
		{1, 5, []time.Duration{0, 6 * time.Second}, -1},
		{3, 5, []time.Duration{0, 0, 0, 0}, 3},
		{3, 5, []time.Duration{0, 1 * time.Second, 2 * time.Second, 5 * time.Second}, 3},
		{3, 5, []time.Duration{0, 1 * time.Second, 2 * time.Second, 6 * time.Second}, -1},
		{0, 1, []time.Duration{0}, 0},
		{1, 1, []time.Duration{0, 2100 * time.Millisecond, 4200 * time.Millisecond, 6300 * time.Millisecond}, -1},
	}
	for _, c := range cases {
		t.Run("", func(t *testing.T) {
			tr := newTree(t)
			sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{
				Name:     "s",
				Flags:    runtime.Flags{MaxRestarts: c.maxR, MaxSeconds: c.maxS},
				Children: []runtime.ChildSpec{tr.child("x")},
			})
			if err != nil {
				t.Fatal(err)
			}
			start := tr.clk.Now()
			for i, at := range c.at {
				tr.clk.Set(start.Add(at))
				tr.exitWith(sup, "x", errCrash)
				if i == c.gaveUp {
					err := sup.Wait()
					var ie *runtime.IntensityError
					if !errors.As(err, &ie) || !runtime.IsShutdown(err) || !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
						t.Fatalf("restart %d: Wait = %v, want reached_max_restart_intensity", i, err)
					}
					if got := tr.events.kinds(runtime.ReachedMaxRestartIntensity); len(got) != 1 {
						t.Fatalf("shutdown reports = %v", got)
					}
					return
				}
				wantIDs(t, sup, "x=running")
			}
			if c.gaveUp >= 0 {
				t.Fatal("supervisor did not give up")
			}
			if err := sup.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The intensity counts restarts of all children together.
func TestIntensityIsSupervisorWide(t *testing.T) {
	tr := newTree(t)
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{
		Name:     "s",
		Flags:    flags(runtime.OneForOne, 2, 5),
		Children: []runtime.ChildSpec{tr.child("a"), tr.child("b"), tr.child("c")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr.exitWith(sup, "a", errCrash)
	tr.exitWith(sup, "b", errCrash)
	wantIDs(t, sup, "c=running", "b=running", "a=running")
	tr.takeLog()
	tr.exitWith(sup, "c", errCrash)
	if err := sup.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("Wait = %v", err)
	}
	// Giving up stops the remaining children in reverse order.
	wantLog(t, tr, "exit:c", "stop:b", "stop:a")
}

// Exits that are not restarted do not count: transient normal exits and
// temporary exits.
func TestUnrestartedExitsDoNotCount(t *testing.T) {
	tr := newTree(t)
	var children []runtime.ChildSpec
	for _, id := range []string{"t1", "t2", "t3"} {
		children = append(children, tr.child(id, restart(runtime.Transient)))
	}
	children = append(children, tr.child("tmp", restart(runtime.Temporary)), tr.child("p"))
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForOne, 1, 5), Children: children})
	for _, id := range []string{"t1", "t2", "t3"} {
		tr.exitWith(sup, id, nil)
	}
	tr.exitWith(sup, "tmp", errCrash)
	tr.exitWith(sup, "p", errCrash) // the first counted restart: allowed
	wantIDs(t, sup, "p=running", "t3=undefined", "t2=undefined", "t1=undefined")
}
