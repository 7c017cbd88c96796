package runtime

import (
	"context"
	"sync"
	"time"
)

// TaskOptions are a task's child spec, Elixir's Task.Supervisor.start_child
// options. The zero value is Elixir's default: a temporary task with a
// shutdown of 5 seconds.
type TaskOptions struct {
	// Name labels the task's handle and its supervisor's reports; empty
	// means "task".
	Name string
	// Transient makes the supervisor restart the task after a crash (an
	// error that is not shutdown-class, or a panic), running the function
	// again from the start; Await then returns the result of the run that
	// does not crash. A temporary task, the default, runs once.
	Transient bool
	// Shutdown is how long the supervisor waits for the task when it stops
	// it; DefaultShutdown is 5 seconds.
	Shutdown ShutdownSpec
}

// Task is a function running as a child of a DynamicSupervisor, whose
// result can be awaited: Elixir's Task.Supervisor.async_nolink. The task is
// not linked to the goroutine that started it; the supervisor owns it,
// stops it when it stops, counts it towards its max_children and, if it is
// transient, restarts it after a crash.
//
// Its methods are safe for concurrent use; any number of goroutines may
// await it, as often as they like, and all see the same outcome.
type Task[T any] struct {
	sup       *DynamicSupervisor
	f         func(context.Context) (T, error)
	transient bool

	mu      sync.Mutex
	current Handle // the latest incarnation
	final   bool
	val     T
	err     error
}

// StartTask starts f as a child of sup and returns at once. f runs in the
// child's goroutine with the child's context, which is cancelled when the
// supervisor stops the task (its own Stop, its parent's shutdown, or
// TerminateChild with the task's Handle); f should then return.
//
// What f returns is the task's outcome: a nil error is success, and ends
// the task normally; an error is its exit reason, a failure (shutdown-class
// errors are clean exits, any other a crash); a panic is a crash with a
// *PanicError. StartTask returns ErrMaxChildren when sup is full, ErrNoProc
// when it has exited, and ctx's error if ctx ends before sup answers.
func StartTask[T any](ctx context.Context, sup *DynamicSupervisor, opts TaskOptions, f func(ctx context.Context) (T, error)) (*Task[T], error) {
	if f == nil {
		return nil, &SpecError{Term: "missing_start", Child: opts.Name}
	}
	if sup == nil {
		return nil, ErrNoProc
	}
	t := &Task[T]{sup: sup, f: f, transient: opts.Transient}
	spec := ChildSpec{ID: opts.Name, Start: t.start, Restart: Temporary, Shutdown: opts.Shutdown}
	if spec.ID == "" {
		spec.ID = "task"
	}
	if opts.Transient {
		spec.Restart = Transient
	}
	if _, err := sup.StartChild(ctx, spec); err != nil {
		return nil, err
	}
	return t, nil
}

// start is the task's start function; it runs in the supervisor for the
// first run and for each restart.
func (t *Task[T]) start(ctx context.Context) (Service, error) {
	t.mu.Lock()
	t.current = Self(ctx)
	t.mu.Unlock()
	return taskRun[T]{t}, nil
}

type taskRun[T any] struct{ t *Task[T] }

func (r taskRun[T]) Serve(ctx context.Context) error {
	v, err := r.t.f(ctx)
	if err != nil {
		return err
	}
	// A run that its supervisor gave up on (killed) is dead: its late
	// result is not the task's outcome.
	Self(ctx).p.ifAlive(func() { r.t.finish(v, nil) })
	return nil
}

// finish records the outcome, unless one is already recorded.
func (t *Task[T]) finish(v T, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.final {
		t.final, t.val, t.err = true, v, err
	}
}

func (t *Task[T]) outcome() (v T, err error, final bool, current Handle) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.val, t.err, t.final, t.current
}

// Handle returns the handle of the task's latest run: pass it to the
// supervisor's TerminateChild to stop the task, or monitor it. A transient
// task gets a new handle each time it is restarted.
func (t *Task[T]) Handle() Handle {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.current
}

// Await waits at most DefaultTimeout for the task's outcome; see
// AwaitTimeout.
func (t *Task[T]) Await(ctx context.Context) (T, error) {
	return t.AwaitTimeout(ctx, DefaultTimeout)
}

// AwaitTimeout waits for the task's outcome and returns it: f's result
// with a nil error, or, when the task failed, an *ExitError (ErrExited)
// with its exit reason, which unwraps to f's error, the *PanicError of a
// panic, or the shutdown reason of a task its supervisor stopped. For a
// transient task, a crash is followed by a restart and the wait goes on;
// a crash that is not restarted (the supervisor gave up, or stopped) is the
// outcome.
//
// It returns once the run that gave the outcome has exited, so that its
// supervisor handles the exit before any call made after Await returns: a
// finished task no longer counts towards max_children.
//
// If timeout passes first (time from ctx's clock; InfiniteTimeout waits for
// ever, and 0 or less only takes an outcome that is already there),
// AwaitTimeout returns ErrTimeout; if ctx ends first, ctx's error. Unlike
// Elixir's Task.await, which exits the caller on timeout, this leaves both
// the caller and the task running; the task can be awaited again later.
func (t *Task[T]) AwaitTimeout(ctx context.Context, timeout time.Duration) (T, error) {
	var zero T
	if v, err, final, h := t.outcome(); final && closedYet(h.Done()) {
		return v, err
	}
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if timeout != InfiniteTimeout {
		tm := clockFrom(ctx).AfterFunc(max(timeout, 0), func() { cancel(ErrTimeout) })
		defer tm.Stop()
	}
	ended := func() (T, error) {
		if v, err, final, _ := t.outcome(); final {
			return v, err
		}
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		return zero, ErrTimeout
	}
	for {
		// Wait for the latest run to exit: even when it has already given
		// its result, so that its supervisor has its exit before anything
		// the caller asks it next.
		_, _, _, h := t.outcome()
		select {
		case <-h.Done():
		case <-wctx.Done():
			return ended()
		}
		if v, err, final, _ := t.outcome(); final {
			return v, err
		}
		reason := h.Reason()
		if !t.transient || isCleanExit(reason) {
			t.finish(zero, &ExitError{Handle: h, Reason: reason})
			continue
		}
		// A transient run crashed. Its exit is in the supervisor's mailbox
		// (once Done is closed, its owner has been told), so once the
		// supervisor has answered a message sent now, it has restarted the
		// task, or it never will.
		switch err := query(wctx, &t.sup.d.mbox, t.sup.d.done, func() {}); err {
		case nil, ErrNoProc:
		default:
			return ended()
		}
		if t.Handle() == h {
			t.finish(zero, &ExitError{Handle: h, Reason: reason})
		}
	}
}

// closedYet reports whether c is closed, without waiting.
func closedYet(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
