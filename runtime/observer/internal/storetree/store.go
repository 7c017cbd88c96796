// Package storetree is the program of the observer's browser test of
// restarts, generated from store.arbor.yaml.
package storetree

//go:generate go run github.com/arborgo/arbor/cmd/arbor generate store.arbor.yaml

import "context"

// Crashes makes a worker crash: with each error sent on it. A nil Crashes
// never does.
type Crashes <-chan error

// Worker runs until it is stopped or crashes.
type Worker struct{ crash Crashes }

// NewWorker starts a worker that crashes with each error on crash.
func NewWorker(ctx context.Context, crash Crashes) (*Worker, error) { return &Worker{crash}, nil }

// NewIdle starts a worker that never crashes.
func NewIdle(ctx context.Context) (*Worker, error) { return &Worker{}, nil }

// Serve waits for a crash or for its supervisor to stop it.
func (w *Worker) Serve(ctx context.Context) error {
	select {
	case err := <-w.crash:
		return err
	case <-ctx.Done():
		return nil
	}
}
