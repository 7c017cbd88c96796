package kinds

import (
	"context"

	"github.com/arborgo/arbor/runtime"
)

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

type Stash struct{ W }

type Other struct{ W }

func NewString(ctx context.Context, s string) (*W, error)                 { return &W{}, nil }
func NewInt(ctx context.Context, n int) (*W, error)                       { return &W{}, nil }
func NewByte(ctx context.Context, b byte) (*W, error)                     { return &W{}, nil }
func NewStash(ctx context.Context) (*Stash, error)                        { return &Stash{}, nil }
func NewWantsRef(ctx context.Context, r *runtime.Ref[*Other]) (*W, error) { return &W{}, nil }
