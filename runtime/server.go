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

	signals sync.Pool // of chan struct{} with capacity 1: the callers' wake-ups

	// clock and epoch time the calls that take their time from the same
	// clock: their deadlines are kept as durations since epoch, and one
	// timer for the whole server (expiry) times them out. See expire.
	clock clock.Clock
	epoch time.Time

	mu       sync.Mutex
	queue    []message[S] // from head on
	head     int
	inflight message[S]    // the message being handled, failed if the server exits in it
	closed   bool          // the loop has stopped; messages are refused
	signal   chan struct{} // capacity 1: the queue may be non-empty
	expiry   clock.Timer   // nil until the first call with a deadline
	armedFor time.Duration // the deadline expiry is armed for; 0 when it is not armed
	// monitors are the server's Monitors still on: they end with it, as a
	// dead process's monitors do.
	monitors map[*serverMonitor[S]]struct{}

	state S // owned by the goroutine in Serve
}

// message is an entry of a server's queue: a Cast's handler (a castMsg) or
// a Call (a *call).
type message[S any] interface {
	// run runs the handler on the state and returns what it returns: nil,
	// an error that stops the server, or StopServer's.
	run(state *S) error
	// fail tells the caller, if there is one, that the server exited with
	// reason before answering.
	fail(h Handle, reason error)
	// expire times the call out if its deadline is at or before now (a
	// duration since the server's epoch), and returns its deadline if it
	// is later; 0 for a message with no deadline.
	expire(now time.Duration) (later time.Duration)
}

// castMsg is a Cast, a Down queued by Server.Monitor, or Stop's request.
type castMsg[S any] func(*S) error

func (m castMsg[S]) run(state *S) error               { return m(state) }
func (castMsg[S]) fail(Handle, error)                 {}
func (castMsg[S]) expire(time.Duration) time.Duration { return 0 }

// serverExit is the server's watcher of its own process: when the process
// exits, or is killed, every call still queued or in flight gets the exit
// reason. It is OTP's monitor of the server by each caller, kept once by
// the server instead of once per call.
type serverExit[S any] struct{ srv *Server[S] }

func (w serverExit[S]) processExited(p *process, reason error) {
	srv := w.srv
	srv.mu.Lock()
	srv.closed = true
	queue, inflight := srv.queue[srv.head:], srv.inflight
	srv.queue, srv.head, srv.inflight = nil, 0, nil
	if srv.expiry != nil {
		srv.expiry.Stop()
		srv.armedFor = 0
	}
	monitors := srv.monitors
	srv.monitors = nil
	srv.mu.Unlock()
	for m := range monitors {
		m.stop()
	}
	h := p.handle()
	if inflight != nil {
		inflight.fail(h, reason)
	}
	for _, m := range queue {
		m.fail(h, reason)
	}
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
	clk := clockFrom(ctx)
	srv := &Server[S]{proc: p, terminate: spec.Terminate, signal: make(chan struct{}, 1), clock: clk, epoch: clk.Now()}
	if spec.Init != nil {
		state, err := spec.Init(ctx)
		if err != nil {
			return nil, err
		}
		srv.state = state
	}
	p.watch(serverExit[S]{srv})
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

// push queues m and reports whether the server will see it: false once its
// loop has stopped.
func (srv *Server[S]) push(m message[S]) bool {
	return srv.pushBy(m, 0)
}

// pushBy queues m, a call that must be answered by deadline (a duration
// since epoch; 0 for none), arming the server's expiry timer for it if no
// earlier deadline is armed.
func (srv *Server[S]) pushBy(m message[S], deadline time.Duration) bool {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		return false
	}
	srv.queue = append(srv.queue, m)
	if deadline > 0 && (srv.armedFor == 0 || deadline < srv.armedFor) {
		srv.armExpiry(deadline)
	}
	srv.mu.Unlock()
	srv.wake()
	return true
}

// armExpiry arms the expiry timer for deadline; srv.mu is held.
func (srv *Server[S]) armExpiry(deadline time.Duration) {
	d := max(deadline-clock.Since(srv.clock, srv.epoch), 0)
	if srv.expiry == nil {
		srv.expiry = srv.clock.AfterFunc(d, srv.expire)
	} else {
		srv.expiry.Reset(d)
	}
	srv.armedFor = deadline
}

// expire runs when the expiry timer fires: every call whose deadline has
// passed, queued or in flight, returns ErrTimeout to its caller (the server
// is not told, and still runs it later, its answer dropped, as OTP's), and
// the timer is armed again for the earliest deadline left.
//
// One timer for the whole server, armed only when a call's deadline is
// earlier than the one it is armed for, is what keeps a call from arming
// and stopping a timer of its own: deadlines only grow while a server is
// busy, so most calls touch no timer at all.
func (srv *Server[S]) expire() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		return
	}
	now := clock.Since(srv.clock, srv.epoch)
	next := time.Duration(0)
	earliest := func(d time.Duration) {
		if d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	if srv.inflight != nil {
		earliest(srv.inflight.expire(now))
	}
	for _, m := range srv.queue[srv.head:] {
		earliest(m.expire(now))
	}
	srv.armedFor = 0
	if next > 0 {
		srv.armExpiry(next)
	}
}

