package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// §4 start_child: appended at the end of the start order; the id clashes of
// OTP; start errors returned, not reported, and nothing kept.
func TestStartChild(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{tr.child("a")}})
	h, err := sup.StartChild(tr.ctx, tr.child("b"))
	if err != nil || !h.Alive() {
		t.Fatalf("StartChild = %v, %v", h, err)
	}
	wantIDs(t, sup, "b=running", "a=running")

	_, err = sup.StartChild(tr.ctx, tr.child("b"))
	var ase *runtime.AlreadyStartedError
	if !errors.As(err, &ase) || ase.Handle != h || !errors.Is(err, runtime.ErrAlreadyStarted) {
		t.Fatalf("duplicate StartChild = %v, want already_started %v", err, h)
	}
	if err := sup.TerminateChild(tr.ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := sup.StartChild(tr.ctx, tr.child("b")); !errors.Is(err, runtime.ErrAlreadyPresent) {
		t.Fatalf("StartChild of stopped id = %v, want already_present", err)
	}

	boom := errors.New("boom")
	tr.failNext("c", boom)
	_, err = sup.StartChild(tr.ctx, tr.child("c"))
	var sce *runtime.StartChildError
	if !errors.As(err, &sce) || sce.ID != "c" || !errors.Is(err, boom) {
		t.Fatalf("failing StartChild = %v", err)
	}
	if got := tr.events.kinds(runtime.StartError); len(got) != 0 {
		t.Fatalf("API start failure was reported: %v", got)
	}
	if _, err := sup.WhichChild(tr.ctx, "c"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("failed child kept: %v", err)
	}

	// ignore: kept without a process, unless temporary.
	tr.failNext("d", runtime.ErrIgnore)
	tr.failNext("e", runtime.ErrIgnore)
	if h, err := sup.StartChild(tr.ctx, tr.child("d")); err != nil || !h.IsZero() {
		t.Fatalf("ignored StartChild = %v, %v", h, err)
	}
	if _, err := sup.StartChild(tr.ctx, tr.child("e", restart(runtime.Temporary))); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, sup, "d=undefined", "b=undefined", "a=running")

	// Progress of API starts is marked external (OTP logs it at debug).
	e, _ := tr.events.waitFor(t, 0, "b started", func(e runtime.Event) bool { return e.Kind == runtime.ChildStarted && e.Child.ID == "b" })
	if !e.External {
		t.Fatal("API start not marked External")
	}
	e, _ = tr.events.waitFor(t, 0, "a started", func(e runtime.Event) bool { return e.Kind == runtime.ChildStarted && e.Child.ID == "a" })
	if e.External {
		t.Fatal("init start marked External")
	}
}

