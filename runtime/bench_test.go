package runtime_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
)

// Benchmarks of the work in issue 6. Run them with
//
//	go test -run '^$' -bench . -benchmem ./runtime
//
// Latencies are reported as p50-ns (the median of the iterations) besides
// ns/op; per-child costs as ns/child and B/child. The comparison with
// suture and OTP is the separate module in bench/ (docs/benchmarks.md).

// benchCtx silences reports and, when clk is not nil, uses it.
func benchCtx(clk clock.Clock) context.Context {
	ctx := runtime.WithEventHook(context.Background(), nil)
	if clk != nil {
		ctx = runtime.WithClock(ctx, clk)
	}
	return ctx
}

// crasher serves until told to crash, and tells when it is serving.
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

func crasherSpec(id string, serving chan<- struct{}, crash <-chan struct{}) runtime.ChildSpec {
	return runtime.ChildSpec{ID: id, Start: func(context.Context) (runtime.Service, error) {
		return crasher{serving: serving, crash: crash}, nil
	}}
}

func reportP50(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
}

// BenchmarkRestartLatency measures a crash until the replacement serves,
// with few restarts in the intensity window and with 20,000.
func BenchmarkRestartLatency(b *testing.B) {
	for _, inWindow := range []int{1, 20_000} {
		b.Run(fmt.Sprintf("window=%d", inWindow), func(b *testing.B) {
			clk := clock.NewFake(time.Unix(0, 0))
			var before func()
			if inWindow == 1 {
				before = func() { clk.Advance(2 * time.Hour) } // the window holds only this restart
			}
			// The fill's restarts all fall in the same second.
			measureRestarts(b, benchCtx(clk), inWindow-1, before)
		})
	}
}

// measureRestarts starts a supervisor of one child that crashes on
// demand, under ctx, makes fill restarts unmeasured, then measures b.N: a
// crash until the replacement serves, each after before (when not nil). It
// reports their median.
func measureRestarts(b *testing.B, ctx context.Context, fill int, before func()) {
	serving := make(chan struct{}, 1)
	crash := make(chan struct{})
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
		Name:     "bench",
		Flags:    runtime.Flags{MaxRestarts: 1 << 30, MaxSeconds: 3600},
		Children: []runtime.ChildSpec{crasherSpec("c", serving, crash)},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sup.Stop(context.Background())
	<-serving
	for range fill {
		crash <- struct{}{}
		<-serving
	}
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if before != nil {
			before()
		}
		start := time.Now()
		crash <- struct{}{}
		<-serving
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	reportP50(b, samples)
}

