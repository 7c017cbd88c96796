package runtime

import (
	"sync"
	"time"
)

// mailbox is a supervisor's message queue: exits of its children, API calls,
// retries and timers, in arrival order, as an Erlang process's mailbox.
// Senders never block. The owner waits on signal, then pops; it can also
// take one child's exit out of order (selective receive) while it waits for
// that child to stop, leaving everything else queued.
//
// Messages are pointers (*process for an exit, *call, *retry), so queueing
// one allocates nothing.
//
// The mailbox also keeps, under the same lock, the list of the supervisor's
// live children, so that killing the supervisor's process can kill them too
// (see process.kill) without asking the supervisor's goroutine; and the
// channel on which a child's goroutine says that its start function has
// returned (see core.startChild).
type mailbox struct {
	mu     sync.Mutex
	queue  []any
	head   int
	signal chan struct{} // capacity 1: "the queue may be non-empty", or "killed"

	// children is a list of the live child processes, linked through
	// process.prev and process.next.
	children *process
	// killed is set, and dead closed, when the supervisor's own process was
	// killed: its children are dead, and it starts no more.
	killed bool
	dead   chan struct{}

	// started receives each child whose start function has returned.
	started chan *process
	// closed is closed when the supervisor has exited, so that a child
	// whose start was given up on does not wait to say it returned.
	closed chan struct{}
	// ready is signalled (under mu) when a started child may run Serve:
	// its process's ready flag is set once its supervisor has reported its
	// start, or it was killed, or the supervisor exited (exited).
	ready  sync.Cond
	exited bool
}

// init makes mb ready for use; mb must not be copied after.
func (mb *mailbox) init() {
	mb.signal = make(chan struct{}, 1)
	mb.dead = make(chan struct{})
	mb.started = make(chan *process, 2)
	mb.closed = make(chan struct{})
	mb.ready.L = &mb.mu
}

// letServe lets the started child p run Serve.
func (mb *mailbox) letServe(p *process) {
	mb.mu.Lock()
	p.serveOK = true
	mb.mu.Unlock()
	mb.ready.Broadcast()
}

// awaitServe waits until the started child p may run Serve, and reports
// whether it may: false when it was killed (while its start ran) or its
// supervisor has exited.
func (mb *mailbox) awaitServe(p *process) bool {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	for !p.serveOK && mb.linked(p) && !mb.exited {
		mb.ready.Wait()
	}
	return p.serveOK
}

// linked reports whether p is on the list of live children; mu is held.
func (mb *mailbox) linked(p *process) bool {
	return p.prev != nil || p.next != nil || mb.children == p
}

// hasExited reports whether the supervisor has exited (see close).
func (mb *mailbox) hasExited() bool {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.exited
}

// close marks the supervisor exited: children waiting in awaitServe or
// answerStart go on.
func (mb *mailbox) close() {
	mb.mu.Lock()
	mb.exited = true
	clear(mb.queue) // what is left will never be handled
	mb.queue, mb.head = nil, 0
	mb.mu.Unlock()
	close(mb.closed)
	mb.ready.Broadcast()
}

// wake tells the owner to look at the queue.
func (mb *mailbox) wake() {
	select {
	case mb.signal <- struct{}{}:
	default:
	}
}

// addChild links p into the list of live children, unless the supervisor
// was killed; it reports whether it did.
func (mb *mailbox) addChild(p *process) bool {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if mb.killed {
		return false
	}
	p.prev, p.next = nil, mb.children
	if mb.children != nil {
		mb.children.prev = p
	}
	mb.children = p
	return true
}

// childExited takes p off the list of live children and, when notify is
// set, queues its exit for the owner.
func (mb *mailbox) childExited(p *process, notify bool) {
	mb.mu.Lock()
	if p.prev != nil {
		p.prev.next = p.next
	} else if mb.children == p {
		mb.children = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	}
	p.prev, p.next = nil, nil
	notify = notify && !mb.exited
	if notify {
		mb.queue = append(mb.queue, p)
	}
	mb.mu.Unlock()
	mb.ready.Broadcast() // a child killed while it waits to serve
	if notify {
		mb.wake()
	}
}

