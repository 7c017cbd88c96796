package first_param

import "context"

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

func NewNoCtx(n int) (*W, error) { return &W{}, nil }
func NewNothing() (*W, error)    { return &W{}, nil }
