package cycle

import "context"

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

// NewAdmin keeps the specs of the applications, to show them: it refers to
// the code that starts it.
func NewAdmin(ctx context.Context) (*W, error) {
	_ = list()
	return &W{}, nil
}

func list() int { return len(Applications()) }

func NewFine(ctx context.Context) (*W, error) { return &W{}, nil }
