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
type mailbox struct {
	mu     sync.Mutex
	queue  []any
	head   int
	signal chan struct{} // capacity 1: "the queue may be non-empty"
}

func newMailbox() mailbox {
	return mailbox{signal: make(chan struct{}, 1)}
}

// push appends m and wakes the owner.
func (mb *mailbox) push(m any) {
	mb.mu.Lock()
	mb.queue = append(mb.queue, m)
	mb.mu.Unlock()
	select {
	case mb.signal <- struct{}{}:
	default:
	}
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
// timeout fires (nil waits forever). It reports whether p exited. Other
// messages stay queued; the owner must drain the queue afterwards even if
// no new signal comes, because this consumed the signal.
func (mb *mailbox) awaitExit(p *process, timeout <-chan time.Time) bool {
	for {
		if mb.takeExit(p) {
			return true
		}
		select {
		case <-mb.signal:
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
