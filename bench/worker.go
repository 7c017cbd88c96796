package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	goruntime "runtime"
	"slices"
	"sync/atomic"
	"time"
)

// A worker is one measurement in a fresh process: the driver runs this
// program again with -worker peer:item, and the worker prints its results
// as "key value" lines. A fresh process per measurement puts every peer on
// the same footing: no goroutine (g) left free by an earlier measurement to
// reuse, no heap grown by it, no garbage of it to collect.

// config is the size of the work, the same for every peer.
type config struct {
	N        int // children started, stopped, and measured for memory
	Batches  int // restart latency, few in window: supervisors started
	PerBatch int // restarts measured under each of them
	Fill     int // restart latency, many in window: restarts made first
	Samples  int // then measured
	Calls    int // server calls

	RegGoroutines int // registry: goroutines at work at once
	RegOps        int // registry: operations of each goroutine, per figure
	RegKeys       int // registry: keys held while measuring
	RegPartitions int // registry: partitions of the partitioned registry; 0 is GOMAXPROCS
}

// results are a worker's figures, by key.
type results map[string]float64

// Keys of the figures. Durations are in nanoseconds, memory in bytes.
const (
	keyRestartFew    = "restart_few_p50_ns"
	keyRestartWindow = "restart_window_p50_ns"
	keyInWindow      = "restarts_in_window"
	keyStartStatic   = "start_static_ns_per_child"
	keyStopStatic    = "stop_static_ns"
	keyStartDynamic  = "start_dynamic_ns_per_child"
	keyStopDynamic   = "stop_dynamic_ns"
	keyMemIdle       = "mem_idle_bytes_per_child"
	keyCall          = "call_ns"
	keySpawn         = "spawn_ns"
	keyMem           = "mem_bytes"
	keyRoundTrip     = "round_trip_ns"
	keyGenerate      = "generate_ns"
	// keySiblings is the key of the restart latency beside n siblings:
	// keySiblings + "_" + n.
	keySiblings = "restart_siblings_p50_ns"

	// warm ends the key of a figure measured a second time in the same
	// process.
	warm = "_warm"
)

// peer runs the work items on one supervision library.
type peer interface {
	// restartFew starts cfg.Batches fresh supervisors of one child that
	// crashes on demand, and under each measures cfg.PerBatch restarts, a
	// crash until the replacement serves: the window never holds more
	// than cfg.PerBatch restarts.
	restartFew(ctx context.Context, cfg config) ([]time.Duration, error)
	// restartWindow makes cfg.Fill restarts under one supervisor whose
	// window keeps them all, then measures cfg.Samples more.
	restartWindow(ctx context.Context, cfg config) ([]time.Duration, error)
	// static starts cfg.N idle children under one supervisor, waits until
	// all serve, and stops them by stopping the supervisor.
	static(ctx context.Context, cfg config, started *atomic.Int64) (start, stop time.Duration, err error)
	// dynamic starts a supervisor with no child, adds cfg.N idle children
	// one at a time, calls serving once all serve, and stops them all by
	// stopping the supervisor.
	dynamic(ctx context.Context, cfg config, started *atomic.Int64, serving func()) (start, stop time.Duration, err error)
	// call makes cfg.Calls calls to a server, one after the other.
	call(ctx context.Context, cfg config) (time.Duration, error)
	// restartSiblings starts one supervisor of a child that crashes on
	// demand and n idle siblings, and measures cfg.Samples restarts of
	// the crashing child.
	restartSiblings(ctx context.Context, cfg config, n int) ([]time.Duration, error)
}

// siblingCounts are the sizes of the restart-siblings item, up to cfg.N:
// a restart should cost the same however many siblings the child has.
func siblingCounts(cfg config) []int { return []int{10, 1_000, cfg.N} }

var errUnsupported = errors.New("not supported by this peer")

// peers are the Go peers, by name.
var peers = map[string]peer{
	"arbor":          arborPeer{},
	"arbor-nolabels": arborPeer{noLabels: true},
	"arbor-otel":     arborPeer{metrics: true},
	"suture":         suturePeer{},
	"go":             floorPeer{},
	"go-ctx":         floorPeer{ownCtx: true},
	"go-reply":       floorPeer{ownCtx: true, viaSpawner: true},
}

