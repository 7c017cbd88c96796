package runtime_test

import (
	"context"
	"errors"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
)

// These tests hold the rule "given up means dead": the moment a supervisor
// gives up on a child (brutal_kill at once, a timeout when it expires), that
// incarnation is dead to every part of the runtime, even though Go cannot
// stop its goroutine.

// TestGivenUpChildReleasesItsName: a registered child that its supervisor
// gives up on while restarting a group frees its name at once, so the new
// incarnation takes it and the supervisor does not exhaust its intensity on
// already_started.
func TestGivenUpChildReleasesItsName(t *testing.T) {
	for _, strategy := range []runtime.Strategy{runtime.OneForAll, runtime.RestForOne} {
		for _, sd := range []runtime.ShutdownSpec{runtime.BrutalKill, runtime.Timeout(time.Second), runtime.Timeout(0)} {
			t.Run(strategy.String()+"/"+sd.String(), func(t *testing.T) {
				tr := newTree(t)
				reg := runtime.NewRegistry[string]()
				a := tr.child("a", shutdown(sd), stubborn())
				a.Name = reg.Name("a")
				sup := tr.start(runtime.SupervisorSpec{
					Name:  "top",
					Flags: runtime.Flags{Strategy: strategy, MaxRestarts: 1, MaxSeconds: 5},
					// rest_for_one restarts a only when it comes after b.
					Children: orderFor(strategy, a, tr.child("b")),
				})
				old := handleOf(t, sup, "a")
				down := old.Monitor()
				if h, ok := reg.Lookup("a"); !ok || h != old {
					t.Fatalf("Lookup(a) = %v, %v; want %v", h, ok, old)
				}
				oldWorker := tr.worker("a")

				tr.worker("b").ctl <- func() error { return errCrash }
				if d, ok := sd.IsTimeout(); ok && d > 0 {
					<-oldWorker.cancelled
					tr.clk.WaitForTimers(1, nil)
					tr.clk.Advance(d)
				}
				select {
				case got := <-down.C:
					if !errors.Is(got.Reason, runtime.ErrKilled) {
						t.Fatalf("Down of the given-up incarnation: %v, want killed", got.Reason)
					}
				case <-time.After(waitLimit):
					t.Fatal("no Down for the given-up incarnation")
				}
				if old.Alive() {
					t.Fatal("the given-up incarnation is still alive")
				}
				if reason := old.Reason(); !errors.Is(reason, runtime.ErrKilled) {
					t.Fatalf("Reason = %v, want killed", reason)
				}
				tr.events.waitFor(t, 0, "a restarted", func(e runtime.Event) bool {
					return e.Kind == runtime.ChildStarted && e.Child.ID == "a" && e.Child.Handle != old
				})
				if got := ids(t, sup); len(got) != 2 || got[0] != "b=running" && got[1] != "b=running" {
					t.Fatalf("which_children = %v", got)
				}
				now := handleOf(t, sup, "a")
				if h, ok := reg.Lookup("a"); !ok || h != now || h == old {
					t.Fatalf("Lookup(a) = %v, %v; want the new incarnation %v", h, ok, now)
				}
				if kinds := tr.events.kinds(runtime.StartError, runtime.ReachedMaxRestartIntensity); len(kinds) != 0 {
					t.Fatalf("unexpected reports: %v", kinds)
				}
				// The old goroutine still runs, and is listed as lingering.
				snap, err := sup.Snapshot(tr.ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(snap.Lingering) != 1 || snap.Lingering[0].Handle != old.String() || snap.Lingering[0].ID != "a" {
					t.Fatalf("Lingering = %+v, want the old a", snap.Lingering)
				}
				for _, c := range snap.Children {
					if c.Handle == old.String() {
						t.Fatalf("the given-up incarnation is still a child in the snapshot: %+v", c)
					}
				}
				// Its late return changes nothing.
				close(oldWorker.release)
				waitLingeringGone(t, sup, old)
				if h, ok := reg.Lookup("a"); !ok || h != now {
					t.Fatalf("after the old goroutine returned, Lookup(a) = %v, %v; want %v", h, ok, now)
				}
				if got := handleOf(t, sup, "a"); got != now {
					t.Fatalf("a is now %v, want %v", got, now)
				}
			})
		}
	}
}

func orderFor(s runtime.Strategy, a, b runtime.ChildSpec) []runtime.ChildSpec {
	if s == runtime.RestForOne {
		return []runtime.ChildSpec{b, a}
	}
	return []runtime.ChildSpec{a, b}
}

// waitLingeringGone waits until the goroutines of hs have returned, then
// checks that sup lists no lingering goroutine any more.
func waitLingeringGone(t *testing.T, sup interface {
	Snapshot(context.Context) (runtime.SupervisorSnapshot, error)
}, hs ...runtime.Handle) {
	t.Helper()
	for _, h := range hs {
		select {
		case <-h.Returned():
		case <-time.After(waitLimit):
			t.Fatalf("the goroutine of %v did not return", h)
		}
	}
	snap, err := sup.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Lingering) != 0 {
		t.Fatalf("still lingering: %+v", snap.Lingering)
	}
}

