package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/arborgo/arbor/runtime"
)

// Stash is a server that holds a number while the counter restarts.
type Stash struct {
	srv *runtime.Server[int]
}

// NewStash is the stash's start function: it starts holding initial.
func NewStash(ctx context.Context, initial int) (*Stash, error) {
	srv, err := runtime.NewServer(ctx, runtime.ServerSpec[int]{
		Init: func(context.Context) (int, error) { return initial, nil },
	})
	if err != nil {
		return nil, err
	}
	return &Stash{srv: srv}, nil
}

// Serve runs the stash's server loop.
func (s *Stash) Serve(ctx context.Context) error { return s.srv.Serve(ctx) }

// Get returns the number the stash holds.
func (s *Stash) Get(ctx context.Context) (int, error) {
	return runtime.Call(ctx, s.srv, func(n *int) (int, error) { return *n, nil })
}

// Put replaces the number the stash holds, and waits until it has.
func (s *Stash) Put(ctx context.Context, n int) error {
	_, err := runtime.Call(ctx, s.srv, func(held *int) (struct{}, error) {
		*held = n
		return struct{}{}, nil
	})
	return err
}

// Counter is a server that counts. Its count lives in the stash while it is
// not running.
type Counter struct {
	srv *runtime.Server[int]
}

// NewCounter is the counter's start function. stash follows the stash across
// its restarts; the generated code passes it for {ref: stash}, and out, where
// the counter says what it does, for {dep: out}.
func NewCounter(ctx context.Context, stash *runtime.Ref[*Stash], out io.Writer) (*Counter, error) {
	srv, err := runtime.NewServer(ctx, runtime.ServerSpec[int]{
		// init: take the count from the stash.
		Init: func(ctx context.Context) (int, error) {
			s, ok := stash.Get()
			if !ok {
				return 0, errors.New("the stash is not running")
			}
			n, err := s.Get(ctx)
			if err == nil {
				fmt.Fprintf(out, "counter: took %d from the stash\n", n)
			}
			return n, err
		},
		// terminate: hand the count back, whatever the reason.
		Terminate: func(ctx context.Context, n *int, reason error) {
			s, ok := stash.Get()
			if !ok {
				return // the stash went first: rest_for_one restarts us both
			}
			if err := s.Put(ctx, *n); err == nil {
				fmt.Fprintf(out, "counter: handed %d to the stash\n", *n)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return &Counter{srv: srv}, nil
}

// Serve runs the counter's server loop.
func (c *Counter) Serve(ctx context.Context) error { return c.srv.Serve(ctx) }

// Handle returns the counter's process.
func (c *Counter) Handle() runtime.Handle { return c.srv.Handle() }

// Add adds delta to the count without waiting. A negative delta is a bug of
// the caller, and the counter crashes on it: "let it crash".
func (c *Counter) Add(delta int) {
	c.srv.Cast(func(n *int) error {
		if delta < 0 {
			return fmt.Errorf("bad increment %d", delta)
		}
		*n += delta
		return nil
	})
}

// Value returns the count.
func (c *Counter) Value(ctx context.Context) (int, error) {
	return runtime.Call(ctx, c.srv, func(n *int) (int, error) { return *n, nil })
}
