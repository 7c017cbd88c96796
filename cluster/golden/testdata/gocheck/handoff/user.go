package handoff

import (
	"context"
	"io"
)

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

func NewW(ctx context.Context) (*W, error) { return &W{}, nil }

// StateString returns a string, not []byte.
func StateString(ctx context.Context) (string, error) { return "", nil }

// NoContext takes no context.
func NoContext() ([]byte, error) { return nil, nil }

// WithOut takes one argument; the spec passes two.
func WithOut(ctx context.Context, out io.Writer) ([]byte, error) { return nil, nil }

// Missing is what d meant.
func Missing(ctx context.Context) ([]byte, error) { return nil, nil }

// WithCount takes an int.
func WithCount(ctx context.Context, n int) ([]byte, error) { return nil, nil }
