package cluster

import (
	"context"
	"log/slog"
	"time"
)

// EventKind names a cluster report.
type EventKind uint8

const (
	// LeaseGranted: the node has a new lease (at start, and after it lost one).
	LeaseGranted EventKind = iota + 1
	// LeaseLost: the node's lease reached its local deadline, or etcd said
	// it was gone; its distributed work has been told to stop.
	LeaseLost
	// AppStarted: a distributed application started on this node; StartType
	// says why.
	AppStarted
	// AppStopped: a distributed application stopped on this node; Reason says
	// why (ErrLeaseLost, ErrReleased for a takeover, a shutdown, or the
	// exit reason of its tree).
	AppStopped
	// ChildStarted: a keyed child started on this node, with its Token.
	ChildStarted
	// ChildStopped: a keyed child stopped on this node; Reason says why.
	ChildStopped
	// ChildReleased: a keyed child exhausted its restart intensity (or failed
	// to start) here and was released, to be tried on another node after a
	// backoff.
	ChildReleased
	// ChildFailed: a keyed child was released once more than MaxMoves
	// allows and is now marked failed; no node starts it again.
	ChildFailed
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case LeaseGranted:
		return "lease_granted"
	case LeaseLost:
		return "lease_lost"
	case AppStarted:
		return "app_started"
	case AppStopped:
		return "app_stopped"
	case ChildStarted:
		return "child_started"
	case ChildStopped:
		return "child_stopped"
	case ChildReleased:
		return "child_released"
	case ChildFailed:
		return "child_failed"
	}
	return "unknown"
}

// Event is one cluster report from this node.
type Event struct {
	Kind EventKind
	Time time.Time
	// Node is the reporting node.
	Node string
	// Application names the distributed application of AppStarted and
	// AppStopped.
	Application string
	// Supervisor and Key name the keyed child of Child… events.
	Supervisor string
	Key        string
	// Token is the fencing token of the ownership the event is about.
	Token int64
	// StartType is set on AppStarted.
	StartType StartType
	// Reason says why for LeaseLost, AppStopped, ChildStopped, ChildReleased
	// and ChildFailed.
	Reason error
}

// SlogHook returns the default report sink: each event is one log record at
// info level (LeaseLost, ChildReleased and ChildFailed at warn).
func SlogHook(logger *slog.Logger) func(Event) {
	return func(e Event) {
		level := slog.LevelInfo
		switch e.Kind {
		case LeaseLost, ChildReleased, ChildFailed:
			level = slog.LevelWarn
		}
		ctx := context.Background()
		if !logger.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{slog.String("event", e.Kind.String()), slog.String("node", e.Node)}
		if e.Application != "" {
			attrs = append(attrs, slog.String("application", e.Application))
		}
		if e.Supervisor != "" {
			attrs = append(attrs, slog.String("supervisor", e.Supervisor), slog.String("key", e.Key))
		}
		if e.Token != 0 {
			attrs = append(attrs, slog.Int64("token", e.Token))
		}
		if e.Kind == AppStarted {
			attrs = append(attrs, slog.String("start_type", e.StartType.String()))
		}
		if e.Reason != nil {
			attrs = append(attrs, slog.String("reason", e.Reason.Error()))
		}
		r := slog.NewRecord(e.Time, level, "cluster report", 0)
		r.AddAttrs(attrs...)
		_ = logger.Handler().Handle(ctx, r)
	}
}
