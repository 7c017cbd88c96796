package runtime

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/arborgo/arbor/clock"
)

// EventKind names a supervisor report, after OTP's errorContext.
type EventKind uint8

const (
	// ChildStarted is OTP's progress report: a child started, at init, on an
	// automatic restart, or (with External set) through the API.
	ChildStarted EventKind = iota + 1
	// ChildTerminated: a child exited by itself in a way worth reporting (any
	// exit of a permanent child, a crash of any other).
	ChildTerminated
	// StartError: a start function failed during init or an automatic
	// restart. Failures of API starts are returned, not reported.
	StartError
	// ReachedMaxRestartIntensity is OTP's shutdown report: the supervisor
	// gave up.
	ReachedMaxRestartIntensity
	// ShutdownError: a child stopped by its supervisor did not exit the way
	// its shutdown expects, for example it outlived its timeout (Reason is
	// ErrKilled) or crashed while stopping.
	ShutdownError
	// ApplicationStarted: an application's tree is up (OTP's
	// application_controller progress report).
	ApplicationStarted
	// ApplicationExited: an application stopped; Reason is ErrStopped when
	// it was asked to, or its tree's exit reason (OTP's exit notice).
	ApplicationExited
)

// String returns OTP's errorContext for k.
func (k EventKind) String() string {
	switch k {
	case ChildStarted:
		return "progress"
	case ChildTerminated:
		return "child_terminated"
	case StartError:
		return "start_error"
	case ReachedMaxRestartIntensity:
		return "shutdown"
	case ShutdownError:
		return "shutdown_error"
	case ApplicationStarted:
		return "application_started"
	case ApplicationExited:
		return "application_exited"
	}
	return "unknown"
}

// Offender is the child a report is about, with OTP's offender fields.
type Offender struct {
	Handle      Handle // zero when the child has no process (OTP's undefined)
	ID          string
	Restart     Restart
	Shutdown    ShutdownSpec
	Type        ChildType
	Significant bool
}

// Event is one supervisor or application report.
type Event struct {
	Kind       EventKind
	Time       time.Time
	Supervisor string
	// Application names the application of ApplicationStarted and
	// ApplicationExited; Supervisor and Child are empty then.
	Application string
	Child       Offender
	// Reason is the exit reason or start error; nil for ChildStarted, and
	// ErrReachedMaxRestartIntensity for ReachedMaxRestartIntensity.
	Reason error
	// External is set on ChildStarted when the start came through the API
	// (StartChild, RestartChild); OTP logs those at debug level.
	External bool
}

// EventHook receives every report of the supervisors that run under a
// context given to WithEventHook, and of the applications started under it.
//
// Each supervisor calls its hook in a goroutine of its own and waits for it
// to return before it goes on, so a hook sees a supervisor's events in
// order, each before the supervisor acts on what the event says (a
// ChildTerminated is seen before the restart). Hooks of different
// supervisors run concurrently: a hook must be safe for concurrent use. A
// hook that panics or calls runtime.Goexit loses that event, and one that
// does not return in time (DefaultEventHookTimeout, or what
// WithEventHookTimeout says) is left running while the
// supervisor goes on, its events dropped until it returns; either is
// reported once through slog.Default(), and neither changes what any
// supervisor does. A hook must not wait for the supervisor that reported
// the event (its API answers only after the hook returns).
type EventHook func(Event)

type eventHookKey struct{}
type clockKey struct{}

// WithEventHook returns a context whose supervisors, and every supervisor
// below them, report to hook instead of the default slog sink. A nil hook
// turns reports off, which costs nothing.
func WithEventHook(ctx context.Context, hook EventHook) context.Context {
	var sink *eventSink
	if hook != nil {
		sink = &eventSink{hook: hook}
	}
	return context.WithValue(ctx, eventHookKey{}, sink)
}

// WithClock returns a context whose supervisors, and every supervisor and
// server below them, take time from c: restart intensity, shutdown timeouts,
// backoff and call timeouts. Tests pass a *clock.Fake.
func WithClock(ctx context.Context, c clock.Clock) context.Context {
	return context.WithValue(ctx, clockKey{}, c)
}

func clockFrom(ctx context.Context) clock.Clock {
	if c, ok := ctx.Value(clockKey{}).(clock.Clock); ok {
		return c
	}
	return clock.Real()
}

// SlogHook returns the default sink: each report becomes one log record with
// OTP's fields as attributes. Progress is logged at debug level; when it
// came through the API, at debug too (OTP logs automatic starts at info, but
// a Go program starting 100,000 children should not write 100,000 info
// lines); child_terminated, start_error, shutdown and shutdown_error at error
// level.
func SlogHook(logger *slog.Logger) EventHook {
	return func(e Event) {
		level := slog.LevelError
		msg := "supervisor report"
		switch e.Kind {
		case ChildStarted:
			level, msg = slog.LevelDebug, "child started"
		case ChildTerminated:
			msg = "child terminated"
		case StartError:
			msg = "child failed to start"
		case ReachedMaxRestartIntensity:
			msg = "supervisor reached max restart intensity"
		case ShutdownError:
			msg = "child shut down abnormally"
		case ApplicationStarted:
			level, msg = slog.LevelInfo, "application started"
		case ApplicationExited:
			level, msg = slog.LevelInfo, "application exited"
		}
		ctx := context.Background()
		if !logger.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{slog.String("error_context", e.Kind.String())}
		if e.Application != "" {
			attrs = append(attrs, slog.String("application", e.Application))
			if e.Reason != nil {
				attrs = append(attrs, slog.String("exited", e.Reason.Error()))
			}
			logAt(ctx, logger, e.Time, level, msg, attrs)
			return
		}
		attrs = append(attrs,
			slog.String("supervisor", e.Supervisor),
			slog.Group("offender",
				slog.String("pid", e.Child.Handle.String()),
				slog.String("id", e.Child.ID),
				slog.String("restart_type", e.Child.Restart.String()),
				slog.String("shutdown", e.Child.Shutdown.String()),
				slog.String("child_type", e.Child.Type.String()),
				slog.Bool("significant", e.Child.Significant),
			),
		)
		if e.Reason != nil {
			attrs = append(attrs, slog.String("reason", e.Reason.Error()))
			var pe *PanicError
			if errors.As(e.Reason, &pe) {
				attrs = append(attrs, slog.String("stack", string(pe.Stack)))
			}
		}
		if e.External {
			attrs = append(attrs, slog.Bool("external", true))
		}
		logAt(ctx, logger, e.Time, level, msg, attrs)
	}
}

// logAt logs a record stamped with the event's time, which comes from the
// supervisor's clock.
func logAt(ctx context.Context, logger *slog.Logger, t time.Time, level slog.Level, msg string, attrs []slog.Attr) {
	if t.IsZero() {
		t = time.Now()
	}
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	_ = logger.Handler().Handle(ctx, r)
}
