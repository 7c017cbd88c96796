package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
)

// The table "Every user callback, every way it ends" of the package doc, a
// test per cell: each callback the runtime calls, made to return, fail,
// panic (with an error, with another value, with nil), call runtime.Goexit,
// or never return. Each test asserts what the doc's cell says and that
// nothing is left waiting: no key, no slot, no caller, no supervisor.

// ending is one way a callback ends.
type ending int

const (
	endReturn ending = iota
	endError
	endPanicError
	endPanicValue
	endPanicNil
	endGoexit
	endNever
)

var endings = []ending{endReturn, endError, endPanicError, endPanicValue, endPanicNil, endGoexit, endNever}

func (e ending) String() string {
	return [...]string{"return", "error", "panic_error", "panic_value", "panic_nil", "goexit", "never"}[e]
}

var errCallback = errors.New("callback failed")

// end ends the calling callback as e says; for endNever it blocks until
// release is closed (never by the test's own doing, only at cleanup) and
// then returns an error.
func (e ending) end(release <-chan struct{}) error {
	switch e {
	case endError:
		return errCallback
	case endPanicError:
		panic(errCallback)
	case endPanicValue:
		panic("boom")
	case endPanicNil:
		panic(nil)
	case endGoexit:
		goruntime.Goexit()
	case endNever:
		<-release
		return errCallback
	}
	return nil
}

// wantPanic checks that err holds the *PanicError of e.
func wantPanic(t *testing.T, e ending, err error) {
	t.Helper()
	var pe *runtime.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("%v: want a *PanicError, got %v", e, err)
	}
	switch e {
	case endPanicError:
		if !errors.Is(err, errCallback) {
			t.Fatalf("the panic's error is not in the reason: %v", err)
		}
	case endPanicValue:
		if pe.Value != "boom" {
			t.Fatalf("panic value %v", pe.Value)
		}
	case endPanicNil:
		var pn *goruntime.PanicNilError
		if v, ok := pe.Value.(error); !ok || !errors.As(v, &pn) {
			t.Fatalf("panic(nil) gives %T %v, want *runtime.PanicNilError", pe.Value, pe.Value)
		}
	}
	if len(pe.Stack) == 0 {
		t.Fatal("no stack in the *PanicError")
	}
}

func isPanic(e ending) bool { return e == endPanicError || e == endPanicValue || e == endPanicNil }

// releaser gives a callback that never returns its release, closed when
// the test ends, so that its goroutine does not leak.
func releaser(t *testing.T) <-chan struct{} {
	c := make(chan struct{})
	t.Cleanup(func() { close(c) })
	return c
}

func TestCallbackStartFunction(t *testing.T) {
	for _, e := range endings {
		t.Run(e.String(), func(t *testing.T) {
			tr := newTree(t)
			release := releaser(t)
			ctx, cancel := context.WithCancel(tr.ctx)
			defer cancel()
			entered := make(chan struct{})
			spec := runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{{
				ID: "c", Shutdown: runtime.BrutalKill,
				Start: func(ctx context.Context) (runtime.Service, error) {
					close(entered)
					if err := e.end(release); err != nil {
						return nil, err
					}
					return idle{}, nil
				},
			}}}
			if e == endNever {
				// The start blocks the supervisor's init, as in OTP, until
				// the init is abandoned: then the start is given up.
				go func() { <-entered; cancel() }()
			}
			sup, err := runtime.NewSupervisor(ctx, spec)
			if e == endReturn {
				if err != nil {
					t.Fatal(err)
				}
				go sup.Serve(ctx)
				if err := sup.Stop(tr.ctx); err != nil {
					t.Fatal(err)
				}
				return
			}
			var sce *runtime.StartChildError
			if !errors.As(err, &sce) || sce.ID != "c" || !runtime.IsShutdown(err) {
				t.Fatalf("NewSupervisor = %v, want {shutdown, failed_to_start_child c}", err)
			}
			switch {
			case e == endError && !errors.Is(sce.Reason, errCallback),
				e == endGoexit && !errors.Is(sce.Reason, runtime.ErrGoexit),
				e == endNever && !errors.Is(sce.Reason, runtime.ErrKilled):
				t.Fatalf("start error %v", sce.Reason)
			case isPanic(e):
				wantPanic(t, e, sce.Reason)
			}
		})
	}
}

