package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitLimit bounds every wait in these tests, so that a bug shows as a
// failure instead of a hung suite. Tests never sleep; they wait on events.
const waitLimit = 10 * time.Second

var errCrash = errors.New("crash")

// tree is a test harness: it makes child specs whose workers the test
// controls, records what happens to them, and collects the supervisor's
// events. Time comes from a fake clock.
type tree struct {
	t      *testing.T
	clk    *clock.Fake
	ctx    context.Context
	events *eventLog

	mu     sync.Mutex
	log    []string              // "start:a", "stop:a" (a stopped on cancel), "exit:a"
	live   map[string]*worker    // latest incarnation per id
	plans  map[string][]startErr // outcomes of the next starts per id; empty = start fine
	starts map[string]int
}

type startErr struct {
	err     error
	forever bool // keep failing until cleared with failNext(id)
}

func newTree(t *testing.T) *tree {
	t.Helper()
	tr := &tree{
		t:      t,
		clk:    clock.NewFake(time.Unix(1_000_000, 0)),
		events: newEventLog(),
		live:   map[string]*worker{},
		plans:  map[string][]startErr{},
		starts: map[string]int{},
	}
	ctx := runtime.WithClock(context.Background(), tr.clk)
	tr.ctx = runtime.WithEventHook(ctx, tr.events.add)
	return tr
}

// eventLog is an unbounded, waitable list of events.
type eventLog struct {
	mu      sync.Mutex
	events  []runtime.Event
	changed chan struct{}
}

func newEventLog() *eventLog { return &eventLog{changed: make(chan struct{})} }

func (l *eventLog) add(e runtime.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *eventLog) all() []runtime.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// waitFor waits until the events after index from hold one matching match,
// and returns it with its index.
func (l *eventLog) waitFor(t *testing.T, from int, what string, match func(runtime.Event) bool) (runtime.Event, int) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		for i := from; i < len(l.events); i++ {
			if match(l.events[i]) {
				e := l.events[i]
				l.mu.Unlock()
				return e, i
			}
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no event %s; events: %v", what, describeEvents(l.all()))
		}
	}
}

func describeEvents(es []runtime.Event) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "\n  %s %s/%s %v", e.Kind, e.Supervisor, e.Child.ID, e.Reason)
	}
	return b.String()
}

// kinds returns "kind:id" for each event of the given kinds.
func (l *eventLog) kinds(ks ...runtime.EventKind) []string {
	var out []string
	for _, e := range l.all() {
		if slices.Contains(ks, e.Kind) {
			out = append(out, e.Kind.String()+":"+e.Child.ID)
		}
	}
	return out
}

func (tr *tree) record(s string) {
	tr.mu.Lock()
	tr.log = append(tr.log, s)
	tr.mu.Unlock()
}

// takeLog returns what happened since the last takeLog.
func (tr *tree) takeLog() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	l := tr.log
	tr.log = nil
	return l
}

// failNext makes the next starts of id return these errors, in order.
func (tr *tree) failNext(id string, errs ...error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, err := range errs {
		tr.plans[id] = append(tr.plans[id], startErr{err: err})
	}
}

// failAlways makes every start of id fail with err until stopFailing.
func (tr *tree) failAlways(id string, err error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.plans[id] = []startErr{{err: err, forever: true}}
}

func (tr *tree) stopFailing(id string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	delete(tr.plans, id)
}

func (tr *tree) startCount(id string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.starts[id]
}

// worker is a controllable child. Serve returns what the test sends on ctl,
// or after its context is cancelled; a stubborn worker ignores cancellation
// until released.
type worker struct {
	tr        *tree
	id        string
	ctl       chan func() error
	stubborn  bool
	release   chan struct{}
	cancelled chan struct{} // closed when Serve sees its context cancelled
}

func (w *worker) Serve(ctx context.Context) error {
	select {
	case f := <-w.ctl:
		w.tr.record("exit:" + w.id)
		return f()
	case <-ctx.Done():
		close(w.cancelled)
		if w.stubborn {
			<-w.release
		}
		w.tr.record("stop:" + w.id)
		return ctx.Err()
	}
}

type childOpt func(*runtime.ChildSpec, *workerOpts)

type workerOpts struct{ stubborn bool }

func restart(r runtime.Restart) childOpt {
	return func(s *runtime.ChildSpec, _ *workerOpts) { s.Restart = r }
}

