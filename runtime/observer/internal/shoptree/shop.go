// Package shoptree is the program of the observer's browser test of the
// process panel, generated from shop.arbor.yaml.
package shoptree

//go:generate go run github.com/arborgo/arbor/cmd/arbor generate shop.arbor.yaml

import (
	"context"

	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/observer/internal/storetree"
)

// NewConn starts a connection of the pool, an idle worker.
func NewConn(ctx context.Context, name string) (*storetree.Worker, error) {
	return storetree.NewIdle(ctx)
}

// NewCounter starts the counter, a server of an int.
func NewCounter(ctx context.Context) (*runtime.Server[int], error) {
	return runtime.NewServer(ctx, runtime.ServerSpec[int]{})
}
