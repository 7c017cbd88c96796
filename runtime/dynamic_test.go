package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
	"github.com/google/go-cmp/cmp"
)

func (tr *tree) startDynamic(spec runtime.DynamicSupervisorSpec) *runtime.DynamicSupervisor {
	tr.t.Helper()
	d, err := runtime.StartDynamicSupervisor(tr.ctx, spec)
	if err != nil {
		tr.t.Fatalf("StartDynamicSupervisor: %v", err)
	}
	tr.t.Cleanup(func() {
		tr.releaseAll()
		if err := d.Stop(context.Background()); err != nil {
			tr.t.Errorf("Stop: %v", err)
		}
	})
	return d
}

// named is a service that knows the extra argument it was started with.
type named struct {
	name string
	ctl  chan error
}

func (n *named) Serve(ctx context.Context) error {
	select {
	case err := <-n.ctl:
		return err
	case <-ctx.Done():
		return nil
	}
}

// §5.1: extra arguments are given at start and given again on restart.
func TestDynamicExtraArgsOnRestart(t *testing.T) {
	tr := newTree(t)
	d := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "pool"})
	started := make(chan *named, 4)
	newNamed := func(ctx context.Context, name string) (*named, error) {
		n := &named{name: name, ctl: make(chan error)}
		started <- n
		return n, nil
	}
	h, err := d.StartChild(tr.ctx, runtime.ChildSpec{Start: runtime.Bind1(newNamed, "bucket-7").Start})
	if err != nil {
		t.Fatal(err)
	}
	first := <-started
	first.ctl <- errCrash
	waitDone(t, h)
	second := <-started
	if second.name != "bucket-7" || second == first {
		t.Fatalf("restarted with %q", second.name)
	}
	infos, err := d.WhichChildren(tr.ctx)
	if err != nil || len(infos) != 1 || infos[0].Handle == h || !infos[0].Handle.Alive() {
		t.Fatalf("WhichChildren = %+v, %v", infos, err)
	}
}

// §5.1: start results are returned as OTP/Elixir return them.
func TestDynamicStartResults(t *testing.T) {
	tr := newTree(t)
	d := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "pool"})
	boom := errors.New("boom")
	tr.failNext("w", runtime.ErrIgnore, boom)
	if h, err := d.StartChild(tr.ctx, tr.child("w")); err != nil || !h.IsZero() {
		t.Fatalf("ignored start = %v, %v", h, err)
	}
	if _, err := d.StartChild(tr.ctx, tr.child("w")); err != boom {
		t.Fatalf("failed start = %v, want the start error as it is", err)
	}
	panicky := runtime.ChildSpec{Start: func(context.Context) (runtime.Service, error) { panic("oops") }}
	_, err := d.StartChild(tr.ctx, panicky)
	var pe *runtime.PanicError
	if !errors.As(err, &pe) || pe.Value != "oops" {
		t.Fatalf("panicking start = %v", err)
	}
	if n, _ := d.CountChildren(tr.ctx); n != (runtime.Counts{}) {
		t.Fatalf("counts = %+v, want nothing kept", n)
	}
	if _, err := d.StartChild(tr.ctx, runtime.ChildSpec{}); !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("StartChild without start = %v", err)
	}
	if _, err := d.StartChild(tr.ctx, runtime.ChildSpec{Start: tr.child("x").Start, Restart: runtime.Transient, Significant: true}); !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("significant dynamic child = %v, want invalid", err)
	}
}

// §5.1: max_children, and a child being restarted keeps its slot.
func TestDynamicMaxChildren(t *testing.T) {
	tr := newTree(t)
	d := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "pool", MaxRestarts: 1 << 30, MaxSeconds: 5, MaxChildren: 2})
	if _, err := d.StartChild(tr.ctx, tr.child("a")); err != nil {
		t.Fatal(err)
	}
	hb, err := d.StartChild(tr.ctx, tr.child("b"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.StartChild(tr.ctx, tr.child("c")); !errors.Is(err, runtime.ErrMaxChildren) {
		t.Fatalf("third child = %v, want ErrMaxChildren", err)
	}
	tr.failAlways("b", errNoStart)
	tr.worker("b").ctl <- func() error { return errCrash }
	waitDone(t, hb)
	n, err := d.CountChildren(tr.ctx)
	if err != nil || n.Specs != 2 || n.Active != 1 {
		t.Fatalf("counts = %+v, %v; want b restarting in its slot", n, err)
	}
	if _, err := d.StartChild(tr.ctx, tr.child("c")); !errors.Is(err, runtime.ErrMaxChildren) {
		t.Fatalf("while b restarts = %v, want ErrMaxChildren", err)
	}
	// Terminating the restarting child by its last handle removes it.
	if err := d.TerminateChild(tr.ctx, hb); err != nil {
		t.Fatal(err)
	}
	if _, err := d.StartChild(tr.ctx, tr.child("c")); err != nil {
		t.Fatalf("after terminate = %v", err)
	}
}

// §5.1: the restart table, with children removed instead of kept.
func TestDynamicRestartTable(t *testing.T) {
	tr := newTree(t)
	d := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "pool"})
	for _, c := range []struct {
		restart runtime.Restart
		reason  error
		alive   bool
	}{
		{runtime.Permanent, nil, true},
		{runtime.Transient, nil, false},
		{runtime.Transient, errCrash, true},
		{runtime.Temporary, errCrash, false},
	} {
		h, err := d.StartChild(tr.ctx, tr.child("x", restart(c.restart)))
		if err != nil {
			t.Fatal(err)
		}
		tr.worker("x").ctl <- func() error { return c.reason }
		waitDone(t, h)
		n, _ := d.CountChildren(tr.ctx)
		if (n.Active == 1) != c.alive || n.Specs != n.Active {
			t.Fatalf("%v/%v: counts = %+v", c.restart, c.reason, n)
		}
		infos, _ := d.WhichChildren(tr.ctx)
		for _, i := range infos {
			if err := d.TerminateChild(tr.ctx, i.Handle); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := d.TerminateChild(tr.ctx, runtime.Handle{}); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("TerminateChild(zero) = %v", err)
	}
}

