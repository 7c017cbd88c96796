package runtime

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/arborgo/arbor/clock"
)

// child is a supervisor's record of one child spec and its current process.
// It is owned by the supervisor's goroutine; only spec, which never changes
// after the record is made, may be read from elsewhere (by process.String).
type child struct {
	spec ChildSpec // with Shutdown resolved
	proc *process  // the running incarnation; nil is OTP's undefined
	// restarting is OTP's {restarting, _}: a restart failed or is delayed,
	// and a retry message is pending. It is only valid while retryTag
	// matches that message's tag; anything that settles the child bumps it.
	retryTag    uint32
	incarnation uint32
	slot        int32 // index in a dynamic supervisor's slice of children
	restarting  bool
	removed     bool        // deleted; the supervisor drops it from its list
	extra       *childExtra // made on the first exit, or at once for a spec with a Backoff
}

// childExtra is what only children that have exited, or that back off, need:
// the last exit reason, and the restart delay state (the next delay and the
// timer of a delayed restart).
type childExtra struct {
	last         *process // the latest incarnation that exited
	lastExit     error
	exited       bool
	backoffDelay time.Duration
	backoffTimer clock.Timer
	history      *exitHistory // the restart history; made on the first exit of its own
}

func (c *child) ext() *childExtra {
	if c.extra == nil {
		c.extra = &childExtra{}
	}
	return c.extra
}

// exited records the exit of incarnation p.
func (c *child) exited(p *process, reason error) {
	x := c.ext()
	x.last, x.lastExit, x.exited = p, reason, true
}

// lastExitReason is the reason of c's latest exit; nil before its first.
func (c *child) lastExitReason() error {
	if c.extra == nil {
		return nil
	}
	return c.extra.lastExit
}

// name names c for people: its id or, for a child of a dynamic supervisor
// without one, the handle of its latest incarnation.
func (c *child) name() string {
	if c.spec.ID != "" {
		return c.spec.ID
	}
	if c.proc != nil {
		return c.proc.handle().String()
	}
	if c.extra != nil && c.extra.last != nil {
		return c.extra.last.handle().String()
	}
	return ""
}

func (c *child) offender() Offender {
	var h Handle
	if c.proc != nil {
		h = c.proc.handle()
	}
	return Offender{
		Handle:      h,
		ID:          c.spec.ID,
		Restart:     c.spec.Restart,
		Shutdown:    c.spec.Shutdown,
		Type:        c.spec.Type,
		Significant: c.spec.Significant,
	}
}

// settle marks the end of any pending restart: a retry message still in the
// mailbox will find its tag stale and do nothing.
func (c *child) settle() {
	c.restarting = false
	c.retryTag++
	if c.extra != nil && c.extra.backoffTimer != nil {
		c.extra.backoffTimer.Stop()
		c.extra.backoffTimer = nil
	}
}

// retry is the message a supervisor sends itself to try a restart again
// (OTP's try_again_restart) or to restart after a backoff delay.
type retry struct {
	c   *child
	tag uint32
	// counted is set when the restart has already been counted towards the
	// intensity (the delay of a backoff); a retry after a failed start
	// counts again, as in OTP.
	counted bool
}

// errNilService is the start error of a start function that returned neither
// a service nor an error: OTP's bad_return.
var errNilService = errors.New("arbor: the start function returned a nil service and a nil error (bad_return)")

