package runtime_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/arborgo/arbor/runtime"
)

// dupKinds are the ways a duplicate registry can be split; every
// behaviour holds for each.
var dupKinds = []struct {
	name string
	opts runtime.RegistryOptions
}{
	{"one partition", runtime.RegistryOptions{}},
	{"8 partitions by process", runtime.RegistryOptions{Partitions: 8}},
	{"8 partitions by key", runtime.RegistryOptions{Partitions: 8, PartitionByKey: true}},
}

// uniqueKinds are the ways a unique registry can be split.
var uniqueKinds = []struct {
	name string
	opts runtime.RegistryOptions
}{
	{"one partition", runtime.RegistryOptions{}},
	{"8 partitions", runtime.RegistryOptions{Partitions: 8}},
}

// sortEntries sorts entries by key, then process, then value, for
// comparisons that must not depend on order: a duplicate registry's
// entries have none.
func sortEntries[V cmp.Ordered](es []runtime.Entry[string, V]) []runtime.Entry[string, V] {
	slices.SortFunc(es, func(a, b runtime.Entry[string, V]) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Handle.String(), b.Handle.String()), cmp.Compare(a.Value, b.Value))
	})
	return es
}

func entry[V any](key string, h runtime.Handle, v V) runtime.Entry[string, V] {
	return runtime.Entry[string, V]{Key: key, Handle: h, Value: v}
}

// §5.4, Elixir's register and lookup on a duplicate registry: a process
// that registers again under a key it holds adds an entry; many processes
// share a key; a lookup returns every entry, with its value; keys lists a
// key once per entry; values gives one process's values under a key.
func TestDuplicateRegister(t *testing.T) {
	for _, k := range dupKinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := context.Background()
			r := runtime.NewDuplicateRegistry[string, string](k.opts)
			a, b := spawn(t, ctx, "a"), spawn(t, ctx, "b")
			defer a.exit(t, nil)
			defer b.exit(t, nil)
			for _, reg := range []struct {
				key, value string
				p          *proc
			}{{"hello", "world", a}, {"hello", "world", a}, {"hello", "another", a}, {"hello", "b", b}, {"other", "x", a}} {
				if err := r.RegisterValue(reg.key, reg.p.h, reg.value); err != nil {
					t.Fatal(err)
				}
			}
			want := sortEntries([]runtime.Entry[string, string]{
				entry("hello", a.h, "world"), entry("hello", a.h, "world"), entry("hello", a.h, "another"), entry("hello", b.h, "b"),
			})
			if got := sortEntries(r.Lookup("hello")); !slices.Equal(got, want) {
				t.Fatalf("Lookup = %v, want %v", got, want)
			}
			if got := r.Keys(a.h); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"hello", "hello", "hello", "other"}) {
				t.Fatalf("Keys(a) = %v", got)
			}
			if got := r.Values("hello", a.h); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"another", "world", "world"}) {
				t.Fatalf("Values(hello, a) = %v", got)
			}
			if n := r.Count(); n != 5 {
				t.Fatalf("Count = %d, want 5", n)
			}
			if got := r.Lookup("nobody"); len(got) != 0 {
				t.Fatalf("Lookup(nobody) = %v", got)
			}
			if err := r.Register("k", runtime.Handle{}); !errors.Is(err, runtime.ErrNoProc) {
				t.Fatalf("Register(zero handle) = %v", err)
			}
		})
	}
}

// §5.4, Elixir's unregister: it removes every entry of the process under
// the key, and only those.
func TestDuplicateUnregister(t *testing.T) {
	for _, k := range dupKinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := context.Background()
			r := runtime.NewDuplicateRegistry[string, int](k.opts)
			a, b := spawn(t, ctx, "a"), spawn(t, ctx, "b")
			defer a.exit(t, nil)
			defer b.exit(t, nil)
			r.RegisterValue("hello", a.h, 1)
			r.RegisterValue("hello", a.h, 2)
			r.RegisterValue("world", a.h, 3)
			r.RegisterValue("hello", b.h, 4)
			r.Unregister("hello", a.h)
			r.Unregister("never", a.h)
			r.Unregister("hello", runtime.Handle{})
			if got := r.Lookup("hello"); !slices.Equal(got, []runtime.Entry[string, int]{entry("hello", b.h, 4)}) {
				t.Fatalf("Lookup(hello) = %v", got)
			}
			if got := r.Keys(a.h); !slices.Equal(got, []string{"world"}) {
				t.Fatalf("Keys(a) = %v", got)
			}
			if n := r.Count(); n != 2 {
				t.Fatalf("Count = %d", n)
			}
			// Registering again after unregistering works.
			if err := r.RegisterValue("hello", a.h, 5); err != nil {
				t.Fatal(err)
			}
			if n := len(r.Lookup("hello")); n != 2 {
				t.Fatalf("%d entries under hello, want 2", n)
			}
		})
	}
}

