package runtime

import (
	"context"
	"sync"
)

// Down is the message a monitor delivers when its process exits: OTP's
// {'DOWN', Ref, process, Pid, Reason}.
type Down struct {
	Handle Handle
	// Reason is the process's exit reason (nil for normal), or ErrNoProc
	// when the process was already gone when the monitor was made.
	Reason error
}

// Monitor watches one process and delivers exactly one Down on C when it
// exits. It never affects the process. Make one with Handle.Monitor.
type Monitor struct {
	// C receives the Down. It is buffered: the process's exit never waits
	// for the receiver.
	C      <-chan Down
	c      chan Down
	handle Handle
	mu     sync.Mutex
	off    bool // demonitored
}

// Monitor starts monitoring the process h names. If it has already exited,
// or h is the zero Handle, the Down arrives at once with ErrNoProc, as OTP
// does for a dead pid.
func (h Handle) Monitor() *Monitor {
	c := make(chan Down, 1)
	m := &Monitor{C: c, c: c, handle: h}
	if h.p == nil || !h.p.watch(m) {
		c <- Down{Handle: h, Reason: ErrNoProc}
	}
	return m
}

func (m *Monitor) processExited(_ *process, reason error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.off {
		m.c <- Down{Handle: m.handle, Reason: reason}
	}
}

// Demonitor stops the monitor and removes a Down that is pending on C
// (OTP's demonitor with flush). It reports whether the monitor was still
// active, that is whether no Down had been delivered yet.
func (m *Monitor) Demonitor() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.off {
		return false
	}
	m.off = true
	active := m.handle.p != nil && m.handle.p.unwatch(m)
	select {
	case <-m.c:
	default:
	}
	return active
}

// Spawn runs svc in a new process that no supervisor watches, as Erlang's
// spawn, and returns its handle. Its context carries ctx's values, and it
// is cancelled (with reason shutdown) when ctx is. A panic in Serve is its
// exit reason, as for a child, and runtime.Goexit exits it with ErrGoexit.
// name labels the handle.
func Spawn(ctx context.Context, name string, svc Service) Handle {
	parent := Self(ctx).p
	p := newRoot(ctx, parent, name)
	p.setService(svc)
	stop := context.AfterFunc(ctx, func() { p.cancel(Shutdown(context.Cause(ctx))) })
	go func() {
		reason := ErrGoexit // unless Serve returns
		defer func() {
			stop()
			p.exit(reason)
		}()
		reason = classifyExit(serve(p, svc), p.cancelCause())
	}()
	return p.handle()
}