// §5.1, §2.3: stopping cancels every child at once, then waits with one
// deadline per distinct shutdown value.
func TestDynamicConcurrentShutdown(t *testing.T) {
	tr := newTree(t)
	d, err := runtime.StartDynamicSupervisor(tr.ctx, runtime.DynamicSupervisorSpec{Name: "pool"})
	if err != nil {
		t.Fatal(err)
	}
	var handles []runtime.Handle
	for _, c := range []struct {
		id string
		sd runtime.ShutdownSpec
	}{{"one_a", runtime.Timeout(time.Second)}, {"one_b", runtime.Timeout(time.Second)}, {"three", runtime.Timeout(3 * time.Second)}, {"brutal", runtime.BrutalKill}} {
		h, err := d.StartChild(tr.ctx, tr.child(c.id, shutdown(c.sd), stubborn()))
		if err != nil {
			t.Fatal(err)
		}
		handles = append(handles, h)
	}
	quick, err := d.StartChild(tr.ctx, tr.child("quick", shutdown(runtime.Timeout(time.Hour))))
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- d.Stop(context.Background()) }()
	// All are cancelled before any deadline passes.
	for _, id := range []string{"one_a", "one_b", "three", "brutal", "quick"} {
		waitClosed(t, tr.worker(id).cancelled)
	}
	waitDone(t, quick)
	tr.clk.WaitForTimers(1, nil)
	if n := tr.clk.Timers(); n != 1 {
		t.Fatalf("%d timers armed, want 1 (the next deadline)", n)
	}
	tr.clk.Advance(time.Second)
	tr.events.waitFor(t, 0, "one_b killed", func(e runtime.Event) bool { return e.Kind == runtime.ShutdownError && e.Child.ID == "one_b" })
	tr.clk.WaitForTimers(1, nil)
	tr.clk.Advance(2 * time.Second)
	if err := waitErr(t, stopped); err != nil {
		t.Fatal(err)
	}
	killed := tr.events.kinds(runtime.ShutdownError)
	if diff := cmp.Diff(3, len(killed)); diff != "" {
		t.Fatalf("killed reports %v: %s", killed, diff)
	}
	tr.releaseAll()
	for _, h := range handles {
		waitDone(t, h)
	}
}

// A dynamic supervisor gives up as a static one does.
func TestDynamicIntensity(t *testing.T) {
	tr := newTree(t)
	d, err := runtime.StartDynamicSupervisor(tr.ctx, runtime.DynamicSupervisorSpec{Name: "pool", MaxRestarts: 1, MaxSeconds: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		infos, _ := d.WhichChildren(tr.ctx)
		var h runtime.Handle
		if i == 0 {
			h, _ = d.StartChild(tr.ctx, tr.child("x"))
		} else {
			h = infos[0].Handle
		}
		tr.worker("x").ctl <- func() error { return errCrash }
		waitDone(t, h)
	}
	if err := d.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("Wait = %v", err)
	}
}

// Invalid dynamic specs.
func TestDynamicSpecValidation(t *testing.T) {
	tr := newTree(t)
	for _, spec := range []runtime.DynamicSupervisorSpec{
		{MaxRestarts: -1, MaxSeconds: 5},
		{MaxRestarts: 1, MaxSeconds: -1},
		{MaxChildren: -1},
	} {
		if _, err := runtime.NewDynamicSupervisor(tr.ctx, spec); !errors.Is(err, runtime.ErrInvalidSpec) {
			t.Errorf("%+v: err = %v", spec, err)
		}
	}
}