// §5.4: a process's entries go away when it exits, whatever the reason,
// and in every partition; other processes' entries stay.
func TestDuplicateForgetsExited(t *testing.T) {
	for _, k := range dupKinds {
		for _, reason := range []error{nil, errCrash, runtime.ErrShutdown} {
			t.Run(fmt.Sprint(k.name, "/", reason), func(t *testing.T) {
				ctx := context.Background()
				r := runtime.NewDuplicateRegistry[string, int](k.opts)
				a, b := spawn(t, ctx, "a"), spawn(t, ctx, "b")
				defer b.exit(t, nil)
				for i := range 20 { // keys spread over the partitions
					r.RegisterValue(fmt.Sprint("topic-", i%5), a.h, i)
					r.RegisterValue(fmt.Sprint("topic-", i%5), b.h, i)
				}
				a.exit(t, reason)
				if n := r.Count(); n != 20 {
					t.Fatalf("Count = %d after a exited, want b's 20", n)
				}
				if got := r.Keys(a.h); len(got) != 0 {
					t.Fatalf("Keys(a) = %v after its exit", got)
				}
				for i := range 5 {
					for _, e := range r.Lookup(fmt.Sprint("topic-", i)) {
						if e.Handle != b.h {
							t.Fatalf("Lookup returned %v after its exit", e.Handle)
						}
					}
				}
				if err := r.Register("k", a.h); !errors.Is(err, runtime.ErrNoProc) {
					t.Fatalf("Register(exited) = %v", err)
				}
			})
		}
	}
}

// Given up means dead: a child that registered itself, killed by its
// supervisor (brutal_kill) while its goroutine runs on, leaves no entry,
// in a duplicate registry and in a unique one, by the time TerminateChild
// returns; its restarted incarnation registers again.
func TestRegistriesForgetGivenUpChild(t *testing.T) {
	for _, k := range dupKinds {
		t.Run(k.name, func(t *testing.T) {
			tr := newTree(t)
			dup := runtime.NewDuplicateRegistry[string, int](k.opts)
			uniq := runtime.NewUniqueRegistry[string, int](runtime.RegistryOptions{Partitions: k.opts.Partitions})
			spec := tr.child("w", shutdown(runtime.BrutalKill), stubborn(), restart(runtime.Transient))
			start := spec.Start
			spec.Start = func(ctx context.Context) (runtime.Service, error) {
				svc, err := start(ctx)
				if err != nil {
					return nil, err
				}
				self := runtime.Self(ctx)
				for i := range 3 {
					if err := dup.RegisterValue("topic", self, i); err != nil {
						return nil, err
					}
				}
				return svc, uniq.RegisterValue("w", self, 1)
			}
			sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{spec}})
			defer tr.releaseAll()
			old, oldWorker := handleOf(t, sup, "w"), tr.worker("w")
			defer func() { // the killed goroutine runs on until released
				close(oldWorker.release)
				<-old.Returned()
			}()
			if n := len(dup.Lookup("topic")); n != 3 {
				t.Fatalf("%d entries, want 3", n)
			}
			if err := sup.TerminateChild(tr.ctx, "w"); err != nil {
				t.Fatal(err)
			}
			if n := dup.Count(); n != 0 || len(dup.Lookup("topic")) != 0 || len(dup.Keys(old)) != 0 {
				t.Fatalf("after the kill: Count %d, Lookup %v, Keys %v", n, dup.Lookup("topic"), dup.Keys(old))
			}
			if _, ok := uniq.Lookup("w"); ok || uniq.Count() != 0 {
				t.Fatal("the unique name outlived the kill")
			}
			if _, err := sup.RestartChild(tr.ctx, "w"); err != nil {
				t.Fatal(err)
			}
			now := handleOf(t, sup, "w")
			if got := dup.Lookup("topic"); len(got) != 3 || got[0].Handle != now {
				t.Fatalf("after the restart: %v", got)
			}
			if h, ok := uniq.Lookup("w"); !ok || h != now {
				t.Fatalf("after the restart: Lookup(w) = %v, %v", h, ok)
			}
		})
	}
}

