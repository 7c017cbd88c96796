package main

import (
	"context"
)

// Worker is a child that runs until its supervisor stops it or Crash is
// called.
type Worker struct {
	name  string
	crash chan error
}

// NewWorker is the start function of A, B and C.
func NewWorker(ctx context.Context, name string) (*Worker, error) {
	return &Worker{name: name, crash: make(chan error, 1)}, nil
}

// Serve waits for a crash or for the supervisor to stop the worker, which it
// records.
func (w *Worker) Serve(ctx context.Context) error {
	select {
	case err := <-w.crash:
		return err
	case <-ctx.Done():
		if rec, ok := ctx.Value(recorderKey{}).(*recorder); ok {
			rec.add(&rec.stopped, w.name)
		}
		return nil
	}
}

// Crash makes the worker exit with reason, a crash for its supervisor.
func (w *Worker) Crash(reason error) {
	select {
	case w.crash <- reason:
	default: // already crashing
	}
}
