package runtime_test

import (
	"context"
	"fmt"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/arborgo/arbor/runtime"
)

// Registry benchmarks: concurrent registrations and lookups, with
// GOMAXPROCS partitions, with one, and on a sync.Map (the floor: a
// concurrent map with no processes to watch), and publishing to
// subscribers. Run them with
//
//	go test -run '^$' -bench 'Registry|Publish' -cpu 1,2,4 ./runtime
//
// The comparison module (bench/, item registry) measures the same in fresh
// processes; docs/benchmarks.md has its figures.

// benchStore is what the benchmarks do on each kind of map.
type benchStore interface {
	register(key string, h runtime.Handle) bool
	unregister(key string)
	lookup(key string) (runtime.Handle, bool)
}

type registryStore struct{ r *runtime.Registry[string] }

func (s registryStore) register(key string, h runtime.Handle) bool {
	return s.r.Register(key, h) == nil
}
func (s registryStore) unregister(key string)                    { s.r.Unregister(key) }
func (s registryStore) lookup(key string) (runtime.Handle, bool) { return s.r.Lookup(key) }

type syncMapStore struct{ m *sync.Map }

func (s syncMapStore) register(key string, h runtime.Handle) bool {
	_, loaded := s.m.LoadOrStore(key, h)
	return !loaded
}
func (s syncMapStore) unregister(key string) { s.m.Delete(key) }
func (s syncMapStore) lookup(key string) (runtime.Handle, bool) {
	v, ok := s.m.Load(key)
	if !ok {
		return runtime.Handle{}, false
	}
	return v.(runtime.Handle), true
}

func benchStores() []struct {
	name string
	make func() benchStore
} {
	return []struct {
		name string
		make func() benchStore
	}{
		{fmt.Sprint("partitions=", goruntime.GOMAXPROCS(0)), func() benchStore {
			return registryStore{runtime.NewUniqueRegistry[string, struct{}](runtime.RegistryOptions{Partitions: goruntime.GOMAXPROCS(0)})}
		}},
		{"partitions=1", func() benchStore { return registryStore{runtime.NewRegistry[string]()} }},
		{"sync.Map", func() benchStore { return syncMapStore{new(sync.Map)} }},
	}
}

// BenchmarkRegistryRegister: every goroutine registers keys of its own to
// a process of its own, and unregisters them; an op is both.
func BenchmarkRegistryRegister(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, st := range benchStores() {
		b.Run(st.name, func(b *testing.B) {
			s := st.make()
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				g := next.Add(1)
				h := runtime.Spawn(ctx, fmt.Sprint("g", g), idle{})
				keys := make([]string, 1024)
				for i := range keys {
					keys[i] = fmt.Sprint("g", g, "-", i)
				}
				for i := 0; pb.Next(); i++ {
					key := keys[i%len(keys)]
					if !s.register(key, h) {
						b.Error("register failed")
						return
					}
					s.unregister(key)
				}
			})
		})
	}
}

// BenchmarkRegistryLookup: every goroutine looks up keys of a registry of
// 10,000, held by 64 processes.
func BenchmarkRegistryLookup(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const nKeys, nProcs = 10_000, 64
	keys := make([]string, nKeys)
	procs := make([]runtime.Handle, nProcs)
	for i := range procs {
		procs[i] = runtime.Spawn(ctx, fmt.Sprint("p", i), idle{})
	}
	for i := range keys {
		keys[i] = fmt.Sprint("key-", i)
	}
	for _, st := range benchStores() {
		b.Run(st.name, func(b *testing.B) {
			s := st.make()
			for i, key := range keys {
				s.register(key, procs[i%nProcs])
			}
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1)) * 7919
				for pb.Next() {
					i += 7907
					if _, ok := s.lookup(keys[i%nKeys]); !ok {
						b.Error("lookup failed")
						return
					}
				}
			})
		})
	}
}

// BenchmarkPublish: one message to 100 subscribed servers; an op is one
// Publish (100 deliveries to server queues), and the servers drain their
// queues concurrently.
func BenchmarkPublish(b *testing.B) {
	for _, opts := range []runtime.RegistryOptions{{}, {Partitions: goruntime.GOMAXPROCS(0)}} {
		b.Run(fmt.Sprint("partitions=", max(opts.Partitions, 1)), func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := runtime.NewDuplicateRegistry[string, runtime.Subscriber[int]](opts)
			var got atomic.Int64
			for i := range 100 {
				srv, err := runtime.StartServer(ctx, fmt.Sprint("sub", i), runtime.ServerSpec[int]{})
				if err != nil {
					b.Fatal(err)
				}
				runtime.Subscribe(r, "topic", srv, func(n *int, msg int) error { *n += msg; got.Add(1); return nil })
			}
			b.ResetTimer()
			for range b.N {
				if runtime.Publish(r, "topic", 1) != 100 {
					b.Fatal("not every subscriber was reached")
				}
			}
			for got.Load() < int64(100*b.N) { // the servers drain their queues
				goruntime.Gosched()
			}
		})
	}
}
