package lifecycle

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/arborgo/arbor/runtime"
)

// TestMain checks that the generated trees leave no goroutine behind once
// stopped.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// events returns a context whose supervisors report to the returned channel.
func events(t *testing.T) (context.Context, context.CancelFunc, <-chan runtime.Event) {
	t.Helper()
	ch := make(chan runtime.Event, 256)
	ctx := runtime.WithEventHook(context.Background(), func(e runtime.Event) { ch <- e })
	ctx, cancel := context.WithCancel(ctx)
	return ctx, cancel, ch
}

// await reads events until one matches.
func await(t *testing.T, ch <-chan runtime.Event, kind runtime.EventKind, child string) runtime.Event {
	t.Helper()
	for e := range ch {
		if e.Kind == kind && e.Child.ID == child {
			return e
		}
	}
	t.Fatalf("no %v event for %q", kind, child)
	return runtime.Event{}
}

func TestGeneratedTreeStartsRestartsAndStops(t *testing.T) {
	ctx, cancel, ch := events(t)
	defer cancel()
	deps := NewDeps()
	sup, err := NewTreeSupervisor(ctx, deps)
	if err != nil {
		t.Fatalf("NewTreeSupervisor: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- sup.Serve(ctx) }()

	await(t, ch, runtime.ChildStarted, "flaky")
	crash := await(t, ch, runtime.ChildTerminated, "flaky")
	if !errors.Is(crash.Reason, errFirstRun) {
		t.Errorf("flaky terminated with %v, want %v", crash.Reason, errFirstRun)
	}
	await(t, ch, runtime.ChildStarted, "flaky")
	h, ok := deps.Names.Lookup("flaky")
	if !ok || !h.Alive() {
		t.Errorf("flaky is not registered after its restart: %v, %v", h, ok)
	}

	counts, err := sup.CountChildren(ctx)
	if err != nil || counts.Active != 3 {
		t.Errorf("CountChildren = %+v, %v; want 3 active", counts, err)
	}

	cancel()
	if err := <-served; err != nil && !runtime.IsShutdown(err) {
		t.Errorf("Serve returned %v, want a shutdown", err)
	}
}

func TestGeneratedStartChild(t *testing.T) {
	ctx, cancel, _ := events(t)
	defer cancel()
	jobs, err := NewJobsSupervisor(ctx, NewDeps())
	if err != nil {
		t.Fatalf("NewJobsSupervisor: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- jobs.Serve(ctx) }()
	for _, name := range []string{"a", "b"} {
		if _, err := jobs.StartChild(ctx, name); err != nil {
			t.Fatalf("StartChild(%q): %v", name, err)
		}
	}
	if _, err := jobs.StartChild(ctx, "c"); err == nil {
		t.Errorf("StartChild beyond max_children 2 succeeded")
	}
	cancel()
	if err := <-served; err != nil && !runtime.IsShutdown(err) {
		t.Errorf("Serve returned %v, want a shutdown", err)
	}
}