// BenchmarkOneForAll100 measures a one_for_all restart of 100 siblings: one
// crashes, all are stopped and started again, until all serve.
func BenchmarkOneForAll100(b *testing.B) {
	const n = 100
	serving := make(chan struct{}, n)
	crash := make(chan struct{})
	var children []runtime.ChildSpec
	for i := range n {
		children = append(children, crasherSpec(fmt.Sprint(i), serving, crash))
	}
	sup, err := runtime.StartSupervisor(benchCtx(clock.NewFake(time.Unix(0, 0))), runtime.SupervisorSpec{
		Name: "bench", Flags: runtime.Flags{Strategy: runtime.OneForAll, MaxRestarts: 1 << 30, MaxSeconds: 3600}, Children: children,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sup.Stop(context.Background())
	for range n {
		<-serving
	}
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		crash <- struct{}{}
		for range n {
			<-serving
		}
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	reportP50(b, samples)
}

// idle is the cheapest child: it waits for its context.
type idle struct{}

func (idle) Serve(ctx context.Context) error { <-ctx.Done(); return nil }

func idleStart(context.Context) (runtime.Service, error) { return idle{}, nil }

func staticSpec(n int) runtime.SupervisorSpec {
	children := make([]runtime.ChildSpec, n)
	for i := range children {
		children[i] = runtime.ChildSpec{ID: fmt.Sprint(i), Start: idleStart, Shutdown: runtime.Infinity}
	}
	return runtime.SupervisorSpec{Name: "bench", Children: children}
}

const manyChildren = 100_000

// BenchmarkStartStatic measures starting 100,000 children under one static
// supervisor; ns/child is the figure to compare.
func BenchmarkStartStatic(b *testing.B) {
	spec := staticSpec(manyChildren)
	ctx := benchCtx(nil)
	var total time.Duration
	for range b.N {
		start := time.Now()
		sup, err := runtime.StartSupervisor(ctx, spec)
		total += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		sup.Stop(context.Background())
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N*manyChildren), "ns/child")
}

// BenchmarkStopStatic measures stopping 100,000 children of a static
// supervisor (one at a time, in reverse order), with shutdown infinity and
// with a timeout, the default, which needs a timer for each child.
func BenchmarkStopStatic(b *testing.B) {
	for _, shutdown := range []runtime.ShutdownSpec{runtime.Infinity, runtime.Timeout(runtime.DefaultWorkerShutdown)} {
		b.Run("shutdown="+shutdown.String(), func(b *testing.B) {
			spec := staticSpec(manyChildren)
			for i := range spec.Children {
				spec.Children[i].Shutdown = shutdown
			}
			ctx := benchCtx(nil)
			var total time.Duration
			for range b.N {
				b.StopTimer()
				sup, err := runtime.StartSupervisor(ctx, spec)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				sup.Stop(context.Background())
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/stop")
		})
	}
}

func startDynamicChildren(b *testing.B, ctx context.Context, n int) *runtime.DynamicSupervisor {
	d, err := runtime.StartDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	spec := runtime.ChildSpec{Start: idleStart, Restart: runtime.Temporary, Shutdown: runtime.Infinity}
	for range n {
		if _, err := d.StartChild(ctx, spec); err != nil {
			b.Fatal(err)
		}
	}
	return d
}

// BenchmarkDynamicStart measures 100,000 StartChild calls on one dynamic
// supervisor, one after the other from one goroutine.
func BenchmarkDynamicStart(b *testing.B) {
	ctx := benchCtx(nil)
	var total time.Duration
	for range b.N {
		start := time.Now()
		d := startDynamicChildren(b, ctx, manyChildren)
		total += time.Since(start)
		b.StopTimer()
		d.Stop(context.Background())
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N*manyChildren), "ns/child")
}

// BenchmarkStopDynamic measures stopping 100,000 dynamic children (all at once).
func BenchmarkStopDynamic(b *testing.B) {
	ctx := benchCtx(nil)
	var total time.Duration
	for range b.N {
		b.StopTimer()
		d := startDynamicChildren(b, ctx, manyChildren)
		b.StartTimer()
		start := time.Now()
		d.Stop(context.Background())
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/stop")
}

// BenchmarkIdleChildMemory measures the memory an idle child costs: live
// heap and goroutine stacks after a collection, per child, with 100,000
// started, under a dynamic supervisor, under a static one, and as bare
// goroutines waiting on a context of their own (the floor).
//
// Each measurement runs in a fresh process (this test binary again, see
// TestIdleMemoryHelper): the Go runtime allocates a goroutine's g struct
// when it makes the goroutine and reuses it after the goroutine exits, so
// a second measurement in the same process would not count them.
func BenchmarkIdleChildMemory(b *testing.B) {
	for _, kind := range []string{"dynamic", "static", "goroutine"} {
		b.Run(kind, func(b *testing.B) {
			var perChild float64
			for range b.N {
				cmd := exec.Command(os.Args[0], "-test.run=^TestIdleMemoryHelper$", "-test.count=1")
				cmd.Env = append(os.Environ(), idleMemoryEnv+"="+kind)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				_, after, ok := strings.Cut(string(out), "B/child ")
				if !ok {
					b.Fatalf("no figure in %q", out)
				}
				f, err := strconv.ParseFloat(strings.Fields(after)[0], 64)
				if err != nil {
					b.Fatal(err)
				}
				perChild += f
			}
			b.ReportMetric(perChild/float64(b.N), "B/child")
		})
	}
}

const idleMemoryEnv = "ARBOR_BENCH_IDLE_MEMORY"

// TestIdleMemoryHelper is BenchmarkIdleChildMemory's measurement, run in a
// process of its own; it is skipped in every other run.
func TestIdleMemoryHelper(t *testing.T) {
	kind := os.Getenv(idleMemoryEnv)
	if kind == "" {
		t.Skip("run by BenchmarkIdleChildMemory")
	}
	ctx := benchCtx(nil)
	var started atomic.Int64
	svc := countingIdle{started: &started}
	start := func(context.Context) (runtime.Service, error) { return svc, nil }
	before := memInUse()
	var stop func()
	switch kind {
	case "dynamic":
		d, err := runtime.StartDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "bench"})
		if err != nil {
			t.Fatal(err)
		}
		for range manyChildren {
			if _, err := d.StartChild(ctx, runtime.ChildSpec{Start: start}); err != nil {
				t.Fatal(err)
			}
		}
		stop = func() { d.Stop(ctx) }
	case "static":
		spec := staticSpec(manyChildren)
		for i := range spec.Children {
			spec.Children[i].Start = start
		}
		sup, err := runtime.StartSupervisor(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		stop = func() { sup.Stop(ctx) }
	case "goroutine":
		var wg sync.WaitGroup
		cancels := make([]context.CancelFunc, manyChildren)
		for i := range cancels {
			c, cancel := context.WithCancel(context.Background())
			cancels[i] = cancel
			wg.Go(func() { svc.Serve(c) })
		}
		stop = func() {
			for _, cancel := range cancels {
				cancel()
			}
			wg.Wait()
		}
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	for started.Load() < manyChildren {
		goruntime.Gosched()
	}
	after := memInUse()
	stop()
	fmt.Printf("B/child %.1f\n", float64(after-before)/manyChildren)
}

// countingIdle is an idle child that counts itself as serving.
type countingIdle struct{ started *atomic.Int64 }

func (s countingIdle) Serve(ctx context.Context) error {
	s.started.Add(1)
	<-ctx.Done()
	return nil
}

func memInUse() uint64 {
	goruntime.GC()
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

// BenchmarkServerCall measures a call round trip to a server: Call, with
// its default timeout, and CallTimeout with none, which needs no timer.
func BenchmarkServerCall(b *testing.B) {
	ctx := benchCtx(nil)
	srv, err := runtime.StartServer(ctx, "counter", runtime.ServerSpec[int]{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(ctx, nil)
	incr := func(n *int) (int, error) { *n++; return *n, nil }
	b.Run("timeout=default", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := runtime.Call(ctx, srv, incr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("timeout=infinite", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := runtime.CallTimeout(ctx, srv, runtime.InfiniteTimeout, incr); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFloor measures what no supervisor can go below: spawning a
// goroutine that waits on a context of its own, and a round trip over
// channels to another goroutine.
func BenchmarkFloor(b *testing.B) {
	b.Run("spawn", func(b *testing.B) {
		// In batches, so that the goroutines alive stay as many as a
		// supervisor's children in the other benchmarks.
		b.ReportAllocs()
		var wg sync.WaitGroup
		cancels := make([]context.CancelFunc, 0, manyChildren)
		stop := func() {
			b.StopTimer()
			for _, cancel := range cancels {
				cancel()
			}
			wg.Wait()
			cancels = cancels[:0]
			b.StartTimer()
		}
		for range b.N {
			c, cancel := context.WithCancel(context.Background())
			cancels = append(cancels, cancel)
			wg.Go(func() { <-c.Done() })
			if len(cancels) == manyChildren {
				stop()
			}
		}
		stop()
	})
	b.Run("round-trip", func(b *testing.B) {
		b.ReportAllocs()
		req, resp := make(chan int), make(chan int)
		go func() {
			for n := range req {
				resp <- n + 1
			}
		}()
		defer close(req)
		for i := range b.N {
			req <- i
			<-resp
		}
	})
}
