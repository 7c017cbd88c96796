package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
)

// srvEnv is a context with a fake clock, for servers outside a tree.
func srvEnv(t *testing.T) (context.Context, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Unix(1_000_000, 0))
	return runtime.WithClock(context.Background(), clk), clk
}

// srvStart starts a standalone server that the test stops when it ends.
func srvStart[S any](t *testing.T, ctx context.Context, spec runtime.ServerSpec[S]) *runtime.Server[S] {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	srv, err := runtime.StartServer(ctx, "srv", spec)
	if err != nil {
		cancel()
		t.Fatalf("StartServer: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		waitDone(t, srv.Handle())
	})
	return srv
}

// srvGet is a call that returns the state.
func srvGet[S any](ctx context.Context, srv *runtime.Server[S]) (S, error) {
	return runtime.Call(ctx, srv, func(s *S) (S, error) { return *s, nil })
}

// srvAsync runs a call in its own goroutine; its result arrives on the
// returned channel.
func srvAsync[R any](f func() (R, error)) <-chan srvResult[R] {
	c := make(chan srvResult[R], 1)
	go func() {
		v, err := f()
		c <- srvResult[R]{v, err}
	}()
	return c
}

type srvResult[R any] struct {
	val R
	err error
}

func srvWait[R any](t *testing.T, c <-chan srvResult[R]) srvResult[R] {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(waitLimit):
		t.Fatal("the call did not return")
		return srvResult[R]{}
	}
}

// srvBlocker is a call handler that says when it has started, and waits
// until it is released to return what it is given.
type srvBlocker struct {
	entered chan struct{}
	release chan error
}

func newSrvBlocker() *srvBlocker {
	return &srvBlocker{entered: make(chan struct{}), release: make(chan error, 1)}
}

func (b *srvBlocker) handler(s *int) (int, error) {
	close(b.entered)
	return *s, <-b.release
}

// Calls and casts run in arrival order on one state; a call gets its
// handler's result and error.
func TestServerCallCastState(t *testing.T) {
	ctx, _ := srvEnv(t)
	srv := srvStart(t, ctx, runtime.ServerSpec[[]string]{
		Init: func(context.Context) ([]string, error) { return []string{"init"}, nil },
	})
	for _, s := range []string{"a", "b", "c"} {
		srv.Cast(func(st *[]string) error { *st = append(*st, s); return nil })
	}
	n, err := runtime.Call(ctx, srv, func(st *[]string) (int, error) { return len(*st), nil })
	if err != nil || n != 4 {
		t.Fatalf("Call = %d, %v; want 4", n, err)
	}
	got, _ := srvGet(ctx, srv)
	if strings.Join(got, ",") != "init,a,b,c" {
		t.Fatalf("state = %v", got)
	}
	errNope := errors.New("nope")
	if _, err := runtime.Call(ctx, srv, func(*[]string) (int, error) { return 0, errNope }); err != errNope {
		t.Fatalf("handler error = %v, want it as it is", err)
	}
	if !srv.Handle().Alive() {
		t.Fatal("a call handler's error stopped the server")
	}
}