// TestStopFreesEveryName: once Stop returns, every name the tree held is
// free, even those of children that outlive their shutdown.
func TestStopFreesEveryName(t *testing.T) {
	tr := newTree(t)
	reg := runtime.NewRegistry[string]()
	a := tr.child("a", shutdown(runtime.BrutalKill), stubborn())
	a.Name = reg.Name("a")
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{a}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.releaseAll()
	if err := sup.Stop(tr.ctx); err != nil {
		t.Fatal(err)
	}
	if h, ok := reg.Lookup("a"); ok {
		t.Fatalf("after Stop, a is still registered to %v", h)
	}
	if reg.Len() != 0 {
		t.Fatalf("Len = %d after Stop", reg.Len())
	}
	// A new tree on the same registry starts.
	tr2 := newTree(t)
	a2 := tr2.child("a")
	a2.Name = reg.Name("a")
	sup2 := tr2.start(runtime.SupervisorSpec{Name: "top2", Children: []runtime.ChildSpec{a2}})
	if h, ok := reg.Lookup("a"); !ok || h != handleOf(t, sup2, "a") {
		t.Fatalf("Lookup(a) = %v, %v", h, ok)
	}
}

// TestGivenUpChildLinksFireKilled: a process linked to a given-up child gets
// its exit signal with reason killed at once.
func TestGivenUpChildLinksFireKilled(t *testing.T) {
	tr := newTree(t)
	linked := make(chan runtime.ExitSignal, 1)
	ready := make(chan struct{})
	a := tr.child("a", shutdown(runtime.BrutalKill), stubborn())
	sup := tr.start(runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{a}})
	ah := handleOf(t, sup, "a")
	watcher := runtime.Spawn(tr.ctx, "watcher", serviceFunc(func(ctx context.Context) error {
		signals, err := runtime.TrapExits(ctx)
		if err != nil {
			return err
		}
		if err := runtime.Link(ctx, ah); err != nil {
			return err
		}
		close(ready)
		linked <- <-signals
		return nil
	}))
	defer waitDone(t, watcher)
	select {
	case <-ready:
	case <-watcher.Done():
		r := watcher.Reason()
		t.Fatalf("watcher: %v", r)
	}
	if err := sup.TerminateChild(tr.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-linked:
		if s.From != ah || !errors.Is(s.Reason, runtime.ErrKilled) {
			t.Fatalf("exit signal %+v, want killed from %v", s, ah)
		}
	case <-time.After(waitLimit):
		t.Fatal("no exit signal from the given-up child")
	}
	tr.releaseAll()
}

// TestStopFreesNamesBelowAGivenUpSupervisor: a child supervisor that does
// not stop within its shutdown is killed with everything below it, so a
// name held two levels down is free when the top's Stop returns.
func TestStopFreesNamesBelowAGivenUpSupervisor(t *testing.T) {
	tr := newTree(t)
	reg := runtime.NewRegistry[string]()
	deep := tr.child("deep", shutdown(runtime.Infinity), stubborn()) // waits for ever
	deep.Name = reg.Name("deep")
	sub := runtime.ChildSpec{ID: "sub", Type: runtime.TypeSupervisor, Shutdown: runtime.Timeout(time.Second),
		Start: func(ctx context.Context) (runtime.Service, error) {
			return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "sub", Children: []runtime.ChildSpec{deep}})
		}}
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{sub}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.releaseAll()
	h, ok := reg.Lookup("deep")
	if !ok {
		t.Fatal("deep is not registered")
	}
	down := h.Monitor()
	stopped := make(chan error, 1)
	go func() { stopped <- sup.Stop(context.Background()) }()
	<-tr.worker("deep").cancelled
	tr.clk.WaitForTimers(1, nil) // top waits up to 1s for sub; sub waits for ever for deep
	tr.clk.Advance(time.Second)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Lookup("deep"); ok || reg.Len() != 0 {
		t.Fatalf("after Stop, deep's name is still held (Len %d)", reg.Len())
	}
	select {
	case d := <-down.C:
		if !errors.Is(d.Reason, runtime.ErrKilled) {
			t.Fatalf("Down = %v, want killed", d.Reason)
		}
	default:
		t.Fatal("no Down for deep when Stop returned")
	}
	tr.releaseAll()
	<-h.Returned()
}

