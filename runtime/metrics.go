package runtime

import (
	"context"
	"time"

	"github.com/arborgo/arbor/clock"
)

// Metrics receives the runtime's measurements as they happen, for a
// metrics system. Module github.com/arborgo/arbor/otelarbor records them
// as OpenTelemetry instruments; anything else can implement it too.
// WithMetrics sets it for the supervisors and servers started below a
// context. With none set the runtime measures nothing: each place that
// could measure costs one nil check.
//
// Each method is called synchronously by the goroutine that measured: a
// supervisor's loop, a server's caller. An implementation must therefore
// be quick, must not block, must be safe for concurrent use, and must not
// call the supervisor or server that called it (its Stats and QueueLen are
// for a collector's own goroutine). A panic in it is not recovered.
// Durations are measured on the tree's clock (WithClock).
//
// A supervisor is named by its path, which stays the same across its
// restarts: its name for one at the top of a tree, its application's name
// for the top supervisor of an application, then the ids down to it
// ("shop/pool"). A child is named by its id (empty for a
// child of a dynamic supervisor started without one).
type Metrics interface {
	// SupervisorStarted is called when a supervisor begins, before its
	// children start; s can be read (Stats) until SupervisorExited.
	SupervisorStarted(s StatsReader)
	// SupervisorExited is called once the supervisor has stopped its
	// children and exited with reason.
	SupervisorExited(s StatsReader, reason error)
	// ChildStarted is called when a child's start function has returned:
	// at init, on a restart, or through the API. took runs from the start
	// of the child's goroutine to the start's return; err is the start
	// error, ErrIgnore for OTP's ignore, nil when the child runs.
	ChildStarted(supervisor, child string, took time.Duration, err error)
	// ChildStopped is called when the supervisor has stopped a child (its
	// shutdown: TerminateChild, a strategy's restart of its siblings, the
	// supervisor's own stop). took runs from the cancellation of the
	// child's context to its exit, or to giving up on it (reason is then
	// ErrKilled).
	ChildStopped(supervisor, child string, took time.Duration, reason error)
	// ChildRestarted is called for each restart that counts towards the
	// supervisor's intensity, when it is decided: reason is the exit that
	// caused it (the child's own, or the start error of a failed restart
	// that is tried again). Siblings that a strategy restarts with it are
	// not restarts of their own, as in OTP's count.
	ChildRestarted(supervisor, child string, reason error)
	// IntensityReached is called when the supervisor gives up (OTP's
	// shutdown report): child's restart would have exceeded its intensity,
	// and the supervisor stops, escalating to its parent.
	IntensityReached(supervisor, child string)
	// ServerStarted is called when a Server has been made (NewServer);
	// its QueueLen can be read until ServerExited.
	ServerStarted(s Queued)
	// ServerExited is called once the server's loop has ended.
	ServerExited(s Queued)
	// CallReturned is called when a Call to the server s returns to its
	// caller: took is how long it waited; err is what the caller got
	// (ErrTimeout, an *ExitError, the handler's error, or nil).
	CallReturned(s Queued, took time.Duration, err error)
}

// StatsReader is a live supervisor whose numbers a metrics system polls:
// *Supervisor and *DynamicSupervisor. Handle().Path() is its path.
type StatsReader interface {
	Name() string
	Handle() Handle
	Stats(ctx context.Context) (SupervisorStats, error)
}

// Queued is a live process with a message queue, a Server, whose length a
// metrics system polls.
type Queued interface {
	Handle() Handle
	QueueLen() int
}

// SupervisorStats is what a supervisor's gauges show: its children by
// state, how much of its restart intensity is used, and its mailbox.
type SupervisorStats struct {
	// Children by state, as ChildSnapshot.State says.
	Running, Restarting, Stopped int
	// RecentRestarts counts the restarts within the current window of
	// MaxSeconds: the intensity used. One more than MaxRestarts makes the
	// supervisor give up.
	RecentRestarts int
	MaxRestarts    int
	MaxSeconds     int
	// MessageQueueLen counts the messages waiting in its mailbox.
	MessageQueueLen int
}

type metricsKey struct{}

// WithMetrics returns a context whose supervisors and servers, and those
// below them, report their measurements to m. A nil m turns measuring off.
func WithMetrics(ctx context.Context, m Metrics) context.Context {
	return context.WithValue(ctx, metricsKey{}, m)
}

func metricsFrom(ctx context.Context) Metrics {
	m, _ := ctx.Value(metricsKey{}).(Metrics)
	return m
}

// supMetrics is a supervisor's link to its Metrics; nil when there is
// none.
type supMetrics struct {
	m    Metrics
	self StatsReader
}

