package runtime

import (
	"slices"
	"strconv"
	"time"
)

// ProcessInfo describes one process at one moment, as Erlang's
// process_info/1 does: what a debugger or the observer shows when a
// process is selected. Handle.Info returns it; it marshals to JSON.
type ProcessInfo struct {
	Handle string `json:"handle"`
	// Alive is false once the process has exited or was given up on.
	Alive bool `json:"alive"`
	// Lingering is set for a process given up on (ErrKilled) whose
	// goroutine has not returned yet (see LingeringGoroutine).
	Lingering bool `json:"lingering,omitempty"`
	// Queue says what the process queues its messages in: "mailbox" for a
	// supervisor (child exits, API calls, retries), "server" for a Server
	// (calls, casts and Downs waiting for their turn); empty when it has
	// neither. MessageQueueLen counts the messages waiting in it (OTP's
	// message_queue_len), 0 when it has no queue.
	Queue           string `json:"queue,omitempty"`
	MessageQueueLen int    `json:"message_queue_len"`
	// Links are the processes linked to it (Link), by handle.
	Links []string `json:"links"`
	// MonitoredBy lists what watches it for its exit (OTP's monitored_by):
	// monitors made with Handle.Monitor, servers' monitors
	// (Server.Monitor) and Calls waiting for its answer.
	MonitoredBy []MonitorInfo `json:"monitored_by"`
	// RegisteredNames are the keys it holds in registries, as fmt.Sprint
	// prints them, in no particular order across registries.
	RegisteredNames []string `json:"registered_names"`
	// TrapExits is set when it traps exits (TrapExits).
	TrapExits bool `json:"trap_exit"`
}

// MonitorInfo is one watcher of a process's exit.
type MonitorInfo struct {
	// Kind is "monitor" (Handle.Monitor: its owner is not known) or
	// "server" (Server.Monitor). A Call waiting for a server's answer is no
	// monitor here: the server answers its queued calls itself when it
	// exits (see CallTimeout), and they count in its MessageQueueLen.
	Kind string `json:"kind"`
	// By is the handle of the process that watches, when it is known: the
	// server of a "server" monitor.
	By string `json:"by,omitempty"`
}

// Info describes h's process now. For the zero Handle it returns the
// description of no process ("undefined", not alive).
//
// It reads the process's own record under its lock and, for a supervisor
// or a server, the length of its queue under that queue's lock: it never
// waits for the process's goroutine, so it answers even for a process that
// is busy or stuck. Its lists are never nil.
func (h Handle) Info() ProcessInfo {
	info := ProcessInfo{Handle: h.String(), Links: []string{}, MonitoredBy: []MonitorInfo{}, RegisteredNames: []string{}}
	p := h.p
	if p == nil {
		return info
	}
	var ws []watcher
	var mb *mailbox
	var q queued
	p.mu.Lock()
	info.Alive = !p.exited
	info.Lingering = p.killed && !p.returned
	if p.ext != nil {
		ws = slices.Clone(p.ext.watchers)
		mb, q = p.ext.mailbox, p.ext.queue
		info.TrapExits = p.ext.trap != nil
	}
	p.mu.Unlock()
	switch {
	case mb != nil:
		info.Queue, info.MessageQueueLen = "mailbox", mb.len()
	case q != nil:
		info.Queue, info.MessageQueueLen = "server", q.QueueLen()
	}
	for _, w := range ws {
		switch w := w.(type) {
		case *link:
			other := w.a
			if other == p {
				other = w.b
			}
			info.Links = append(info.Links, other.handle().String())
		case *Monitor:
			info.MonitoredBy = append(info.MonitoredBy, MonitorInfo{Kind: "monitor"})
		case monitorer:
			kind, by := w.monitorer()
			m := MonitorInfo{Kind: kind}
			if !by.IsZero() {
				m.By = by.String()
			}
			info.MonitoredBy = append(info.MonitoredBy, m)
		case namesHolder:
			info.RegisteredNames = w.appendNames(info.RegisteredNames)
		}
	}
	return info
}

// Path returns the place of h's process in the tree, its handle without
// the incarnation: "store/sessions/session". Metrics name a server by it.
func (h Handle) Path() string {
	if h.p == nil {
		return "undefined"
	}
	return h.p.path()
}

// queued is a process's message queue other than a supervisor's mailbox:
// a Server's.
type queued interface{ QueueLen() int }

// monitorer is a watcher that knows what kind of monitor it is and, when
// it can, whose.
type monitorer interface {
	monitorer() (kind string, by Handle)
}

func (m *serverMonitor[S]) monitorer() (string, Handle) { return "server", m.srv.Handle() }

