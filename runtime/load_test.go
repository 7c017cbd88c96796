package runtime_test

// Load: 1,000 goroutines at once start and terminate children of a static
// and a dynamic supervisor, make their own children crash, list and count
// the children, and call and cast to a server that is a sibling of both,
// for a while (about 1.5 s; -chaos.duration makes it longer). No call may
// hang (each has a deadline far beyond what it needs), the race detector
// must stay quiet, and no child may be lost: every goroutine checks that
// its own children are listed, running, with the handle their latest start
// gave, and at the end the children that exist are exactly those started
// and not terminated, and the server has seen every call and cast.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
)

const (
	loadGoroutines = 1000
	loadShort      = 1500 * time.Millisecond
	// loadCallLimit bounds each call: only a deadlock takes this long.
	loadCallLimit = 60 * time.Second
)

var errLoadCrash = errors.New("load crash")

// loadChild is one child a goroutine owns, across its restarts.
type loadChild struct {
	id      string
	restart runtime.Restart

	mu      sync.Mutex
	h       runtime.Handle // of the latest start
	crash   chan struct{}  // makes the latest incarnation crash
	changed chan struct{}  // closed at the next start
}

type loadWorker struct{ crash chan struct{} }

func (w loadWorker) Serve(ctx context.Context) error {
	select {
	case <-w.crash:
		return errLoadCrash
	case <-ctx.Done():
		return nil
	}
}

func newLoadChild(id string, restart runtime.Restart) *loadChild {
	return &loadChild{id: id, restart: restart, changed: make(chan struct{})}
}

func (c *loadChild) spec() runtime.ChildSpec {
	return runtime.ChildSpec{ID: c.id, Restart: c.restart, Shutdown: runtime.Infinity,
		Start: func(ctx context.Context) (runtime.Service, error) {
			w := loadWorker{crash: make(chan struct{})}
			c.mu.Lock()
			c.h, c.crash = runtime.Self(ctx), w.crash
			close(c.changed)
			c.changed = make(chan struct{})
			c.mu.Unlock()
			return w, nil
		}}
}

func (c *loadChild) handle() runtime.Handle {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.h
}

// crashAndWait makes the child crash and waits until it has been
// restarted.
func (c *loadChild) crashAndWait(ctx context.Context) error {
	c.mu.Lock()
	old, crash, changed := c.h, c.crash, c.changed
	c.mu.Unlock()
	close(crash)
	select {
	case <-changed:
	case <-ctx.Done():
		return fmt.Errorf("%s (%v) was not restarted after its crash", c.id, old)
	}
	if c.handle() == old {
		return fmt.Errorf("%s restarted with its old handle", c.id)
	}
	return nil
}

type loadState struct{ n int }

// loadOwned is what a goroutine leaves behind.
type loadOwned struct {
	static      map[string]*loadChild
	dynamic     []*loadChild
	calls, cast int
	ops         int
}

