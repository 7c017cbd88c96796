package results

import "context"

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

type Plain struct{}

type Odd struct{}

func (*Odd) Serve() error { return nil }

func NewOne(ctx context.Context) *W                   { return &W{} }
func NewNotError(ctx context.Context) (*W, string)    { return &W{}, "" }
func NewNoServe(ctx context.Context) (*Plain, error)  { return &Plain{}, nil }
func NewValue(ctx context.Context) (W, error)         { return W{}, nil }
func NewWrongServe(ctx context.Context) (*Odd, error) { return &Odd{}, nil }