// runWorker runs item on the peer and prints its results to w.
func runWorker(name, item string, cfg config, w io.Writer) error {
	if item == "registry" {
		return runRegistry(name, cfg, w)
	}
	p, ok := peers[name]
	if !ok {
		return fmt.Errorf("unknown peer %q", name)
	}
	ctx := context.Background()
	res := results{}
	switch item {
	case "restart-few":
		s, err := p.restartFew(ctx, cfg)
		if err != nil {
			return err
		}
		res[keyRestartFew] = p50(s)
	case "restart-window":
		s, err := p.restartWindow(ctx, cfg)
		if err != nil {
			return err
		}
		res[keyRestartWindow] = p50(s)
		res[keyInWindow] = float64(cfg.Fill)
	case "static":
		// Twice in the same process: first in a fresh one, then again,
		// with goroutines and memory left by the first to reuse.
		for _, suffix := range []string{"", warm} {
			var started atomic.Int64
			start, stop, err := p.static(ctx, cfg, &started)
			if err != nil {
				return err
			}
			res[keyStartStatic+suffix] = float64(start.Nanoseconds()) / float64(cfg.N)
			res[keyStopStatic+suffix] = float64(stop.Nanoseconds())
		}
	case "dynamic":
		// Memory is measured the first time only, in the fresh process,
		// where every goroutine is new: see memInUse.
		for _, suffix := range []string{"", warm} {
			var started atomic.Int64
			before := memInUse()
			var after uint64
			start, stop, err := p.dynamic(ctx, cfg, &started, func() {
				waitFor(&started, cfg.N)
				if suffix == "" {
					after = memInUse()
				}
			})
			if err != nil {
				return err
			}
			res[keyStartDynamic+suffix] = float64(start.Nanoseconds()) / float64(cfg.N)
			res[keyStopDynamic+suffix] = float64(stop.Nanoseconds())
			if suffix == "" {
				res[keyMemIdle] = (float64(after) - float64(before)) / float64(cfg.N)
			}
		}
	case "call":
		d, err := p.call(ctx, cfg)
		if err != nil {
			return err
		}
		res[keyCall] = float64(d.Nanoseconds()) / float64(cfg.Calls)
	case "restart-siblings":
		for _, n := range siblingCounts(cfg) {
			s, err := p.restartSiblings(ctx, cfg, n)
			if err != nil {
				return err
			}
			res[fmt.Sprintf("%s_%d", keySiblings, n)] = p50(s)
		}
	default:
		return fmt.Errorf("unknown item %q", item)
	}
	for _, k := range slices.Sorted(mapKeys(res)) {
		fmt.Fprintf(w, "%s %g\n", k, res[k])
	}
	return nil
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// memInUse returns the bytes of live heap and goroutine stacks, after a
// full collection. The heap includes the g struct of each goroutine, which
// the Go runtime allocates when it makes the goroutine and keeps for
// reuse after the goroutine exits: a goroutine that reuses one costs no
// new heap. So memory is measured in a fresh process, where every
// goroutine of every peer is new.
func memInUse() uint64 {
	goruntime.GC()
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

// waitFor waits until n children have told that they serve.
func waitFor(started *atomic.Int64, n int) {
	for started.Load() < int64(n) {
		time.Sleep(100 * time.Microsecond)
	}
}

// p50 returns the median of samples, in nanoseconds.
func p50(samples []time.Duration) float64 {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return float64(s[len(s)/2].Nanoseconds())
}

var errCrash = errors.New("crash")

// crasher serves until told to crash, and tells when it serves: the child
// of the restart latency measurements, for the Go peers.
type crasher struct {
	serving chan<- struct{}
	crash   <-chan struct{}
}

func (c crasher) Serve(ctx context.Context) error {
	c.serving <- struct{}{}
	select {
	case <-c.crash:
		return errCrash
	case <-ctx.Done():
		return nil
	}
}

// String names it for suture, which otherwise formats the value with %#v.
func (crasher) String() string { return "crasher" }

// idle is the idle child of the Go peers: it counts itself as serving,
// then waits for its context.
type idle struct{ started *atomic.Int64 }

func (s idle) Serve(ctx context.Context) error {
	s.started.Add(1)
	<-ctx.Done()
	return nil
}

func (idle) String() string { return "idle" }

// measureRestart crashes the child and returns the time until its
// replacement serves.
func measureRestart(serving <-chan struct{}, crash chan<- struct{}) time.Duration {
	start := time.Now()
	crash <- struct{}{}
	<-serving
	return time.Since(start)
}
