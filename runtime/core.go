package runtime

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arborgo/arbor/clock"
)

// core is what static and dynamic supervisors share: their own process, their
// mailbox and loop, their clock, reports and restart intensity, and the
// starting and stopping of one child.
type core struct {
	name   string
	self   *process // the supervisor's own process: its context
	clock  clock.Clock
	events *eventRunner // nil: reports are off
	epoch  time.Time    // zero of the whole seconds used for intensity
	mbox   mailbox

	metrics *supMetrics // nil: nothing is measured

	// Owned by the loop.
	restarts intensity
	stopping bool // Stop was called
	// numberAcross numbers the handles of all children in one sequence,
	// serial, for a dynamic supervisor whose children have no ids; otherwise
	// each child numbers its own incarnations.
	numberAcross bool
	serial       uint32
	// stopTimer is reused by every shutdown with a timeout: stopping 100,000
	// children should not make 100,000 timers.
	stopTimer clock.Timer

	serving  atomic.Bool
	done     chan struct{} // closed when Serve has returned
	reason   error         // Serve's result, set before done is closed
	stopRoot func() bool   // detaches a root process from the caller's context

	// stopAsked is closed by the first Stop, so that a start function that
	// does not return cannot keep the supervisor from stopping.
	stopAsked chan struct{}
	stopOnce  sync.Once
	// serveDone is the Done of Serve's context, when that is not the
	// supervisor's own process; set before the loop runs.
	serveDone <-chan struct{}
}

func (s *core) init(ctx context.Context, name string, maxRestarts, maxSeconds int) {
	s.name = name
	s.clock = clockFrom(ctx)
	s.events = newEventRunner(ctx)
	s.mbox.init()
	s.restarts = newIntensity(maxRestarts, maxSeconds)
	s.done = make(chan struct{})
	s.stopAsked = make(chan struct{})
	s.self, s.stopRoot = processOf(ctx, name)
	s.self.mu.Lock()
	if ext := s.self.extLocked(); ext.mailbox == nil || ext.mailbox.hasExited() {
		// The process runs no supervisor, or one that has exited (a start
		// function making one again after a failed start): it is this one's.
		// Every child of an exited supervisor has exited, so none reads the
		// old mailbox again.
		ext.mailbox = &s.mbox
		s.self.initLabelBase()
		s.self.mu.Unlock()
	} else {
		// Another supervisor already runs in this process: give this one a
		// process of its own below it, which ends with the outer one — it
		// is cancelled when the outer is, and killed with it.
		s.self.mu.Unlock()
		outer := s.self
		inner := newRoot(ctx, outer, name)
		inner.ext.mailbox = &s.mbox
		inner.mu.Lock()
		inner.initLabelBase()
		inner.mu.Unlock()
		stopCancel := outer.AfterFunc(func() { inner.cancel(Shutdown(outer.cancelCause())) })
		outer.addSubRoot(inner)
		s.self = inner
		s.stopRoot = func() bool {
			outer.removeSubRoot(inner)
			return stopCancel()
		}
	}
	s.epoch = s.clock.Now()
	s.self.AfterFunc(s.mbox.interruptStart)
}

// serve runs the loop with handle for each message until handle or the
// parent stops it, then terminate, then records the reason.
func (s *core) serve(ctx context.Context, handle func(any) (bool, error), terminate func()) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("arbor: Serve called twice")
	}
	if ctx != context.Context(s.self) {
		s.serveDone = ctx.Done()
		stop := context.AfterFunc(ctx, s.mbox.interruptStart)
		defer stop()
	}
	reason := s.loop(ctx, handle)
	terminate()
	s.finish(reason)
	return reason
}

// finish records the supervisor's exit reason and ends it: its root process,
// if it made one, exits, and Done is closed.
func (s *core) finish(reason error) {
	s.events.close()
	s.metricsExited(reason)
	s.reason = reason
	s.exitRoot(reason)
	s.mbox.close()
	close(s.done)
}

// processOf returns the process whose context ctx is. When ctx belongs to no
// process, it makes a root process named name that is cancelled when ctx
// is, and returns the function that undoes that link.
func processOf(ctx context.Context, name string) (*process, func() bool) {
	if p, ok := ctx.(*process); ok {
		return p, nil
	}
	root := newRoot(ctx, nil, name)
	stop := context.AfterFunc(ctx, func() { root.cancel(Shutdown(context.Cause(ctx))) })
	return root, stop
}

// exitRoot ends the root process that processOf made, if it made one:
// the link to the caller's context is undone and the process exits.
func (s *core) exitRoot(reason error) {
	if s.stopRoot != nil {
		s.stopRoot()
		s.self.exit(reason)
	}
}