// TestApplicationStopFreesEveryName: the same for an application's tree.
func TestApplicationStopFreesEveryName(t *testing.T) {
	tr := newTree(t)
	reg := runtime.NewRegistry[string]()
	a := tr.child("a", shutdown(runtime.BrutalKill), stubborn())
	a.Name = reg.Name("a")
	apps, err := runtime.StartApplications(tr.ctx, runtime.ApplicationSpec{Name: "app", StartType: runtime.StartTemporary,
		Start: func(ctx context.Context) (runtime.Service, error) {
			return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{a}})
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.releaseAll()
	h, _ := reg.Lookup("a")
	snaps, err := apps.Snapshot(tr.ctx)
	if err != nil || snaps[0].Tree == nil || len(snaps[0].Tree.Children) != 1 {
		t.Fatalf("snapshot %+v, %v", snaps, err)
	}
	if err := apps.StopAll(tr.ctx); err != nil {
		t.Fatal(err)
	}
	if reg.Len() != 0 || h.Alive() {
		t.Fatalf("after StopAll: Len %d, a alive %v", reg.Len(), h.Alive())
	}
	tr.releaseAll()
	<-h.Returned()
}

// TestGivenUpServerAnswersItsCallers: callers waiting on a server that is
// stuck in a handler, with their calls queued behind it, get an
// *ExitError with ErrKilled as soon as its supervisor gives up on it.
func TestGivenUpServerAnswersItsCallers(t *testing.T) {
	tr := newTree(t)
	release := make(chan struct{})
	defer close(release)
	sup := tr.start(runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{{
		ID: "srv", Shutdown: runtime.BrutalKill,
		Start: func(ctx context.Context) (runtime.Service, error) {
			return runtime.NewServer(ctx, runtime.ServerSpec[int]{})
		},
	}}})
	h := handleOf(t, sup, "srv")
	srv, _ := runtime.ServiceOf[*runtime.Server[int]](h)
	stuck := make(chan struct{})
	srv.Cast(func(*int) error { close(stuck); <-release; return nil })
	<-stuck
	results := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := runtime.CallTimeout(tr.ctx, srv, runtime.InfiniteTimeout, func(n *int) (int, error) { return *n, nil })
			results <- err
		}()
	}
	for srv.QueueLen() < 2 { // both calls queued behind the stuck cast
		goruntime.Gosched() // no event tells that a call is queued
	}
	if err := sup.TerminateChild(tr.ctx, "srv"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-results:
			if !errors.Is(err, runtime.ErrExited) || !errors.Is(err, runtime.ErrKilled) {
				t.Fatalf("a caller got %v, want an *ExitError with killed", err)
			}
		case <-time.After(waitLimit):
			t.Fatal("a caller of the killed server is still waiting")
		}
	}
}

// A server's monitors end with it, as a dead process's do: the process it
// watched no longer holds them.
func TestServerMonitorsEndWithTheServer(t *testing.T) {
	tr := newTree(t)
	db := startServer(t, tr, runtime.ServerSpec[int]{})
	for range 50 {
		s, err := runtime.StartServer(tr.ctx, "session", runtime.ServerSpec[int]{})
		if err != nil {
			t.Fatal(err)
		}
		s.Monitor(db.Handle(), func(*int, runtime.Down) error { return nil })
		if err := s.Stop(tr.ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if by := db.Handle().Info().MonitoredBy; len(by) != 0 {
		t.Fatalf("db is still monitored by %d dead servers", len(by))
	}
}

// A second supervisor started in a process that already runs one ends with
// that process: stopped with it, and killed with it.
func TestSecondSupervisorInAProcessEndsWithIt(t *testing.T) {
	tr := newTree(t)
	inner := make(chan *runtime.Supervisor, 2)
	host := runtime.ChildSpec{ID: "host", Type: runtime.TypeSupervisor, Start: func(ctx context.Context) (runtime.Service, error) {
		a, err := runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "a", Children: []runtime.ChildSpec{tr.child("wa")}})
		if err != nil {
			return nil, err
		}
		b, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{Name: "b", Children: []runtime.ChildSpec{tr.child("wb")}})
		if err != nil {
			return nil, err
		}
		inner <- a
		inner <- b
		return a, nil
	}}
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{host}})
	if err != nil {
		t.Fatal(err)
	}
	<-inner
	b := <-inner
	if err := sup.Stop(tr.ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Done():
	case <-time.After(waitLimit):
		t.Fatal("the second supervisor in the host's process still runs after its host stopped")
	}
}

// TerminateChild given the handle of another supervisor's child finds no
// child, and reads nothing of the other supervisor's records.
func TestTerminateChildOfAnotherSupervisor(t *testing.T) {
	tr := newTree(t)
	d1 := startDynamic(t, tr)
	d2, err := runtime.StartDynamicSupervisor(tr.ctx, runtime.DynamicSupervisorSpec{Name: "d2"})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Stop(context.Background())
	h, err := d2.StartChild(tr.ctx, tr.child("other"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d1.TerminateChild(tr.ctx, h); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("TerminateChild of another supervisor's child = %v", err)
	}
}
