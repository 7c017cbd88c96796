package main

import (
	"context"
	"fmt"
	"io"
	goruntime "runtime"
	"sync"
	"time"

	"github.com/arborgo/arbor/runtime"
)

// The registry item: concurrent registrations and lookups on arbor's
// unique registry split into partitions, on the same registry with one
// partition, and on a sync.Map, the floor: a concurrent map with no
// processes to watch and no liveness to check. Each is a peer of its own
// (registryPeers), measured in a fresh process like every other item.

// Keys of the registry figures: nanoseconds of wall time per operation,
// with cfg.RegGoroutines goroutines at work at once (the inverse of the
// throughput).
const (
	keyRegRegister = "registry_register_ns"
	keyRegLookup   = "registry_lookup_ns"
	keyRegParts    = "registry_partitions"
)

// registryPeers make the map each registry peer measures.
var registryPeers = map[string]func(cfg config) (regStore, int){
	"arbor": func(cfg config) (regStore, int) {
		n := cfg.RegPartitions
		if n <= 0 {
			n = goruntime.GOMAXPROCS(0)
		}
		return arborRegistry{runtime.NewUniqueRegistry[string, struct{}](runtime.RegistryOptions{Partitions: n})}, n
	},
	"arbor-1p": func(config) (regStore, int) { return arborRegistry{runtime.NewRegistry[string]()}, 1 },
	"go":       func(config) (regStore, int) { return syncMapRegistry{new(sync.Map)}, 0 },
}

// regStore is what the registry item does to each peer's map.
type regStore interface {
	register(key string, h runtime.Handle) bool
	unregister(key string)
	lookup(key string) bool
}

type arborRegistry struct{ r *runtime.Registry[string] }

func (a arborRegistry) register(key string, h runtime.Handle) bool {
	return a.r.Register(key, h) == nil
}
func (a arborRegistry) unregister(key string)  { a.r.Unregister(key) }
func (a arborRegistry) lookup(key string) bool { _, ok := a.r.Lookup(key); return ok }

// syncMapRegistry is the floor: LoadOrStore registers (a held key is
// refused, as a registry refuses it), Delete unregisters, Load looks up.
type syncMapRegistry struct{ m *sync.Map }

func (s syncMapRegistry) register(key string, h runtime.Handle) bool {
	_, loaded := s.m.LoadOrStore(key, h)
	return !loaded
}
func (s syncMapRegistry) unregister(key string) { s.m.Delete(key) }
func (s syncMapRegistry) lookup(key string) bool {
	_, ok := s.m.Load(key)
	return ok
}

// idleService is a registered process: it waits for its context.
type idleService struct{}

func (idleService) Serve(ctx context.Context) error { <-ctx.Done(); return nil }

// runRegistry measures the registry item on peer name and prints its
// figures.
func runRegistry(name string, cfg config, w io.Writer) error {
	mk, ok := registryPeers[name]
	if !ok {
		return fmt.Errorf("peer %q does not run item registry", name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, parts := mk(cfg)
	g := max(cfg.RegGoroutines, 1)

	// The registry holds cfg.RegKeys keys, held by 64 processes, while
	// the goroutines work.
	const holders = 64
	procs := make([]runtime.Handle, holders)
	for i := range procs {
		procs[i] = runtime.Spawn(ctx, fmt.Sprint("p", i), idleService{})
	}
	keys := make([]string, cfg.RegKeys)
	for i := range keys {
		keys[i] = fmt.Sprint("key-", i)
		if !s.register(keys[i], procs[i%holders]) {
			return fmt.Errorf("could not register %s", keys[i])
		}
	}

	// Registrations: each goroutine registers names of its own to a
	// process of its own, which holds no other, and unregisters them: a
	// process taking its name when it starts and losing it when it exits.
	// An operation is both.
	mine := make([]runtime.Handle, g)
	for i := range mine {
		mine[i] = runtime.Spawn(ctx, fmt.Sprint("g", i), idleService{})
	}
	own := make([][]string, g)
	for i := range own {
		own[i] = make([]string, 1024)
		for j := range own[i] {
			own[i][j] = fmt.Sprint("g", i, "-", j)
		}
	}
	register, err := parallel(g, cfg.RegOps, func(i, op int) error {
		key := own[i][op%len(own[i])]
		if !s.register(key, mine[i]) {
			return fmt.Errorf("could not register %s", key)
		}
		s.unregister(key)
		return nil
	})
	if err != nil {
		return err
	}

	// Lookups of the held keys, each goroutine in its own order.
	lookup, err := parallel(g, cfg.RegOps, func(i, op int) error {
		key := keys[(i*7919+op*7907)%len(keys)]
		if !s.lookup(key) {
			return fmt.Errorf("%s is not registered", key)
		}
		return nil
	})
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "%s %g\n", keyRegLookup, float64(lookup.Nanoseconds())/float64(g*cfg.RegOps))
	fmt.Fprintf(w, "%s %d\n", keyRegParts, parts)
	fmt.Fprintf(w, "%s %g\n", keyRegRegister, float64(register.Nanoseconds())/float64(g*cfg.RegOps))
	return nil
}

// parallel runs ops operations on each of g goroutines, started together,
// and returns the wall time until the last finished.
func parallel(g, ops int, op func(goroutine, op int) error) (time.Duration, error) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, g)
	for i := range g {
		wg.Go(func() {
			<-start
			for n := range ops {
				if err := op(i, n); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	d := time.Since(t0)
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return d, nil
}