// next takes the oldest queued message and makes it the one in flight, so
// that, whatever happens while it is handled, the server's exit finds it:
// the queue and the message in flight are all the calls a server holds. It
// also reports whether more messages wait; with none, the loop waits for
// its signal, which any message pushed since has rung. The message in
// flight stays recorded after it is handled, until the next one: failing
// or timing out a settled call does nothing.
func (srv *Server[S]) next() (m message[S], more bool) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.head == len(srv.queue) {
		return nil, false
	}
	m = srv.queue[srv.head]
	srv.queue[srv.head] = nil
	srv.head++
	switch {
	case srv.head == len(srv.queue):
		clear(srv.queue[:srv.head])
		srv.queue, srv.head = srv.queue[:0], 0
	case srv.head > 1024 && srv.head*2 > len(srv.queue): // a queue never empty: drop the taken front
		n := copy(srv.queue, srv.queue[srv.head:])
		clear(srv.queue[n:])
		srv.queue, srv.head = srv.queue[:n], 0
	}
	srv.inflight = m
	return m, srv.head < len(srv.queue)
}

// close stops the queue: later messages are refused. Those still queued
// stay, to be failed with the process's exit reason when it exits.
func (srv *Server[S]) close() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.closed = true
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
	// The loop waits on its signal alone: its context's cancellation rings
	// the same bell.
	stop := context.AfterFunc(ctx, srv.wake)
	defer stop()
	for {
		if ctx.Err() != nil {
			return srv.cancelled(ctx)
		}
		m, more := srv.next()
		if m != nil {
			if stop, reason := srv.handle(m); stop {
				return reason
			}
		}
		if !more {
			<-srv.signal
		}
	}
}

