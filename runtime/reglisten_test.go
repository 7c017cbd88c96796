package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/arborgo/arbor/runtime"
)

// audit is a listener: a server that records the events it is told of.
type audit[V any] struct {
	srv *runtime.Server[[]string]
}

func startAudit[V any](t *testing.T, ctx context.Context) audit[V] {
	t.Helper()
	srv, err := runtime.StartServer(ctx, "audit", runtime.ServerSpec[[]string]{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background(), nil) })
	return audit[V]{srv: srv}
}

func (a audit[V]) listener() runtime.Listener[string, V] {
	return runtime.NewListener(a.srv, func(log *[]string, ev runtime.RegistryEvent[string, V]) error {
		*log = append(*log, fmt.Sprintf("%s %s %v %v", ev.Kind, ev.Key, ev.Handle, ev.Value))
		return nil
	})
}

// events returns what the listener has been told so far, and forgets it.
// Events are queued on the server when the registry changes, so a call
// made after a change sees its event.
func (a audit[V]) events(t *testing.T) []string {
	t.Helper()
	log, err := runtime.Call(context.Background(), a.srv, func(log *[]string) ([]string, error) {
		got := *log
		*log = nil
		return got, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return log
}

// §5.4, Elixir's :listeners: a listener is told of every registration,
// with its value, and of every unregistration, in a duplicate registry
// and in a unique one; a process's exit is not an unregistration.
func TestListenersGetBothEvents(t *testing.T) {
	ctx := context.Background()
	for _, k := range dupKinds {
		t.Run("duplicate/"+k.name, func(t *testing.T) {
			r := runtime.NewDuplicateRegistry[string, int](k.opts)
			au := startAudit[int](t, ctx)
			r.Listen(au.listener())
			a, b := spawn(t, ctx, "a"), spawn(t, ctx, "b")
			defer b.exit(t, nil)
			r.RegisterValue("hello", a.h, 1)
			r.RegisterValue("hello", a.h, 2)
			r.RegisterValue("hello", b.h, 3)
			r.Unregister("hello", a.h)
			r.Unregister("hello", a.h) // nothing left to remove: no event
			r.RegisterValue("world", a.h, 4)
			a.exit(t, errCrash)
			want := []string{
				fmt.Sprintf("register hello %v 1", a.h),
				fmt.Sprintf("register hello %v 2", a.h),
				fmt.Sprintf("register hello %v 3", b.h),
				fmt.Sprintf("unregister hello %v 0", a.h),
				fmt.Sprintf("register world %v 4", a.h),
			}
			if got := au.events(t); !slices.Equal(got, want) {
				t.Fatalf("listener got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
	for _, k := range uniqueKinds {
		t.Run("unique/"+k.name, func(t *testing.T) {
			r := runtime.NewUniqueRegistry[string, string](k.opts)
			au := startAudit[string](t, ctx)
			r.Listen(au.listener())
			a := spawn(t, ctx, "a")
			r.RegisterValue("hello", a.h, "world")
			r.RegisterValue("hello", a.h, "again") // already registered: no event
			r.Unregister("hello")
			r.Unregister("hello")
			r.RegisterValue("other", a.h, "x")
			a.exit(t, nil)
			want := []string{
				fmt.Sprintf("register hello %v world", a.h),
				fmt.Sprintf("unregister hello %v ", a.h),
				fmt.Sprintf("register other %v x", a.h),
			}
			if got := au.events(t); !slices.Equal(got, want) {
				t.Fatalf("listener got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// Registrations through ChildSpec.Name and LookupOrStart are registrations
// too: listeners hear of them.
func TestListenersHearNamesAndLookupOrStart(t *testing.T) {
	tr := newTree(t)
	r := runtime.NewUniqueRegistry[string, struct{}](runtime.RegistryOptions{Name: "names", Partitions: 4})
	au := startAudit[struct{}](t, tr.ctx)
	r.Listen(au.listener())
	named := tr.child("counter")
	named.Name = r.Name("counter")
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{named}})
	pool, err := runtime.StartDynamicSupervisor(tr.ctx, runtime.DynamicSupervisorSpec{Name: "pool"})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Stop(context.Background())
	h, err := r.LookupOrStart(tr.ctx, "conn", func(ctx context.Context) (runtime.Handle, error) {
		return pool.StartChild(ctx, runtime.ChildSpec{Restart: runtime.Temporary, Start: tr.child("conn").Start})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("register counter %v {}", handleOf(t, sup, "counter")),
		fmt.Sprintf("register conn %v {}", h),
	}
	if got := au.events(t); !slices.Equal(got, want) {
		t.Fatalf("listener got %q, want %q", got, want)
	}
}

// A listener leaves when stopped, and when its server exits; the events
// of each key reach it in the order of the changes, even when many
// goroutines change the registry at once.
func TestListenerStopAndOrder(t *testing.T) {
	ctx := context.Background()
	r := runtime.NewUniqueRegistry[string, int](runtime.RegistryOptions{Partitions: 4})
	au := startAudit[int](t, ctx)
	stop := r.Listen(au.listener())
	a := spawn(t, ctx, "a")
	defer a.exit(t, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			key := fmt.Sprint("k", g)
			for i := range 50 {
				r.RegisterValue(key, a.h, i)
				r.Unregister(key)
			}
		})
	}
	wg.Wait()
	perKey := map[string][]string{}
	for _, ev := range au.events(t) {
		f := strings.Fields(ev)
		perKey[f[1]] = append(perKey[f[1]], f[0]+" "+f[len(f)-1])
	}
	for g := range 4 {
		key := fmt.Sprint("k", g)
		var want []string
		for i := range 50 {
			want = append(want, fmt.Sprint("register ", i), "unregister 0")
		}
		if !slices.Equal(perKey[key], want) {
			t.Fatalf("events of %s out of order: %v", key, perKey[key])
		}
	}
	if !stop() || stop() {
		t.Fatal("stop should report true once, then false")
	}
	r.RegisterValue("after-stop", a.h, 1)
	if got := au.events(t); len(got) != 0 {
		t.Fatalf("a stopped listener got %v", got)
	}
	// A listener whose server exits leaves; the registry goes on.
	au2 := startAudit[int](t, ctx)
	stop2 := r.Listen(au2.listener())
	if err := au2.srv.Stop(ctx, nil); err != nil {
		t.Fatal(err)
	}
	r.RegisterValue("after-exit", a.h, 1)
	if stop2() {
		t.Fatal("the listener of an exited server was still listening")
	}
	if stop := r.Listen(au2.listener()); stop() {
		t.Fatal("an exited server became a listener")
	}
	if stop := r.Listen(runtime.Listener[string, int]{}); stop() {
		t.Fatal("the zero Listener became a listener")
	}
}

// §5.4, Elixir's update_value: only the process that holds a key updates
// its value; the update sees the old value, and concurrent updates of one
// entry all count.
func TestUpdateValue(t *testing.T) {
	for _, k := range uniqueKinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := context.Background()
			r := runtime.NewUniqueRegistry[string, int](k.opts)
			a, b := spawn(t, ctx, "a"), spawn(t, ctx, "b")
			defer a.exit(t, nil)
			defer b.exit(t, nil)
			if err := r.RegisterValue("hello", a.h, 1); err != nil {
				t.Fatal(err)
			}
			if e, ok := r.LookupEntry("hello"); !ok || e.Value != 1 || e.Handle != a.h || e.Key != "hello" {
				t.Fatalf("LookupEntry = %+v, %v", e, ok)
			}
			a.run(t, func(ctx context.Context) {
				if nv, ov, ok := r.UpdateValue(ctx, "hello", func(v int) int { return v + 1 }); !ok || nv != 2 || ov != 1 {
					t.Errorf("UpdateValue by the owner = %d, %d, %v; want 2, 1, true", nv, ov, ok)
				}
			})
			b.run(t, func(ctx context.Context) {
				if _, _, ok := r.UpdateValue(ctx, "hello", func(v int) int { t.Error("update called for a non-owner"); return v }); ok {
					t.Error("UpdateValue by another process succeeded")
				}
			})
			if _, _, ok := r.UpdateValue(ctx, "hello", func(v int) int { return v }); ok {
				t.Error("UpdateValue from no process succeeded")
			}
			a.run(t, func(ctx context.Context) {
				if _, _, ok := r.UpdateValue(ctx, "missing", func(v int) int { return v }); ok {
					t.Error("UpdateValue of a missing key succeeded")
				}
				var wg sync.WaitGroup
				for range 50 {
					wg.Go(func() { r.UpdateValue(ctx, "hello", func(v int) int { return v + 1 }) })
				}
				wg.Wait()
			})
			if e, _ := r.LookupEntry("hello"); e.Value != 52 {
				t.Fatalf("after 50 concurrent increments: %d, want 52", e.Value)
			}
			// An update that panics leaves the value as it was.
			a.run(t, func(ctx context.Context) {
				defer func() { recover() }()
				r.UpdateValue(ctx, "hello", func(int) int { panic("boom") })
			})
			// An update whose key is unregistered meanwhile is dropped.
			a.run(t, func(ctx context.Context) {
				if _, _, ok := r.UpdateValue(ctx, "hello", func(v int) int { r.Unregister("hello"); return 0 }); ok {
					t.Error("an update of an unregistered key was stored")
				}
			})
			if _, ok := r.LookupEntry("hello"); ok {
				t.Fatal("the key is back")
			}
		})
	}
}

// A unique registry's entry under a key is matched, selected and dispatched
// to as in a duplicate one, and a name can carry a value.
func TestUniqueMatchAndNameValue(t *testing.T) {
	tr := newTree(t)
	r := runtime.NewUniqueRegistry[string, string](runtime.RegistryOptions{Name: "conns", Partitions: 2})
	a := tr.child("a")
	a.Name = r.NameValue("node-a", "10.0.0.1")
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{a}})
	h := handleOf(t, sup, "a")
	if e, ok := r.LookupEntry("node-a"); !ok || e.Handle != h || e.Value != "10.0.0.1" {
		t.Fatalf("LookupEntry = %+v, %v", e, ok)
	}
	if r.CountMatch("node-a", func(v string) bool { return strings.HasPrefix(v, "10.") }) != 1 ||
		r.CountMatch("node-a", func(v string) bool { return v == "" }) != 0 {
		t.Fatal("CountMatch")
	}
	if got := r.Select(func(e runtime.Entry[string, string]) bool { return e.Handle == h }); len(got) != 1 || got[0].Key != "node-a" {
		t.Fatalf("Select = %v", got)
	}
	var seen []runtime.Entry[string, string]
	if n := r.Dispatch("node-a", func(e runtime.Entry[string, string]) { seen = append(seen, e) }); n != 1 || seen[0].Value != "10.0.0.1" {
		t.Fatalf("Dispatch: %d, %v", n, seen)
	}
	if got := a.Name.String(); got != "conns/node-a" {
		t.Fatalf("Name.String() = %q", got)
	}
	if got := r.String(); got != `unique registry "conns"` {
		t.Fatalf("String() = %q", got)
	}
}

// Issue 13: a supervisor's snapshot lists the names each running child
// holds, "registry/key", in JSON too; a restarted child holds them again.
func TestSnapshotNames(t *testing.T) {
	tr := newTree(t)
	buckets := runtime.NewUniqueRegistry[string, struct{}](runtime.RegistryOptions{Name: "buckets", Partitions: 4})
	anon := runtime.NewRegistry[string]()
	topics := runtime.NewDuplicateRegistry[string, struct{}](runtime.RegistryOptions{Name: "topics"})
	shopping := tr.child("shopping")
	shopping.Name = buckets.Name("shopping")
	start := shopping.Start
	shopping.Start = func(ctx context.Context) (runtime.Service, error) {
		svc, err := start(ctx)
		if err == nil {
			err = errors.Join(anon.Register("cart", runtime.Self(ctx)), topics.Register("prices", runtime.Self(ctx)))
		}
		return svc, err
	}
	sup := tr.start(runtime.SupervisorSpec{Name: "kv", Children: []runtime.ChildSpec{shopping, tr.child("plain")}})
	check := func() {
		t.Helper()
		snap, err := sup.Snapshot(tr.ctx)
		if err != nil {
			t.Fatal(err)
		}
		// anon's entry is made in the start function, before the child's
		// name is registered; a duplicate registry's entries are not names.
		if got := snap.Children[0].Names; !slices.Equal(got, []string{"cart", "buckets/shopping"}) {
			t.Fatalf("names of shopping = %q", got)
		}
		if got := snap.Children[1].Names; got != nil {
			t.Fatalf("names of plain = %q", got)
		}
		js, err := json.Marshal(snap.Children[0])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(js), `"names":["cart","buckets/shopping"]`) {
			t.Fatalf("JSON has no names: %s", js)
		}
	}
	check()
	tr.exitWith(sup, "shopping", errCrash)
	check()
}
