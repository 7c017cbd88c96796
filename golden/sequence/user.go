package sequence

import (
	"context"
	"sync/atomic"

	"github.com/arborgo/arbor/runtime"
)

// Stash keeps the counter's value across the counter's crashes.
type Stash struct{ value atomic.Int64 }

func (*Stash) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewStash(ctx context.Context, initial int64) (*Stash, error) {
	s := &Stash{}
	s.value.Store(initial)
	return s, nil
}

// Server counts from the value in the stash.
type Server struct{ stash *runtime.Ref[*Stash] }

func (*Server) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewServer(ctx context.Context, stash *runtime.Ref[*Stash]) (*Server, error) {
	return &Server{stash: stash}, nil
}

type Worker struct {
	n    int
	name string
}

func (*Worker) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewWorker(ctx context.Context, n int, name string) (*Worker, error) {
	return &Worker{n: n, name: name}, nil
}
