package runtime

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Handle identifies one incarnation of a child: what OTP calls a pid. A
// restarted child gets a new Handle; the old one stays dead. Handles are
// comparable and safe to copy and share. The zero Handle names no process
// (OTP's undefined).
type Handle struct {
	p *process
}

// Self returns the handle of the process whose context ctx is, or is derived
// from: inside a start function or Serve, the child itself. It returns the
// zero Handle for a context that belongs to no process.
func Self(ctx context.Context) Handle {
	p, _ := ctx.Value(selfKey{}).(*process)
	return Handle{p: p}
}

// IsZero reports whether h names no process.
func (h Handle) IsZero() bool { return h.p == nil }

// Alive reports whether the process is still running: it has been started
// and its Serve has not returned. Cancelled but still running is alive.
func (h Handle) Alive() bool {
	if h.p == nil {
		return false
	}
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	return !h.p.exited
}

// Done returns a channel that is closed when the process has exited.
func (h Handle) Done() <-chan struct{} {
	if h.p == nil {
		return closedChan
	}
	return h.p.exitedChan()
}

// Reason returns the exit reason once the process has exited, and whether it
// has. For the zero Handle it returns ErrNoProc and true.
func (h Handle) Reason() (error, bool) {
	if h.p == nil {
		return ErrNoProc, true
	}
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	if !h.p.exited {
		return nil, false
	}
	return h.p.reason, true
}

// ServiceOf returns the service that h's process runs, as an S, and whether
// h's process runs one of that type. It works for a process that has
// exited too: the service is what its start function returned.
func ServiceOf[S Service](h Handle) (S, bool) {
	var zero S
	if h.p == nil {
		return zero, false
	}
	h.p.mu.Lock()
	svc := h.p.svc
	h.p.mu.Unlock()
	s, ok := svc.(S)
	return s, ok
}

// setService records what the start function returned. A handle to the
// process can escape during the start (Self, a Ref), hence the lock.
func (p *process) setService(svc Service) {
	p.mu.Lock()
	p.svc = svc
	p.mu.Unlock()
}

// String names the process for people: its supervisor path, its id and its
// incarnation, such as "sequence/server#2".
func (h Handle) String() string {
	if h.p == nil {
		return "undefined"
	}
	return h.p.path() + "#" + strconv.FormatUint(uint64(h.p.incarnation), 10)
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

type selfKey struct{}

// process is one incarnation of a child: the goroutine running Serve, and the
// context that goroutine and its start function get. A process is its own
// context, so that a child costs no separate context allocation and so that
// the supervisor can cancel each child on its own, in order, instead of all
// at once through a shared parent context.
//
// It has no deadline and is done once cancel is called. Its values are its
// parent's, and a root's come from the context it was made with, stripped of
// cancellation. Fields that few processes use live in ext, so that the
// common child stays small: a supervisor may hold 100,000 of them.
type process struct {
	parent *process // the supervisor's process; nil for a root
	child  *child   // the supervisor's record of this child, owned by the supervisor goroutine
	svc    Service  // what the start function returned; guarded by mu
	ext    *procExt
	// started is when it started (UnixNano on its supervisor's clock), set
	// before it runs.
	started int64

	mu sync.Mutex
	// reason is the cause given to cancel until the process exits, and its
	// exit reason after.
	reason  error
	done    chan struct{} // made on first use; closed by cancel
	exitedC chan struct{} // made on first use; closed by exit

	incarnation uint32
	// notify is set, before the process runs, when its exit must reach its
	// supervisor's mailbox (parent.ext.mailbox).
	notify    bool
	cancelled bool // guarded by mu
	exited    bool // guarded by mu; Serve has returned: the process is no longer alive
	finished  bool // guarded by mu; exit has told everyone: Done is closed
}

// procExt holds what only some processes need. A root gets it when it is
// made, with values and name, which never change; a child gets it on first
// use, under the process's mu, with no values or name. Everything else in
// it is guarded by mu.
type procExt struct {
	values   context.Context // a root's or a spawned process's values
	name     string          // its name, for a process that is not a child
	mailbox  *mailbox        // the mailbox of the supervisor running in this process; set once, before it has children
	afterFns []*afterFunc
	watchers []watcher    // monitors, links, registries
	trap     *signalQueue // set by TrapExits
}

type afterFunc struct {
	f    func()
	done bool
}

// watcher is told once when the process exits.
type watcher interface {
	processExited(p *process, reason error)
}

// newRoot makes a process that is no supervisor's child, with ctx's values
// (not its cancellation), named name; parent, if any, only prefixes its name.
func newRoot(ctx context.Context, parent *process, name string) *process {
	return &process{parent: parent, incarnation: 1, ext: &procExt{values: context.WithoutCancel(ctx), name: name}}
}

// newChildProcess makes the next incarnation of a supervisor's child.
func newChildProcess(parent *process, c *child, incarnation uint32) *process {
	return &process{parent: parent, child: c, incarnation: incarnation}
}

// extLocked returns p.ext, making it if needed; p.mu is held.
func (p *process) extLocked() *procExt {
	if p.ext == nil {
		p.ext = &procExt{}
	}
	return p.ext
}

// id is the process's own part of its path: its child id or its name.
func (p *process) id() string {
	// A child's ext may be made at any time, under mu; a root's is made
	// with it and never replaced, so it can be read without the lock.
	if p.child != nil {
		return p.child.spec.ID
	}
	return p.ext.name
}

// startTime returns when the process started.
func (p *process) startTime() time.Time { return time.Unix(0, p.started) }

// path names the process by the ids from its root down: "app/pool/conn".
func (p *process) path() string {
	if p.parent == nil {
		return p.id()
	}
	return p.parent.path() + "/" + p.id()
}

func (p *process) handle() Handle { return Handle{p: p} }

// Deadline implements context.Context: a process has none.
func (p *process) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context.
func (p *process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		if p.cancelled {
			return closedChan
		}
		p.done = make(chan struct{})
	}
	return p.done
}

