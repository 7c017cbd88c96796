package restart

import "context"

type worker struct{}

func (*worker) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewWorker(ctx context.Context) (*worker, error) { return &worker{}, nil }
