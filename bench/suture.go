package main

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/thejerf/suture/v4"
)

// suturePeer runs the work on suture v4. Suture has one kind of
// supervisor: static children are added before Serve, dynamic ones with
// Add on a running supervisor. It has no server. Its hook drops events.
type suturePeer struct{}

// sutureSpec is the closest suture has to arbor's flags: suture keeps a
// failure count that halves every FailureDecay seconds and pauses all
// restarts once it passes FailureThreshold. An hour's decay and a
// threshold never reached keep every restart "in the window" and never
// pause, as arborFlags do.
func sutureSpec() suture.Spec {
	return suture.Spec{
		EventHook:        func(suture.Event) {},
		FailureThreshold: 1 << 30,
		FailureDecay:     3600,
	}
}

// serve runs sup in the background and returns the function that stops
// it and waits until it has stopped its children.
func serve(ctx context.Context, sup *suture.Supervisor) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	errc := sup.ServeBackground(ctx)
	return func() error {
		cancel()
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}
}

func (suturePeer) restartFew(ctx context.Context, cfg config) ([]time.Duration, error) {
	samples := make([]time.Duration, 0, cfg.Batches*cfg.PerBatch)
	serving := make(chan struct{}, 1)
	crash := make(chan struct{})
	for range cfg.Batches {
		sup := suture.New("bench", sutureSpec())
		sup.Add(crasher{serving: serving, crash: crash})
		stop := serve(ctx, sup)
		<-serving
		for range cfg.PerBatch {
			samples = append(samples, measureRestart(serving, crash))
		}
		if err := stop(); err != nil {
			return nil, err
		}
	}
	return samples, nil
}

func (suturePeer) restartWindow(ctx context.Context, cfg config) ([]time.Duration, error) {
	serving := make(chan struct{}, 1)
	crash := make(chan struct{})
	sup := suture.New("bench", sutureSpec())
	sup.Add(crasher{serving: serving, crash: crash})
	stop := serve(ctx, sup)
	defer stop()
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

func (suturePeer) static(ctx context.Context, cfg config, started *atomic.Int64) (time.Duration, time.Duration, error) {
	svc := idle{started: started}
	// Adding to a supervisor that does not run yet only records the
	// service: it is suture's spec, made before the clock starts, as
	// arbor's spec is.
	sup := suture.New("bench", sutureSpec())
	for range cfg.N {
		sup.Add(svc)
	}
	t0 := time.Now()
	stop := serve(ctx, sup) // returns once Serve has started them all
	startTime := time.Since(t0)
	waitFor(started, cfg.N)
	t1 := time.Now()
	err := stop()
	return startTime, time.Since(t1), err
}

func (suturePeer) dynamic(ctx context.Context, cfg config, started *atomic.Int64, serving func()) (time.Duration, time.Duration, error) {
	sup := suture.New("bench", sutureSpec())
	stop := serve(ctx, sup)
	svc := idle{started: started}
	t0 := time.Now()
	for range cfg.N {
		sup.Add(svc) // on a running supervisor: a message, answered once started
	}
	startTime := time.Since(t0)
	serving()
	t1 := time.Now()
	err := stop()
	return startTime, time.Since(t1), err
}

func (suturePeer) call(context.Context, config) (time.Duration, error) {
	return 0, errUnsupported
}

func (suturePeer) restartSiblings(ctx context.Context, cfg config, n int) ([]time.Duration, error) {
	serving := make(chan struct{}, 1)
	crash := make(chan struct{})
	var started atomic.Int64
	sup := suture.New("bench", sutureSpec())
	for range n / 2 {
		sup.Add(idle{started: &started})
	}
	sup.Add(crasher{serving: serving, crash: crash})
	for range n - n/2 {
		sup.Add(idle{started: &started})
	}
	stop := serve(ctx, sup)
	defer stop()
	<-serving
	samples := make([]time.Duration, 0, cfg.Samples)
	for range cfg.Samples {
		samples = append(samples, measureRestart(serving, crash))
	}
	return samples, nil
}
