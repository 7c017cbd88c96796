package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
	"github.com/google/go-cmp/cmp"
)

// terminateAsync runs TerminateChild in a goroutine and returns its result channel.
func terminateAsync(sup *runtime.Supervisor, id string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- sup.TerminateChild(context.Background(), id) }()
	return done
}

func waitErr(t *testing.T, c <-chan error) error {
	t.Helper()
	select {
	case err := <-c:
		return err
	case <-time.After(waitLimit):
		t.Fatal("call did not return")
		return nil
	}
}

// §2.3 in Go terms: a timeout cancels, waits that long, then gives the child
// up as killed: it is dead at once to the whole runtime, is reported, and its
// goroutine is listed as lingering until it returns. It is never restarted.
func TestShutdownTimeoutGivesUpAsKilled(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{
		tr.child("slow", shutdown(runtime.Timeout(2*time.Second)), stubborn()),
	}})
	h := handleOf(t, sup, "slow")
	done := terminateAsync(sup, "slow")
	if !tr.clk.WaitForTimers(1, sup.Done()) {
		t.Fatal("supervisor exited")
	}
	tr.clk.Advance(2 * time.Second)
	if err := waitErr(t, done); err != nil {
		t.Fatal(err)
	}
	e, _ := tr.events.waitFor(t, 0, "shutdown_error", func(e runtime.Event) bool { return e.Kind == runtime.ShutdownError })
	if !errors.Is(e.Reason, runtime.ErrKilled) || e.Child.Handle != h {
		t.Fatalf("report = %+v, want killed for %v", e, h)
	}
	if h.Alive() {
		t.Fatal("the given-up child is still alive")
	}
	if reason := h.Reason(); h.Alive() || !errors.Is(reason, runtime.ErrKilled) {
		t.Fatalf("Reason = %v, alive %v; want killed", reason, h.Alive())
	}
	wantIDs(t, sup, "slow=undefined")
	tr.clk.Advance(3 * time.Second)
	snap, err := sup.Snapshot(tr.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l := snap.Lingering; len(l) != 1 || l[0].Handle != h.String() || l[0].ID != "slow" || l[0].Path != "s/slow" ||
		l[0].Shutdown != "2s" || l[0].Outlived != 3*time.Second {
		t.Fatalf("Lingering = %+v", l)
	}
	close(tr.worker("slow").release)
	waitLingeringGone(t, sup, h)
	wantIDs(t, sup, "slow=undefined")
	if tr.startCount("slow") != 1 {
		t.Fatal("the given-up child was restarted")
	}
}

// brutal_kill cancels and does not wait: a child that ignores cancellation
// does not block terminate_child, and it is not reported.
func TestBrutalKillDoesNotWait(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{
		tr.child("slow", shutdown(runtime.BrutalKill), stubborn()),
	}})
	h := handleOf(t, sup, "slow")
	if err := sup.TerminateChild(tr.ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	if tr.clk.Timers() != 0 {
		t.Fatal("brutal_kill armed a timer")
	}
	if got := tr.events.kinds(runtime.ShutdownError); len(got) != 0 {
		t.Fatalf("reports = %v", got)
	}
	waitDone(t, h) // dead at once, though its goroutine still runs
	close(tr.worker("slow").release)
	waitLingeringGone(t, sup, h)
}

// infinity waits as long as the child takes.
func TestInfinityWaits(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{
		tr.child("slow", shutdown(runtime.Infinity), stubborn()),
	}})
	done := terminateAsync(sup, "slow")
	select {
	case err := <-done:
		t.Fatalf("TerminateChild returned %v before the child stopped", err)
	default:
	}
	tr.clk.Advance(time.Hour)
	close(tr.worker("slow").release)
	if err := waitErr(t, done); err != nil {
		t.Fatal(err)
	}
	if got := tr.events.kinds(runtime.ShutdownError); len(got) != 0 {
		t.Fatalf("reports = %v", got)
	}
}

// A child that crashes while being stopped is reported as shutdown_error with
// its reason; one that returns an error after cancellation exits as shutdown.
func TestShutdownErrorClassification(t *testing.T) {
	tr := newTree(t)
	panicky := runtime.ChildSpec{ID: "panicky", Start: func(context.Context) (runtime.Service, error) {
		return serviceFunc(func(ctx context.Context) error { <-ctx.Done(); panic("while stopping") }), nil
	}}
	erring := runtime.ChildSpec{ID: "erring", Start: func(context.Context) (runtime.Service, error) {
		return serviceFunc(func(ctx context.Context) error { <-ctx.Done(); return errors.New("closed") }), nil
	}}
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{panicky, erring}})
	eh := handleOf(t, sup, "erring")
	if err := sup.TerminateChild(tr.ctx, "erring"); err != nil {
		t.Fatal(err)
	}
	if reason := eh.Reason(); !runtime.IsShutdown(reason) {
		t.Fatalf("erring's reason = %v, want shutdown", reason)
	}
	if err := sup.TerminateChild(tr.ctx, "panicky"); err != nil {
		t.Fatal(err)
	}
	got := tr.events.kinds(runtime.ShutdownError)
	if diff := cmp.Diff([]string{"shutdown_error:panicky"}, got); diff != "" {
		t.Fatal(diff)
	}
}

type serviceFunc func(ctx context.Context) error

func (f serviceFunc) Serve(ctx context.Context) error { return f(ctx) }

// Stopping a supervisor with a child that outlives its timeout still
// finishes, in reverse order, after that timeout.
func TestStopWithStubbornChild(t *testing.T) {
	tr := newTree(t)
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{
		// a and c wait without a timer, so that the only timer is slow's.
		tr.child("a", shutdown(runtime.Infinity)), tr.child("slow", shutdown(runtime.Timeout(time.Second)), stubborn()), tr.child("c", shutdown(runtime.Infinity)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	tr.takeLog()
	slow := handleOf(t, sup, "slow")
	done := make(chan error, 1)
	go func() { done <- sup.Stop(context.Background()) }()
	if !tr.clk.WaitForTimers(1, nil) {
		t.Fatal("no timer")
	}
	tr.clk.Advance(time.Second)
	if err := waitErr(t, done); err != nil {
		t.Fatal(err)
	}
	wantLog(t, tr, "stop:c", "stop:a")
	close(tr.worker("slow").release)
	tr.events.waitFor(t, 0, "killed", func(e runtime.Event) bool { return e.Kind == runtime.ShutdownError })
	waitDone(t, slow) // the released goroutine finishes before goleak looks
}

// Stop with a context that ends first returns the context's error; the
// supervisor still finishes stopping (OTP's sup_stop_manual_timeout).
func TestStopTimeout(t *testing.T) {
	tr := newTree(t)
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{
		tr.child("slow", shutdown(runtime.Infinity), stubborn()),
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- sup.Stop(ctx) }()
	waitClosed(t, tr.worker("slow").cancelled) // Stop is being handled
	cancel()
	if err := waitErr(t, stopped); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop = %v, want context.Canceled", err)
	}
	close(tr.worker("slow").release)
	if err := sup.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
}

func waitClosed(t *testing.T, c <-chan struct{}) {
	t.Helper()
	waitRecv(t, c, "channel was not closed")
}

// waitRecv waits for c to be closed or to deliver a value, and fails the
// test with failure if neither happens within waitLimit.
func waitRecv(t *testing.T, c <-chan struct{}, failure string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(waitLimit):
		t.Fatal(failure)
	}
}
