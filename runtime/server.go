package runtime

import (
	"context"
	"errors"
	"fmt"
	"github.com/arborgo/arbor/clock"
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of calls and awaits. Compare with errors.Is.
var (
	// ErrTimeout is returned by Call, CallTimeout and Task.Await when no
	// answer came in time (OTP's timeout exit). The server or task is not
	// told and keeps running; a late answer is dropped.
	ErrTimeout = errors.New("arbor: no answer in time (timeout)")

	// ErrExited is matched by *ExitError.
	ErrExited = errors.New("arbor: the process exited")

	// ErrCallingSelf is returned by a call from a server's own process to
	// itself, which could never be answered (OTP's calling_self).
	ErrCallingSelf = errors.New("arbor: a server cannot call itself (calling_self)")
)

// ExitError says the process a caller was waiting on exited without
// answering: a server that exited during a Call, or a task that failed. It
// matches ErrExited with errors.Is, and unwraps to Reason, so errors.As
// finds a *PanicError in it and errors.Is finds the reason's sentinels.
type ExitError struct {
	Handle Handle
	// Reason is the process's exit reason; nil is normal.
	Reason error
}

func (e *ExitError) Error() string {
	reason := "normal"
	if e.Reason != nil {
		reason = e.Reason.Error()
	}
	return fmt.Sprintf("arbor: %v exited: %s", e.Handle, reason)
}

func (e *ExitError) Unwrap() error        { return e.Reason }
func (e *ExitError) Is(target error) bool { return target == ErrExited }

const (
	// DefaultTimeout is how long Call and Task.Await wait: OTP's and
	// Elixir's default of 5000 ms.
	DefaultTimeout = 5 * time.Second
	// InfiniteTimeout makes CallTimeout and Task.AwaitTimeout wait as long
	// as it takes (OTP's infinity); only their context can end the wait.
	InfiniteTimeout time.Duration = math.MaxInt64
)

// ServerSpec describes a server: OTP's gen_server callbacks init and
// terminate. Its zero value is a server whose state starts as the zero S
// and that does nothing when it stops.
type ServerSpec[S any] struct {
	// Init returns the initial state. It runs synchronously in NewServer,
	// with NewServer's context, that is in the server's own process: in a
	// supervisor's child, inside its start function. Its error fails the
	// start and is returned as it is (ErrIgnore is OTP's ignore). Nil Init
	// starts from the zero S.
	Init func(ctx context.Context) (S, error)

	// Terminate, if set, is called once with the last state when the server
	// stops, in its goroutine, after the last handler: reason is the
	// server's exit reason, that is the cause of its cancellation (ErrShutdown
	// when its supervisor stops it), the reason given to StopServer or Stop,
	// the error of a cast handler, or the *PanicError of a handler that
	// panicked. ctx is the server's process context without its
	// cancellation, so that Terminate can still call other servers; it
	// must return within the child's shutdown time, after which the
	// supervisor gives up on the server. A panic in Terminate replaces the
	// exit reason.
	Terminate func(ctx context.Context, state *S, reason error)
}

// Server is a running server, OTP's gen_server: a process whose goroutine
// owns a state of type S and runs, one at a time and in arrival order, the
// handlers that Call, CallTimeout, Cast and Stop send it. Handlers are
// closures over the state; no other goroutine ever touches it.
//
// A Server is a Service: NewServer is its init, to be called in a start
// function, and the supervisor runs Serve. StartServer runs one outside any
// supervisor. Its methods and Call are safe for concurrent use from any
// number of goroutines. A *Server names one incarnation: when a supervisor
// restarts a server it makes a new one; use a Ref to follow it. The zero
// Server is not usable: make one with NewServer or StartServer.
//
// A handler that panics crashes the server: the *PanicError, with its
// stack, is the exit reason, Terminate still runs, and callers waiting on
// the server get an *ExitError with it.
type Server[S any] struct {
	proc      *process
	terminate func(context.Context, *S, error)
	metrics   Metrics // nil: nothing is measured
	serving   atomic.Bool
	timers    sync.Pool // of *callTimer

	mu     sync.Mutex
	queue  []func(*S) error
	closed bool          // the loop has stopped; messages are dropped
	signal chan struct{} // capacity 1: the queue may be non-empty

	state S // owned by the goroutine in Serve
}

// NewServer runs spec.Init with ctx and returns the server, ready to Serve.
// ctx must belong to the process that will run Serve: call NewServer from
// a start function with the context it received (as a constructor bound
// with Bind), and let the supervisor run Serve. It returns ErrNotAProcess
// when ctx belongs to no process, and Init's error as it is. A panic in
// Init is not recovered here; the supervisor recovers it as a failed start.
func NewServer[S any](ctx context.Context, spec ServerSpec[S]) (*Server[S], error) {
	p := Self(ctx).p
	if p == nil {
		return nil, ErrNotAProcess
	}
	srv := &Server[S]{proc: p, terminate: spec.Terminate, signal: make(chan struct{}, 1)}
	if spec.Init != nil {
		state, err := spec.Init(ctx)
		if err != nil {
			return nil, err
		}
		srv.state = state
	}
	srv.startServerMetrics(ctx)
	return srv, nil
}

// StartServer starts a server in a new process that no supervisor watches,
// as Spawn does (name labels its handle), and returns it once spec.Init
// has run in that process. The server stops, with reason shutdown, when ctx
// is cancelled, or when it stops itself; its Handle tells when it has
// exited and why. StartServer returns Init's error, or a *PanicError if
// Init panicked; the process has then exited with that reason.
func StartServer[S any](ctx context.Context, name string, spec ServerSpec[S]) (*Server[S], error) {
	b := &serverBoot[S]{spec: spec, ready: make(chan *Server[S], 1)}
	h := Spawn(ctx, name, b)
	select {
	case srv := <-b.ready:
		return srv, nil
	case <-h.Done():
		select {
		case srv := <-b.ready: // started, then stopped at once
			return srv, nil
		default:
		}
		reason := h.Reason()
		if reason == nil {
			reason = ErrNoProc // cannot happen: Init failed without an error
		}
		return nil, reason
	}
}

// serverBoot runs a server's init inside a spawned process, then its loop:
// OTP's proc_lib start with init_ack.
type serverBoot[S any] struct {
	spec  ServerSpec[S]
	ready chan *Server[S]
}

func (b *serverBoot[S]) Serve(ctx context.Context) error {
	srv, err := NewServer(ctx, b.spec)
	if err != nil {
		return err
	}
	b.ready <- srv
	return srv.Serve(ctx)
}

// Handle returns the server's process handle: monitor it, link to it,
// register it. It is the zero Handle for a nil *Server.
func (srv *Server[S]) Handle() Handle {
	if srv == nil {
		return Handle{}
	}
	return srv.proc.handle()
}

// String names the server's process.
func (srv *Server[S]) String() string { return srv.Handle().String() }

// push queues m and reports whether the server will see it.
func (srv *Server[S]) push(m func(*S) error) bool {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		return false
	}
	srv.queue = append(srv.queue, m)
	srv.mu.Unlock()
	select {
	case srv.signal <- struct{}{}:
	default:
	}
	return true
}

