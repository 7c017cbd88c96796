package registries

import (
	"context"

	"github.com/arborgo/arbor/runtime"
)

type svc struct{}

func (*svc) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewCounter(ctx context.Context, names *runtime.Registry[string]) (*svc, error) {
	return &svc{}, nil
}

func NewLookup(ctx context.Context, conns *runtime.Registry[string], counter *runtime.Ref[*svc]) (*svc, error) {
	return &svc{}, nil
}

func NewConn(ctx context.Context, conns *runtime.Registry[string], host string) (*svc, error) {
	return &svc{}, nil
}