// Calls from many goroutines at once are each answered, and the state sees
// every one of them.
func TestServerConcurrentCalls(t *testing.T) {
	ctx, _ := srvEnv(t)
	srv := srvStart(t, ctx, runtime.ServerSpec[int]{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 100 {
				if _, err := runtime.Call(ctx, srv, func(n *int) (int, error) { *n++; return *n, nil }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, _ := srvGet(ctx, srv); n != 1600 {
		t.Fatalf("count = %d, want 1600", n)
	}
}

// srvClassify names which of the call errors err is.
func srvClassify(err error) string {
	var exit *runtime.ExitError
	switch {
	case err == nil:
		return "reply"
	case errors.As(err, &exit):
		return "exited"
	case errors.Is(err, runtime.ErrTimeout):
		return "timeout"
	case errors.Is(err, runtime.ErrNoProc):
		return "noproc"
	}
	return "other: " + err.Error()
}

// (a) A call that gets no answer in time returns ErrTimeout; the server
// keeps running, still handles the request, and its late answer blocks
// nothing.
func TestServerCallTimeout(t *testing.T) {
	ctx, clk := srvEnv(t)
	srv := srvStart(t, ctx, runtime.ServerSpec[int]{})
	b := newSrvBlocker()
	first := srvAsync(func() (int, error) { return runtime.CallTimeout(ctx, srv, runtime.InfiniteTimeout, b.handler) })
	waitClosed(t, b.entered)

	var lateRan atomic.Bool
	late := srvAsync(func() (int, error) {
		return runtime.Call(ctx, srv, func(n *int) (int, error) { lateRan.Store(true); *n = 7; return *n, nil })
	})
	if !clk.WaitForTimers(1, nil) {
		t.Fatal("no timer")
	}
	clk.Advance(runtime.DefaultTimeout - time.Nanosecond)
	select {
	case r := <-late:
		t.Fatalf("call returned before its timeout: %+v", r)
	default:
	}
	clk.Advance(time.Nanosecond)
	if r := srvWait(t, late); srvClassify(r.err) != "timeout" || r.err != runtime.ErrTimeout {
		t.Fatalf("late call = %+v, want ErrTimeout", r)
	}
	b.release <- nil
	srvWait(t, first)
	if n, err := srvGet(ctx, srv); err != nil || n != 7 || !lateRan.Load() {
		t.Fatalf("after the timeout: state %d, %v; the timed-out request must still run", n, err)
	}
}

// (b) A server that exits during a call makes the call return an
// *ExitError with the server's exit reason.
func TestServerCallExited(t *testing.T) {
	ctx, clk := srvEnv(t)
	srv := srvStart(t, ctx, runtime.ServerSpec[int]{})
	b := newSrvBlocker()
	first := srvAsync(func() (int, error) { return runtime.CallTimeout(ctx, srv, runtime.InfiniteTimeout, b.handler) })
	waitClosed(t, b.entered)
	queued := srvAsync(func() (int, error) { return srvGet(ctx, srv) })
	if !clk.WaitForTimers(1, nil) { // the queued call has been sent
		t.Fatal("no timer")
	}
	b.release <- runtime.StopServer(errCrash)

	// The handler that stops the server still replies.
	if r := srvWait(t, first); r.err != nil {
		t.Fatalf("the stopping call = %+v, want its reply", r)
	}
	r := srvWait(t, queued)
	var exit *runtime.ExitError
	if !errors.As(r.err, &exit) || exit.Reason != errCrash || exit.Handle != srv.Handle() {
		t.Fatalf("queued call = %v, want an ExitError with %v", r.err, errCrash)
	}
	if !errors.Is(r.err, runtime.ErrExited) || !errors.Is(r.err, errCrash) || errors.Is(r.err, runtime.ErrNoProc) || errors.Is(r.err, runtime.ErrTimeout) {
		t.Fatalf("queued call = %v matches the wrong sentinels", r.err)
	}
}

// (c) A call to a server that is not running returns ErrNoProc, whether it
// has stopped or never was.
func TestServerCallNotRunning(t *testing.T) {
	ctx, _ := srvEnv(t)
	srv := srvStart(t, ctx, runtime.ServerSpec[int]{})
	if err := srv.Stop(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, err := srvGet(ctx, srv)
	if err != runtime.ErrNoProc {
		t.Fatalf("call to a stopped server = %v, want ErrNoProc", err)
	}
	if _, err := srvGet(ctx, (*runtime.Server[int])(nil)); err != runtime.ErrNoProc {
		t.Fatalf("call to nil = %v, want ErrNoProc", err)
	}
	var never runtime.Ref[*runtime.Server[int]]
	s, _ := never.Get()
	if _, err := srvGet(ctx, s); err != runtime.ErrNoProc {
		t.Fatalf("call through an unstarted Ref = %v, want ErrNoProc", err)
	}
	srv.Cast(func(*int) error { t.Error("cast to a stopped server ran"); return nil })
	if err := srv.Stop(ctx, nil); err != runtime.ErrNoProc {
		t.Fatalf("Stop of a stopped server = %v, want ErrNoProc", err)
	}
}

// A call abandoned through its context returns the context's error.
func TestServerCallContext(t *testing.T) {
	ctx, _ := srvEnv(t)
	srv := srvStart(t, ctx, runtime.ServerSpec[int]{})
	b := newSrvBlocker()
	first := srvAsync(func() (int, error) { return runtime.CallTimeout(ctx, srv, runtime.InfiniteTimeout, b.handler) })
	waitClosed(t, b.entered)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := runtime.CallTimeout(cctx, srv, runtime.InfiniteTimeout, func(n *int) (int, error) { return *n, nil }); err != context.Canceled {
		t.Fatalf("call with a cancelled context = %v", err)
	}
	b.release <- nil
	srvWait(t, first)
}

// Terminate sees the last state and the exit reason: shutdown when the
// server's context is cancelled, the stop reason, a cast handler's error.
func TestServerTerminate(t *testing.T) {
	type ended struct {
		state  int
		reason error
	}
	cases := []struct {
		name string
		stop func(ctx context.Context, cancel func(), srv *runtime.Server[int])
		want func(error) bool
	}{
		{"cancelled", func(_ context.Context, cancel func(), _ *runtime.Server[int]) { cancel() }, runtime.IsShutdown},
		{"stop", func(ctx context.Context, _ func(), srv *runtime.Server[int]) { srv.Stop(ctx, nil) }, runtime.IsNormal},
		{"stop_server", func(_ context.Context, _ func(), srv *runtime.Server[int]) {
			srv.Cast(func(*int) error { return runtime.StopServer(runtime.Shutdown(errCrash)) })
		}, func(err error) bool { return runtime.IsShutdown(err) && errors.Is(err, errCrash) }},
		{"cast_error", func(_ context.Context, _ func(), srv *runtime.Server[int]) {
			srv.Cast(func(*int) error { return errCrash })
		}, func(err error) bool { return err == errCrash }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base, _ := srvEnv(t)
			ctx, cancel := context.WithCancel(base)
			defer cancel()
			got := make(chan ended, 1)
			srv, err := runtime.StartServer(ctx, "srv", runtime.ServerSpec[int]{
				Terminate: func(tctx context.Context, n *int, reason error) {
					if tctx.Err() != nil {
						t.Error("Terminate's context is cancelled")
					}
					got <- ended{*n, reason}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				srv.Cast(func(n *int) error { *n++; return nil })
			}
			srvGet(ctx, srv) // the casts have run
			c.stop(ctx, cancel, srv)
			waitDone(t, srv.Handle())
			select {
			case e := <-got:
				if e.state != 3 || !c.want(e.reason) {
					t.Fatalf("Terminate(%d, %v)", e.state, e.reason)
				}
			default:
				t.Fatal("Terminate was not called before the exit")
			}
			if reason := srv.Handle().Reason(); !c.want(reason) {
				t.Fatalf("exit reason = %v", reason)
			}
		})
	}
}

// A panic in a handler crashes the server with a *PanicError and its
// stack; the caller of the panicking call, and every queued one, gets it in
// an *ExitError; Terminate still runs.
func TestServerPanic(t *testing.T) {
	ctx, clk := srvEnv(t)
	terminated := make(chan error, 1)
	srv, err := runtime.StartServer(ctx, "srv", runtime.ServerSpec[int]{
		Terminate: func(_ context.Context, _ *int, reason error) { terminated <- reason },
	})
	if err != nil {
		t.Fatal(err)
	}
	b := newSrvBlocker()
	first := srvAsync(func() (int, error) {
		return runtime.CallTimeout(ctx, srv, runtime.InfiniteTimeout, func(n *int) (int, error) {
			b.handler(n)
			panic("handler bug")
		})
	})
	waitClosed(t, b.entered)
	queued := srvAsync(func() (int, error) { return srvGet(ctx, srv) })
	if !clk.WaitForTimers(1, nil) {
		t.Fatal("no timer")
	}
	b.release <- nil
	for _, c := range []<-chan srvResult[int]{first, queued} {
		r := srvWait(t, c)
		var pe *runtime.PanicError
		if srvClassify(r.err) != "exited" || !errors.As(r.err, &pe) || pe.Value != "handler bug" {
			t.Fatalf("call = %v, want an ExitError with the panic", r.err)
		}
		if !strings.Contains(string(pe.Stack), "TestServerPanic") {
			t.Fatalf("the panic's stack does not show where it happened:\n%s", pe.Stack)
		}
	}
	if reason := <-terminated; !errors.As(reason, new(*runtime.PanicError)) {
		t.Fatalf("Terminate got %v", reason)
	}
	if reason := srv.Handle().Reason(); !errors.As(reason, new(*runtime.PanicError)) {
		t.Fatalf("exit reason = %v", reason)
	}
}

// A panic in a cast handler crashes the server too.
func TestServerCastPanic(t *testing.T) {
	ctx, _ := srvEnv(t)
	srv := srvStart(t, ctx, runtime.ServerSpec[int]{})
	m := srv.Handle().Monitor()
	srv.Cast(func(*int) error { panic(errCrash) })
	d := recvDown(t, m)
	var pe *runtime.PanicError
	if !errors.As(d.Reason, &pe) || !errors.Is(d.Reason, errCrash) {
		t.Fatalf("Down = %v", d.Reason)
	}
}

// Init runs in the server's process before StartServer returns; its error,
// or its panic, is StartServer's; NewServer needs a process.
func TestServerInit(t *testing.T) {
	ctx, _ := srvEnv(t)
	var initSelf runtime.Handle
	srv := srvStart(t, ctx, runtime.ServerSpec[int]{Init: func(ctx context.Context) (int, error) {
		initSelf = runtime.Self(ctx)
		return 1, nil
	}})
	if initSelf.IsZero() || initSelf != srv.Handle() {
		t.Fatalf("Init ran in %v, not in the server %v", initSelf, srv.Handle())
	}
	if _, err := runtime.StartServer(ctx, "bad", runtime.ServerSpec[int]{Init: func(context.Context) (int, error) { return 0, errCrash }}); err != errCrash {
		t.Fatalf("StartServer with a failing Init = %v", err)
	}
	_, err := runtime.StartServer(ctx, "bad", runtime.ServerSpec[int]{Init: func(context.Context) (int, error) { panic("init bug") }})
	var pe *runtime.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("StartServer with a panicking Init = %v", err)
	}
	if _, err := runtime.NewServer(ctx, runtime.ServerSpec[int]{}); err != runtime.ErrNotAProcess {
		t.Fatalf("NewServer outside a process = %v", err)
	}
}

// Serve refuses to run outside the process its server was made in.
func TestServerServeElsewhere(t *testing.T) {
	ctx, _ := srvEnv(t)
	srv := srvStart(t, ctx, runtime.ServerSpec[int]{})
	if err := srv.Serve(ctx); err == nil {
		t.Fatal("Serve with another context = nil")
	}
	if _, err := srvGet(ctx, srv); err != nil {
		t.Fatalf("the server was disturbed: %v", err)
	}
}

// A server cannot call itself, nor wait for its own stop.
func TestServerCallingSelf(t *testing.T) {
	ctx, _ := srvEnv(t)
	var srv *runtime.Server[int]
	errs := make(chan error, 2)
	srv, err := runtime.StartServer(ctx, "srv", runtime.ServerSpec[int]{
		Terminate: func(ctx context.Context, _ *int, _ error) {
			_, err := srvGet(ctx, srv)
			errs <- err
			errs <- srv.Stop(ctx, nil)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err != runtime.ErrCallingSelf {
			t.Fatalf("call to self = %v", err)
		}
	}
}

// srvCounter is a server under a supervisor: its state is a count, and it
// knows which incarnation it is.
type srvCounter struct {
	run   int
	count int
}

func srvNewCounter(ctx context.Context, runs *atomic.Int64) (*runtime.Server[srvCounter], error) {
	return runtime.NewServer(ctx, runtime.ServerSpec[srvCounter]{
		Init: func(context.Context) (srvCounter, error) {
			return srvCounter{run: int(runs.Add(1))}, nil
		},
	})
}

// A server is a supervised child: a crash restarts it through its start
// function, with Init run again, and a Ref follows it.
func TestServerSupervised(t *testing.T) {
	tr := newTree(t)
	var runs atomic.Int64
	ref := runtime.NewRef(runtime.Bind1(srvNewCounter, &runs))
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{{ID: "counter", Start: ref.Start}}})
	first, _ := ref.Get()
	if first.Handle() != handleOf(t, sup, "counter") {
		t.Fatal("the server's handle is not its child's")
	}
	first.Cast(func(c *srvCounter) error { c.count = 5; return nil })
	first.Cast(func(*srvCounter) error { return errCrash })
	waitDone(t, first.Handle())
	second := handleOf(t, sup, "counter") // the restart has been handled
	srv, running := ref.Get()
	if !running || srv.Handle() != second || srv == first {
		t.Fatalf("Ref = %v (running %v), want the new incarnation %v", srv.Handle(), running, second)
	}
	c, err := srvGet(tr.ctx, srv)
	if err != nil || c.run != 2 || c.count != 0 {
		t.Fatalf("restarted state = %+v, %v; want run 2 from Init", c, err)
	}
	e, _ := tr.events.waitFor(t, 0, "child_terminated", func(e runtime.Event) bool { return e.Kind == runtime.ChildTerminated })
	if e.Reason != errCrash {
		t.Fatalf("reported reason = %v", e.Reason)
	}
	if _, err := srvGet(tr.ctx, first); err != runtime.ErrNoProc {
		t.Fatalf("call to the old incarnation = %v, want ErrNoProc", err)
	}
}

// A supervisor stops a server with reason shutdown, which its Terminate
// sees: through TerminateChild and when it stops itself.
func TestServerSupervisedStop(t *testing.T) {
	tr := newTree(t)
	reasons := make(chan error, 4)
	start := func(ctx context.Context) (runtime.Service, error) {
		return runtime.NewServer(ctx, runtime.ServerSpec[int]{
			Terminate: func(_ context.Context, _ *int, reason error) { reasons <- reason },
		})
	}
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{{ID: "srv", Start: start}}})
	if err != nil {
		t.Fatal(err)
	}
	h := handleOf(t, sup, "srv")
	if err := sup.TerminateChild(tr.ctx, "srv"); err != nil {
		t.Fatal(err)
	}
	if reason := <-reasons; reason != runtime.ErrShutdown {
		t.Fatalf("Terminate after TerminateChild got %v, want shutdown", reason)
	}
	if reason := h.Reason(); reason != runtime.ErrShutdown {
		t.Fatalf("exit reason = %v", reason)
	}
	if _, err := sup.RestartChild(tr.ctx, "srv"); err != nil {
		t.Fatal(err)
	}
	if err := sup.Stop(tr.ctx); err != nil {
		t.Fatal(err)
	}
	if reason := <-reasons; reason != runtime.ErrShutdown {
		t.Fatalf("Terminate after the supervisor's Stop got %v", reason)
	}
}

// A linked process's crash stops the server with that reason; Terminate
// sees it.
func TestServerLinkedCrash(t *testing.T) {
	ctx, _ := srvEnv(t)
	helper := spawn(t, ctx, "helper")
	reasons := make(chan error, 1)
	srv := srvStart(t, ctx, runtime.ServerSpec[int]{
		Init: func(ctx context.Context) (int, error) { return 0, runtime.Link(ctx, helper.h) },
		Terminate: func(_ context.Context, _ *int, reason error) {
			reasons <- reason
		},
	})
	helper.exit(t, errCrash)
	waitDone(t, srv.Handle())
	if reason := <-reasons; reason != errCrash {
		t.Fatalf("Terminate got %v", reason)
	}
	if reason := srv.Handle().Reason(); reason != errCrash {
		t.Fatalf("exit reason = %v", reason)
	}
}

// Under a server that crashes and is restarted again and again, calls from
// many goroutines each return either the reply or the right error: ErrNoProc
// when the incarnation they called was already gone, an *ExitError with
// its crash reason when it died during the call. None hangs, none times out.
func TestServerCallsUnderCrashes(t *testing.T) {
	tr := newTree(t)
	var runs atomic.Int64
	ref := runtime.NewRef(runtime.Bind1(srvNewCounter, &runs))
	sup := tr.start(runtime.SupervisorSpec{
		Name:     "s",
		Flags:    runtime.Flags{MaxRestarts: 1 << 30, MaxSeconds: 1},
		Children: []runtime.ChildSpec{{ID: "counter", Start: ref.Start}},
	})
	const callers, calls, crashes = 8, 300, 150
	var outcomes [4]atomic.Int64 // reply, noproc, exited by error, exited by panic
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range calls {
				srv, _ := ref.Get()
				c, err := runtime.Call(tr.ctx, srv, func(c *srvCounter) (srvCounter, error) { c.count++; return *c, nil })
				var exit *runtime.ExitError
				switch {
				case err == nil:
					if c.count < 1 || c.run < 1 {
						t.Errorf("reply %+v", c)
						return
					}
					outcomes[0].Add(1)
				case err == runtime.ErrNoProc:
					if srv.Handle().Alive() {
						t.Errorf("ErrNoProc from a running server %v", srv.Handle())
						return
					}
					outcomes[1].Add(1)
				case errors.As(err, &exit):
					if exit.Handle != srv.Handle() {
						t.Errorf("ExitError from %v, called %v", exit.Handle, srv.Handle())
						return
					}
					if exit.Reason == errCrash {
						outcomes[2].Add(1)
					} else if errors.As(exit.Reason, new(*runtime.PanicError)) {
						outcomes[3].Add(1)
					} else {
						t.Errorf("ExitError with reason %v", exit.Reason)
						return
					}
				default:
					t.Errorf("wrong error: %v", err)
					return
				}
			}
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for i := 0; i < crashes && !srvClosed(finished); i++ {
		srv, _ := ref.Get()
		if i%2 == 0 {
			srv.Cast(func(*srvCounter) error { return errCrash })
		} else {
			runtime.Call(tr.ctx, srv, func(*srvCounter) (int, error) { panic("crash") })
		}
		waitDone(t, srv.Handle())
		handleOf(t, sup, "counter") // the restart has been handled
	}
	waitClosed(t, finished)
	total := int64(0)
	for i := range outcomes {
		total += outcomes[i].Load()
	}
	if total != callers*calls && !t.Failed() {
		t.Fatalf("%d outcomes for %d calls", total, callers*calls)
	}
	t.Logf("replies %d, noproc %d, exited %d+%d, restarts %d", outcomes[0].Load(), outcomes[1].Load(), outcomes[2].Load(), outcomes[3].Load(), runs.Load()-1)
}

func srvClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// ExitError reads well.
func TestExitErrorString(t *testing.T) {
	err := &runtime.ExitError{Reason: fmt.Errorf("boom")}
	if got := err.Error(); got != "arbor: undefined exited: boom" {
		t.Fatalf("Error() = %q", got)
	}
	if got := (&runtime.ExitError{}).Error(); got != "arbor: undefined exited: normal" {
		t.Fatalf("Error() = %q", got)
	}
}