// A start function that never returns blocks its supervisor's restarts (as
// OTP's does) but not its Stop: the start is cancelled, given the child's
// shutdown, then given up as killed.
func TestCallbackStartFunctionNeverReturnsThenStop(t *testing.T) {
	tr := newTree(t)
	release := releaser(t)
	var starts int
	var mu sync.Mutex
	blocked := make(chan struct{})
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{
		tr.child("w"),
		{ID: "c", Shutdown: runtime.Timeout(time.Second), Start: func(ctx context.Context) (runtime.Service, error) {
			mu.Lock()
			starts++
			n := starts
			mu.Unlock()
			if n == 2 {
				close(blocked)
				<-release // ignores its context
				return nil, errCallback
			}
			return idle{}, nil
		}},
	}})
	if err := sup.TerminateChild(tr.ctx, "c"); err != nil {
		t.Fatal(err)
	}
	restarted := make(chan error, 1)
	go func() { _, err := sup.RestartChild(tr.ctx, "c"); restarted <- err }()
	<-blocked
	stopped := make(chan error, 1)
	go func() { stopped <- sup.Stop(context.Background()) }()
	if !tr.clk.WaitForTimers(1, sup.Done()) {
		t.Fatal("the supervisor exited without waiting for the start")
	}
	tr.clk.Advance(time.Second)
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Stop did not return")
	}
	if err := <-restarted; !errors.Is(err, runtime.ErrKilled) {
		t.Fatalf("RestartChild = %v, want a start given up as killed", err)
	}
}

func TestCallbackServe(t *testing.T) {
	for _, e := range endings {
		t.Run(e.String(), func(t *testing.T) {
			tr := newTree(t)
			release := releaser(t)
			go1 := make(chan struct{})
			var once sync.Once
			sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForOne, 10, 5), Children: []runtime.ChildSpec{{
				ID: "c", Shutdown: runtime.BrutalKill,
				Start: func(ctx context.Context) (runtime.Service, error) {
					first := false
					once.Do(func() { first = true })
					return serviceFunc(func(ctx context.Context) error {
						if !first {
							<-ctx.Done()
							return nil
						}
						<-go1
						return e.end(release)
					}), nil
				},
			}}})
			h := handleOf(t, sup, "c")
			close(go1)
			if e == endNever {
				select {
				case <-h.Done():
					t.Fatal("a child that never returns exited")
				default:
				}
				if err := sup.TerminateChild(tr.ctx, "c"); err != nil {
					t.Fatal(err)
				}
				if reason := h.Reason(); !errors.Is(reason, runtime.ErrKilled) || h.Alive() {
					t.Fatalf("after brutal_kill: %v, alive %v", reason, h.Alive())
				}
				return
			}
			ev, _ := tr.events.waitFor(t, 0, "child_terminated", func(ev runtime.Event) bool {
				return ev.Kind == runtime.ChildTerminated && ev.Child.ID == "c"
			})
			switch {
			case e == endReturn && ev.Reason != nil,
				e == endError && !errors.Is(ev.Reason, errCallback),
				e == endGoexit && !errors.Is(ev.Reason, runtime.ErrGoexit):
				t.Fatalf("exit reason %v", ev.Reason)
			case isPanic(e):
				wantPanic(t, e, ev.Reason)
			}
			// Permanent: restarted in every case.
			tr.events.waitFor(t, 0, "restart", func(ev runtime.Event) bool {
				return ev.Kind == runtime.ChildStarted && ev.Child.ID == "c" && ev.Child.Handle != h
			})
		})
	}
}