// len returns how many messages wait in the mailbox.
func (mb *mailbox) len() int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.queue) - mb.head
}

// registerQueue makes srv's queue the one Info reports for p.
func (p *process) registerQueue(q queued) {
	p.mu.Lock()
	p.extLocked().queue = q
	p.mu.Unlock()
}

// ExitRecord is one exit in a child's restart history: an incarnation
// that ended by itself (a crash, a normal return, a shutdown it chose),
// which its supervisor then handled by its restart type.
type ExitRecord struct {
	// Handle names the incarnation that exited.
	Handle string `json:"handle"`
	// At is when its supervisor handled the exit, by the tree's clock.
	At time.Time `json:"at"`
	// Reason is the exit reason, as ChildSnapshot.LastExit spells it.
	Reason string `json:"reason"`
	// Uptime is how long that incarnation had run.
	Uptime time.Duration `json:"uptime_ns"`
}

// HistoryLength is how many exits a supervisor keeps per child for its
// restart history (ChildSnapshot.Exits): the latest ones.
const HistoryLength = 8

// exitHistory is a child's latest exits, a ring of HistoryLength. A child
// that never exited has none: its childExtra, and this, are made on its
// first exit.
type exitHistory struct {
	n    int // exits recorded so far; the ring holds the last HistoryLength
	ring [HistoryLength]exitEntry
}

type exitEntry struct {
	at, started time.Duration // the supervisor's since()
	incarnation uint32
	reason      error
}

// childExited records the exit of incarnation p of c, which exited by
// itself: its last exit reason and its restart history. It runs in the
// loop.
func (s *core) childExited(c *child, p *process, reason error) {
	c.exited(p, reason)
	x := c.extra
	if x.history == nil {
		x.history = &exitHistory{}
	}
	h := x.history
	h.ring[h.n%HistoryLength] = exitEntry{at: s.since(), started: p.started, incarnation: p.incarnation, reason: reason}
	h.n++
}

// exitRecords returns c's restart history, oldest first; nil when c has
// not exited by itself yet. It runs in the loop.
func (s *core) exitRecords(c *child) []ExitRecord {
	if c.extra == nil || c.extra.history == nil {
		return nil
	}
	h := c.extra.history
	first := max(h.n-HistoryLength, 0)
	out := make([]ExitRecord, 0, h.n-first)
	prefix := s.path() + "/" + c.spec.ID + "#"
	for i := first; i < h.n; i++ {
		e := h.ring[i%HistoryLength]
		out = append(out, ExitRecord{
			Handle: prefix + strconv.FormatUint(uint64(e.incarnation), 10),
			At:     s.epoch.Add(e.at),
			Reason: reasonString(e.reason),
			Uptime: max(e.at-e.started, 0),
		})
	}
	return out
}

// used returns how many restarts count towards the intensity at second
// now: those of the current window. It changes nothing.
func (in *intensity) used(now int64) int {
	n := 0
	for _, b := range in.buckets[in.head:] {
		if b.second >= now-in.period {
			n += b.count
		}
	}
	return n
}

// Stopping returns a channel that is closed as soon as stopping all the
// applications begins, before any PrepStop runs: on StopAll, a signal to
// Run, the cancellation of the context given to StartApplications, or the
// exit of a permanent application (or, abnormally, of a transient one).
// A readiness check turns not ready on it, so that traffic drains while
// the applications stop (see package runtime/health). Stopping a single
// application with Stop does not close it.
func (a *Applications) Stopping() <-chan struct{} { return a.stopping }

// registerAPI makes x, the API of the supervisor running in p, what
// SupervisorOf and DynamicSupervisorOf return for p.
func (p *process) registerAPI(x any) {
	p.mu.Lock()
	p.extLocked().api = x
	p.mu.Unlock()
}

func apiOf(h Handle) any {
	if h.p == nil {
		return nil
	}
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	if h.p.ext == nil {
		return nil
	}
	return h.p.ext.api
}

// SupervisorOf returns the supervisor that runs in h's process, as OTP
// takes a supervisor's pid for its SupRef: the handle of a supervisor
// (its Handle, a ChildSnapshot's Process, SupervisorSnapshot.Process)
// gives its API, wherever it sits in the tree. It returns false when h's
// process runs no static supervisor.
func SupervisorOf(h Handle) (*Supervisor, bool) {
	x, ok := apiOf(h).(*Supervisor)
	return x, ok
}

// DynamicSupervisorOf returns the dynamic supervisor that runs in h's
// process, as SupervisorOf does for a static one.
func DynamicSupervisorOf(h Handle) (*DynamicSupervisor, bool) {
	x, ok := apiOf(h).(*DynamicSupervisor)
	return x, ok
}
