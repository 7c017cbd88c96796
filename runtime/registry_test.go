package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/arborgo/arbor/runtime"
)

// §5.4: register, look up, unregister; a clash names the live holder; a
// process may hold many keys.
func TestRegistryBasics(t *testing.T) {
	ctx := context.Background()
	r := runtime.NewRegistry[string]()
	a, b := spawn(t, ctx, "a"), spawn(t, ctx, "b")
	if err := r.Register("k", a.h); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("k2", a.h); err != nil {
		t.Fatal(err)
	}
	var ase *runtime.AlreadyStartedError
	if err := r.Register("k", b.h); !errors.As(err, &ase) || ase.Handle != a.h {
		t.Fatalf("clash = %v, want already_started %v", err, a.h)
	}
	if h, ok := r.Lookup("k"); !ok || h != a.h {
		t.Fatalf("Lookup = %v, %v", h, ok)
	}
	if keys := r.Keys(a.h); len(keys) != 2 {
		t.Fatalf("Keys = %v", keys)
	}
	r.Unregister("k")
	r.Unregister("never")
	if _, ok := r.Lookup("k"); ok {
		t.Fatal("found after Unregister")
	}
	if err := r.Register("k", b.h); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("z", runtime.Handle{}); !errors.Is(err, runtime.ErrNoProc) {
		t.Fatalf("Register(zero) = %v", err)
	}
	a.exit(t, nil)
	b.exit(t, nil)
}

// §5.4: an entry disappears when its process exits; a dead holder never
// blocks a new registration.
func TestRegistryForgetsExited(t *testing.T) {
	ctx := context.Background()
	r := runtime.NewRegistry[string]()
	a := spawn(t, ctx, "a")
	r.Register("k", a.h)
	r.Register("k2", a.h)
	a.exit(t, errCrash)
	if _, ok := r.Lookup("k"); ok {
		t.Fatal("Lookup returned an exited process")
	}
	if r.Len() != 0 {
		t.Fatalf("Len = %d after exit", r.Len())
	}
	if err := r.Register("k", a.h); !errors.Is(err, runtime.ErrNoProc) {
		t.Fatalf("Register(dead) = %v", err)
	}
	b := spawn(t, ctx, "b")
	if err := r.Register("k", b.h); err != nil {
		t.Fatal(err)
	}
	b.exit(t, nil)
}

// Children named in their spec are registered on every start and reached
// by name; a clash fails the start.
func TestChildNames(t *testing.T) {
	tr := newTree(t)
	r := runtime.NewRegistry[string]()
	named := tr.child("counter")
	named.Name = r.Name("counter")
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{named}})
	h1, ok := r.Lookup("counter")
	if !ok || h1 != handleOf(t, sup, "counter") {
		t.Fatalf("Lookup = %v, %v", h1, ok)
	}
	tr.exitWith(sup, "counter", errCrash)
	current := handleOf(t, sup, "counter") // the restart has happened
	h2, ok := r.Lookup("counter")
	if !ok || h2 == h1 || h2 != current {
		t.Fatalf("after restart Lookup = %v, %v", h2, ok)
	}
	clash := tr.child("other")
	clash.Name = r.Name("counter")
	_, err := sup.StartChild(tr.ctx, clash)
	var ase *runtime.AlreadyStartedError
	if !errors.As(err, &ase) || ase.Handle != h2 {
		t.Fatalf("clashing StartChild = %v", err)
	}
}

// §5.4, the seed talk's connection registry: look up or start is race-free
// when many callers ask for the same name at once, in a registry of one
// partition or of many.
func TestLookupOrStartRace(t *testing.T) {
	for _, k := range uniqueKinds {
		t.Run(k.name, func(t *testing.T) { testLookupOrStartRace(t, runtime.NewUniqueRegistry[string, struct{}](k.opts)) })
	}
}

