package shutdown

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

// NewOwnSupervisor is a hand-written supervisor start function.
func NewOwnSupervisor(ctx context.Context) (*runtime.Supervisor, error) {
	return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "own"})
}
