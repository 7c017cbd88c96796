package named_templates

import "context"

type svc struct{}

func (*svc) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Symbol is a string type of the package: formatted, not converted.
type Symbol string

func NewBucket(ctx context.Context, name string) (*svc, error)         { return &svc{}, nil }
func NewConn(ctx context.Context, host string, port int) (*svc, error) { return &svc{}, nil }
func NewPrice(ctx context.Context, symbol Symbol) (*svc, error)        { return &svc{}, nil }
func NewWorker(ctx context.Context) (*svc, error)                      { return &svc{}, nil }
