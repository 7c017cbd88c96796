package names

import (
	"context"

	"github.com/arborgo/arbor/runtime"
)

type worker struct{}

func (*worker) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewWorker(ctx context.Context) (*worker, error) { return &worker{}, nil }

type W = runtime.Ref[*worker]

func NewUser(ctx context.Context, a, b, c, d *W) (*worker, error) { return &worker{}, nil }

// stashRef is named as the generated code would name the ref to "stash".
func stashRef(ctx context.Context) (*worker, error) { return &worker{}, nil }
