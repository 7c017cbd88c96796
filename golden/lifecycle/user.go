package lifecycle

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/arborgo/arbor/runtime"
)

// Counter counts the starts of Flaky; it outlives Flaky's crashes.
type Counter struct{ starts atomic.Int64 }

func (*Counter) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewCounter(ctx context.Context) (*Counter, error) { return &Counter{}, nil }

// Flaky crashes on its first run and then runs until stopped.
type Flaky struct{ run int64 }

var errFirstRun = errors.New("flaky: first run crashes")

func (f *Flaky) Serve(ctx context.Context) error {
	if f.run == 1 {
		return errFirstRun
	}
	<-ctx.Done()
	return nil
}

func NewFlaky(ctx context.Context, counter *runtime.Ref[*Counter]) (*Flaky, error) {
	c, ok := counter.Get()
	if !ok {
		return nil, errors.New("flaky: counter is not running")
	}
	return &Flaky{run: c.starts.Add(1)}, nil
}

// Job is a dynamically started child.
type Job struct{ name string }

func (*Job) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewJob(ctx context.Context, name string) (*Job, error) { return &Job{name: name}, nil }
