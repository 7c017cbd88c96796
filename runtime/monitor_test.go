package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
)

// proc is a spawned test process that does what the test sends it.
type proc struct {
	h    runtime.Handle
	do   chan func(ctx context.Context) (bool, error) // a step; true stops with the error
	seen chan runtime.ExitSignal
}

func spawn(t *testing.T, ctx context.Context, name string) *proc {
	t.Helper()
	p := &proc{do: make(chan func(context.Context) (bool, error)), seen: make(chan runtime.ExitSignal, 16)}
	p.h = runtime.Spawn(ctx, name, serviceFunc(func(ctx context.Context) error {
		for {
			select {
			case f := <-p.do:
				if stop, err := f(ctx); stop {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}))
	return p
}

// run runs f inside the process and waits for it.
func (p *proc) run(t *testing.T, f func(ctx context.Context)) {
	t.Helper()
	done := make(chan struct{})
	select {
	case p.do <- func(ctx context.Context) (bool, error) { f(ctx); close(done); return false, nil }:
	case <-time.After(waitLimit):
		t.Fatalf("%v is not running", p.h)
	}
	waitClosed(t, done)
}

func (p *proc) exit(t *testing.T, reason error) {
	t.Helper()
	select {
	case p.do <- func(context.Context) (bool, error) { return true, reason }:
	case <-time.After(waitLimit):
		t.Fatalf("%v is not running", p.h)
	}
	waitDone(t, p.h)
}

func recvDown(t *testing.T, m *runtime.Monitor) runtime.Down {
	t.Helper()
	select {
	case d := <-m.C:
		return d
	case <-time.After(waitLimit):
		t.Fatal("no Down")
		return runtime.Down{}
	}
}

// §7: a monitor gets exactly one Down with the exit reason.
func TestMonitorDown(t *testing.T) {
	ctx := context.Background()
	for _, reason := range []error{nil, errCrash, runtime.ErrShutdown} {
		p := spawn(t, ctx, "p")
		m1, m2 := p.h.Monitor(), p.h.Monitor()
		p.exit(t, reason)
		for _, m := range []*runtime.Monitor{m1, m2} {
			d := recvDown(t, m)
			if d.Handle != p.h || d.Reason != reason {
				t.Fatalf("Down = %+v, want %v from %v", d, reason, p.h)
			}
			select {
			case d := <-m.C:
				t.Fatalf("a second Down: %+v", d)
			default:
			}
		}
	}
}

// §7: monitoring a process that is already gone gives Down with noproc at once.
func TestMonitorDeadIsNoProc(t *testing.T) {
	p := spawn(t, context.Background(), "p")
	p.exit(t, errCrash)
	for _, h := range []runtime.Handle{p.h, {}} {
		select {
		case d := <-h.Monitor().C:
			if !errors.Is(d.Reason, runtime.ErrNoProc) {
				t.Fatalf("Down = %+v, want noproc", d)
			}
		default:
			t.Fatal("no Down at once")
		}
	}
}

// §7: demonitor removes the monitor and a pending Down.
func TestDemonitor(t *testing.T) {
	p := spawn(t, context.Background(), "p")
	before := p.h.Monitor()
	pending := p.h.Monitor()
	if !before.Demonitor() {
		t.Fatal("Demonitor of an active monitor = false")
	}
	p.exit(t, errCrash)
	recvDown(t, p.h.Monitor()) // the exit has been delivered to every monitor
	if pending.Demonitor() {
		t.Fatal("Demonitor after the Down = true")
	}
	for _, m := range []*runtime.Monitor{before, pending} {
		select {
		case d := <-m.C:
			t.Fatalf("Down after demonitor: %+v", d)
		default:
		}
	}
}

// §7: links propagate an abnormal exit both ways; a normal exit does not
// stop the other side.
func TestLinkPropagation(t *testing.T) {
	ctx := context.Background()
	for _, dir := range []string{"a_exits", "b_exits"} {
		a, b := spawn(t, ctx, "a"), spawn(t, ctx, "b")
		a.run(t, func(ctx context.Context) {
			if err := runtime.Link(ctx, b.h); err != nil {
				t.Error(err)
			}
		})
		dying, other := a, b
		if dir == "b_exits" {
			dying, other = b, a
		}
		dying.exit(t, errCrash)
		waitDone(t, other.h)
		if reason := other.h.Reason(); reason != errCrash {
			t.Fatalf("%s: linked process exited with %v, want %v", dir, reason, errCrash)
		}
	}
	a, b := spawn(t, ctx, "a"), spawn(t, ctx, "b")
	a.run(t, func(ctx context.Context) { runtime.Link(ctx, b.h) })
	b.exit(t, nil)
	if !a.h.Alive() {
		t.Fatal("a normal exit stopped the linked process")
	}
	a.exit(t, nil)
}

// §7: a process that traps exits receives them as messages, normal ones too,
// and keeps running.
func TestTrapExits(t *testing.T) {
	ctx := context.Background()
	a := spawn(t, ctx, "a")
	var signals <-chan runtime.ExitSignal
	b1, b2 := spawn(t, ctx, "b1"), spawn(t, ctx, "b2")
	a.run(t, func(ctx context.Context) {
		var err error
		if signals, err = runtime.TrapExits(ctx); err != nil {
			t.Error(err)
		}
		runtime.Link(ctx, b1.h)
		runtime.Link(ctx, b2.h)
	})
	b1.exit(t, errCrash)
	b2.exit(t, nil)
	for _, want := range []runtime.ExitSignal{{From: b1.h, Reason: errCrash}, {From: b2.h}} {
		select {
		case got := <-signals:
			if got != want {
				t.Fatalf("signal = %+v, want %+v", got, want)
			}
		case <-time.After(waitLimit):
			t.Fatal("no exit signal")
		}
	}
	if !a.h.Alive() {
		t.Fatal("a trapping process stopped")
	}
	a.exit(t, nil)
}

// Unlink stops propagation; linking to a dead process is ErrNoProc; a plain
// context cannot link.
func TestUnlinkAndErrors(t *testing.T) {
	ctx := context.Background()
	a, b := spawn(t, ctx, "a"), spawn(t, ctx, "b")
	a.run(t, func(ctx context.Context) {
		runtime.Link(ctx, b.h)
		runtime.Link(ctx, b.h) // idempotent
		runtime.Unlink(ctx, b.h)
	})
	b.exit(t, errCrash)
	if !a.h.Alive() {
		t.Fatal("unlinked process stopped")
	}
	a.run(t, func(ctx context.Context) {
		if err := runtime.Link(ctx, b.h); !errors.Is(err, runtime.ErrNoProc) {
			t.Errorf("Link to dead = %v", err)
		}
	})
	a.exit(t, nil)
	if err := runtime.Link(ctx, a.h); !errors.Is(err, runtime.ErrNotAProcess) {
		t.Fatalf("Link from a plain context = %v", err)
	}
}

// A supervised child linked to a process that crashes exits with that
// reason, and its supervisor restarts it.
func TestLinkedChildIsRestarted(t *testing.T) {
	tr := newTree(t)
	helper := spawn(t, tr.ctx, "helper")
	linked := runtime.ChildSpec{ID: "linked", Start: func(ctx context.Context) (runtime.Service, error) {
		if err := runtime.Link(ctx, helper.h); err != nil && !errors.Is(err, runtime.ErrNoProc) {
			return nil, err
		}
		return serviceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }), nil
	}}
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{linked}})
	first := handleOf(t, sup, "linked")
	helper.exit(t, errCrash)
	waitDone(t, first)
	e, _ := tr.events.waitFor(t, 0, "child_terminated", func(e runtime.Event) bool { return e.Kind == runtime.ChildTerminated })
	if e.Reason != errCrash {
		t.Fatalf("child exit reason = %v, want the linked crash", e.Reason)
	}
	wantIDs(t, sup, "linked=running")
}

// Spawned processes stop when their context is cancelled.
func TestSpawnStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := spawn(t, ctx, "p")
	cancel()
	waitDone(t, p.h)
	if reason := p.h.Reason(); !runtime.IsShutdown(reason) {
		t.Fatalf("reason = %v, want shutdown", reason)
	}
}
