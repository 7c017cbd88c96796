package runtime

import (
	"context"
	"errors"
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
	events EventHook
	epoch  time.Time // zero of the whole seconds used for intensity
	mbox   mailbox

	// Owned by the loop.
	restarts  intensity
	unstopped map[*process]*child // given up on, still running
	stopping  bool                // Stop was called
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
}

func (s *core) init(ctx context.Context, name string, maxRestarts, maxSeconds int) {
	s.name = name
	s.clock = clockFrom(ctx)
	s.events = eventHookFrom(ctx)
	s.mbox = newMailbox()
	s.restarts = newIntensity(maxRestarts, maxSeconds)
	s.unstopped = make(map[*process]*child)
	s.done = make(chan struct{})
	s.self, s.stopRoot = processOf(ctx, name)
	s.self.mu.Lock()
	if ext := s.self.extLocked(); ext.mailbox == nil {
		ext.mailbox = &s.mbox
		s.self.mu.Unlock()
	} else {
		// Another supervisor already runs in this process: give this one a
		// process of its own below it.
		s.self.mu.Unlock()
		s.self = newRoot(ctx, s.self, name)
		s.self.ext.mailbox = &s.mbox
	}
	s.epoch = s.clock.Now()
}

// serve runs the loop with handle for each message until handle or the
// parent stops it, then terminate, then records the reason.
func (s *core) serve(ctx context.Context, handle func(any) (bool, error), terminate func()) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("runtime: Serve called twice")
	}
	reason := s.loop(ctx, handle)
	terminate()
	s.reason = reason
	s.exitRoot(reason)
	close(s.done)
	return reason
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

// Done returns a channel that is closed once the supervisor has exited.

func (s *core) parentShutdown() error {
	if cause := s.self.cancelCause(); cause != nil {
		return cause
	}
	return ErrShutdown
}

// startChild runs c's start function and, on success, its Serve in a new
// goroutine. It returns the start error, or reports ignored when the start
// function returned ErrIgnore; both leave c without a process. Any outcome
// settles a pending restart of c.
func (s *core) startChild(c *child, external bool) (err error, ignored bool) {
	c.settle()
	c.incarnation++
	number := c.incarnation
	if s.numberAcross {
		number = s.serial
		s.serial++
	}
	p := newChildProcess(s.self, c, number)
	svc, err := callStart(c.spec.Start, p)
	if err != nil {
		p.cancel(ErrShutdown)
		p.exit(err)
		if errors.Is(err, ErrIgnore) {
			return nil, true
		}
		return err, false
	}
	if c.spec.Name != nil {
		if err := c.spec.Name.register(p.handle()); err != nil {
			p.cancel(ErrShutdown)
			p.exit(err)
			return err, false
		}
	}
	p.notify = true
	p.setService(svc)
	c.proc = p
	now := s.clock.Now()
	p.started = now.UnixNano()
	go p.run()
	s.reportStarted(c, external, now)
	return nil, false
}

// shutdown stops c's process as its Shutdown says (OTP's shutdown/1) and
// consumes its exit, so that the exit neither restarts it nor counts.
func (s *core) shutdown(c *child) {
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
		// Go cannot kill the goroutine: give it up, as OTP would after its
		// kill, and keep it listed until it returns.
		s.unstopped[p] = c
		c.exited(p, ErrKilled)
		if c.spec.Shutdown != BrutalKill {
			s.reportProc(ShutdownError, c, p, ErrKilled)
		}
		return
	}
	reason, _ := p.handle().Reason()
	c.exited(p, reason)
	if !expectedStopReason(reason, c.spec.Restart) {
		s.reportProc(ShutdownError, c, p, reason)
	}
}

// second returns the whole seconds since the supervisor started, from its
// clock: OTP's erlang:monotonic_time(second), with its own epoch.
func (s *core) second() int64 {
	return int64(s.clock.Now().Sub(s.epoch) / time.Second)
}

// report sends a report about c to the event hook, if there is one.
func (s *core) report(kind EventKind, c *child, reason error) {
	if s.events != nil {
		s.events(Event{Kind: kind, Time: s.clock.Now(), Supervisor: s.name, Child: c.offender(), Reason: reason})
	}
}

// reportProc reports about incarnation p of c.
func (s *core) reportProc(kind EventKind, c *child, p *process, reason error) {
	if s.events != nil {
		o := c.offender()
		o.Handle = p.handle()
		s.events(Event{Kind: kind, Time: s.clock.Now(), Supervisor: s.name, Child: o, Reason: reason})
	}
}

// reportStarted reports c's start at now.
func (s *core) reportStarted(c *child, external bool, now time.Time) {
	if s.events != nil {
		s.events(Event{Kind: ChildStarted, Time: now, Supervisor: s.name, Child: c.offender(), External: external})
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
			if ps, ok := m.(*parentStop); ok {
				return ps.reason
			}
			if stop, reason := handle(m); stop {
				return reason
			}
		}
		<-s.mbox.signal
	}
}

// Stop implements Supervisor.Stop and DynamicSupervisor.Stop.
func (s *core) Stop(ctx context.Context) error {
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

// UnstoppedChild is a child that its supervisor gave up on (it outlived its
// shutdown) but whose Serve has not returned yet.
type UnstoppedChild struct {
	ID     string
	Handle Handle
}

// Unstopped implements Supervisor.Unstopped and DynamicSupervisor.Unstopped.
func (s *core) Unstopped(ctx context.Context) ([]UnstoppedChild, error) {
	var out []UnstoppedChild
	err := exec(ctx, &s.mbox, s.done, func() {
		for p, c := range s.unstopped {
			out = append(out, UnstoppedChild{ID: c.spec.ID, Handle: p.handle()})
		}
	})
	return out, err
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
