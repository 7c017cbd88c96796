package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// floorPeer is no supervisor at all: the floor every Go peer stands on.
// Its "dynamic children" are bare goroutines that count themselves and
// wait on a context, and its "call" is a channel round trip to a
// goroutine. With ownCtx, each goroutine gets a context of its own
// (context.WithCancel of Background, so that no parent keeps track of it),
// as a supervised child needs to be stopped alone; without it, all share
// one. With viaSpawner, the caller asks another goroutine to spawn each
// child and waits for its reply, as a dynamic supervisor's caller does.
type floorPeer struct{ ownCtx, viaSpawner bool }

// restartFew is the least a restart can cost in Go: a loop that, told by a
// child's goroutine that it returned, starts a new goroutine for it, with
// no bookkeeping at all.
func (floorPeer) restartFew(ctx context.Context, cfg config) ([]time.Duration, error) {
	samples := make([]time.Duration, 0, cfg.Batches*cfg.PerBatch)
	serving := make(chan struct{}, 1)
	crash := make(chan struct{})
	for range cfg.Batches {
		ctx, cancel := context.WithCancel(ctx)
		exits := make(chan error)
		svc := crasher{serving: serving, crash: crash}
		run := func() { exits <- svc.Serve(ctx) }
		done := make(chan struct{})
		go func() {
			defer close(done)
			go run()
			for err := range exits {
				if err == nil { // stopped
					return
				}
				go run()
			}
		}()
		<-serving
		for range cfg.PerBatch {
			samples = append(samples, measureRestart(serving, crash))
		}
		cancel()
		<-done
	}
	return samples, nil
}

func (floorPeer) restartWindow(context.Context, config) ([]time.Duration, error) {
	return nil, errUnsupported
}

func (floorPeer) static(context.Context, config, *atomic.Int64) (time.Duration, time.Duration, error) {
	return 0, 0, errUnsupported
}

func (f floorPeer) dynamic(ctx context.Context, cfg config, started *atomic.Int64, serving func()) (time.Duration, time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var cancels []context.CancelFunc
	if f.ownCtx {
		cancels = make([]context.CancelFunc, 0, cfg.N)
	}
	spawn := func() {
		c := ctx
		if f.ownCtx {
			var cancel context.CancelFunc
			c, cancel = context.WithCancel(context.Background())
			cancels = append(cancels, cancel)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Add(1)
			<-c.Done()
		}()
	}
	var requests chan struct{}
	var replies chan struct{}
	if f.viaSpawner {
		requests, replies = make(chan struct{}), make(chan struct{})
		go func() {
			for range requests {
				spawn()
				replies <- struct{}{}
			}
		}()
		defer close(requests)
	}
	t0 := time.Now()
	for range cfg.N {
		if f.viaSpawner {
			requests <- struct{}{}
			<-replies
		} else {
			spawn()
		}
	}
	startTime := time.Since(t0)
	serving()
	t1 := time.Now()
	for _, cancel := range cancels {
		cancel()
	}
	cancel()
	wg.Wait()
	return startTime, time.Since(t1), nil
}

func (floorPeer) call(ctx context.Context, cfg config) (time.Duration, error) {
	req := make(chan int)
	resp := make(chan int)
	go func() {
		n := 0
		for d := range req {
			n += d
			resp <- n
		}
	}()
	defer close(req)
	t0 := time.Now()
	for range cfg.Calls {
		req <- 1
		<-resp
	}
	return time.Since(t0), nil
}

func (floorPeer) restartSiblings(context.Context, config, int) ([]time.Duration, error) {
	return nil, errUnsupported
}