// NewServer's Init runs inside the start function: it ends as a start
// function does.
func TestCallbackServerInit(t *testing.T) {
	for _, e := range endings {
		if e == endNever {
			continue // the start function's cell: TestCallbackStartFunction/never
		}
		t.Run(e.String(), func(t *testing.T) {
			tr := newTree(t)
			d := startDynamic(t, tr)
			_, err := d.StartChild(tr.ctx, runtime.ChildSpec{Start: func(ctx context.Context) (runtime.Service, error) {
				return runtime.NewServer(ctx, runtime.ServerSpec[int]{Init: func(context.Context) (int, error) {
					return 1, e.end(nil)
				}})
			}})
			switch {
			case e == endReturn && err != nil,
				e == endError && !errors.Is(err, errCallback),
				e == endGoexit && !errors.Is(err, runtime.ErrGoexit):
				t.Fatalf("StartChild = %v", err)
			case isPanic(e):
				wantPanic(t, e, err)
			}
			if n, _ := d.CountChildren(tr.ctx); (e == endReturn) != (n.Active == 1) {
				t.Fatalf("counts %+v", n)
			}
		})
	}
}

func startDynamic(t *testing.T, tr *tree) *runtime.DynamicSupervisor {
	t.Helper()
	d, err := runtime.StartDynamicSupervisor(tr.ctx, runtime.DynamicSupervisorSpec{Name: "d", MaxChildren: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop(context.Background()) })
	return d
}

// terminated records a server's Terminate calls.
type terminated struct {
	mu      sync.Mutex
	reasons []error
	called  chan struct{}
}

func newTerminated() *terminated { return &terminated{called: make(chan struct{}, 10)} }

func (tm *terminated) terminate(_ context.Context, _ *int, reason error) {
	tm.mu.Lock()
	tm.reasons = append(tm.reasons, reason)
	tm.mu.Unlock()
	tm.called <- struct{}{}
}

// startServer starts a server that is stopped, without waiting for it,
// when the test ends.
func startServer(t *testing.T, tr *tree, spec runtime.ServerSpec[int]) *runtime.Server[int] {
	t.Helper()
	ctx, cancel := context.WithCancel(tr.ctx)
	srv, err := runtime.StartServer(ctx, "srv", spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return srv
}

// advanceWhenArmed advances the fake clock by d once a timer is armed.
func advanceWhenArmed(tr *tree, d time.Duration) {
	go func() {
		tr.clk.WaitForTimers(1, nil)
		tr.clk.Advance(d)
	}()
}

func TestCallbackServerCallHandler(t *testing.T) {
	for _, e := range endings {
		t.Run(e.String(), func(t *testing.T) {
			tr := newTree(t)
			release := releaser(t)
			tm := newTerminated()
			srv := startServer(t, tr, runtime.ServerSpec[int]{Terminate: tm.terminate})
			timeout := runtime.DefaultTimeout
			if e == endNever {
				timeout = time.Second
				advanceWhenArmed(tr, time.Second)
			}
			v, err := runtime.CallTimeout(tr.ctx, srv, timeout, func(s *int) (int, error) {
				return 7, e.end(release)
			})
			switch e {
			case endReturn:
				if v != 7 || err != nil {
					t.Fatalf("Call = %v, %v", v, err)
				}
			case endError: // returned to the caller; the server goes on
				if !errors.Is(err, errCallback) || !srv.Handle().Alive() {
					t.Fatalf("Call = %v, alive %v", err, srv.Handle().Alive())
				}
			case endNever: // the caller times out; the server is stuck
				if !errors.Is(err, runtime.ErrTimeout) {
					t.Fatalf("Call = %v, want timeout", err)
				}
			default: // the server exits; Terminate runs with the reason
				if !errors.Is(err, runtime.ErrExited) {
					t.Fatalf("Call = %v, want *ExitError", err)
				}
				<-tm.called
				reason := srv.Handle().Reason()
				if e == endGoexit {
					if !errors.Is(err, runtime.ErrGoexit) || reason != runtime.ErrGoexit || tm.reasons[0] != runtime.ErrGoexit {
						t.Fatalf("Call = %v, exit %v, terminate %v", err, reason, tm.reasons)
					}
				} else {
					wantPanic(t, e, err)
					wantPanic(t, e, reason)
					wantPanic(t, e, tm.reasons[0])
				}
			}
		})
	}
}

func TestCallbackServerTerminate(t *testing.T) {
	for _, e := range endings {
		if e == endError {
			continue // Terminate returns nothing
		}
		t.Run(e.String(), func(t *testing.T) {
			tr := newTree(t)
			release := releaser(t)
			sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{{
				ID: "srv", Shutdown: runtime.BrutalKill,
				Start: func(ctx context.Context) (runtime.Service, error) {
					return runtime.NewServer(ctx, runtime.ServerSpec[int]{Terminate: func(context.Context, *int, error) {
						e.end(release)
					}})
				},
			}}})
			h := handleOf(t, sup, "srv")
			srv, _ := runtime.ServiceOf[*runtime.Server[int]](h)
			if e == endNever {
				if err := sup.TerminateChild(tr.ctx, "srv"); err != nil {
					t.Fatal(err)
				}
				if reason := h.Reason(); !errors.Is(reason, runtime.ErrKilled) {
					t.Fatalf("exit %v, want killed", reason)
				}
				return
			}
			srv.Cast(func(*int) error { return runtime.StopServer(errCallback) })
			ev, _ := tr.events.waitFor(t, 0, "child_terminated", func(ev runtime.Event) bool { return ev.Kind == runtime.ChildTerminated })
			switch {
			case e == endReturn && !errors.Is(ev.Reason, errCallback), // the reason stays
				e == endGoexit && ev.Reason != runtime.ErrGoexit: // replaced
				t.Fatalf("exit %v", ev.Reason)
			case isPanic(e):
				wantPanic(t, e, ev.Reason) // replaced
			}
		})
	}
}