// path is the supervisor's path in the tree, such as "store/sessions",
// made once by init (with what its children's labels share).
func (s *core) path() string { return s.self.labelBase().path }

// Done returns a channel that is closed once the supervisor has exited.
func (s *core) Done() <-chan struct{} { return s.done }

// Handle implements Supervisor.Handle and DynamicSupervisor.Handle.
func (s *core) Handle() Handle { return s.self.handle() }

// Name implements Supervisor.Name and DynamicSupervisor.Name.
func (s *core) Name() string { return s.name }

// Wait implements Supervisor.Wait and DynamicSupervisor.Wait.
func (s *core) Wait() error {
	<-s.done
	return s.reason
}

func (s *core) parentShutdown() error {
	if cause := s.self.cancelCause(); cause != nil {
		return cause
	}
	return ErrShutdown
}

// startChild starts a new incarnation of c: OTP's start of a child, which
// runs the start function in the new process and waits for its answer. The
// process's goroutine runs the start function and, when it succeeds, Serve;
// the supervisor waits for the start to return (see awaitStart), so start
// functions still run one at a time, in order, as in OTP. It returns the
// start error, or reports ignored when the start function returned
// ErrIgnore; both leave c without a process. Any outcome settles a pending
// restart of c.
func (s *core) startChild(c *child, external bool) (err error, ignored bool) {
	if s.metrics != nil {
		begin := s.clock.Now()
		defer func() { s.measureStart(c, begin, err, ignored) }()
	}
	c.settle()
	c.incarnation++
	number := c.incarnation
	if s.numberAcross {
		number = s.serial
		s.serial++
	}
	p := newChildProcess(s.self, c, number)
	if !s.mbox.addChild(p) {
		return ErrKilled, false // this supervisor is dead: it starts nothing
	}
	p.gated = s.events != nil && !s.events.sink.inline
	go p.run()
	if !s.awaitStart(p, c.spec.Shutdown) {
		return ErrKilled, false
	}
	// The start's goroutine wrote svc (and, when the start failed, the
	// reason of its exit) before it answered: the answer's receive orders
	// these reads after those writes. A started child may exit at any time
	// after its answer, so its reason is read only when it never started.
	if p.svc == nil {
		reason := p.reason
		if errors.Is(reason, ErrIgnore) {
			return nil, true
		}
		return reason, false
	}
	c.proc = p
	p.started = s.since()
	s.reportStarted(c, external)
	if p.gated {
		s.mbox.letServe(p) // its Serve runs after its start is reported
	}
	return nil, false
}

// stopPending reports whether the supervisor has been asked to stop: its
// own process cancelled or killed, Stop called, or Serve's context ended.
func (s *core) stopPending() bool {
	if s.self.Err() != nil || closedYet(s.stopAsked) || closedYet(s.mbox.dead) {
		return true
	}
	return s.serveDone != nil && closedYet(s.serveDone)
}

// awaitStart waits until the start function of p, running in p's goroutine,
// has returned, and reports whether it has. A start function blocks its
// supervisor as in OTP, but not its stopping: when the supervisor is asked
// to stop while it waits (its context is cancelled, Stop is called, or its
// own process is killed), the start's context is cancelled and the start
// gets the child's shutdown to return, as a running child would; after
// that, p is killed and the start counts as failed with ErrKilled.
func (s *core) awaitStart(p *process, shutdown ShutdownSpec) bool {
	// One channel, one receive: the start's answer, or a nil that an
	// interruption sends (see interruptStart); a late answer of a start
	// given up on earlier is dropped.
	for {
		q := <-s.mbox.started
		if q == p {
			return true
		}
		if s.stopPending() {
			break
		}
	}
	p.cancel(ErrShutdown)
	var timeout <-chan time.Time
	switch shutdown {
	case BrutalKill:
	case Infinity:
		timeout = make(chan time.Time) // never fires
	default:
		if d, _ := shutdown.IsTimeout(); d > 0 {
			t := s.shutdownTimer(d)
			defer t.Stop()
			timeout = t.C()
		}
	}
	if timeout == nil {
		timeout = closedTimeChan // brutal_kill, or a timeout of 0: no wait
	}
	for {
		select {
		case q := <-s.mbox.started:
			if q == p {
				return true
			}
			continue
		default:
		}
		select {
		case q := <-s.mbox.started:
			if q == p {
				return true
			}
			continue
		case <-timeout:
		case <-s.mbox.dead:
		}
		break
	}
	if p.kill(s.clock.Now(), shutdown) {
		return false
	}
	// The start returned just as it was given up on, or the supervisor was
	// killed, which killed p too.
	if p.wasKilled() {
		return false
	}
	for q := range s.mbox.started {
		if q == p {
			return true
		}
	}
	return false
}

