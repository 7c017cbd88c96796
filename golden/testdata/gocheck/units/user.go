package units

import (
	"context"
	"time"
)

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

// Interval is declared as a time.Duration: it has the same unit.
type Interval time.Duration

func NewTicker(ctx context.Context, every time.Duration) (*W, error) { return &W{}, nil }
func NewPoller(ctx context.Context, every Interval) (*W, error)      { return &W{}, nil }
