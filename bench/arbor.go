package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/arborgo/arbor/otelarbor"
	"github.com/arborgo/arbor/runtime"
)

// arborPeer runs the work on arbor's runtime: Supervisor for static
// children, DynamicSupervisor for dynamic ones, Server for calls. Reports
// are off (a nil hook; OTP's logger and suture's hook are silenced too).
// Profile labels are on, as by default, unless noLabels. With metrics,
// otelarbor records into the OpenTelemetry SDK (a manual reader, never
// collected: what the measured work pays is the recording).
type arborPeer struct{ noLabels, metrics bool }

// arborFlags let a supervisor restart as often as the measurement needs,
// with a window of an hour: every restart made stays in it.
var arborFlags = runtime.Flags{MaxRestarts: 1 << 30, MaxSeconds: 3600}

func (a arborPeer) ctx(ctx context.Context) context.Context {
	ctx = runtime.WithEventHook(ctx, nil)
	if a.noLabels {
		ctx = runtime.WithoutProfileLabels(ctx)
	}
	if a.metrics {
		// The provider lives as long as the worker's process, which
		// measures one item and exits.
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		m, err := otelarbor.New(mp)
		if err != nil {
			panic(fmt.Sprintf("otelarbor.New: %v", err))
		}
		ctx = runtime.WithMetrics(ctx, m)
	}
	return ctx
}

func crasherChild(serving chan<- struct{}, crash <-chan struct{}) runtime.ChildSpec {
	return runtime.ChildSpec{ID: "crasher", Start: func(context.Context) (runtime.Service, error) {
		return crasher{serving: serving, crash: crash}, nil
	}}
}

func (a arborPeer) restartFew(ctx context.Context, cfg config) ([]time.Duration, error) {
	ctx = a.ctx(ctx)
	samples := make([]time.Duration, 0, cfg.Batches*cfg.PerBatch)
	serving := make(chan struct{}, 1)
	crash := make(chan struct{})
	spec := runtime.SupervisorSpec{Name: "bench", Flags: arborFlags,
		Children: []runtime.ChildSpec{crasherChild(serving, crash)}}
	for range cfg.Batches {
		sup, err := runtime.StartSupervisor(ctx, spec)
		if err != nil {
			return nil, err
		}
		<-serving
		for range cfg.PerBatch {
			samples = append(samples, measureRestart(serving, crash))
		}
		if err := sup.Stop(ctx); err != nil {
			return nil, err
		}
	}
	return samples, nil
}

func (a arborPeer) restartWindow(ctx context.Context, cfg config) ([]time.Duration, error) {
	ctx = a.ctx(ctx)
	serving := make(chan struct{}, 1)
	crash := make(chan struct{})
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{Name: "bench", Flags: arborFlags,
		Children: []runtime.ChildSpec{crasherChild(serving, crash)}})
	if err != nil {
		return nil, err
	}
	defer sup.Stop(ctx)
	<-serving
	for range cfg.Fill {
		crash <- struct{}{}
		<-serving
	}
	samples := make([]time.Duration, 0, cfg.Samples)
	for range cfg.Samples {
		samples = append(samples, measureRestart(serving, crash))
	}
	return samples, nil
}

func (a arborPeer) static(ctx context.Context, cfg config, started *atomic.Int64) (time.Duration, time.Duration, error) {
	ctx = a.ctx(ctx)
	// The spec, as generated code would hold it, is made before the clock
	// starts; its ids are the children's names.
	children := make([]runtime.ChildSpec, cfg.N)
	svc := idle{started: started}
	start := func(context.Context) (runtime.Service, error) { return svc, nil }
	for i := range children {
		children[i] = runtime.ChildSpec{ID: fmt.Sprint("c", i), Start: start}
	}
	spec := runtime.SupervisorSpec{Name: "bench", Children: children}

	t0 := time.Now()
	sup, err := runtime.StartSupervisor(ctx, spec)
	startTime := time.Since(t0)
	if err != nil {
		return 0, 0, err
	}
	waitFor(started, cfg.N)
	t1 := time.Now()
	err = sup.Stop(ctx)
	return startTime, time.Since(t1), err
}

func (a arborPeer) dynamic(ctx context.Context, cfg config, started *atomic.Int64, serving func()) (time.Duration, time.Duration, error) {
	ctx = a.ctx(ctx)
	d, err := runtime.StartDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "bench"})
	if err != nil {
		return 0, 0, err
	}
	svc := idle{started: started}
	spec := runtime.ChildSpec{Start: func(context.Context) (runtime.Service, error) { return svc, nil }}
	t0 := time.Now()
	for range cfg.N {
		if _, err := d.StartChild(ctx, spec); err != nil {
			return 0, 0, err
		}
	}
	startTime := time.Since(t0)
	serving()
	t1 := time.Now()
	err = d.Stop(ctx)
	return startTime, time.Since(t1), err
}

func (a arborPeer) call(ctx context.Context, cfg config) (time.Duration, error) {
	ctx = a.ctx(ctx)
	srv, err := runtime.StartServer(ctx, "counter", runtime.ServerSpec[int]{})
	if err != nil {
		return 0, err
	}
	defer srv.Stop(ctx, nil)
	incr := func(n *int) (int, error) { *n++; return *n, nil }
	t0 := time.Now()
	for range cfg.Calls {
		if _, err := runtime.Call(ctx, srv, incr); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

func (a arborPeer) restartSiblings(ctx context.Context, cfg config, n int) ([]time.Duration, error) {
	ctx = a.ctx(ctx)
	serving := make(chan struct{}, 1)
	crash := make(chan struct{})
	var started atomic.Int64
	svc := idle{started: &started}
	start := func(context.Context) (runtime.Service, error) { return svc, nil }
	children := make([]runtime.ChildSpec, 0, n+1)
	for i := range n / 2 {
		children = append(children, runtime.ChildSpec{ID: fmt.Sprint("before", i), Start: start})
	}
	children = append(children, crasherChild(serving, crash))
	for i := range n - n/2 {
		children = append(children, runtime.ChildSpec{ID: fmt.Sprint("after", i), Start: start})
	}
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{Name: "bench", Flags: arborFlags, Children: children})
	if err != nil {
		return nil, err
	}
	defer sup.Stop(ctx)
	<-serving
	samples := make([]time.Duration, 0, cfg.Samples)
	for range cfg.Samples {
		samples = append(samples, measureRestart(serving, crash))
	}
	return samples, nil
}