// shutdown stops c's process as its Shutdown says (OTP's shutdown/1) and
// consumes its exit, so that the exit neither restarts it nor counts. A
// child that does not stop in time is killed: dead to the whole runtime at
// once, though its goroutine runs on (see process.kill).
func (s *core) shutdown(c *child) {
	defer s.measureStop(c, s.metricsNow())
	p := c.proc
	c.proc = nil
	p.cancel(ErrShutdown)
	exited := false
	switch sd := c.spec.Shutdown; sd {
	case BrutalKill:
		exited = s.mbox.takeExit(p)
	case Infinity:
		exited = s.mbox.awaitExit(p, nil)
	default:
		d, _ := sd.IsTimeout()
		if d == 0 {
			exited = s.mbox.takeExit(p)
			break
		}
		t := s.shutdownTimer(d)
		exited = s.mbox.awaitExit(p, t.C())
		t.Stop()
	}
	if !exited {
		if p.kill(s.clock.Now(), c.spec.Shutdown) || p.wasKilled() {
			c.exited(p, ErrKilled)
			if c.spec.Shutdown != BrutalKill && !s.mbox.isKilled() {
				s.reportProc(ShutdownError, c, p, ErrKilled)
			}
			return
		}
		// It returned just as it was given up on: its exit is on its way.
		s.mbox.awaitExit(p, nil)
	}
	reason := p.handle().Reason()
	c.exited(p, reason)
	if !expectedStopReason(reason, c.spec.Restart) {
		s.reportProc(ShutdownError, c, p, reason)
	}
}

// second returns the whole seconds since the supervisor started, from its
// clock: OTP's erlang:monotonic_time(second), with its own epoch.
func (s *core) second() int64 {
	return int64(s.since() / time.Second)
}

// since returns the time elapsed on the supervisor's clock since its
// epoch: what the supervisor measures durations with, cheaper to read than
// the wall clock (see clock.Since).
func (s *core) since() time.Duration {
	return clock.Since(s.clock, s.epoch)
}

// report sends a report about c to the event hook, if there is one.
func (s *core) report(kind EventKind, c *child, reason error) {
	if s.events != nil {
		s.events.report(Event{Kind: kind, Time: s.clock.Now(), Supervisor: s.name, Child: c.offender(), Reason: reason})
	}
}

// reportProc reports about incarnation p of c.
func (s *core) reportProc(kind EventKind, c *child, p *process, reason error) {
	if s.events != nil {
		o := c.offender()
		o.Handle = p.handle()
		s.events.report(Event{Kind: kind, Time: s.clock.Now(), Supervisor: s.name, Child: o, Reason: reason})
	}
}

// reportStarted reports c's start.
func (s *core) reportStarted(c *child, external bool) {
	if s.events != nil {
		s.events.report(Event{Kind: ChildStarted, Time: s.clock.Now(), Supervisor: s.name, Child: c.offender(), External: external})
	}
}

// parentStop is the message a supervisor gets when its context is
// cancelled: OTP's EXIT from its parent, in mailbox order.
type parentStop struct{ reason error }

// loop handles messages until one stops the supervisor. The cancellation
// of its process (and of ctx, if Serve got another context) arrives as a
// message too, so the loop waits on its mailbox alone.
func (s *core) loop(ctx context.Context, handle func(any) (bool, error)) error {
	stopSelf := s.self.AfterFunc(func() { s.mbox.push(&parentStop{reason: s.parentShutdown()}) })
	defer stopSelf()
	if ctx != context.Context(s.self) {
		stopCtx := context.AfterFunc(ctx, func() { s.mbox.push(&parentStop{reason: Shutdown(context.Cause(ctx))}) })
		defer stopCtx()
	}
	for {
		for m := s.mbox.pop(); m != nil; m = s.mbox.pop() {
			if s.mbox.isKilled() {
				return ErrKilled
			}
			if ps, ok := m.(*parentStop); ok {
				return ps.reason
			}
			if stop, reason := handle(m); stop {
				return reason
			}
		}
		select {
		case <-s.mbox.signal:
		case <-s.mbox.dead:
			return ErrKilled
		}
	}
}

// Stop implements Supervisor.Stop and DynamicSupervisor.Stop.
func (s *core) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		close(s.stopAsked)
		s.mbox.interruptStart()
	})
	err := exec(ctx, &s.mbox, s.done, func() { s.stopping = true })
	if err == ErrNoProc {
		return nil
	}
	if err != nil {
		return err
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shutdownTimer returns the supervisor's shutdown timer, armed to fire d
// from now.
func (s *core) shutdownTimer(d time.Duration) clock.Timer {
	if s.stopTimer == nil {
		s.stopTimer = s.clock.NewTimer(d)
	} else {
		s.stopTimer.Reset(d)
	}
	return s.stopTimer
}