func TestCallbackTaskFunction(t *testing.T) {
	for _, e := range endings {
		t.Run(e.String(), func(t *testing.T) {
			tr := newTree(t)
			release := releaser(t)
			d := startDynamic(t, tr) // max_children 1
			task, err := runtime.StartTask(tr.ctx, d, runtime.TaskOptions{Shutdown: runtime.BrutalKill}, func(ctx context.Context) (int, error) {
				return 42, e.end(release)
			})
			if err != nil {
				t.Fatal(err)
			}
			if e == endNever {
				advanceWhenArmed(tr, time.Second)
				if _, err := task.AwaitTimeout(tr.ctx, time.Second); !errors.Is(err, runtime.ErrTimeout) {
					t.Fatalf("Await = %v, want timeout", err)
				}
				if err := d.TerminateChild(tr.ctx, task.Handle()); err != nil {
					t.Fatal(err)
				}
			}
			v, err := task.Await(tr.ctx)
			switch {
			case e == endReturn && (v != 42 || err != nil),
				e == endError && !errors.Is(err, errCallback),
				e == endGoexit && !errors.Is(err, runtime.ErrGoexit),
				e == endNever && !errors.Is(err, runtime.ErrKilled):
				t.Fatalf("Await = %v, %v", v, err)
			case isPanic(e):
				wantPanic(t, e, err)
			}
			// Its max_children slot is free again.
			if _, err := runtime.StartTask(tr.ctx, d, runtime.TaskOptions{}, func(context.Context) (int, error) { return 0, nil }); err != nil {
				t.Fatalf("the slot was not freed: %v", err)
			}
		})
	}
}

