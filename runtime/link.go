package runtime

import (
	"context"
	"errors"
	"sync"
)

// ExitSignal is what a process that traps exits receives, instead of
// stopping, when a process linked to it exits: OTP's {'EXIT', Pid, Reason}.
type ExitSignal struct {
	From   Handle
	Reason error // nil for a normal exit
}

// ErrNotAProcess is returned by Link, Unlink and TrapExits when their
// context belongs to no process: only a child's start function, its Serve,
// or a Spawned service can link.
var ErrNotAProcess = errors.New("arbor: the context belongs to no process")

// link joins two processes; it is a watcher of both.
type link struct {
	a, b *process
}

func (l *link) processExited(p *process, reason error) {
	other := l.a
	if p == l.a {
		other = l.b
	}
	other.unwatch(l)
	other.exitSignal(p.handle(), reason)
}

// exitSignal applies an exit signal from a linked process: a process that
// traps exits gets it as a message; any other stops with the same reason,
// unless the reason is normal.
func (p *process) exitSignal(from Handle, reason error) {
	p.mu.Lock()
	var trap *signalQueue
	if p.ext != nil {
		trap = p.ext.trap
	}
	p.mu.Unlock()
	switch {
	case trap != nil:
		trap.push(ExitSignal{From: from, Reason: reason})
	case reason != nil:
		p.cancel(reason)
	}
}

// Link links the process of ctx with h, both ways, as Erlang's link/1: when
// either exits with a reason other than normal, the other stops with that
// reason — its context is cancelled and whatever its Serve returns, its exit
// reason is the linked one's — unless it traps exits (TrapExits), in which
// case it receives an ExitSignal, for normal exits too. Linking twice is the
// same as once. Linking to a process that is gone returns ErrNoProc (where
// Erlang would send a noproc exit signal).
func Link(ctx context.Context, h Handle) error {
	self := Self(ctx).p
	switch {
	case self == nil:
		return ErrNotAProcess
	case h.p == nil:
		return ErrNoProc
	case h.p == self:
		return nil
	}
	if findLink(self, h.p) != nil {
		return nil
	}
	l := &link{a: self, b: h.p}
	if !h.p.watch(l) {
		return ErrNoProc
	}
	if !self.watch(l) {
		// We are exiting ourselves: undo, and let the other side know.
		h.p.unwatch(l)
		return ErrNoProc
	}
	return nil
}

// Unlink removes the link between the process of ctx and h, if there is one.
func Unlink(ctx context.Context, h Handle) error {
	self := Self(ctx).p
	if self == nil {
		return ErrNotAProcess
	}
	if h.p == nil {
		return nil
	}
	if l := findLink(self, h.p); l != nil {
		self.unwatch(l)
		h.p.unwatch(l)
	}
	return nil
}

func findLink(self, other *process) *link {
	self.mu.Lock()
	defer self.mu.Unlock()
	if self.ext == nil {
		return nil
	}
	for _, w := range self.ext.watchers {
		if l, ok := w.(*link); ok && (l.a == other || l.b == other) {
			return l
		}
	}
	return nil
}

// TrapExits makes the process of ctx trap exits, as
// process_flag(trap_exit, true): exit signals from linked processes arrive
// on the returned channel instead of stopping it. Calling it again returns
// the same channel. The channel is never closed; it stops being fed when the
// process exits.
func TrapExits(ctx context.Context) (<-chan ExitSignal, error) {
	self := Self(ctx).p
	if self == nil {
		return nil, ErrNotAProcess
	}
	self.mu.Lock()
	defer self.mu.Unlock()
	ext := self.extLocked()
	if ext.trap == nil {
		ext.trap = newSignalQueue()
		go ext.trap.forward(self.exitedChanLocked())
	}
	return ext.trap.out, nil
}

// signalQueue is an unbounded queue of exit signals: the exiting process
// never waits for the trapping one to receive.
type signalQueue struct {
	mu     sync.Mutex
	queue  []ExitSignal
	ready  chan struct{}
	out    chan ExitSignal
	closed bool
}

func newSignalQueue() *signalQueue {
	return &signalQueue{ready: make(chan struct{}, 1), out: make(chan ExitSignal)}
}

func (q *signalQueue) push(s ExitSignal) {
	q.mu.Lock()
	q.queue = append(q.queue, s)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// forward feeds out from the queue until done is closed.
func (q *signalQueue) forward(done <-chan struct{}) {
	for {
		q.mu.Lock()
		var next ExitSignal
		have := len(q.queue) > 0
		if have {
			next = q.queue[0]
			q.queue = q.queue[1:]
		}
		q.mu.Unlock()
		if !have {
			select {
			case <-q.ready:
				continue
			case <-done:
				return
			}
		}
		select {
		case q.out <- next:
		case <-done:
			return
		}
	}
}
