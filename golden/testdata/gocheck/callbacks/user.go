package callbacks

import "context"

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

func NewW(ctx context.Context) (*W, error) { return &W{}, nil }

func Drain(ctx context.Context) error { return nil }
func Stop()                           {}