func shutdown(sd runtime.ShutdownSpec) childOpt {
	return func(s *runtime.ChildSpec, _ *workerOpts) { s.Shutdown = sd }
}

func significant() childOpt {
	return func(s *runtime.ChildSpec, _ *workerOpts) { s.Significant = true }
}

func stubborn() childOpt {
	return func(_ *runtime.ChildSpec, o *workerOpts) { o.stubborn = true }
}

// child returns a spec whose start function makes a controllable worker.
func (tr *tree) child(id string, opts ...childOpt) runtime.ChildSpec {
	spec := runtime.ChildSpec{ID: id}
	var wo workerOpts
	for _, o := range opts {
		o(&spec, &wo)
	}
	spec.Start = func(ctx context.Context) (runtime.Service, error) {
		tr.mu.Lock()
		tr.starts[id]++
		if plan := tr.plans[id]; len(plan) > 0 {
			if !plan[0].forever {
				tr.plans[id] = plan[1:]
			}
			tr.mu.Unlock()
			return nil, plan[0].err
		}
		w := &worker{tr: tr, id: id, ctl: make(chan func() error, 1), stubborn: wo.stubborn, release: make(chan struct{}), cancelled: make(chan struct{})}
		tr.live[id] = w
		tr.log = append(tr.log, "start:"+id)
		tr.mu.Unlock()
		return w, nil
	}
	return spec
}

func (tr *tree) worker(id string) *worker {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	w := tr.live[id]
	if w == nil {
		tr.t.Fatalf("no worker %q has started", id)
	}
	return w
}

// exitWith makes the current incarnation of id return reason, and waits
// until its exit is in its supervisor's mailbox: an API call made after this
// is handled after the exit.
func (tr *tree) exitWith(sup interface {
	WhichChild(context.Context, string) (runtime.ChildInfo, error)
}, id string, reason error) {
	tr.t.Helper()
	info, err := sup.WhichChild(tr.ctx, id)
	if err != nil || info.Handle.IsZero() {
		tr.t.Fatalf("child %q is not running: %+v, %v", id, info, err)
	}
	tr.worker(id).ctl <- func() error { return reason }
	waitDone(tr.t, info.Handle)
}

// panicWith makes the current incarnation of id panic.
func (tr *tree) panicWith(sup *runtime.Supervisor, id string, v any) {
	tr.t.Helper()
	info, _ := sup.WhichChild(tr.ctx, id)
	tr.worker(id).ctl <- func() error { panic(v) }
	waitDone(tr.t, info.Handle)
}

func waitDone(t *testing.T, h runtime.Handle) {
	t.Helper()
	select {
	case <-h.Done():
	case <-time.After(waitLimit):
		t.Fatalf("%v did not exit", h)
	}
}

// start starts a top-level supervisor and stops it when the test ends.
func (tr *tree) start(spec runtime.SupervisorSpec) *runtime.Supervisor {
	tr.t.Helper()
	sup, err := runtime.StartSupervisor(tr.ctx, spec)
	if err != nil {
		tr.t.Fatalf("StartSupervisor: %v", err)
	}
	tr.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		tr.releaseAll()
		if err := sup.Stop(ctx); err != nil {
			tr.t.Errorf("Stop: %v", err)
		}
	})
	return sup
}

func (tr *tree) releaseAll() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, w := range tr.live {
		select {
		case <-w.release:
		default:
			close(w.release)
		}
	}
}

// ids returns the ids of which_children, in its order (newest first).
func ids(t *testing.T, sup *runtime.Supervisor) []string {
	t.Helper()
	infos, err := sup.WhichChildren(context.Background())
	if err != nil {
		t.Fatalf("WhichChildren: %v", err)
	}
	var out []string
	for _, i := range infos {
		state := "undefined"
		switch {
		case i.Restarting:
			state = "restarting"
		case !i.Handle.IsZero():
			state = "running"
		}
		out = append(out, i.ID+"="+state)
	}
	return out
}

func handleOf(t *testing.T, sup *runtime.Supervisor, id string) runtime.Handle {
	t.Helper()
	info, err := sup.WhichChild(context.Background(), id)
	if err != nil {
		t.Fatalf("WhichChild(%q): %v", id, err)
	}
	return info.Handle
}