// take returns the queued messages, oldest first, and empties the queue.
func (srv *Server[S]) take(into []func(*S) error) []func(*S) error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	into = append(into[:0], srv.queue...)
	clear(srv.queue)
	srv.queue = srv.queue[:0]
	return into
}

// close stops the queue: later messages are dropped, and those still queued
// are released (their callers learn of the exit from their monitors).
func (srv *Server[S]) close() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.closed = true
	srv.queue = nil
}

// Serve runs the server's loop: it runs the handlers sent to it, one at a
// time, until its context is cancelled, a handler stops it or panics, or
// Stop is called. Then it calls Terminate and returns the exit reason:
// what was given to StopServer or Stop (nil is normal), a cast handler's
// error, a *PanicError, or the cancellation's cause, shutdown-class when
// the supervisor stopped it. Messages still queued are dropped; their
// callers get an *ExitError.
//
// ctx must be the context of the server's process, as the supervisor
// gives it; Serve returns an error at once for another process's context
// and when called twice.
func (srv *Server[S]) Serve(ctx context.Context) error {
	if Self(ctx).p != srv.proc {
		return errors.New("arbor: Server served outside the process that made it")
	}
	if !srv.serving.CompareAndSwap(false, true) {
		return errors.New("arbor: Server served twice")
	}
	reason := ErrGoexit // unless the loop returns: a handler called runtime.Goexit
	defer func() {
		srv.close()
		if srv.terminate != nil {
			srv.terminate(context.WithoutCancel(ctx), &srv.state, reason)
		}
		if srv.metrics != nil {
			srv.metrics.ServerExited(srv)
		}
	}()
	reason = srv.loop(ctx)
	return reason
}

func (srv *Server[S]) loop(ctx context.Context) error {
	done := ctx.Done()
	var batch []func(*S) error
	for {
		batch = srv.take(batch)
		for i, m := range batch {
			if ctx.Err() != nil {
				clear(batch)
				return srv.cancelled(ctx)
			}
			batch[i] = nil
			if stop, reason := srv.handle(m); stop {
				clear(batch)
				return reason
			}
		}
		select {
		case <-srv.signal:
		case <-done:
			return srv.cancelled(ctx)
		}
	}
}

