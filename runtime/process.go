package runtime

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
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

// Reason returns the exit reason of h's process once it has exited (see
// Alive): nil for a normal exit, ErrKilled for a process the runtime gave up
// on. While the process runs, it returns nil. For the zero Handle it returns
// ErrNoProc.
func (h Handle) Reason() error {
	if h.p == nil {
		return ErrNoProc
	}
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	if !h.p.exited {
		return nil
	}
	return h.p.reason
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

// closedChan and closedTimeChan are closed channels, for what has already
// happened; they are never written to.
var (
	closedChan     = func() chan struct{} { c := make(chan struct{}); close(c); return c }()
	closedTimeChan = func() <-chan time.Time { c := make(chan time.Time); close(c); return c }()
)

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
	// started is when its start returned, as its supervisor's since(): set
	// by the supervisor, read only by it.
	started time.Duration

	mu sync.Mutex
	// reason is the cause given to cancel until the process exits, and its
	// exit reason after.
	reason error
	done   chan struct{} // made on first use; closed by cancel

	// prev and next link the process into its supervisor's list of live
	// children (mailbox.children), under that mailbox's lock.
	prev, next *process

	incarnation uint32
	// cancelled is set, under mu, by cancel; Err reads it without the lock.
	cancelled atomic.Bool
	// notify is set by the process's goroutine, before Serve runs, when its
	// exit must reach its supervisor's mailbox (parent.ext.mailbox).
	notify bool
	// gated is set, before the process runs, when its Serve must wait for
	// its supervisor to report its start (see mailbox.letServe).
	gated  bool
	exited bool // guarded by mu; the process is no longer alive: Serve returned, or it was killed
	// killed is set when the runtime gave up on the process (see kill): it
	// is dead, although its goroutine may still run; guarded by mu.
	killed   bool
	finished bool // guarded by mu; everyone has been told of the exit: Done is closed
	returned bool // guarded by mu; the goroutine has returned (exit was called)
	// serveOK is set, under the supervisor's mailbox lock, when the child
	// may run Serve: its start has been reported.
	serveOK bool
}

// procExt holds what only some processes need. A root gets it when it is
// made, with values and name, which never change; a child gets it on first
// use, under the process's mu, with no values or name. Everything else in
// it is guarded by mu.
type procExt struct {
	values    context.Context // a root's or a spawned process's values
	name      string          // its name, for a process that is not a child
	mailbox   *mailbox        // the mailbox of the supervisor running in this process; set once, before it has children
	afterFns  []*afterFunc
	watchers  []watcher     // monitors, links, registries
	trap      *signalQueue  // set by TrapExits
	exitedC   chan struct{} // made by Handle.Done; closed once everyone has been told of the exit
	returnedC chan struct{} // made by Returned; closed when the goroutine has returned
	// subRoots are the processes of further supervisors that run in this
	// process (see core.init): they are killed with it.
	subRoots []*process
	// lingering, on a process that is no supervisor's child, lists the
	// goroutines of the processes below it that were killed but have not
	// returned yet; made on first use.
	lingering *lingerSet
	labels    *labelBase // a supervisor's process: what its children's profile labels share; made by core.init before its first child, never changed after
	queue     queued     // a server's process: its queue, for Info; set by NewServer
	api       any        // a supervisor's process: its *Supervisor or *DynamicSupervisor, for SupervisorOf
}

type afterFunc struct {
	f    func()
	done bool
	at   int // its index in procExt.afterFns while it is there
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
		if p.cancelled.Load() {
			return closedChan
		}
		p.done = make(chan struct{})
	}
	return p.done
}