func TestCallbackLookupOrStart(t *testing.T) {
	for _, e := range endings {
		t.Run(e.String(), func(t *testing.T) {
			tr := newTree(t)
			release := releaser(t)
			d := startDynamic(t, tr)
			reg := runtime.NewRegistry[string]()
			startIdle := func(ctx context.Context) (runtime.Handle, error) {
				return d.StartChild(ctx, runtime.ChildSpec{Start: func(context.Context) (runtime.Service, error) { return idle{}, nil }})
			}
			ctx, cancel := context.WithCancel(tr.ctx)
			defer cancel()
			started := make(chan struct{})
			result := make(chan error, 1)
			go func() {
				defer func() {
					if v := recover(); v != nil { // the panic goes on in the caller
						result <- errors.New("panicked")
					}
				}()
				returned := false
				defer func() {
					if !returned && e == endGoexit {
						result <- runtime.ErrGoexit
					}
				}()
				h, err := reg.LookupOrStart(ctx, "k", func(ctx context.Context) (runtime.Handle, error) {
					close(started)
					if err := e.end(release); err != nil {
						return runtime.Handle{}, err
					}
					return startIdle(ctx)
				})
				returned = true
				if err == nil && h.IsZero() {
					err = errors.New("zero handle")
				}
				result <- err
			}()
			<-started
			if e == endNever {
				// A waiter waits for the start in progress...
				waiter := make(chan runtime.Handle, 1)
				go func() {
					h, _ := reg.LookupOrStart(tr.ctx, "k", startIdle)
					waiter <- h
				}()
				// ...until the starting caller gives up: the key is free
				// and the waiter starts it.
				cancel()
				select {
				case h := <-waiter:
					if got, ok := reg.Lookup("k"); !ok || got != h {
						t.Fatalf("Lookup = %v, %v; the waiter got %v", got, ok, h)
					}
				case <-time.After(waitLimit):
					t.Fatal("the waiter is still waiting for a start whose caller gave up")
				}
				return
			}
			err := <-result
			switch {
			case e == endReturn && err != nil,
				e == endError && !errors.Is(err, errCallback),
				isPanic(e) && (err == nil || err.Error() != "panicked"),
				e == endGoexit && err != runtime.ErrGoexit:
				t.Fatalf("LookupOrStart: %v", err)
			}
			if e == endReturn {
				return
			}
			// The key is free: not held, not waiting, startable.
			if _, ok := reg.Lookup("k"); ok || reg.Len() != 0 {
				t.Fatalf("the key is held: Len %d", reg.Len())
			}
			waitCtx, cancelWait := context.WithTimeout(tr.ctx, waitLimit)
			defer cancelWait()
			if h, err := reg.LookupOrStart(waitCtx, "k", startIdle); err != nil || h.IsZero() {
				t.Fatalf("LookupOrStart after the failure: %v, %v", h, err)
			}
		})
	}
}

