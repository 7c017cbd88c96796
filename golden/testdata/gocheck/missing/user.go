package missing

import "context"

type Ticker struct{}

func (*Ticker) Serve(ctx context.Context) error { return nil }

func NewTicker(ctx context.Context) (*Ticker, error) { return &Ticker{}, nil }

var Count = 3

func Flush() {}