// Err implements context.Context.
func (p *process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancelled {
		return context.Canceled
	}
	return nil
}

// Value implements context.Context.
func (p *process) Value(key any) any {
	if key == (selfKey{}) {
		return p
	}
	// Children carry no values of their own: the first root up the chain
	// has them, in the ext it was made with.
	q := p
	for q.child != nil {
		q = q.parent
	}
	return q.ext.values.Value(key)
}

// AfterFunc lets context.AfterFunc and context.WithCancel hook onto the
// process without a goroutine each.
func (p *process) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	p.mu.Lock()
	if p.cancelled {
		p.mu.Unlock()
		a.done = true
		go f()
		return func() bool { return false }
	}
	ext := p.extLocked()
	ext.afterFns = append(ext.afterFns, a)
	p.mu.Unlock()
	return func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if a.done {
			return false
		}
		a.done = true
		return true
	}
}

func (p *process) String() string { return p.handle().String() + ".ctx" }

// cancel asks the process to stop, for the given cause: a shutdown-class
// error when its supervisor stops it, or the reason of a linked process's
// crash. It reports whether this call cancelled it; only the first cause counts.
func (p *process) cancel(cause error) bool {
	p.mu.Lock()
	if p.cancelled {
		p.mu.Unlock()
		return false
	}
	p.cancelled = true
	if !p.exited { // an exit already recorded keeps its own reason
		p.reason = cause
	}
	if p.done != nil {
		close(p.done)
	}
	var fns []*afterFunc
	if p.ext != nil {
		fns = p.ext.afterFns
		p.ext.afterFns = nil
	}
	var run []func()
	for _, a := range fns {
		if !a.done {
			a.done = true
			run = append(run, a.f)
		}
	}
	p.mu.Unlock()
	for _, f := range run {
		go f()
	}
	return true
}

// cancelCause returns the cause given to cancel, or nil if it was not called.
func (p *process) cancelCause() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return nil
	}
	return p.reason
}

func (p *process) exitedChan() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitedChanLocked()
}

func (p *process) exitedChanLocked() <-chan struct{} {
	if p.exitedC == nil {
		if p.finished {
			return closedChan
		}
		p.exitedC = make(chan struct{})
	}
	return p.exitedC
}

// exit records the exit reason, wakes everyone waiting on the process, and
// tells its owner. It is called once, by the goroutine that ran Serve (or by
// the starter when the process never got that far).
//
// Done is closed last: once it is, the exit is in the owner's mailbox
// (ahead of any API call made after that), every monitor has its Down, every
// linked process its signal, and every registry has dropped the process.
func (p *process) exit(reason error) {
	p.mu.Lock()
	p.exited = true
	p.reason = reason
	var ws []watcher
	if p.ext != nil {
		ws = p.ext.watchers
		p.ext.watchers = nil
	}
	p.mu.Unlock()
	if p.notify {
		p.parent.ext.mailbox.push(p)
	}
	for _, w := range ws {
		w.processExited(p, reason)
	}
	p.mu.Lock()
	p.finished = true
	exitedC := p.exitedC
	p.mu.Unlock()
	if exitedC != nil {
		close(exitedC)
	}
}

// watch registers w to be told of the exit. It returns false, registering
// nothing, when the process has already exited.
func (p *process) watch(w watcher) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return false
	}
	ext := p.extLocked()
	ext.watchers = append(ext.watchers, w)
	return true
}

// unwatch removes w; it reports whether w was still registered.
func (p *process) unwatch(w watcher) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ext == nil {
		return false
	}
	for i, x := range p.ext.watchers {
		if x == w {
			p.ext.watchers = append(p.ext.watchers[:i], p.ext.watchers[i+1:]...)
			return true
		}
	}
	return false
}
