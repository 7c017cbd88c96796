package runtime_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
)

// taskAwait awaits t with no timeout, bounded by waitLimit.
func taskAwait[T any](tb *testing.T, task *runtime.Task[T]) (T, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	v, err := task.AwaitTimeout(ctx, runtime.InfiniteTimeout)
	if errors.Is(err, context.DeadlineExceeded) {
		tb.Fatal("Await did not return")
	}
	return v, err
}

func taskStart[T any](t *testing.T, tr *tree, sup *runtime.DynamicSupervisor, opts runtime.TaskOptions, f func(context.Context) (T, error)) *runtime.Task[T] {
	t.Helper()
	task, err := runtime.StartTask(tr.ctx, sup, opts, f)
	if err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	return task
}

// §5.2: a task's result is awaited; a finished temporary task leaves its
// supervisor.
func TestTaskResult(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks"})
	task := taskStart(t, tr, sup, runtime.TaskOptions{}, func(ctx context.Context) (string, error) {
		if runtime.Self(ctx).IsZero() {
			return "", errors.New("not in a process")
		}
		return "done", nil
	})
	if v, err := taskAwait(t, task); v != "done" || err != nil {
		t.Fatalf("Await = %q, %v", v, err)
	}
	if v, err := task.Await(tr.ctx); v != "done" || err != nil { // again
		t.Fatalf("second Await = %q, %v", v, err)
	}
	if n, _ := sup.CountChildren(tr.ctx); n.Specs != 0 {
		t.Fatalf("counts after the task = %+v", n)
	}
}

// A task's error is a failure: Await returns an *ExitError with it, and a
// temporary task is not restarted.
func TestTaskFailure(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks"})
	var runs atomic.Int32
	task := taskStart(t, tr, sup, runtime.TaskOptions{Name: "fetch"}, func(context.Context) (int, error) {
		runs.Add(1)
		return 0, errCrash
	})
	_, err := taskAwait(t, task)
	var exit *runtime.ExitError
	if !errors.As(err, &exit) || exit.Reason != errCrash || exit.Handle != task.Handle() || !errors.Is(err, runtime.ErrExited) {
		t.Fatalf("Await = %v, want an ExitError with %v", err, errCrash)
	}
	if runs.Load() != 1 {
		t.Fatalf("a temporary task ran %d times", runs.Load())
	}
	e, _ := tr.events.waitFor(t, 0, "child_terminated", func(e runtime.Event) bool { return e.Kind == runtime.ChildTerminated })
	if e.Child.ID != "fetch" || e.Reason != errCrash {
		t.Fatalf("report = %+v", e)
	}
}

// A panic is a failure with a *PanicError.
func TestTaskPanic(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks"})
	task := taskStart(t, tr, sup, runtime.TaskOptions{}, func(context.Context) (int, error) { panic("task bug") })
	_, err := taskAwait(t, task)
	var pe *runtime.PanicError
	if !errors.As(err, &pe) || pe.Value != "task bug" || len(pe.Stack) == 0 {
		t.Fatalf("Await = %v, want the panic", err)
	}
}

// Await with a timeout returns ErrTimeout and leaves the task running; a
// later Await gets the result.
func TestTaskAwaitTimeout(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks"})
	release := make(chan struct{})
	task := taskStart(t, tr, sup, runtime.TaskOptions{}, func(context.Context) (int, error) {
		<-release
		return 42, nil
	})
	if _, err := task.AwaitTimeout(tr.ctx, 0); err != runtime.ErrTimeout {
		t.Fatalf("AwaitTimeout(0) = %v, want ErrTimeout", err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := task.Await(tr.ctx)
		got <- err
	}()
	if !tr.clk.WaitForTimers(1, nil) {
		t.Fatal("no timer")
	}
	tr.clk.Advance(runtime.DefaultTimeout)
	if err := waitErr(t, got); err != runtime.ErrTimeout {
		t.Fatalf("Await = %v, want ErrTimeout", err)
	}
	if !task.Handle().Alive() {
		t.Fatal("the task stopped after the caller's timeout")
	}
	close(release)
	if v, err := taskAwait(t, task); v != 42 || err != nil {
		t.Fatalf("Await after the timeout = %d, %v", v, err)
	}
}

// An Await abandoned through its context returns the context's error.
func TestTaskAwaitContext(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks"})
	release := make(chan struct{})
	defer close(release)
	task := taskStart(t, tr, sup, runtime.TaskOptions{}, func(context.Context) (int, error) { <-release; return 0, nil })
	ctx, cancel := context.WithCancel(tr.ctx)
	cancel()
	if _, err := task.AwaitTimeout(ctx, runtime.InfiniteTimeout); err != context.Canceled {
		t.Fatalf("Await = %v", err)
	}
}

// A transient task that crashes is restarted, running its function again,
// and Await returns the result of the run that succeeds.
func TestTaskTransientRestart(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks"})
	var runs atomic.Int32
	task := taskStart(t, tr, sup, runtime.TaskOptions{Transient: true}, func(context.Context) (int, error) {
		switch runs.Add(1) {
		case 1:
			return 0, errCrash
		case 2:
			panic("again")
		}
		return 3, nil
	})
	if v, err := taskAwait(t, task); v != 3 || err != nil {
		t.Fatalf("Await = %d, %v; want the third run's result", v, err)
	}
	if got := tr.events.kinds(runtime.ChildTerminated); len(got) != 2 {
		t.Fatalf("reports: %v", got)
	}
}

// A transient task that keeps crashing makes its supervisor give up; Await
// then returns the last crash instead of waiting for a restart that never
// comes.
func TestTaskTransientGivesUp(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks", MaxRestarts: 2, MaxSeconds: 5})
	var runs atomic.Int32
	task := taskStart(t, tr, sup, runtime.TaskOptions{Transient: true}, func(context.Context) (int, error) {
		runs.Add(1)
		return 0, errCrash
	})
	_, err := taskAwait(t, task)
	var exit *runtime.ExitError
	if !errors.As(err, &exit) || exit.Reason != errCrash {
		t.Fatalf("Await = %v, want the last crash", err)
	}
	if err := sup.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("supervisor exit = %v", err)
	}
	if runs.Load() != 3 {
		t.Fatalf("runs = %d, want 3 (the first and 2 restarts)", runs.Load())
	}
}