// Err implements context.Context.
func (p *process) Err() error {
	if p.cancelled.Load() {
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
	return p.rootProcess().ext.values.Value(key)
}

// AfterFunc lets context.AfterFunc and context.WithCancel hook onto the
// process without a goroutine each.
func (p *process) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	p.mu.Lock()
	if p.cancelled.Load() {
		p.mu.Unlock()
		a.done = true
		go f()
		return func() bool { return false }
	}
	ext := p.extLocked()
	a.at = len(ext.afterFns)
	ext.afterFns = append(ext.afterFns, a)
	p.mu.Unlock()
	return func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if a.done {
			return false
		}
		a.done = true
		// Drop it, so that a context derived from the process and
		// cancelled (WithTimeout per request, say) is not kept until the
		// process exits: the last entry takes its place.
		fns := p.ext.afterFns
		if a.at < len(fns) && fns[a.at] == a {
			last := fns[len(fns)-1]
			fns[a.at], last.at = last, a.at
			fns[len(fns)-1] = nil
			p.ext.afterFns = fns[:len(fns)-1]
		}
		return true
	}
}

func (p *process) String() string { return p.handle().String() + ".ctx" }

// cancel asks the process to stop, for the given cause: a shutdown-class
// error when its supervisor stops it, or the reason of a linked process's
// crash. It reports whether this call cancelled it; only the first cause counts.
func (p *process) cancel(cause error) bool {
	p.mu.Lock()
	if p.cancelled.Load() {
		p.mu.Unlock()
		return false
	}
	p.cancelled.Store(true)
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
	if p.finished {
		return closedChan
	}
	ext := p.extLocked()
	if ext.exitedC == nil {
		ext.exitedC = make(chan struct{})
	}
	return ext.exitedC
}

// exit records the exit reason, wakes everyone waiting on the process, and
// tells its owner. It is called once, by the goroutine that ran Serve (or by
// the start function's goroutine when the process never got that far).
//
// Watchers are told first: by the time the owner has the exit in its
// mailbox, every monitor has its Down, every linked process its signal, and
// every registry has dropped the process, so a supervisor that has handled
// a child's exit (and a Stop that returned) leaves no name behind. Done is
// closed last.
//
// A process that was killed is already dead to everyone: its goroutine's
// late return only takes it off the list of lingering goroutines.
func (p *process) exit(reason error) {
	p.mu.Lock()
	if p.killed {
		p.mu.Unlock()
		p.rootProcess().lingeringSet().remove(p)
		p.markReturned()
		return
	}
	p.exited = true
	p.reason = reason
	var ws []watcher
	if p.ext != nil {
		ws = p.ext.watchers
		p.ext.watchers = nil
	}
	p.mu.Unlock()
	for _, w := range ws {
		w.processExited(p, reason)
	}
	if p.child != nil {
		p.parent.ext.mailbox.childExited(p, p.notify)
	}
	// Done is closed, and the goroutine has returned, in one step.
	p.mu.Lock()
	p.finished, p.returned = true, true
	var exitedC, returnedC chan struct{}
	if p.ext != nil {
		exitedC, returnedC = p.ext.exitedC, p.ext.returnedC
	}
	p.mu.Unlock()
	if exitedC != nil {
		close(exitedC)
	}
	if returnedC != nil {
		close(returnedC)
	}
}

// tellWatchers tells every watcher of the exit of p, which has been
// recorded.
func (p *process) tellWatchers(reason error) {
	p.mu.Lock()
	var ws []watcher
	if p.ext != nil {
		ws = p.ext.watchers
		p.ext.watchers = nil
	}
	p.mu.Unlock()
	for _, w := range ws {
		w.processExited(p, reason)
	}
}

// closeDone marks everyone told of the exit of p and closes its Done.
func (p *process) closeDone() {
	p.mu.Lock()
	p.finished = true
	var exitedC chan struct{}
	if p.ext != nil {
		exitedC = p.ext.exitedC
	}
	p.mu.Unlock()
	if exitedC != nil {
		close(exitedC)
	}
}

// markReturned records that the process's goroutine has returned.
func (p *process) markReturned() {
	p.mu.Lock()
	p.returned = true
	var c chan struct{}
	if p.ext != nil {
		c = p.ext.returnedC
	}
	p.mu.Unlock()
	if c != nil {
		close(c)
	}
}