func TestCallbackApplicationStart(t *testing.T) {
	for _, e := range endings {
		t.Run(e.String(), func(t *testing.T) {
			tr := newTree(t)
			release := releaser(t)
			ctx, cancel := context.WithCancel(tr.ctx)
			defer cancel()
			entered := make(chan struct{})
			app := runtime.ApplicationSpec{Name: "a", Start: func(ctx context.Context) (runtime.Service, error) {
				close(entered)
				if err := e.end(release); err != nil {
					return nil, err
				}
				return idle{}, nil
			}}
			if e == endNever { // StartApplications waits until its ctx ends
				go func() { <-entered; cancel() }()
			}
			apps, err := runtime.StartApplications(ctx, app)
			if e == endReturn {
				if err != nil {
					t.Fatal(err)
				}
				if err := apps.StopAll(tr.ctx); err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *runtime.ApplicationError
			if !errors.As(err, &ae) || ae.Application != "a" || ae.Started {
				t.Fatalf("StartApplications = %v", err)
			}
			switch {
			case e == endError && !errors.Is(err, errCallback),
				e == endGoexit && !errors.Is(err, runtime.ErrGoexit),
				e == endNever && !errors.Is(err, context.Canceled):
				t.Fatalf("StartApplications = %v", err)
			case isPanic(e):
				wantPanic(t, e, err)
			}
		})
	}
}

func TestCallbackApplicationStopHooks(t *testing.T) {
	for _, hook := range []string{"PrepStop", "Stop"} {
		for _, e := range endings {
			if e == endError {
				continue // PrepStop and Stop return nothing
			}
			t.Run(hook+"/"+e.String(), func(t *testing.T) {
				tr := newTree(t)
				release := make(chan struct{})
				logs := captureSlog(t)
				var order []string
				var mu sync.Mutex
				note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
				app := runtime.ApplicationSpec{Name: "a", Start: func(ctx context.Context) (runtime.Service, error) {
					return serviceFunc(func(ctx context.Context) error { <-ctx.Done(); note("tree"); return nil }), nil
				}}
				entered := make(chan struct{})
				f := func(context.Context) { note(hook); close(entered); e.end(release) }
				if hook == "PrepStop" {
					app.PrepStop = f
				} else {
					app.Stop = f
				}
				apps, err := runtime.StartApplications(tr.ctx, app)
				if err != nil {
					t.Fatal(err)
				}
				if e == endNever { // the stop waits, as OTP's; its caller has its ctx
					ctx, cancel := context.WithCancel(tr.ctx)
					go func() { <-entered; cancel() }()
					if err := apps.StopAll(ctx); !errors.Is(err, context.Canceled) {
						t.Fatalf("StopAll = %v", err)
					}
				}
				close(release)
				if err := apps.StopAll(tr.ctx); err != nil && err != runtime.ErrNoProc {
					t.Fatal(err)
				}
				<-apps.Done()
				want := "tree " + hook
				if hook == "PrepStop" {
					want = "PrepStop tree"
				}
				if got := strings.Join(order, " "); got != want {
					t.Fatalf("order %q, want %q", got, want)
				}
				if failed := isPanic(e) || e == endGoexit; failed != strings.Contains(logs.String(), "application "+hook) {
					t.Fatalf("log: %q", logs.String())
				}
			})
		}
	}
}

// captureSlog sends slog.Default to a buffer for the test.
func captureSlog(t *testing.T) *syncBuffer {
	t.Helper()
	var buf syncBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestCallbackEventHook(t *testing.T) {
	for _, e := range endings {
		if e == endError {
			continue // a hook returns nothing
		}
		t.Run(e.String(), func(t *testing.T) {
			tr := newTree(t)
			release := releaser(t)
			logs := captureSlog(t)
			var mu sync.Mutex
			var seen []string
			hook := func(ev runtime.Event) {
				mu.Lock()
				seen = append(seen, ev.Kind.String())
				mu.Unlock()
				if ev.Kind == runtime.ChildTerminated {
					e.end(release)
				}
			}
			ctx := runtime.WithEventHookTimeout(runtime.WithEventHook(tr.ctx, hook), 20*time.Millisecond)
			sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{tr.child("c")}})
			if err != nil {
				t.Fatal(err)
			}
			defer sup.Stop(context.Background())
			old := handleOf(t, sup, "c")
			for round := 0; round < 2; round++ {
				tr.exitWith(sup, "c", errCrash)
				// The supervisor goes on as if the hook had returned: the
				// child is restarted.
				if _, err := sup.WhichChild(tr.ctx, "c"); err != nil {
					t.Fatal(err)
				}
				if h := handleOf(t, sup, "c"); h == old || h.IsZero() {
					t.Fatalf("round %d: c was not restarted: %v", round, h)
				} else {
					old = h
				}
			}
			failed := isPanic(e) || e == endGoexit || e == endNever
			if n := strings.Count(logs.String(), "arbor: an event hook"); (n == 1) != failed || n > 1 {
				t.Fatalf("%d reports through slog.Default, want one if the hook failed: %q", n, logs.String())
			}
		})
	}
}