// cancelled returns the exit reason of a server whose context was
// cancelled: the cause its process was cancelled with (shutdown from its
// supervisor, or a linked process's crash), else shutdown.
func (srv *Server[S]) cancelled(ctx context.Context) error {
	if cause := srv.proc.cancelCause(); cause != nil {
		return cause
	}
	return Shutdown(context.Cause(ctx))
}

// handle runs one handler. It reports whether the server must stop, and
// with what reason.
func (srv *Server[S]) handle(m func(*S) error) (stop bool, reason error) {
	defer func() {
		if r := recover(); r != nil {
			stop, reason = true, &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	err := m(&srv.state)
	if err == nil {
		return false, nil
	}
	var st *serverStop
	if errors.As(err, &st) {
		return true, st.reason
	}
	return true, err
}

// serverStop is what StopServer returns: the marker of a handler that stops
// its server.
type serverStop struct{ reason error }

func (e *serverStop) Error() string {
	if e.reason == nil {
		return "stop: normal"
	}
	return "stop: " + e.reason.Error()
}

// StopServer returns the error a handler returns to stop its server with
// reason once it has returned (OTP's {stop, Reason, ...}): nil is a normal
// exit, a shutdown-class error a clean one, anything else a crash, as for
// any Service. Terminate runs with reason.
//
// From a Call handler, the caller still gets the handler's result, with a
// nil error: the reply is sent, then the server stops (OTP's
// {stop, Reason, Reply, State}). From a Cast handler it is the way to stop
// normally; any other error a cast handler returns stops the server too.
func StopServer(reason error) error { return &serverStop{reason: reason} }

// Cast sends f to run on the server's state, and returns at once without
// waiting for it (OTP's cast). f runs in the server's goroutine after every
// handler sent before it. If f returns an error, the server stops with it
// as its exit reason (see StopServer; a plain error is a crash); there is
// no caller to give it to. A cast to a server that has stopped is dropped,
// as OTP drops a message to a dead process.
func (srv *Server[S]) Cast(f func(state *S) error) {
	if srv == nil {
		return
	}
	srv.push(f)
}

// Stop asks the server to stop with reason (OTP's gen_server:stop): it is
// queued behind the handlers already sent, then Terminate runs, and Stop
// returns once the server has exited. It returns ErrNoProc when the server
// was not running, ErrCallingSelf from the server's own process, and ctx's
// error if ctx ends first; the server still stops. Under a supervisor, the
// server's restart type decides what happens next, as for any exit.
func (srv *Server[S]) Stop(ctx context.Context, reason error) error {
	h := srv.Handle()
	if !h.Alive() {
		return ErrNoProc
	}
	if Self(ctx) == h {
		return ErrCallingSelf
	}
	srv.push(func(*S) error { return StopServer(reason) })
	select {
	case <-h.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Call runs f on srv's state in the server's goroutine and returns its
// result, waiting at most DefaultTimeout (OTP's gen_server:call). See
// CallTimeout.
func Call[S, R any](ctx context.Context, srv *Server[S], f func(state *S) (R, error)) (R, error) {
	return CallTimeout(ctx, srv, DefaultTimeout, f)
}

// CallTimeout runs f on srv's state in the server's goroutine, after every
// handler sent before it, and returns what f returns. It blocks until then,
// or until:
//
//   - the server was not running when the call was made: ErrNoProc (also
//     for a nil srv);
//   - the server exited before answering, also when f panicked: an
//     *ExitError (ErrExited) with the server's exit reason;
//   - timeout passed: ErrTimeout. Time comes from ctx's clock (WithClock);
//     InfiniteTimeout waits for ever, and a timeout of 0 or less times out
//     unless the answer is already there;
//   - ctx ended: ctx's error.
//
// In the last two cases the server is not told and may still run f later;
// its answer is then dropped, and nothing waits for it. Like OTP, Call
// monitors the server for the duration of the call, which is how it learns
// of the exit. f's own error is returned as it is, so an f that returns
// ErrTimeout or ErrNoProc is ambiguous; check ErrExited first. A call from
// the server's own process returns ErrCallingSelf.
func CallTimeout[S, R any](ctx context.Context, srv *Server[S], timeout time.Duration, f func(state *S) (R, error)) (val R, err error) {
	var zero R
	h := srv.Handle()
	if h.IsZero() {
		return zero, ErrNoProc
	}
	if srv.metrics != nil {
		clk := clockFrom(ctx)
		defer srv.measureCall(clk, clk.Now(), &err)
	}
	if Self(ctx) == h {
		return zero, ErrCallingSelf
	}
	rec := &callRecord[R]{signal: make(chan struct{}, 1)}
	if !h.p.watch(rec) {
		return zero, ErrNoProc // gone before the request could be sent
	}
	defer h.p.unwatch(rec)
	srv.push(func(s *S) error {
		r, err := f(s)
		var st *serverStop
		if err != nil && errors.As(err, &st) {
			rec.answer(r, nil)
			return st
		}
		rec.answer(r, err)
		return nil
	})
	var expired <-chan time.Time
	if timeout != InfiniteTimeout {
		t := srv.timer(clockFrom(ctx), max(timeout, 0))
		defer srv.releaseTimer(t)
		expired = t.t.C()
	}
	for {
		select {
		case <-rec.signal:
			// A reply always comes before the server's Down.
			if val, err, replied, reason, down := rec.outcome(); replied {
				return val, err
			} else if down {
				return zero, &ExitError{Handle: h, Reason: reason}
			}
		case <-expired:
			if val, err, replied, _, _ := rec.outcome(); replied {
				return val, err
			}
			return zero, ErrTimeout
		case <-ctx.Done():
			if val, err, replied, _, _ := rec.outcome(); replied {
				return val, err
			}
			return zero, ctx.Err()
		}
	}
}

// callRecord is one call in flight: the slot of its reply and the watcher
// of the server's exit at once, OTP's monitor and reply tag in one object.
// The server never waits on the caller: signal has room for one wake-up,
// and the caller looks at the outcome when woken.
type callRecord[R any] struct {
	signal  chan struct{}
	mu      sync.Mutex
	val     R
	err     error
	replied bool
	down    bool
	reason  error
}

func (c *callRecord[R]) answer(val R, err error) {
	c.mu.Lock()
	c.val, c.err, c.replied = val, err, true
	c.mu.Unlock()
	c.wake()
}

func (c *callRecord[R]) processExited(_ *process, reason error) {
	c.mu.Lock()
	c.down, c.reason = true, reason
	c.mu.Unlock()
	c.wake()
}

func (c *callRecord[R]) wake() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

func (c *callRecord[R]) outcome() (val R, err error, replied bool, reason error, down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.val, c.err, c.replied, c.reason, c.down
}

// callTimer is a call's timer, reused across calls through the server's
// pool; clock is the clock that made it.
type callTimer struct {
	clock clock.Clock
	t     clock.Timer
}

// timer returns a timer of clk armed to fire d from now.
func (srv *Server[S]) timer(clk clock.Clock, d time.Duration) *callTimer {
	if ct, ok := srv.timers.Get().(*callTimer); ok && ct.clock == clk {
		ct.t.Reset(d)
		return ct
	}
	return &callTimer{clock: clk, t: clk.NewTimer(d)}
}

// releaseTimer stops ct and keeps it for another call.
func (srv *Server[S]) releaseTimer(ct *callTimer) {
	ct.t.Stop()
	srv.timers.Put(ct)
}

type callReply[R any] struct {
	val R
	err error
}

// Monitor monitors the process h on the server's behalf: OTP's
// handle_info for a 'DOWN' message. When h's process exits, onDown runs on
// the server's state in the server's goroutine, queued like a cast (an
// error it returns stops the server); when h's process is already gone, it
// is queued at once with ErrNoProc as the reason. The returned demonitor
// stops the monitor; called from a handler, it also discards a Down that is
// queued but has not run yet (demonitor with flush). It reports whether the
// Down had not been queued yet.
func (srv *Server[S]) Monitor(h Handle, onDown func(state *S, d Down) error) (demonitor func() bool) {
	m := &serverMonitor[S]{srv: srv, handle: h, onDown: onDown}
	if h.p == nil || !h.p.watch(m) {
		m.deliver(ErrNoProc)
	}
	return m.demonitor
}

// serverMonitor delivers a Down into a server's queue.
type serverMonitor[S any] struct {
	srv    *Server[S]
	handle Handle
	onDown func(*S, Down) error
	mu     sync.Mutex
	off    bool // demonitored
	sent   bool // the Down is queued
}

func (m *serverMonitor[S]) processExited(_ *process, reason error) { m.deliver(reason) }

func (m *serverMonitor[S]) deliver(reason error) {
	m.mu.Lock()
	if m.off {
		m.mu.Unlock()
		return
	}
	m.sent = true
	m.mu.Unlock()
	m.srv.push(func(state *S) error {
		m.mu.Lock()
		off := m.off
		m.mu.Unlock()
		if off {
			return nil
		}
		return m.onDown(state, Down{Handle: m.handle, Reason: reason})
	})
}

func (m *serverMonitor[S]) demonitor() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.off {
		return false
	}
	m.off = true
	if m.handle.p != nil {
		m.handle.p.unwatch(m)
	}
	return !m.sent
}
