package names

import (
	"context"
	"errors"
)

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

// error_ is a type that travels: an error's text.
type error_ string

func (e error_) Error() string { return string(e) }

var _ error = error_("")

func args(ctx context.Context, key string, node string, cfg int, err error_, deps_ int, s_ int) (*W, error) {
	return &W{}, nil
}

func key(ctx context.Context, k int, args []string) (*W, error) { return &W{}, errors.Join() }

func NewUser(ctx context.Context, n int, carts *ArgsSupervisor, cfg any) (*W, error) {
	return &W{}, nil
}
