package max_args

import "context"

type svc struct{}

func (*svc) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewEight(ctx context.Context, a, b, c, d, e, f, g, h int) (*svc, error) { return &svc{}, nil }