func TestLoad(t *testing.T) {
	dur := loadShort
	if *chaosDurationFlag > 0 {
		dur = *chaosDurationFlag
	}
	seed := *chaosSeedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	ctx := runtime.WithEventHook(context.Background(), func(runtime.Event) {})
	top, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
		Name:  "load",
		Flags: runtime.Flags{Strategy: runtime.OneForOne, MaxRestarts: 1 << 30, MaxSeconds: 1},
		Children: []runtime.ChildSpec{
			{ID: "server", Start: func(ctx context.Context) (runtime.Service, error) {
				return runtime.NewServer(ctx, runtime.ServerSpec[loadState]{})
			}},
			{ID: "pool", Type: runtime.TypeSupervisor, Start: func(ctx context.Context) (runtime.Service, error) {
				return runtime.NewDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "pool", MaxRestarts: 1 << 30, MaxSeconds: 1})
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), loadCallLimit)
		defer cancel()
		if err := top.Stop(stopCtx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	infos, err := top.WhichChildren(ctx)
	if err != nil || len(infos) != 2 {
		t.Fatalf("WhichChildren = %v, %v", infos, err)
	}
	srv, ok1 := runtime.ServiceOf[*runtime.Server[loadState]](infos[1].Handle)
	pool, ok2 := runtime.ServiceOf[*runtime.DynamicSupervisor](infos[0].Handle)
	if !ok1 || !ok2 {
		t.Fatalf("children %+v", infos)
	}

	var stop atomic.Bool
	timer := time.AfterFunc(dur, func() { stop.Store(true) })
	defer timer.Stop()
	owned := make([]loadOwned, loadGoroutines)
	errs := make(chan error, loadGoroutines)
	var wg sync.WaitGroup
	for g := range loadGoroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loadRun(g, rand.New(rand.NewPCG(uint64(seed), uint64(g))), &stop, top, pool, srv, &owned[g]); err != nil {
				errs <- fmt.Errorf("goroutine %d: %w", g, err)
				stop.Store(true)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.Fatalf("seed %d (go test ./runtime -run 'TestLoad$' -chaos.seed=%d)", seed, seed)
	}

	// The children that exist are exactly those started and not terminated.
	wantStatic := map[string]runtime.Handle{"server": infos[1].Handle, "pool": infos[0].Handle}
	wantDynamic := map[runtime.Handle]bool{}
	var ops, calls, casts int
	for _, o := range owned {
		for id, c := range o.static {
			wantStatic[id] = c.handle()
		}
		for _, c := range o.dynamic {
			wantDynamic[c.handle()] = true
		}
		ops, calls, casts = ops+o.ops, calls+o.calls, casts+o.cast
	}
	infos, err = top.WhichChildren(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != len(wantStatic) {
		t.Errorf("static supervisor has %d children, want %d", len(infos), len(wantStatic))
	}
	for _, in := range infos {
		if h, ok := wantStatic[in.ID]; !ok || in.Handle != h || !h.Alive() {
			t.Errorf("static child %s: %+v, want handle %v (known %v)", in.ID, in, h, ok)
		}
	}
	if n, err := top.CountChildren(ctx); err != nil || n != (runtime.Counts{Specs: len(wantStatic), Active: len(wantStatic), Supervisors: 1, Workers: len(wantStatic) - 1}) {
		t.Errorf("static CountChildren = %+v, %v; %d children", n, err, len(wantStatic))
	}
	dyn, err := pool.WhichChildren(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dyn) != len(wantDynamic) {
		t.Errorf("dynamic supervisor has %d children, want %d", len(dyn), len(wantDynamic))
	}
	for _, in := range dyn {
		if !wantDynamic[in.Handle] || !in.Handle.Alive() {
			t.Errorf("dynamic child %+v was not started, or was terminated, or is not running", in)
		}
	}
	if n, err := pool.CountChildren(ctx); err != nil || n != (runtime.Counts{Specs: len(wantDynamic), Active: len(wantDynamic), Workers: len(wantDynamic)}) {
		t.Errorf("dynamic CountChildren = %+v, %v; %d children", n, err, len(wantDynamic))
	}
	n, err := runtime.CallTimeout(ctx, srv, runtime.InfiniteTimeout, func(s *loadState) (int, error) { return s.n, nil })
	if err != nil || n != calls+casts {
		t.Errorf("the server counted %d (%v), want %d calls and %d casts", n, err, calls, casts)
	}
	t.Logf("load: %d goroutines, %v, %d operations (%d calls, %d casts); %d static and %d dynamic children left",
		loadGoroutines, dur, ops, calls, casts, len(wantStatic)-2, len(wantDynamic))
}

// loadRun is one goroutine's work: random operations on its own children
// and on the shared supervisors and server, until stop.
func loadRun(g int, rng *rand.Rand, stop *atomic.Bool, top *runtime.Supervisor, pool *runtime.DynamicSupervisor, srv *runtime.Server[loadState], o *loadOwned) error {
	o.static = map[string]*loadChild{}
	restartType := func() runtime.Restart { return runtime.Restart(rng.IntN(3)) }
	anyStatic := func() *loadChild {
		for _, c := range o.static { // map order is random enough
			return c
		}
		return nil
	}
	for n := 0; !stop.Load(); n++ {
		o.ops++
		ctx, cancel := context.WithTimeout(context.Background(), loadCallLimit)
		err := loadOp(g, n, rng.IntN(100), ctx, rng, restartType, anyStatic, top, pool, srv, o)
		if err == nil && ctx.Err() != nil {
			err = errors.New("a call took too long: deadlock?")
		}
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

func loadOp(g, n, op int, ctx context.Context, rng *rand.Rand, restartType func() runtime.Restart, anyStatic func() *loadChild,
	top *runtime.Supervisor, pool *runtime.DynamicSupervisor, srv *runtime.Server[loadState], o *loadOwned) error {
	switch {
	case op < 16 && len(o.static) < 2:
		c := newLoadChild(fmt.Sprintf("g%d.%d", g, n), restartType())
		h, err := top.StartChild(ctx, c.spec())
		if err != nil || h != c.handle() {
			return fmt.Errorf("StartChild(%s) = %v, %v; its start gave %v", c.id, h, err, c.handle())
		}
		o.static[c.id] = c
	case op < 18 && len(o.static) > 0:
		c := anyStatic()
		if _, err := top.StartChild(ctx, c.spec()); !errors.Is(err, runtime.ErrAlreadyStarted) {
			return fmt.Errorf("StartChild(%s) again = %v, want already_started", c.id, err)
		}
	case op < 30 && len(o.static) > 0:
		c := anyStatic()
		if err := top.TerminateChild(ctx, c.id); err != nil {
			return fmt.Errorf("TerminateChild(%s) = %v", c.id, err)
		}
		if c.restart != runtime.Temporary {
			if err := top.DeleteChild(ctx, c.id); err != nil {
				return fmt.Errorf("DeleteChild(%s) = %v", c.id, err)
			}
		}
		delete(o.static, c.id)
	case op < 45 && len(o.dynamic) < 2:
		c := newLoadChild(fmt.Sprintf("g%d.%d", g, n), restartType())
		h, err := pool.StartChild(ctx, c.spec())
		if err != nil || h != c.handle() {
			return fmt.Errorf("dynamic StartChild = %v, %v; its start gave %v", h, err, c.handle())
		}
		o.dynamic = append(o.dynamic, c)
	case op < 57 && len(o.dynamic) > 0:
		i := rng.IntN(len(o.dynamic))
		c := o.dynamic[i]
		if err := pool.TerminateChild(ctx, c.handle()); err != nil {
			return fmt.Errorf("dynamic TerminateChild(%v) = %v", c.handle(), err)
		}
		o.dynamic = append(o.dynamic[:i], o.dynamic[i+1:]...)
	case op < 63 && len(o.static) > 0:
		if c := anyStatic(); c.restart != runtime.Temporary {
			return c.crashAndWait(ctx)
		}
	case op < 67 && len(o.dynamic) > 0:
		if c := o.dynamic[rng.IntN(len(o.dynamic))]; c.restart != runtime.Temporary {
			return c.crashAndWait(ctx)
		}
	case op < 72:
		infos, err := top.WhichChildren(ctx)
		if err != nil {
			return fmt.Errorf("WhichChildren = %v", err)
		}
		seen := 0
		for _, in := range infos {
			if c, ok := o.static[in.ID]; ok {
				if in.Handle != c.handle() || in.Restarting {
					return fmt.Errorf("which_children lists %+v, its latest start gave %v", in, c.handle())
				}
				seen++
			}
		}
		if seen != len(o.static) {
			return fmt.Errorf("which_children lists %d of my %d children", seen, len(o.static))
		}
	case op < 77:
		infos, err := pool.WhichChildren(ctx)
		if err != nil {
			return fmt.Errorf("dynamic WhichChildren = %v", err)
		}
		listed := map[runtime.Handle]bool{}
		for _, in := range infos {
			listed[in.Handle] = true
		}
		for _, c := range o.dynamic {
			if !listed[c.handle()] {
				return fmt.Errorf("dynamic which_children lacks my child %v", c.handle())
			}
		}
	case op < 85:
		for i, counts := range []func(context.Context) (runtime.Counts, error){top.CountChildren, pool.CountChildren} {
			mine := len(o.static)
			if i == 1 {
				mine = len(o.dynamic)
			}
			n, err := counts(ctx)
			if err != nil || n.Specs != n.Workers+n.Supervisors || n.Active > n.Specs || n.Specs < mine {
				return fmt.Errorf("CountChildren = %+v, %v", n, err)
			}
		}
	case op < 95:
		if _, err := runtime.CallTimeout(ctx, srv, runtime.InfiniteTimeout, func(s *loadState) (int, error) { s.n++; return s.n, nil }); err != nil {
			return fmt.Errorf("Call = %v", err)
		}
		o.calls++
	default:
		srv.Cast(func(s *loadState) error { s.n++; return nil })
		o.cast++
	}
	return nil
}
