package runtime

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// DefaultEventHookTimeout is how long a supervisor waits for its event hook
// to return, unless WithEventHookTimeout says otherwise. A hook that takes
// longer is left running; the supervisor goes on, and the events of that
// hook are dropped until the stuck call returns. The wait is in real time,
// whatever clock WithClock set: it guards against a stuck hook and is not
// part of the tree's behaviour.
const DefaultEventHookTimeout = 5 * time.Second

type hookTimeoutKey struct{}

// WithEventHookTimeout returns a context whose supervisors, and those below
// them, wait up to d for their event hook to return (see EventHook); d must
// be positive.
func WithEventHookTimeout(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		d = DefaultEventHookTimeout
	}
	return context.WithValue(ctx, hookTimeoutKey{}, d)
}

// eventSink is where the supervisors under one context report: the hook of
// WithEventHook, or the default slog sink. It is shared by every supervisor
// and application controller below that context, and safe for concurrent
// use.
type eventSink struct {
	hook EventHook
	// inline is set for the default sink, which runs in the reporting
	// goroutine (with panics recovered): it is arbor's own code.
	inline bool
	// stuck counts the calls of the hook that have outlived their timeout
	// and not returned yet.
	stuck atomic.Int32
	// failed and slow are set once a failure of the hook, or a stuck call,
	// has been reported through slog.Default: each is reported once.
	failed, slow atomic.Bool
}

// eventRunner runs a user's event hook for one supervisor (or application
// controller), in a goroutine of its own: whatever the hook does — panic,
// call runtime.Goexit, never return — the supervisor is unaffected. The
// supervisor still waits for each call, so events are delivered in order and
// before the supervisor goes on, as a synchronous hook would be. Owned by the
// reporting goroutine.
type eventRunner struct {
	sink    *eventSink
	timeout time.Duration
	event   Event          // the event of the call under way, read by the hook's goroutine
	state   *atomic.Uint32 // the call's state (callRunning...), shared with the hook's goroutine
	calls   chan bool      // to the hook's goroutine; nil until it is started
	ended   chan bool      // from it: true when the hook returned, false when it died
	quit    chan struct{}  // closed to end the hook's goroutine
	timer   *time.Timer
}

// newEventRunner returns the runner of the sink of ctx; nil when reports
// are off.
func newEventRunner(ctx context.Context) *eventRunner {
	sink := eventSinkFrom(ctx)
	if sink == nil {
		return nil
	}
	timeout, ok := ctx.Value(hookTimeoutKey{}).(time.Duration)
	if !ok {
		timeout = DefaultEventHookTimeout
	}
	return &eventRunner{sink: sink, timeout: timeout}
}

// report delivers e. A nil runner drops it (reports are off).
func (r *eventRunner) report(e Event) {
	if r == nil {
		return
	}
	if r.sink.inline {
		r.sink.call(e) // the default sink runs in the reporting goroutine
		return
	}
	if r.sink.stuck.Load() > 0 {
		return // a call is stuck: drop until it returns
	}
	if r.calls == nil {
		r.calls, r.ended, r.quit = make(chan bool), make(chan bool, 1), make(chan struct{})
		r.state = new(atomic.Uint32)
		go r.sink.run(r.calls, r.ended, r.quit, r.state, &r.event)
	}
	r.event = e
	r.state.Store(callRunning)
	r.calls <- true
	if r.timer == nil {
		r.timer = time.NewTimer(r.timeout)
	} else {
		r.timer.Reset(r.timeout)
	}
	select {
	case ok := <-r.ended:
		r.timer.Stop()
		if !ok { // it died with the call: the next event starts another
			r.calls = nil
		}
	case <-r.timer.C:
		if !r.state.CompareAndSwap(callRunning, callAbandoned) {
			// It returned just as the time ran out: its answer is coming.
			if ok := <-r.ended; !ok {
				r.calls = nil
			}
			return
		}
		r.sink.stuck.Add(1)
		if !r.sink.slow.Swap(true) {
			slog.Default().Error("arbor: an event hook did not return in time; its events are dropped until it does",
				slog.Duration("timeout", r.timeout), slog.String("event", e.Kind.String()))
		}
		r.close() // the stuck goroutine ends when its call returns
	}
}

// The states of a hook call, between the reporting goroutine, which gives
// up on it (abandoned), and the hook's goroutine, which finishes it
// (returned): whichever comes first decides.
const (
	callRunning = iota
	callReturned
	callAbandoned
)

// close ends the hook's goroutine, if one runs; it does not wait for it.
func (r *eventRunner) close() {
	if r != nil && r.calls != nil {
		close(r.quit)
		r.calls = nil
	}
}

// run is the hook's goroutine: it calls the hook with *event each time it
// is told to on calls, and says on ended how the call ended, until quit is
// closed. A call the reporter has given up on (state abandoned) counts
// among the sink's stuck calls until it returns.
func (sink *eventSink) run(calls <-chan bool, ended chan<- bool, quit <-chan struct{}, state *atomic.Uint32, event *Event) {
	finish := func(ok bool) (abandoned bool) {
		if state.CompareAndSwap(callRunning, callReturned) {
			ended <- ok // capacity 1: the reporter waits for it
			return false
		}
		sink.stuck.Add(-1)
		return true
	}
	returned := false
	defer func() {
		if !returned { // runtime.Goexit in the hook
			sink.reportFailure("called runtime.Goexit", nil)
			finish(false)
		}
	}()
	for {
		select {
		case <-calls:
			sink.call(*event)
			if finish(true) {
				returned = true
				return
			}
		case <-quit:
			returned = true
			return
		}
	}
}

// call runs the hook once; a panic drops the event and is reported.
func (sink *eventSink) call(e Event) {
	defer func() {
		if v := recover(); v != nil {
			sink.reportFailure("panicked", v)
		}
	}()
	sink.hook(e)
}

// reportFailure reports, once per sink, a hook that panicked or exited.
func (sink *eventSink) reportFailure(what string, v any) {
	if sink.failed.Swap(true) {
		return
	}
	attrs := []any{slog.String("failure", what)}
	if v != nil {
		attrs = append(attrs, slog.Any("panic", v))
	}
	slog.Default().Error("arbor: an event hook "+what+"; the event was dropped (reported once)", attrs...)
}

// eventSinkFrom returns the sink of the closest WithEventHook, nil if its
// hook is nil (no reports), or the default slog sink.
func eventSinkFrom(ctx context.Context) *eventSink {
	if s, ok := ctx.Value(eventHookKey{}).(*eventSink); ok {
		return s
	}
	return &eventSink{hook: SlogHook(slog.Default()), inline: true}
}