// §4 terminate_child, restart_child, delete_child.
func TestTerminateRestartDelete(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{tr.child("a"), tr.child("tmp", restart(runtime.Temporary))}})
	if err := sup.TerminateChild(tr.ctx, "nope"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("TerminateChild unknown = %v", err)
	}
	if _, err := sup.RestartChild(tr.ctx, "a"); !errors.Is(err, runtime.ErrRunning) {
		t.Fatalf("RestartChild running = %v", err)
	}
	if err := sup.DeleteChild(tr.ctx, "a"); !errors.Is(err, runtime.ErrRunning) {
		t.Fatalf("DeleteChild running = %v", err)
	}
	for range 2 { // idempotent
		if err := sup.TerminateChild(tr.ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	// A temporary child's spec goes with it.
	if err := sup.TerminateChild(tr.ctx, "tmp"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, sup, "a=undefined")
	// A failed restart_child returns the error and keeps the spec.
	boom := errors.New("boom")
	tr.failNext("a", boom)
	if _, err := sup.RestartChild(tr.ctx, "a"); !errors.Is(err, boom) {
		t.Fatalf("RestartChild failing = %v", err)
	}
	wantIDs(t, sup, "a=undefined")
	h, err := sup.RestartChild(tr.ctx, "a")
	if err != nil || !h.Alive() {
		t.Fatalf("RestartChild = %v, %v", h, err)
	}
	if err := sup.TerminateChild(tr.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := sup.DeleteChild(tr.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := sup.DeleteChild(tr.ctx, "a"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("DeleteChild twice = %v", err)
	}
	if _, err := sup.RestartChild(tr.ctx, "a"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("RestartChild deleted = %v", err)
	}
	// API restarts do not count towards the intensity: 0 restarts allowed
	// here would otherwise have stopped it.
}

// API restarts and starts never count towards the intensity.
func TestAPIRestartsDoNotCount(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForOne, 0, 5), Children: []runtime.ChildSpec{tr.child("a")}})
	for range 5 {
		if err := sup.TerminateChild(tr.ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := sup.RestartChild(tr.ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	wantIDs(t, sup, "a=running")
}

// §4 which_children, which_child, count_children, get_childspec.
func TestIntrospection(t *testing.T) {
	tr := newTree(t)
	subSpec := runtime.SupervisorSpec{Name: "sub"}
	sub := runtime.ChildSpec{ID: "sub", Type: runtime.TypeSupervisor,
		Start: func(ctx context.Context) (runtime.Service, error) { return runtime.NewSupervisor(ctx, subSpec) }}
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{tr.child("a"), sub, tr.child("b")}})
	if err := sup.TerminateChild(tr.ctx, "b"); err != nil {
		t.Fatal(err)
	}
	infos, err := sup.WhichChildren(tr.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []runtime.ChildInfo{
		{ID: "b", Type: runtime.TypeWorker},
		{ID: "sub", Type: runtime.TypeSupervisor},
		{ID: "a", Type: runtime.TypeWorker},
	}
	if diff := cmp.Diff(want, infos, cmpopts.IgnoreFields(runtime.ChildInfo{}, "Handle")); diff != "" {
		t.Fatal(diff)
	}
	n, err := sup.CountChildren(tr.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != (runtime.Counts{Specs: 3, Active: 2, Supervisors: 1, Workers: 2}) {
		t.Fatalf("counts = %+v", n)
	}
	if _, err := sup.WhichChild(tr.ctx, "zz"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("WhichChild unknown = %v", err)
	}
	// get_childspec fills in the defaults: 5s for a worker, infinity for a supervisor.
	spec, err := sup.GetChildSpec(tr.ctx, "a")
	if err != nil || spec.Shutdown != runtime.Timeout(5*time.Second) || spec.Restart != runtime.Permanent {
		t.Fatalf("GetChildSpec(a) = %+v, %v", spec, err)
	}
	spec, err = sup.GetChildSpec(tr.ctx, "sub")
	if err != nil || spec.Shutdown != runtime.Infinity {
		t.Fatalf("GetChildSpec(sub) = %+v, %v", spec, err)
	}
	if _, err := sup.GetChildSpec(tr.ctx, "zz"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("GetChildSpec unknown = %v", err)
	}
}

// §1.6, §2.4: invalid flags and child specs, with OTP's terms.
func TestSpecValidation(t *testing.T) {
	tr := newTree(t)
	ok := tr.child("ok")
	cases := []struct {
		spec runtime.SupervisorSpec
		term string
	}{
		{runtime.SupervisorSpec{Flags: runtime.Flags{Strategy: 7}}, "invalid_strategy"},
		{runtime.SupervisorSpec{Flags: runtime.Flags{MaxRestarts: -1, MaxSeconds: 5}}, "invalid_intensity"},
		{runtime.SupervisorSpec{Flags: runtime.Flags{MaxRestarts: 1, MaxSeconds: -5}}, "invalid_period"},
		{runtime.SupervisorSpec{Flags: runtime.Flags{AutoShutdown: 9}}, "invalid_auto_shutdown"},
		{runtime.SupervisorSpec{Children: []runtime.ChildSpec{{Start: ok.Start}}}, "missing_id"},
		{runtime.SupervisorSpec{Children: []runtime.ChildSpec{{ID: "x"}}}, "missing_start"},
		{runtime.SupervisorSpec{Children: []runtime.ChildSpec{{ID: "x", Start: ok.Start, Restart: 4}}}, "invalid_restart_type"},
		{runtime.SupervisorSpec{Children: []runtime.ChildSpec{{ID: "x", Start: ok.Start, Type: 3}}}, "invalid_child_type"},
		{runtime.SupervisorSpec{Children: []runtime.ChildSpec{{ID: "x", Start: ok.Start, Shutdown: runtime.Timeout(-time.Second)}}}, "invalid_shutdown"},
		{runtime.SupervisorSpec{Children: []runtime.ChildSpec{{ID: "x", Start: ok.Start, Backoff: &runtime.Backoff{Min: time.Second}}}}, "invalid_backoff"},
		{runtime.SupervisorSpec{Children: []runtime.ChildSpec{ok, ok}}, "duplicate_child_name"},
	}
	for _, c := range cases {
		_, err := runtime.NewSupervisor(tr.ctx, c.spec)
		var se *runtime.SpecError
		if !errors.As(err, &se) || se.Term != c.term || !errors.Is(err, runtime.ErrInvalidSpec) {
			t.Errorf("%+v: err = %v, want %s", c.spec, err, c.term)
		}
	}
	if tr.startCount("ok") != 0 {
		t.Fatal("a child started despite an invalid spec")
	}
}

// The zero Flags are Elixir's defaults; MaxRestarts 0 with a period means no
// restart at all.
func TestFlagDefaults(t *testing.T) {
	tr := newTree(t)
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{tr.child("x")}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		tr.exitWith(sup, "x", errCrash)
	}
	wantIDs(t, sup, "x=running")
	tr.exitWith(sup, "x", errCrash)
	if err := sup.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("4th restart in 5s: Wait = %v", err)
	}

	sup, err = runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s", Flags: runtime.Flags{MaxSeconds: 1}, Children: []runtime.ChildSpec{tr.child("y")}})
	if err != nil {
		t.Fatal(err)
	}
	tr.exitWith(sup, "y", errCrash)
	if err := sup.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("MaxRestarts 0: Wait = %v", err)
	}
}

// Calls made after the supervisor exited return ErrNoProc; a call whose
// context ends returns the context's error.
func TestCallsToDeadSupervisor(t *testing.T) {
	tr := newTree(t)
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Stop(tr.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sup.CountChildren(tr.ctx); !errors.Is(err, runtime.ErrNoProc) {
		t.Fatalf("CountChildren after stop = %v", err)
	}
	if err := sup.Stop(tr.ctx); err != nil {
		t.Fatalf("second Stop = %v", err)
	}
}