// callStart runs a start function, turning a panic into a *PanicError.
func callStart(start StartFunc, ctx context.Context) (svc Service, err error) {
	defer func() {
		if r := recover(); r != nil {
			svc, err = nil, &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	svc, err = start(ctx)
	if err == nil && svc == nil {
		err = errNilService
	}
	return svc, err
}

// run is the body of a child's goroutine. It runs the start function
// first, in the new process, as OTP runs a child's init in the child's own
// process, and tells the supervisor on its mailbox's started channel once
// the start has returned; then, if the start succeeded, Serve.
//
// Every way user code can end is an exit: a return, a panic (recovered
// into a *PanicError), and runtime.Goexit (ErrGoexit). The one deferred
// function handles both of the latter, for the start and for Serve: an idle
// child's goroutine then holds two frames, run's and its Serve's, which
// is what the garbage collector scans 100,000 times over in a big tree.
func (p *process) run() {
	setProfileLabels(p)
	mb := p.parent.ext.mailbox
	stage := stageStart
	defer func() {
		if stage == stageDone {
			return
		}
		reason := ErrGoexit
		if r := recover(); r != nil {
			reason = &PanicError{Value: r, Stack: debug.Stack()}
		}
		if stage == stageStart {
			p.startFailed(reason)
			p.answerStart(mb)
			return
		}
		p.exit(classifyExit(reason, p.cancelCause()))
	}()
	svc, err := p.child.spec.Start(p)
	if err == nil && svc == nil {
		err = errNilService
	}
	if err == nil && p.child.spec.Name != nil {
		err = p.child.spec.Name.register(p.handle())
	}
	if err != nil {
		stage = stageDone
		p.startFailed(err)
		p.answerStart(mb)
		return
	}
	p.setService(svc)
	p.notify = true
	stage = stageServe
	p.answerStart(mb)
	// With an event hook, Serve runs once the supervisor has reported the
	// start, so that the hook sees ChildStarted before anything the child
	// does. A start given up on (the process was killed) serves nothing.
	if p.gated && !mb.awaitServe(p) || !p.gated && p.cancelled.Load() && p.wasKilled() {
		stage = stageDone
		p.exit(ErrKilled)
		return
	}
	served := svc.Serve(p)
	stage = stageDone
	p.exit(classifyExit(served, p.cancelCause()))
}

// The stages of a child's goroutine, for run's deferred function.
const (
	stageStart = iota
	stageServe
	stageDone
)

// startFailed ends a process whose start function failed: its context is
// cancelled, for anything the start left running with it, and it exits with
// the start's error, which its supervisor reads instead of an exit message.
func (p *process) startFailed(err error) {
	p.cancel(ErrShutdown)
	p.exit(err)
}

// answerStart tells the supervisor that the start function has returned,
// unless the supervisor has exited (it gave up on this start).
func (p *process) answerStart(mb *mailbox) {
	select {
	case mb.started <- p: // nearly always: the supervisor waits for it
		return
	default:
	}
	select {
	case mb.started <- p:
	case <-mb.closed:
	}
}

func serve(p *process, svc Service) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return svc.Serve(p)
}

// expectedStopReason reports whether reason is how a child stopped by its
// supervisor is expected to exit (OTP's shutdown/1 result check): shutdown
// or {shutdown, _}, and normal too for a child that is not permanent.
func expectedStopReason(reason error, restart Restart) bool {
	if IsShutdown(reason) {
		return true
	}
	return reason == nil && restart != Permanent
}

// nextBackoff returns the delay before c's next restart and advances c's
// backoff state. A child that stayed up for at least Max starts again from Min.
// now is the supervisor's since().
func nextBackoff(c *child, now time.Duration) time.Duration {
	b := c.spec.Backoff
	x := c.ext()
	if x.backoffDelay == 0 || x.last == nil || now-x.last.started >= b.Max {
		x.backoffDelay = b.Min
	}
	d := x.backoffDelay
	x.backoffDelay = min(2*x.backoffDelay, b.Max)
	if b.Jitter > 0 {
		d = time.Duration(float64(d) * (1 + b.Jitter*(2*rand.Float64()-1)))
	}
	return max(d, 0)
}

// newChild makes the record of a validated spec.
func newChild(spec ChildSpec) *child {
	return &child{spec: spec}
}

func checkBackoff(b *Backoff) bool {
	return b == nil || (b.Min > 0 && b.Max >= b.Min && b.Jitter >= 0 && b.Jitter <= 1)
}

// checkChildSpec validates a child spec as OTP's check_childspec does, in
// OTP's order; the first failure wins.
func checkChildSpec(cs ChildSpec, auto AutoShutdown, requireID bool) error {
	bad := func(term string, v any) error { return &SpecError{Term: term, Child: cs.ID, Value: v} }
	switch {
	case requireID && cs.ID == "":
		return bad("missing_id", cs.ID)
	case cs.Start == nil:
		return bad("missing_start", nil)
	case cs.Restart > Temporary:
		return bad("invalid_restart_type", cs.Restart)
	case cs.Significant && auto == Never:
		return bad("bad_combination", "auto_shutdown never with significant true")
	case cs.Significant && cs.Restart == Permanent:
		return bad("bad_combination", "restart permanent with significant true")
	case cs.Type > TypeSupervisor:
		return bad("invalid_child_type", cs.Type)
	case cs.Shutdown < minShutdown:
		return bad("invalid_shutdown", int64(cs.Shutdown))
	case !checkBackoff(cs.Backoff):
		return bad("invalid_backoff", *cs.Backoff)
	}
	return nil
}