func testLookupOrStartRace(t *testing.T, r *runtime.Registry[string]) {
	tr := newTree(t)
	pool := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "conns"})
	var starts atomic.Int32
	start := func(ctx context.Context) (runtime.Handle, error) {
		starts.Add(1)
		return pool.StartChild(ctx, runtime.ChildSpec{Restart: runtime.Temporary, Start: tr.child("conn").Start})
	}
	for round := range 3 {
		var wg sync.WaitGroup
		got := make([]runtime.Handle, 64)
		for i := range got {
			wg.Go(func() {
				h, err := r.LookupOrStart(tr.ctx, "node-1", start)
				if err != nil {
					t.Error(err)
				}
				got[i] = h
			})
		}
		wg.Wait()
		for _, h := range got {
			if h != got[0] || !h.Alive() {
				t.Fatalf("round %d: callers got different or dead processes: %v vs %v", round, h, got[0])
			}
		}
		if int(starts.Load()) != round+1 {
			t.Fatalf("round %d: %d starts", round, starts.Load())
		}
		// The connection dies: the registry forgets it, the next round starts a new one.
		if err := pool.TerminateChild(tr.ctx, got[0]); err != nil {
			t.Fatal(err)
		}
	}
}

// A failing start is returned to its caller; the key stays free.
func TestLookupOrStartError(t *testing.T) {
	r := runtime.NewRegistry[int]()
	boom := errors.New("boom")
	if _, err := r.LookupOrStart(context.Background(), 1, func(context.Context) (runtime.Handle, error) { return runtime.Handle{}, boom }); err != boom {
		t.Fatalf("err = %v", err)
	}
	if r.Len() != 0 {
		t.Fatal("failed start left an entry")
	}
}

// Issue 4: 10,000 dynamic children, a random third killed; the registry and
// the counts agree with what is alive.
func TestTenThousandChildrenRegistryAgrees(t *testing.T) {
	tr := newTree(t)
	ctx := runtime.WithEventHook(tr.ctx, func(runtime.Event) {})
	pool, err := runtime.StartDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "buckets"})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Stop(context.Background())
	r := runtime.NewRegistry[string]()
	const n = 10_000
	stops := make([]chan error, n)
	handles := make([]runtime.Handle, n)
	for i := range n {
		stop := make(chan error, 1)
		stops[i] = stop
		h, err := pool.StartChild(ctx, runtime.ChildSpec{
			Restart: runtime.Temporary,
			Name:    r.Name(fmt.Sprint("bucket-", i)),
			Start: func(context.Context) (runtime.Service, error) {
				return serviceFunc(func(ctx context.Context) error {
					select {
					case err := <-stop:
						return err
					case <-ctx.Done():
						return nil
					}
				}), nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		handles[i] = h
	}
	killed := map[int]bool{}
	for _, i := range rand.Perm(n)[:n/3] {
		killed[i] = true
		stops[i] <- errCrash
	}
	for i := range killed {
		waitDone(t, handles[i])
	}
	counts, err := pool.CountChildren(ctx)
	if err != nil {
		t.Fatal(err)
	}
	alive := n - len(killed)
	if counts.Active != alive || counts.Specs != alive || r.Len() != alive {
		t.Fatalf("counts %+v, registry %d, want %d alive", counts, r.Len(), alive)
	}
	for i, h := range handles {
		got, ok := r.Lookup(fmt.Sprint("bucket-", i))
		if ok != !killed[i] || (ok && got != h) || h.Alive() == killed[i] {
			t.Fatalf("bucket-%d: lookup %v %v, handle %v alive %v, killed %v", i, got, ok, h, h.Alive(), killed[i])
		}
	}
}

// ServiceOf gives typed access to what a handle's process runs.
func TestServiceOf(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{tr.child("w")}})
	h := handleOf(t, sup, "w")
	if w, ok := runtime.ServiceOf[*worker](h); !ok || w != tr.worker("w") {
		t.Fatalf("ServiceOf = %v, %v", w, ok)
	}
	if _, ok := runtime.ServiceOf[*named](h); ok {
		t.Fatal("ServiceOf with the wrong type succeeded")
	}
	if _, ok := runtime.ServiceOf[*worker](runtime.Handle{}); ok {
		t.Fatal("ServiceOf of the zero handle succeeded")
	}
}
