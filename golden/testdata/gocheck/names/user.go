package names

import "context"

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

func NewW(ctx context.Context) (*W, error) { return &W{}, nil }

// Run is the package's own.
func Run() {}

type TopSupervisor struct{}

var top_w = 1

type error interface{ Error() string }