// §5.4, Elixir's dispatch: the function is called with every entry of the
// key, in no particular order that a caller may rely on; never for a key
// without entries; in the caller, with no lock held, so that it may change
// the registry itself.
func TestDispatch(t *testing.T) {
	for _, k := range dupKinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := context.Background()
			r := runtime.NewDuplicateRegistry[string, int](k.opts)
			var procs []*proc
			var want []runtime.Entry[string, int]
			defer func() {
				for _, p := range procs {
					p.exit(t, nil)
				}
			}()
			for i := range 10 {
				p := spawn(t, ctx, fmt.Sprint("p", i))
				procs = append(procs, p)
				r.RegisterValue("topic", p.h, i)
				want = append(want, entry("topic", p.h, i))
			}
			var got []runtime.Entry[string, int]
			n := r.Dispatch("topic", func(e runtime.Entry[string, int]) {
				got = append(got, e)
				// No lock is held: the function may register, unregister
				// and look up, even under the key being dispatched.
				if err := r.RegisterValue("topic", e.Handle, 100+e.Value); err != nil {
					t.Error(err)
				}
				r.Unregister("other", e.Handle)
				_ = r.Lookup("topic")
			})
			if n != 10 || !slices.Equal(sortEntries(got), sortEntries(want)) {
				t.Fatalf("Dispatch called f %d times with %v, want %v", n, got, want)
			}
			if c := r.Count(); c != 20 {
				t.Fatalf("Count = %d after registering from f", c)
			}
			called := false
			if n := r.Dispatch("nobody", func(runtime.Entry[string, int]) { called = true }); n != 0 || called {
				t.Fatal("Dispatch called f for a key without entries")
			}
			// An exited process's entries are not dispatched to.
			procs[0].exit(t, nil)
			procs = procs[1:]
			r.Dispatch("topic", func(e runtime.Entry[string, int]) {
				if !e.Handle.Alive() {
					t.Errorf("dispatched to exited %v", e.Handle)
				}
			})
		})
	}
}

// A panic in a dispatched function goes on in the caller, and leaves the
// registry usable.
func TestDispatchPanic(t *testing.T) {
	ctx := context.Background()
	r := runtime.NewDuplicateRegistry[string, int](runtime.RegistryOptions{Partitions: 4})
	a := spawn(t, ctx, "a")
	defer a.exit(t, nil)
	r.Register("k", a.h)
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v", v)
			}
		}()
		r.Dispatch("k", func(runtime.Entry[string, int]) { panic("boom") })
	}()
	if err := r.Register("k", a.h); err != nil || len(r.Lookup("k")) != 2 {
		t.Fatalf("registry unusable after a panic: %v, %v", err, r.Lookup("k"))
	}
}

// §5.4, Elixir's count, count_match, match, select and count_select, with
// Go predicates for patterns: over the value under a key, and over key,
// process and value; exited processes are not counted by the predicates.
func TestCountMatchSelect(t *testing.T) {
	for _, k := range dupKinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := context.Background()
			r := runtime.NewDuplicateRegistry[string, int](k.opts)
			a, b, c := spawn(t, ctx, "a"), spawn(t, ctx, "b"), spawn(t, ctx, "c")
			defer a.exit(t, nil)
			defer b.exit(t, nil)
			r.RegisterValue("hello", a.h, 1)
			r.RegisterValue("hello", a.h, 2)
			r.RegisterValue("hello", b.h, 3)
			r.RegisterValue("world", b.h, 4)
			r.RegisterValue("hello", c.h, 5)
			r.RegisterValue("world", c.h, 6)
			c.exit(t, nil)
			above1 := func(v int) bool { return v > 1 }
			if n := r.CountMatch("hello", above1); n != 2 {
				t.Fatalf("CountMatch(hello, >1) = %d, want 2", n)
			}
			if got := sortEntries(r.Match("hello", above1)); !slices.Equal(got, sortEntries([]runtime.Entry[string, int]{entry("hello", a.h, 2), entry("hello", b.h, 3)})) {
				t.Fatalf("Match = %v", got)
			}
			if n := r.CountMatch("world", func(int) bool { return true }); n != 1 {
				t.Fatalf("CountMatch(world, any) = %d, want 1", n)
			}
			ofB := func(e runtime.Entry[string, int]) bool { return e.Handle == b.h }
			if got := sortEntries(r.Select(ofB)); !slices.Equal(got, []runtime.Entry[string, int]{entry("hello", b.h, 3), entry("world", b.h, 4)}) {
				t.Fatalf("Select(of b) = %v", got)
			}
			evenWorld := func(e runtime.Entry[string, int]) bool { return e.Key == "world" || e.Value%2 == 0 }
			if n := r.CountSelect(evenWorld); n != 2 {
				t.Fatalf("CountSelect = %d, want 2 (a's 2 and b's world)", n)
			}
			if n := r.CountSelect(func(runtime.Entry[string, int]) bool { return true }); n != r.Count() || n != 4 {
				t.Fatalf("CountSelect(all) = %d, Count = %d, want 4", n, r.Count())
			}
			// The predicates run with no lock held: they may change the
			// registry (here, with a write lock each).
			change := func() {
				r.RegisterValue("scratch", a.h, 0)
				r.Unregister("scratch", a.h)
			}
			r.Select(func(runtime.Entry[string, int]) bool { change(); return true })
			r.Match("hello", func(int) bool { change(); return true })
		})
	}
}