// startMetrics looks up the Metrics of ctx for the supervisor self, and
// tells it the supervisor has started.
func (s *core) startMetrics(ctx context.Context, self StatsReader) {
	if m := metricsFrom(ctx); m != nil {
		s.metrics = &supMetrics{m: m, self: self}
		m.SupervisorStarted(self)
	}
}

// metricsExited tells the Metrics, if any, that the supervisor exited.
func (s *core) metricsExited(reason error) {
	if s.metrics != nil {
		s.metrics.m.SupervisorExited(s.metrics.self, reason)
	}
}

// metricsNow returns the time a measurement starts at: the zero time when
// nothing is measured, which costs no clock reading.
func (s *core) metricsNow() time.Time {
	if s.metrics == nil {
		return time.Time{}
	}
	return s.clock.Now()
}

// measureStart reports a start of c that began at begin.
func (s *core) measureStart(c *child, begin time.Time, err error, ignored bool) {
	if s.metrics == nil {
		return
	}
	if ignored {
		err = ErrIgnore
	}
	s.metrics.m.ChildStarted(s.path(), c.spec.ID, s.clock.Now().Sub(begin), err)
}

// measureStop reports that c, whose stop began at begin, has stopped; its
// exit reason is recorded.
func (s *core) measureStop(c *child, begin time.Time) {
	if s.metrics == nil {
		return
	}
	s.metrics.m.ChildStopped(s.path(), c.spec.ID, s.clock.Now().Sub(begin), c.lastExitReason())
}

// countRestart counts a restart of c towards the intensity, as OTP's
// add_restart, and reports whether it is allowed; the Metrics, if any,
// hear of the restart or of the supervisor giving up.
func (s *core) countRestart(c *child) bool {
	ok := s.restarts.add(s.second())
	if s.metrics != nil {
		if ok {
			s.metrics.m.ChildRestarted(s.path(), c.spec.ID, c.lastExitReason())
		} else {
			s.metrics.m.IntensityReached(s.path(), c.spec.ID)
		}
	}
	return ok
}

// stats counts children by state, and reads the intensity and the
// mailbox; it runs in the loop.
func (s *core) stats(children []*child) SupervisorStats {
	st := SupervisorStats{
		RecentRestarts: s.restarts.used(s.second()),
		MaxRestarts:    s.restarts.max, MaxSeconds: int(s.restarts.period),
		MessageQueueLen: s.mbox.len(),
	}
	for _, c := range children {
		switch {
		case c.removed:
		case c.restarting:
			st.Restarting++
		case c.proc != nil:
			st.Running++
		default:
			st.Stopped++
		}
	}
	return st
}

// Stats implements Supervisor.Stats.
func (s *supervisor) Stats(ctx context.Context) (SupervisorStats, error) {
	var st SupervisorStats
	err := query(ctx, &s.mbox, s.done, func() { st = s.stats(s.children) })
	return st, err
}

// Stats implements DynamicSupervisor.Stats.
func (d *dynamicSupervisor) Stats(ctx context.Context) (SupervisorStats, error) {
	var st SupervisorStats
	err := query(ctx, &d.mbox, d.done, func() { st = d.stats(d.children) })
	return st, err
}

// Stats returns the supervisor's children by state, its restart intensity
// used and allowed, and its mailbox's length. Like every API call it is a
// message to the supervisor's loop, answered in turn.
func (x *Supervisor) Stats(ctx context.Context) (SupervisorStats, error) { return x.s.Stats(ctx) }

// Stats returns the dynamic supervisor's numbers, as Supervisor.Stats.
func (x *DynamicSupervisor) Stats(ctx context.Context) (SupervisorStats, error) {
	return x.d.Stats(ctx)
}

// QueueLen returns how many handlers (calls, casts, Downs) wait in the
// server's queue: OTP's message_queue_len. It takes the queue's lock and
// never waits for the server; 0 for a nil *Server.
func (srv *Server[S]) QueueLen() int {
	if srv == nil {
		return 0
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.queue) - srv.head
}

// startServerMetrics registers a new server with the Metrics of ctx, if
// any, and with its process for Info.
func (srv *Server[S]) startServerMetrics(ctx context.Context) {
	srv.proc.registerQueue(srv)
	if m := metricsFrom(ctx); m != nil {
		srv.metrics = m
		m.ServerStarted(srv)
	}
}

// measureCall reports a Call to srv that began at begin and returns *err;
// ctx's clock measures it.
func (srv *Server[S]) measureCall(clk clock.Clock, begin time.Time, err *error) {
	srv.metrics.CallReturned(srv, clk.Now().Sub(begin), *err)
}
