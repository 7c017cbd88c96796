package main

import (
	"context"
)

// Worker is a child that runs until its supervisor stops it or Crash is
// called.
type Worker struct {
	name  string
	rec   *recorder
	crash chan error
}

// NewWorker is the start function of A, B and C: the spec passes each its
// name and the recorder ({dep: rec}).
func NewWorker(ctx context.Context, name string, rec *recorder) (*Worker, error) {
	return &Worker{name: name, rec: rec, crash: make(chan error, 1)}, nil
}

// Serve waits for a crash or for the supervisor to stop the worker, which it
// records.
func (w *Worker) Serve(ctx context.Context) error {
	select {
	case err := <-w.crash:
		return err
	case <-ctx.Done():
		w.rec.add(&w.rec.stopped, w.name)
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