// §5.4, Elixir's meta, put_meta and delete_meta, and the initial :meta;
// the zero registry of either kind is usable.
func TestRegistryMeta(t *testing.T) {
	var zero runtime.DuplicateRegistry[string, int]
	if _, ok := zero.Meta("k"); ok {
		t.Fatal("zero registry has metadata")
	}
	zero.PutMeta("k", 1)
	if v, ok := zero.Meta("k"); !ok || v != 1 {
		t.Fatalf("Meta = %v, %v", v, ok)
	}
	meta := map[string]any{"custom_key": "custom_value"}
	r := runtime.NewUniqueRegistry[string, int](runtime.RegistryOptions{Meta: meta})
	meta["custom_key"] = "changed later"
	if v, ok := r.Meta("custom_key"); !ok || v != "custom_value" {
		t.Fatalf("Meta = %v, %v; want the value given at construction", v, ok)
	}
	r.PutMeta("tuple_key", [2]string{"a", "b"})
	if v, _ := r.Meta("tuple_key"); v != [2]string{"a", "b"} {
		t.Fatalf("Meta(tuple_key) = %v", v)
	}
	r.DeleteMeta("custom_key")
	if _, ok := r.Meta("custom_key"); ok {
		t.Fatal("metadata after DeleteMeta")
	}
	var uz runtime.Registry[string]
	a := spawn(t, context.Background(), "a")
	defer a.exit(t, nil)
	if err := uz.Register("k", a.h); err != nil {
		t.Fatal(err)
	}
	if h, ok := uz.Lookup("k"); !ok || h != a.h || uz.Partitions() != 1 || zero.Partitions() != 1 {
		t.Fatalf("zero unique registry: Lookup %v %v, partitions %d", h, ok, uz.Partitions())
	}
}

// A negative partition count is a programming error.
func TestRegistryNegativePartitions(t *testing.T) {
	defer func() {
		if v := recover(); v == nil {
			t.Fatal("no panic for Partitions -1")
		}
	}()
	runtime.NewDuplicateRegistry[string, int](runtime.RegistryOptions{Name: "bad", Partitions: -1})
}

// Many goroutines register, look up, unregister and exit at once on a
// partitioned registry (run with -race): what is left agrees with what each
// did, and nothing is left once every process has exited.
func TestRegistryPartitionsConcurrent(t *testing.T) {
	for _, k := range dupKinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := context.Background()
			dup := runtime.NewDuplicateRegistry[string, int](k.opts)
			uniq := runtime.NewUniqueRegistry[string, int](runtime.RegistryOptions{Partitions: k.opts.Partitions})
			const workers, keys = 8, 50
			procs := make([]*proc, workers)
			for i := range procs {
				procs[i] = spawn(t, ctx, fmt.Sprint("w", i))
			}
			var wg sync.WaitGroup
			for i, p := range procs {
				wg.Go(func() {
					for j := range keys {
						topic := fmt.Sprint("topic-", j%7)
						if err := dup.RegisterValue(topic, p.h, j); err != nil {
							t.Error(err)
						}
						if err := uniq.RegisterValue(fmt.Sprint(i, "-", j), p.h, j); err != nil {
							t.Error(err)
						}
						if len(dup.Lookup(topic)) == 0 {
							t.Errorf("%s has no entries right after a registration", topic)
						}
						if j%3 == 0 {
							dup.Unregister(topic, p.h)
							uniq.Unregister(fmt.Sprint(i, "-", j))
						}
					}
				})
			}
			wg.Wait()
			for i, p := range procs {
				// Each kept the topics it did not unregister last.
				want := map[string]bool{}
				for j := range keys {
					topic := fmt.Sprint("topic-", j%7)
					want[topic] = j%3 != 0
				}
				for _, key := range dup.Keys(p.h) {
					if !want[key] {
						t.Fatalf("worker %d holds %s, which it unregistered last", i, key)
					}
				}
				if n := len(uniq.Keys(p.h)); n != keys-(keys+2)/3 {
					t.Fatalf("worker %d holds %d unique keys, want %d", i, n, keys-(keys+2)/3)
				}
			}
			for _, p := range procs {
				wg.Go(func() { p.exit(t, nil) })
			}
			wg.Wait()
			if dup.Count() != 0 || uniq.Count() != 0 {
				t.Fatalf("after every exit: %d duplicate entries, %d unique", dup.Count(), uniq.Count())
			}
		})
	}
}