// A transient task that exits cleanly (shutdown-class) is not restarted,
// and that exit is its outcome.
func TestTaskTransientCleanExit(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks"})
	errGone := errors.New("gone")
	task := taskStart(t, tr, sup, runtime.TaskOptions{Transient: true}, func(context.Context) (int, error) {
		return 0, runtime.Shutdown(errGone)
	})
	_, err := taskAwait(t, task)
	if !errors.Is(err, runtime.ErrExited) || !runtime.IsShutdown(err) || !errors.Is(err, errGone) {
		t.Fatalf("Await = %v", err)
	}
	if n, _ := sup.CountChildren(tr.ctx); n.Specs != 0 {
		t.Fatalf("counts = %+v", n)
	}
}

// A task stopped by its supervisor (TerminateChild, or the supervisor
// stopping) fails with reason shutdown.
func TestTaskStopped(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks"})
	wait := func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
	terminated := taskStart(t, tr, sup, runtime.TaskOptions{Transient: true}, wait)
	stopped := taskStart(t, tr, sup, runtime.TaskOptions{}, wait)
	if err := sup.TerminateChild(tr.ctx, terminated.Handle()); err != nil {
		t.Fatal(err)
	}
	if _, err := taskAwait(t, terminated); !errors.Is(err, runtime.ErrExited) || !runtime.IsShutdown(err) {
		t.Fatalf("Await after TerminateChild = %v", err)
	}
	if err := sup.Stop(tr.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := taskAwait(t, stopped); !errors.Is(err, runtime.ErrExited) || !runtime.IsShutdown(err) {
		t.Fatalf("Await after the supervisor stopped = %v", err)
	}
	if _, err := runtime.StartTask(tr.ctx, sup, runtime.TaskOptions{}, wait); err != runtime.ErrNoProc {
		t.Fatalf("StartTask on a stopped supervisor = %v", err)
	}
}

// §5.2: max_children applies to tasks; a finished task frees its slot.
func TestTaskMaxChildren(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks", MaxChildren: 1})
	release := make(chan struct{})
	first := taskStart(t, tr, sup, runtime.TaskOptions{}, func(context.Context) (int, error) { <-release; return 1, nil })
	if _, err := runtime.StartTask(tr.ctx, sup, runtime.TaskOptions{}, func(context.Context) (int, error) { return 2, nil }); !errors.Is(err, runtime.ErrMaxChildren) {
		t.Fatalf("StartTask over max_children = %v", err)
	}
	close(release)
	taskAwait(t, first)
	second := taskStart(t, tr, sup, runtime.TaskOptions{}, func(context.Context) (int, error) { return 2, nil })
	if v, err := taskAwait(t, second); v != 2 || err != nil {
		t.Fatalf("Await = %d, %v", v, err)
	}
}

// Many goroutines await one task; all get the same outcome.
func TestTaskConcurrentAwait(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks"})
	release := make(chan struct{})
	var runs atomic.Int32
	task := taskStart(t, tr, sup, runtime.TaskOptions{Transient: true}, func(context.Context) (int, error) {
		<-release
		if runs.Add(1) < 3 {
			return 0, errCrash
		}
		return 7, nil
	})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if v, err := task.AwaitTimeout(ctx, runtime.InfiniteTimeout); v != 7 || err != nil {
				t.Errorf("Await = %d, %v", v, err)
			}
		})
	}
	close(release)
	wg.Wait()
}

// StartTask checks its arguments.
func TestTaskStartErrors(t *testing.T) {
	tr := newTree(t)
	sup := tr.startDynamic(runtime.DynamicSupervisorSpec{Name: "tasks"})
	if _, err := runtime.StartTask[int](tr.ctx, sup, runtime.TaskOptions{}, nil); !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("nil function = %v", err)
	}
	if _, err := runtime.StartTask(tr.ctx, nil, runtime.TaskOptions{}, func(context.Context) (int, error) { return 0, nil }); err != runtime.ErrNoProc {
		t.Fatalf("nil supervisor = %v", err)
	}
	if _, err := runtime.StartTask(tr.ctx, sup, runtime.TaskOptions{Shutdown: runtime.Timeout(-time.Second)}, func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("invalid shutdown = %v", err)
	}
}