// Returned returns a channel that is closed once the goroutine of h's
// process has returned from its start function or Serve. For most
// processes that is when Done is closed. For a process the runtime gave up
// on (ErrKilled: it outlived its shutdown), Done is closed at once, while
// its goroutine runs on until Serve returns — perhaps never: Returned is
// how a test waits for such a goroutine, before checking for leaks. For the
// zero Handle it returns a closed channel.
func (h Handle) Returned() <-chan struct{} {
	p := h.p
	if p == nil {
		return closedChan
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.returned {
		return closedChan
	}
	ext := p.extLocked()
	if ext.returnedC == nil {
		ext.returnedC = make(chan struct{})
	}
	return ext.returnedC
}

// kill gives up on the process, as OTP's exit(Pid, kill): from now on it is
// dead to every part of the runtime, with reason ErrKilled. Its monitors get
// their Down and its links their signal, its registry names are freed, and
// its supervisor's mailbox gets no exit message. If it runs a supervisor,
// that supervisor's children are killed with it, recursively, as OTP's
// linked children die with their supervisor; the supervisor's own loop then
// stops at its next step.
//
// Go cannot stop the goroutine: it runs on until Serve returns, listed as
// lingering in the root's lingerSet, and its return then changes nothing.
// gaveUp is when its supervisor gave up on it, by that supervisor's clock.
//
// kill reports false, doing nothing, when the process has already exited
// (or was already killed).
func (p *process) kill(gaveUp time.Time, shutdown ShutdownSpec) bool {
	if !p.markKilled(gaveUp, shutdown) {
		return false
	}
	p.cancel(ErrKilled)
	if p.child != nil {
		p.parent.ext.mailbox.childExited(p, false)
	}
	var mb *mailbox
	var subRoots []*process
	p.mu.Lock()
	if p.ext != nil {
		mb, subRoots = p.ext.mailbox, slices.Clone(p.ext.subRoots)
	}
	p.mu.Unlock()
	if mb != nil {
		for _, c := range mb.kill() {
			c.kill(gaveUp, c.child.spec.Shutdown)
		}
	}
	for _, r := range subRoots {
		r.kill(gaveUp, Infinity)
	}
	p.tellWatchers(ErrKilled)
	p.closeDone()
	return true
}

// markKilled records the kill, and the lingering goroutine, in one step
// under p.mu, so that a goroutine returning at that moment finds either an
// exit already recorded (and kill does nothing) or its entry to remove.
func (p *process) markKilled(gaveUp time.Time, shutdown ShutdownSpec) bool {
	set := p.rootProcess().lingeringSet()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return false
	}
	p.exited, p.killed, p.reason = true, true, ErrKilled
	set.add(p, gaveUp, shutdown)
	return true
}

// ifAlive calls f, holding p's lock, if p has not exited (or been killed),
// and reports whether it did: what f does happens before any exit of p.
func (p *process) ifAlive(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return false
	}
	f()
	return true
}

// addSubRoot records r, the process of another supervisor running in p.
func (p *process) addSubRoot(r *process) {
	p.mu.Lock()
	ext := p.extLocked()
	ext.subRoots = append(ext.subRoots, r)
	p.mu.Unlock()
}

// removeSubRoot forgets r once its supervisor has exited.
func (p *process) removeSubRoot(r *process) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.ext.subRoots, r); i >= 0 {
		p.ext.subRoots = slices.Delete(p.ext.subRoots, i, i+1)
	}
}

// wasKilled reports whether the runtime gave up on p.
func (p *process) wasKilled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killed
}

// rootProcess returns the closest process at or above p that is no
// supervisor's child: the one whose values p's context carries.
func (p *process) rootProcess() *process {
	q := p
	for q.child != nil {
		q = q.parent
	}
	return q
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
