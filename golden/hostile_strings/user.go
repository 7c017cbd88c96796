package hostile_strings

import (
	"context"

	"github.com/arborgo/arbor/runtime"
)

// Echo keeps the string it was started with.
type Echo struct{ s string }

func (*Echo) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewEcho(ctx context.Context, s string) (*Echo, error) { return &Echo{s: s}, nil }

// Ranger holds a ref to a sibling whose id is a Go keyword.
type Ranger struct{ echo *runtime.Ref[*Echo] }

func (*Ranger) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewRanger(ctx context.Context, echo *runtime.Ref[*Echo]) (*Ranger, error) {
	return &Ranger{echo: echo}, nil
}