// interruptStart wakes a wait for a start's answer (core.awaitStart),
// which then sees that the supervisor must stop. It never blocks: a
// wake-up left in the channel makes the next wait look at the stop
// conditions, which do not go away.
func (mb *mailbox) interruptStart() {
	select {
	case mb.started <- nil:
	default:
	}
}

// kill marks the supervisor killed and returns its live children, which the
// caller kills; the list is then empty, and addChild refuses new ones.
func (mb *mailbox) kill() []*process {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if mb.killed {
		return nil
	}
	mb.killed = true
	close(mb.dead)
	defer mb.ready.Broadcast()
	defer mb.interruptStart()
	var out []*process
	for p := mb.children; p != nil; p = p.next {
		out = append(out, p)
	}
	return out
}

// isKilled reports whether the supervisor's process was killed.
func (mb *mailbox) isKilled() bool {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.killed
}

// push appends m and wakes the owner. Once the supervisor has exited,
// messages are dropped: nothing would ever take them (its callers learn of
// the exit from its done channel).
func (mb *mailbox) push(m any) {
	mb.mu.Lock()
	if mb.exited {
		mb.mu.Unlock()
		return
	}
	mb.queue = append(mb.queue, m)
	mb.mu.Unlock()
	mb.wake()
}

// pop removes and returns the oldest message, or nil when the queue is empty.
func (mb *mailbox) pop() any {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if mb.head == len(mb.queue) {
		return nil
	}
	m := mb.queue[mb.head]
	mb.queue[mb.head] = nil
	mb.head++
	if mb.head == len(mb.queue) {
		mb.queue, mb.head = mb.queue[:0], 0
	} else if mb.head > 1024 && mb.head*2 > len(mb.queue) {
		n := copy(mb.queue, mb.queue[mb.head:])
		clear(mb.queue[n:])
		mb.queue, mb.head = mb.queue[:n], 0
	}
	return m
}

// takeExit removes the exit message of p, if it is queued, and reports
// whether it was.
func (mb *mailbox) takeExit(p *process) bool {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	for i := mb.head; i < len(mb.queue); i++ {
		if q, ok := mb.queue[i].(*process); ok && q == p {
			copy(mb.queue[i:], mb.queue[i+1:])
			mb.queue[len(mb.queue)-1] = nil
			mb.queue = mb.queue[:len(mb.queue)-1]
			return true
		}
	}
	return false
}

// awaitExit waits until p's exit message arrives and removes it, or until
// timeout fires (nil waits forever), or until p or the supervisor is killed.
// It reports whether p exited. Other messages stay queued; the owner must
// drain the queue afterwards even if no new signal comes, because this
// consumed the signal.
func (mb *mailbox) awaitExit(p *process, timeout <-chan time.Time) bool {
	for {
		if mb.takeExit(p) {
			return true
		}
		select {
		case <-mb.signal:
		case <-mb.dead:
			return mb.takeExit(p)
		case <-timeout:
			return mb.takeExit(p)
		}
	}
}

// takeExits removes every queued exit message of a process for which want
// is true, and then calls found for each, in arrival order.
func (mb *mailbox) takeExits(want func(*process) bool, found func(*process)) {
	mb.mu.Lock()
	var taken []*process
	kept := mb.queue[:mb.head]
	for _, m := range mb.queue[mb.head:] {
		if q, ok := m.(*process); ok && want(q) {
			taken = append(taken, q)
			continue
		}
		kept = append(kept, m)
	}
	clear(mb.queue[len(kept):])
	mb.queue = kept
	mb.mu.Unlock()
	for _, q := range taken {
		found(q)
	}
}