// wake tells the loop to look at its queue and its context.
func (srv *Server[S]) wake() {
	select {
	case srv.signal <- struct{}{}:
	default:
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

// handle runs one handler, which is in flight (see next): if the server
// exits in it (a panic, runtime.Goexit, a kill), its caller is told then.
// It reports whether the server must stop, and with what reason.
func (srv *Server[S]) handle(m message[S]) (stop bool, reason error) {
	defer func() {
		if r := recover(); r != nil {
			stop, reason = true, &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	err := m.run(&srv.state)
	if err == nil {
		return false, nil
	}
	if st, ok := asServerStop(err); ok {
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

// asServerStop finds StopServer's marker in err. It is a function of its
// own so that a handler that returns nil pays for no errors.As target.
func asServerStop(err error) (*serverStop, bool) {
	var st *serverStop
	ok := errors.As(err, &st)
	return st, ok
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
	srv.push(castMsg[S](f))
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
	srv.push(castMsg[S](func(*S) error { return StopServer(reason) }))
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
// its answer is then dropped, and nothing waits for it. Where OTP's call
// monitors the server for the duration of the call, here the server keeps
// that watch once for all its callers: when its process exits, or is
// killed, every call still queued or in flight gets the exit reason. f's own error is returned as it is, so an f that returns
// ErrTimeout or ErrNoProc is ambiguous; check ErrExited first. A call from
// the server's own process returns ErrCallingSelf.
func CallTimeout[S, R any](ctx context.Context, srv *Server[S], timeout time.Duration, f func(state *S) (R, error)) (val R, err error) {
	var zero R
	h := srv.Handle()
	if h.IsZero() {
		return zero, ErrNoProc
	}
	// The call's clock, read from ctx once: for the metrics and the timeout.
	var clk clock.Clock
	if srv.metrics != nil || timeout != InfiniteTimeout {
		clk = clockFrom(ctx)
	}
	if srv.metrics != nil {
		defer srv.measureCall(clk, clk.Now(), &err)
	}
	if Self(ctx) == h {
		return zero, ErrCallingSelf
	}
	c := &serverCall[S, R]{f: f, signal: srv.takeSignal()}
	// The server times the call out with its own timer when the call's
	// time comes from the server's clock, which is nearly always; a call
	// with another clock, or a timeout of 0 or less, has a timer of its own.
	var expired <-chan time.Time
	if timeout != InfiniteTimeout {
		if timeout > 0 && clk == srv.clock {
			c.deadline = max(clock.Since(clk, srv.epoch)+timeout, 1)
		} else {
			t := srv.timer(clk, max(timeout, 0))
			defer srv.releaseTimer(t)
			expired = t.t.C()
		}
	}
	if !srv.pushBy(c, c.deadline) {
		// Its loop has stopped: it has exited, or is terminating.
		if !h.Alive() {
			return zero, ErrNoProc
		}
		c.signal = nil
		return zero, awaitExit(ctx, h, timeout)
	}

	// Wait on only the channels there are: a select costs by its cases.
	var ended error
	switch cancelled := ctx.Done(); {
	case expired == nil && cancelled == nil:
		<-c.signal
	case cancelled == nil:
		select {
		case <-c.signal:
		case <-expired:
			ended = ErrTimeout
		}
	case expired == nil:
		select {
		case <-c.signal:
		case <-cancelled:
			ended = ctx.Err()
		}
	default:
		select {
		case <-c.signal:
		case <-expired:
			ended = ErrTimeout
		case <-cancelled:
			ended = ctx.Err()
		}
	}
	if ended == nil {
		// The call was answered, failed by the server's exit, or timed out
		// by the server's expiry timer.
		srv.signals.Put(c.signal)
		return c.val, c.err
	}
	if c.done.Load() == callDone { // answered as the wait ended
		return c.val, c.err
	}
	return zero, ended
}

// awaitExit waits, for a call to a server whose loop has already stopped,
// until the server's process exits, and returns its reason in an
// *ExitError; or ErrTimeout, or ctx's error, first.
func awaitExit(ctx context.Context, h Handle, timeout time.Duration) error {
	var expired <-chan time.Time
	if timeout != InfiniteTimeout {
		t := clockFrom(ctx).NewTimer(max(timeout, 0))
		defer t.Stop()
		expired = t.C()
	}
	select {
	case <-h.Done():
		return &ExitError{Handle: h, Reason: h.Reason()}
	case <-expired:
		return ErrTimeout
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serverCall is a Call in a server's queue: the handler, and the slot of its
// answer. Whoever settles it first — the handler's answer, or the server's
// exit — writes the slot and wakes the caller, once; the caller reads the
// slot after the wake-up (or, when it gave up waiting, after seeing done).
type serverCall[S, R any] struct {
	f        func(*S) (R, error)
	signal   chan struct{} // capacity 1: the caller's wake-up
	done     atomic.Uint32 // callPending, callWriting, callDone
	deadline time.Duration // since the server's epoch; 0: the server does not time it out
	val      R
	err      error
}

const (
	callPending = iota
	callWriting
	callDone
)

func (c *serverCall[S, R]) run(state *S) error {
	r, err := c.f(state)
	if err != nil {
		if st, ok := asServerStop(err); ok {
			c.settle(r, nil) // the reply is sent, then the server stops
			return st
		}
	}
	c.settle(r, err)
	return nil
}

func (c *serverCall[S, R]) fail(h Handle, reason error) {
	var zero R
	c.settle(zero, &ExitError{Handle: h, Reason: reason})
}

func (c *serverCall[S, R]) expire(now time.Duration) time.Duration {
	if c.deadline == 0 || c.done.Load() != callPending {
		return 0
	}
	if c.deadline <= now {
		var zero R
		c.settle(zero, ErrTimeout)
		return 0
	}
	return c.deadline
}

// settle writes the answer unless the call is settled already, and wakes
// the caller.
func (c *serverCall[S, R]) settle(val R, err error) {
	if !c.done.CompareAndSwap(callPending, callWriting) {
		return
	}
	c.val, c.err = val, err
	c.done.Store(callDone)
	c.signal <- struct{}{} // never blocks: capacity 1, and one send
}

// takeSignal returns a caller's wake-up channel, empty.
func (srv *Server[S]) takeSignal() chan struct{} {
	if c, ok := srv.signals.Get().(chan struct{}); ok {
		return c
	}
	return make(chan struct{}, 1)
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
	srv.mu.Lock()
	if srv.closed { // the server has stopped: its monitors have ended
		srv.mu.Unlock()
		return func() bool { return false }
	}
	if srv.monitors == nil {
		srv.monitors = make(map[*serverMonitor[S]]struct{})
	}
	srv.monitors[m] = struct{}{}
	srv.mu.Unlock()
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
	m.srv.mu.Lock()
	delete(m.srv.monitors, m) // it has fired: the server holds it no more
	m.srv.mu.Unlock()
	m.srv.push(castMsg[S](func(state *S) error {
		m.mu.Lock()
		off := m.off
		m.mu.Unlock()
		if off {
			return nil
		}
		return m.onDown(state, Down{Handle: m.handle, Reason: reason})
	}))
}

func (m *serverMonitor[S]) demonitor() bool {
	active := m.stop()
	m.srv.mu.Lock()
	delete(m.srv.monitors, m)
	m.srv.mu.Unlock()
	return active
}

// stop ends the monitor and reports whether its Down had not been queued.
func (m *serverMonitor[S]) stop() bool {
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