// The handlers that a server runs from its queue, with no caller waiting:
// a Cast handler, and those run as one is, Server.Monitor's onDown, a
// registry Listener's handler and a Subscribe handler. Each, made to end
// every way, does what the table's row for them says.
func TestCallbackServerCastHandler(t *testing.T) {
	type queue func(t *testing.T, tr *tree, srv *runtime.Server[int], handler func(*int) error)
	queues := []struct {
		name string
		run  queue
	}{
		{"cast", func(t *testing.T, tr *tree, srv *runtime.Server[int], handler func(*int) error) {
			srv.Cast(handler)
		}},
		{"monitor_ondown", func(t *testing.T, tr *tree, srv *runtime.Server[int], handler func(*int) error) {
			other := startServer(t, tr, runtime.ServerSpec[int]{})
			srv.Monitor(other.Handle(), func(s *int, _ runtime.Down) error { return handler(s) })
			if err := other.Stop(tr.ctx, nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"listener", func(t *testing.T, tr *tree, srv *runtime.Server[int], handler func(*int) error) {
			reg := runtime.NewUniqueRegistry[string, int](runtime.RegistryOptions{})
			reg.Listen(runtime.NewListener(srv, func(s *int, _ runtime.RegistryEvent[string, int]) error { return handler(s) }))
			other := startServer(t, tr, runtime.ServerSpec[int]{})
			if err := reg.Register("k", other.Handle()); err != nil {
				t.Fatal(err)
			}
		}},
		{"subscribe", func(t *testing.T, tr *tree, srv *runtime.Server[int], handler func(*int) error) {
			reg := runtime.NewDuplicateRegistry[string, runtime.Subscriber[int]](runtime.RegistryOptions{})
			if err := runtime.Subscribe(reg, "topic", srv, func(s *int, _ int) error { return handler(s) }); err != nil {
				t.Fatal(err)
			}
			if n := runtime.Publish(reg, "topic", 1); n != 1 {
				t.Fatalf("published to %d subscribers", n)
			}
		}},
	}
	for _, q := range queues {
		for _, e := range endings {
			t.Run(q.name+"/"+e.String(), func(t *testing.T) {
				tr := newTree(t)
				release := releaser(t)
				tm := newTerminated()
				srv := startServer(t, tr, runtime.ServerSpec[int]{Terminate: tm.terminate})
				ran := make(chan struct{}, 10) // a listener hears of the unregistration too
				q.run(t, tr, srv, func(s *int) error {
					*s = 1
					ran <- struct{}{}
					return e.end(release)
				})
				waitRan(t, ran)
				if e == endReturn || e == endNever {
					if e == endNever { // the server is stuck: its callers time out
						advanceWhenArmed(tr, time.Second)
					}
					v, err := runtime.CallTimeout(tr.ctx, srv, time.Second, func(s *int) (int, error) { return *s, nil })
					if e == endReturn && (v != 1 || err != nil) {
						t.Fatalf("after the handler: %v, %v", v, err)
					}
					if e == endNever && !errors.Is(err, runtime.ErrTimeout) {
						t.Fatalf("a call behind a stuck handler: %v, want timeout", err)
					}
					return
				}
				waitDone(t, srv.Handle())
				<-tm.called
				reason := srv.Handle().Reason()
				switch e {
				case endError: // there is no caller: the error stops the server
					if !errors.Is(reason, errCallback) {
						t.Fatalf("exit %v", reason)
					}
				case endGoexit:
					if reason != runtime.ErrGoexit {
						t.Fatalf("exit %v", reason)
					}
				default:
					wantPanic(t, e, reason)
				}
			})
		}
	}
}

// waitRan waits until a callback says on c that it has been called.
func waitRan(t *testing.T, c <-chan struct{}) {
	t.Helper()
	waitRecv(t, c, "the callback did not run")
}

// The registry's callbacks run in the caller's goroutine, holding none of
// the registry's locks: Dispatch's f, Match's and Select's predicates,
// UpdateValue's update. Whatever they do, the registry stays usable by
// everyone else; a panic or a Goexit goes on in the caller; one that never
// returns blocks its caller alone (and, for an update, the other updates
// of the same entry).
func TestCallbackRegistryFunctions(t *testing.T) {
	type op func(ctx context.Context, r *runtime.UniqueRegistry[string, int], end func()) (result int)
	ops := []struct {
		name string
		run  op
	}{
		{"dispatch", func(_ context.Context, r *runtime.UniqueRegistry[string, int], end func()) int {
			return r.Dispatch("k", func(runtime.Entry[string, int]) { end() })
		}},
		{"match", func(_ context.Context, r *runtime.UniqueRegistry[string, int], end func()) int {
			return len(r.Match("k", func(int) bool { end(); return true }))
		}},
		{"select", func(_ context.Context, r *runtime.UniqueRegistry[string, int], end func()) int {
			return len(r.Select(func(runtime.Entry[string, int]) bool { end(); return true }))
		}},
		{"update", func(ctx context.Context, r *runtime.UniqueRegistry[string, int], end func()) int {
			v, _, ok := r.UpdateValue(ctx, "k", func(old int) int { end(); return old + 1 })
			if !ok {
				return -1
			}
			return v
		}},
	}
	want := map[string]int{"dispatch": 1, "match": 1, "select": 1, "update": 6}
	for _, o := range ops {
		for _, e := range endings {
			if e == endError { // these callbacks return no error
				continue
			}
			t.Run(o.name+"/"+e.String(), func(t *testing.T) {
				ctx := context.Background()
				r := runtime.NewUniqueRegistry[string, int](runtime.RegistryOptions{Partitions: 2})
				a := spawn(t, ctx, "a")
				defer a.exit(t, nil)
				if err := r.RegisterValue("k", a.h, 5); err != nil {
					t.Fatal(err)
				}
				var owner context.Context // a's context, for UpdateValue from another goroutine
				a.run(t, func(ctx context.Context) { owner = ctx })

				release := make(chan struct{})
				released := false
				defer func() {
					if !released {
						close(release)
					}
				}()
				entered := make(chan struct{}, 10)
				returned := make(chan struct{})
				var result int
				finished := false
				var recovered any
				go func() {
					defer close(returned)
					defer func() { recovered = recover() }()
					result = o.run(owner, r, func() {
						entered <- struct{}{}
						e.end(release)
					})
					finished = true
				}()

				usable := func() {
					t.Helper()
					if en, ok := r.LookupEntry("k"); !ok || en.Handle != a.h {
						t.Fatalf("LookupEntry(k) = %+v, %v", en, ok)
					}
					if err := r.Register("other", a.h); err != nil {
						t.Fatalf("Register: %v", err)
					}
					r.Unregister("other")
					if n := r.Dispatch("k", func(runtime.Entry[string, int]) {}); n != 1 {
						t.Fatalf("Dispatch from another goroutine reached %d entries", n)
					}
				}
				if e == endNever {
					// Only the caller is blocked, in its callback.
					waitRan(t, entered)
					usable()
					if o.name == "update" {
						if err := r.RegisterValue("k2", a.h, 0); err != nil {
							t.Fatal(err)
						}
						if v, _, ok := r.UpdateValue(owner, "k2", func(old int) int { return old + 1 }); !ok || v != 1 {
							t.Fatalf("an update of another entry: %v, %v", v, ok)
						}
						// A second update of the same entry waits for the first.
						second := make(chan int)
						go func() {
							v, _, _ := r.UpdateValue(owner, "k", func(old int) int { return old * 10 })
							second <- v
						}()
						close(release)
						released = true
						waitClosed(t, returned)
						if v := <-second; v != 60 {
							t.Fatalf("the second update saw %d, want 60: it did not wait for the first", v)
						}
						return
					}
					close(release)
					released = true
					waitClosed(t, returned)
					return
				}
				waitClosed(t, returned)
				switch {
				case e == endReturn:
					if !finished || result != want[o.name] {
						t.Fatalf("finished %v, result %d, want %d", finished, result, want[o.name])
					}
				case e == endGoexit: // goes on in the caller: its goroutine ends
					if finished || recovered != nil {
						t.Fatalf("after Goexit: finished %v, recovered %v", finished, recovered)
					}
				default: // the panic goes on in the caller
					if finished {
						t.Fatal("the caller finished after a panic")
					}
					switch e {
					case endPanicError:
						if recovered != errCallback {
							t.Fatalf("recovered %v", recovered)
						}
					case endPanicValue:
						if recovered != "boom" {
							t.Fatalf("recovered %v", recovered)
						}
					case endPanicNil:
						if _, ok := recovered.(*goruntime.PanicNilError); !ok {
							t.Fatalf("recovered %T %v", recovered, recovered)
						}
					}
				}
				usable()
				if e != endReturn && o.name == "update" {
					// The value is left as it was, and the entry takes updates.
					if en, _ := r.LookupEntry("k"); en.Value != 5 {
						t.Fatalf("value %d after an update that ended by %v", en.Value, e)
					}
					if v, _, ok := r.UpdateValue(owner, "k", func(old int) int { return old + 1 }); !ok || v != 6 {
						t.Fatalf("a later update: %v, %v", v, ok)
					}
				}
			})
		}
	}
}
