// Package arbortest tests a program's own supervision trees: it starts a
// tree that arbor generated (or any supervisor or applications) under a
// fake clock and a recording event hook, lets the test crash a child by
// name with an error or a panic, waits for restarts and states by events,
// never by sleeping, moves time through an intensity window, asserts the
// live tree, and, when the test ends, stops the tree and fails the test
// for any goroutine the tree left behind.
//
// A complete test of a user's tree, the sequence example's
// (NewSequenceSupervisor is generated from its spec):
//
//	func TestCounterRestartsAlone(t *testing.T) {
//		tree, _ := arbortest.Start(t, NewSequenceSupervisor)
//		stash := tree.Child("stash").Handle
//
//		tree.Crash("counter", errors.New("bad increment"))
//		tree.WaitRestart("counter")
//		tree.AssertTree(`
//			stash: running
//			counter: running, restarts 1, last exit "bad increment"
//		`)
//		if tree.Child("stash").Handle != stash {
//			t.Error("rest_for_one restarted the stash, started before the counter")
//		}
//
//		// Three more crashes within 5 seconds exceed max_restarts 3 ...
//		tree.AdvancePastWindow("") // ... unless the window has passed.
//		for range 3 {
//			tree.Panic("counter", "boom")
//			tree.WaitRestart("counter")
//		}
//		tree.AssertTree(`
//			stash: running
//			counter: running, restarts 4, last exit "panic: boom"
//		`)
//	}
//
// # Names and paths
//
// A child is named by its path of ids from the top supervisor, such as
// "counter" or "pool/worker"; for a tree of applications (StartApplications)
// the first element is the application's name, "web/http". A child of a
// dynamic supervisor is named by its id when no sibling shares it, or by
// the last element of its handle: "session#3" ("#3" for a child without an
// id).
//
// # Leaks
//
// Every goroutine of the tree carries the pprof labels the runtime puts on
// each child (package runtime's LabelChild and the others), and one more
// that names the tree. When the test ends the tree is stopped, time is
// moved on through the shutdown timeouts, every process that ran in it is
// waited for until its goroutine has returned (Handle.Returned), and then
// any goroutine still carrying the tree's label fails the test with its
// stack: a child's goroutine given up on (it outlived its shutdown: see
// runtime.LingeringGoroutine), or one a child started and never stopped.
// The check sees only the tree's goroutines, so tests may run in parallel;
// goleak.VerifyTestMain in TestMain checks the whole program.
package arbortest

import (
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/internal/goroutines"
	"github.com/arborgo/arbor/runtime"
)

// LabelTree is the pprof label that every goroutine of a tree started by
// this package carries, with a value unique to the tree.
const LabelTree = "arbortest.tree"

// DefaultTimeout bounds each wait, in real time: a wait that does not end
// fails the test, with the tree and its events, instead of hanging it.
const DefaultTimeout = 10 * time.Second

// Supervisor is what Start starts: a generated *XSupervisor (which embeds
// *runtime.Supervisor), a *runtime.Supervisor or a
// *runtime.DynamicSupervisor.
type Supervisor interface {
	Serve(ctx context.Context) error
	Snapshot(ctx context.Context) (runtime.SupervisorSnapshot, error)
	Stop(ctx context.Context) error
	Handle() runtime.Handle
}

// Option changes how a tree is started.
type Option func(*options)

type options struct {
	ctx       context.Context
	hook      runtime.EventHook
	timeout   time.Duration
	start     time.Time
	leakCheck bool
}

// WithContext starts the tree with ctx's values (its cancellation is not
// used): what the tree's start functions find in their context.
func WithContext(ctx context.Context) Option { return func(o *options) { o.ctx = ctx } }

// WithEventHook passes each event on to hook too, after recording it.
func WithEventHook(hook runtime.EventHook) Option { return func(o *options) { o.hook = hook } }

// WithTimeout bounds each wait by d instead of DefaultTimeout.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithStartTime sets the fake clock's first reading; by default it is
// 2000-01-01 00:00:00 UTC.
func WithStartTime(t time.Time) Option { return func(o *options) { o.start = t } }

// WithoutLeakCheck stops the tree when the test ends without checking for
// its goroutines.
func WithoutLeakCheck() Option { return func(o *options) { o.leakCheck = false } }

// Tree is a tree running for a test. Its methods must be called from the
// test's goroutine (they call t.Fatal), except Events, Snapshot and Render,
// which any goroutine may call.
type Tree struct {
	t testing.TB
	// Clock is the tree's time: it moves only when the test says so.
	Clock *clock.Fake
	// Ctx is the context the tree was started with: the fake clock, the
	// recording hook and the tree's label, with the values of WithContext.
	// Give it to the tree's API calls.
	Ctx context.Context

	opts  options
	label string
	root  func(ctx context.Context) (runtime.SupervisorSnapshot, error)
	stop  func(ctx context.Context) error
	ended chan struct{} // closed when the tree has exited

	mu       sync.Mutex
	events   []runtime.Event
	changed  chan struct{} // closed and replaced at each event
	handles  []runtime.Handle
	marks    map[string]mark // per path: where WaitRestart looks from
	stopOnce sync.Once
}

// mark is where WaitRestart looks for a child's next start: from event
// index from, a ChildStarted of child id by supervisor sup.
type mark struct {
	from    int
	sup, id string
}

// Start starts the supervisor that newSup returns — a generated
// NewXSupervisor, or a closure around one that takes more arguments —
// under a fake clock and a recording event hook, and serves it. When the
// test ends, the tree is stopped and checked for leaks (see the package
// documentation). It fails the test at once if newSup fails.
func Start[S Supervisor](t testing.TB, newSup func(ctx context.Context) (S, error), opts ...Option) (*Tree, S) {
	t.Helper()
	tree := newTree(t, opts)
	sup, err := newSup(tree.Ctx)
	if err != nil {
		t.Fatalf("arbortest: starting the tree: %v", err)
	}
	served := make(chan struct{})
	// The supervisor's loop, and what it starts, carry the tree's label.
	go pprof.Do(tree.Ctx, pprof.Labels(), func(ctx context.Context) {
		defer close(served)
		sup.Serve(ctx)
	})
	tree.ended = served
	tree.root = sup.Snapshot
	tree.stop = sup.Stop
	tree.track(sup.Handle())
	t.Cleanup(tree.Stop)
	return tree, sup
}

// StartSpec starts a supervisor from spec (a generated XSupervisorSpec())
// as Start does.
func StartSpec(t testing.TB, spec runtime.SupervisorSpec, opts ...Option) (*Tree, *runtime.Supervisor) {
	t.Helper()
	return Start(t, func(ctx context.Context) (*runtime.Supervisor, error) { return runtime.NewSupervisor(ctx, spec) }, opts...)
}

// StartApplications starts apps (a generated Applications()) under a fake
// clock and a recording event hook, as StartApplications does; paths then
// begin with an application's name. When the test ends they are all
// stopped and checked for leaks.
func StartApplications(t testing.TB, apps []runtime.ApplicationSpec, opts ...Option) (*Tree, *runtime.Applications) {
	t.Helper()
	tree := newTree(t, opts)
	running, err := runtime.StartApplications(tree.Ctx, apps...)
	if err != nil {
		t.Fatalf("arbortest: starting the applications: %v", err)
	}
	tree.ended = make(chan struct{})
	go func() { <-running.Done(); close(tree.ended) }()
	tree.root = func(ctx context.Context) (runtime.SupervisorSnapshot, error) {
		snaps, err := running.Snapshot(ctx)
		if err != nil {
			return runtime.SupervisorSnapshot{}, err
		}
		root := runtime.SupervisorSnapshot{Name: "applications"}
		for _, a := range snaps {
			root.Children = append(root.Children, runtime.ChildSnapshot{ID: a.Name, Handle: a.Handle, Type: "supervisor",
				Restart: a.StartType, State: runtime.StateRunning, Supervisor: a.Tree, Process: a.Process})
		}
		return root, nil
	}
	tree.stop = func(ctx context.Context) error {
		if err := running.StopAll(ctx); err != nil {
			return err
		}
		select {
		case <-running.Done():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	t.Cleanup(tree.Stop)
	return tree, running
}

func newTree(t testing.TB, opts []Option) *Tree {
	o := options{ctx: context.Background(), timeout: DefaultTimeout, start: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), leakCheck: true}
	for _, opt := range opts {
		opt(&o)
	}
	tree := &Tree{t: t, Clock: clock.NewFake(o.start), opts: o, changed: make(chan struct{}), marks: map[string]mark{}}
	tree.label = fmt.Sprintf("%s@%p", t.Name(), tree)
	ctx := context.WithoutCancel(o.ctx)
	ctx = pprof.WithLabels(ctx, pprof.Labels(LabelTree, tree.label))
	ctx = runtime.WithClock(ctx, tree.Clock)
	tree.Ctx = runtime.WithEventHook(ctx, tree.record)
	return tree
}

// record is the tree's event hook.
func (tree *Tree) record(e runtime.Event) {
	tree.mu.Lock()
	tree.events = append(tree.events, e)
	if !e.Child.Handle.IsZero() {
		tree.handles = append(tree.handles, e.Child.Handle)
	}
	close(tree.changed)
	tree.changed = make(chan struct{})
	tree.mu.Unlock()
	if tree.opts.hook != nil {
		tree.opts.hook(e)
	}
}

func (tree *Tree) track(h runtime.Handle) {
	tree.mu.Lock()
	tree.handles = append(tree.handles, h)
	tree.mu.Unlock()
}

// Events returns the events recorded so far, in order.
func (tree *Tree) Events() []runtime.Event {
	tree.mu.Lock()
	defer tree.mu.Unlock()
	return slices.Clone(tree.events)
}

// Snapshot returns the live tree: for Start, the top supervisor's
// snapshot; for StartApplications, a supervisor named "applications" whose
// children are the applications, each with its tree.
func (tree *Tree) Snapshot() (runtime.SupervisorSnapshot, error) {
	ctx, cancel := context.WithTimeout(tree.Ctx, tree.opts.timeout)
	defer cancel()
	return tree.root(ctx)
}

// snapshot is Snapshot that fails the test.
func (tree *Tree) snapshot() runtime.SupervisorSnapshot {
	tree.t.Helper()
	snap, err := tree.Snapshot()
	if err != nil {
		tree.t.Fatalf("arbortest: snapshot of the tree: %v", err)
	}
	return snap
}

// find returns the child at path in snap, or an error saying why there is
// none.
func find(snap runtime.SupervisorSnapshot, path string) (runtime.ChildSnapshot, *runtime.SupervisorSnapshot, error) {
	parts := strings.Split(path, "/")
	sup := &snap
	for i, part := range parts {
		var found []runtime.ChildSnapshot
		for _, c := range sup.Children {
			if c.ID == part || (c.Handle != "" && c.Handle[strings.LastIndexByte(c.Handle, '/')+1:] == part) {
				found = append(found, c)
			}
		}
		where := strings.Join(parts[:i], "/")
		if where == "" {
			where = "the top"
		}
		switch {
		case len(found) == 0:
			var ids []string
			for _, c := range sup.Children {
				ids = append(ids, childName(c))
			}
			return runtime.ChildSnapshot{}, nil, fmt.Errorf("no child %q under %s (its children: %s)", part, where, strings.Join(ids, ", "))
		case len(found) > 1:
			return runtime.ChildSnapshot{}, nil, fmt.Errorf("%d children %q under %s: name one by the last element of its handle (%s#n)", len(found), part, where, part)
		}
		if i == len(parts)-1 {
			return found[0], sup, nil
		}
		if found[0].Supervisor == nil {
			return runtime.ChildSnapshot{}, nil, fmt.Errorf("child %q under %s is not a running supervisor", part, where)
		}
		sup = found[0].Supervisor
	}
	panic("unreachable")
}

// childName names c in a path: its id, or its handle's last element.
func childName(c runtime.ChildSnapshot) string {
	if c.ID != "" {
		return c.ID
	}
	return c.Handle[strings.LastIndexByte(c.Handle, '/')+1:]
}

// Child returns the snapshot of the child at path, failing the test when
// there is none. Its Handle is the running incarnation's ("" when none).
func (tree *Tree) Child(path string) runtime.ChildSnapshot {
	tree.t.Helper()
	c, _, err := find(tree.snapshot(), path)
	if err != nil {
		tree.t.Fatalf("arbortest: %v", err)
	}
	return c
}

// Supervisor returns the snapshot of the supervisor at path: "" is the top
// one (for applications, the synthetic "applications").
func (tree *Tree) Supervisor(path string) runtime.SupervisorSnapshot {
	tree.t.Helper()
	snap := tree.snapshot()
	if path == "" {
		return snap
	}
	c, _, err := find(snap, path)
	if err != nil {
		tree.t.Fatalf("arbortest: %v", err)
	}
	if c.Supervisor == nil {
		tree.t.Fatalf("arbortest: %s is not a running supervisor", path)
	}
	return *c.Supervisor
}

// Crash makes the running child at path exit with reason, as a crash of a
// process linked to it would (runtime.Link): its context is cancelled and,
// whatever its Serve returns, its exit reason is reason. It waits until the
// child has exited and returns the handle of the incarnation it crashed.
// The child must honour its context; one that traps exits
// (runtime.TrapExits) would get the crash as a message instead, so Crash
// refuses it.
func (tree *Tree) Crash(path string, reason error) runtime.Handle {
	tree.t.Helper()
	if reason == nil {
		tree.t.Fatalf("arbortest: Crash(%q) needs a reason: a nil one is a normal exit, which does not crash anything", path)
	}
	return tree.crash(path, reason, nil, false)
}

// Panic makes the running child at path crash with a panic of value, as
// Crash does: its exit reason is a *runtime.PanicError with value and the
// stack of the panic.
func (tree *Tree) Panic(path string, value any) runtime.Handle {
	tree.t.Helper()
	return tree.crash(path, nil, value, true)
}

// crasher is a process that links to its target and exits with a crash,
// which the link passes on.
type crasher struct {
	target  runtime.Handle
	reason  error
	value   any
	panics  bool
	linkErr chan error
}

func (c *crasher) Serve(ctx context.Context) error {
	err := runtime.Link(ctx, c.target)
	c.linkErr <- err
	if err != nil {
		return nil
	}
	if c.panics {
		panic(c.value)
	}
	return c.reason
}

func (tree *Tree) crash(path string, reason error, value any, panics bool) runtime.Handle {
	tree.t.Helper()
	c := tree.Child(path)
	h := c.Process
	if c.State != runtime.StateRunning || h.IsZero() {
		tree.t.Fatalf("arbortest: cannot crash %s: it is %s", path, c.State)
	}
	if h.Info().TrapExits {
		tree.t.Fatalf("arbortest: cannot crash %s: it traps exits, so a crash reaches it as an ExitSignal", path)
	}
	tree.setMark(path, tree.eventCount())
	cr := &crasher{target: h, reason: reason, value: value, panics: panics, linkErr: make(chan error, 1)}
	runtime.Spawn(tree.Ctx, "arbortest.crash", cr)
	if err := <-cr.linkErr; err != nil {
		tree.t.Fatalf("arbortest: cannot crash %s (%v): %v", path, h, err)
	}
	select {
	case <-h.Done():
	case <-time.After(tree.opts.timeout):
		tree.t.Fatalf("arbortest: %s (%v) did not exit within %v of its crash: does its Serve return when its context is cancelled?", path, h, tree.opts.timeout)
	}
	return h
}

// WaitEvent waits until an event recorded after the first from events
// matches match, and returns it with its index. It fails the test, showing
// the events, if none comes in time.
func (tree *Tree) WaitEvent(from int, what string, match func(runtime.Event) bool) (runtime.Event, int) {
	tree.t.Helper()
	deadline := time.NewTimer(tree.opts.timeout)
	defer deadline.Stop()
	for {
		tree.mu.Lock()
		for i := from; i < len(tree.events); i++ {
			if e := tree.events[i]; match(e) {
				tree.mu.Unlock()
				return e, i
			}
		}
		changed := tree.changed
		tree.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			tree.t.Fatalf("arbortest: no event %s within %v; events:%s", what, tree.opts.timeout, describe(tree.Events()))
		}
	}
}

func describe(events []runtime.Event) string {
	var b strings.Builder
	for _, e := range events {
		who := e.Application
		if who == "" {
			who = e.Supervisor + " " + e.Child.ID
			if !e.Child.Handle.IsZero() {
				who += " (" + e.Child.Handle.String() + ")"
			}
		}
		fmt.Fprintf(&b, "\n\t%s %s", e.Kind, who)
		if e.Reason != nil {
			fmt.Fprintf(&b, ": %v", e.Reason)
		}
	}
	if b.Len() == 0 {
		return " none"
	}
	return b.String()
}

// WaitRestart waits until the child at path has started again, by its
// supervisor's progress report, and returns the new incarnation's handle:
// the first start after the last Crash, Panic or WaitRestart of that path
// or, when there was none, after the child's first start. It fails the
// test if a supervisor gives up first. A child of a dynamic supervisor
// named by its handle ("session#3") gets a new handle when it restarts:
// any restart of a child with its id under its supervisor counts.
func (tree *Tree) WaitRestart(path string) runtime.Handle {
	tree.t.Helper()
	tree.mu.Lock()
	m, ok := tree.marks[path]
	tree.mu.Unlock()
	if !ok {
		m = tree.newMark(path, -1)
	}
	e, i := tree.WaitEvent(m.from, "restarting "+path, func(e runtime.Event) bool {
		return e.Kind == runtime.ReachedMaxRestartIntensity ||
			(e.Kind == runtime.ChildStarted && e.Supervisor == m.sup && e.Child.ID == m.id)
	})
	if e.Kind == runtime.ReachedMaxRestartIntensity {
		tree.t.Fatalf("arbortest: waiting for %s to restart, supervisor %s gave up: its restart intensity was exceeded (child %s)", path, e.Supervisor, e.Child.ID)
	}
	m.from = i + 1
	tree.mu.Lock()
	tree.marks[path] = m
	tree.mu.Unlock()
	return e.Child.Handle
}

// setMark makes WaitRestart of path look from event index from.
func (tree *Tree) setMark(path string, from int) {
	m := tree.newMark(path, from)
	tree.mu.Lock()
	tree.marks[path] = m
	tree.mu.Unlock()
}

// newMark resolves path to its supervisor and id; from < 0 means after
// the child's first start.
func (tree *Tree) newMark(path string, from int) mark {
	tree.t.Helper()
	c, sup, err := find(tree.snapshot(), path)
	if err != nil {
		tree.t.Fatalf("arbortest: %v", err)
	}
	m := mark{from: from, sup: sup.Name, id: c.ID}
	if from < 0 {
		m.from = 0
		tree.mu.Lock()
		for i, e := range tree.events {
			if e.Kind == runtime.ChildStarted && e.Supervisor == m.sup && e.Child.ID == m.id {
				m.from = i + 1
				break
			}
		}
		tree.mu.Unlock()
	}
	return m
}

func (tree *Tree) eventCount() int {
	tree.mu.Lock()
	defer tree.mu.Unlock()
	return len(tree.events)
}

// WaitState waits until the child at path is in state. It looks again at
// each event and at each exit of the child, never on a timer.
func (tree *Tree) WaitState(path string, state runtime.ChildState) runtime.ChildSnapshot {
	tree.t.Helper()
	deadline := time.NewTimer(tree.opts.timeout)
	defer deadline.Stop()
	for {
		tree.mu.Lock()
		changed := tree.changed
		tree.mu.Unlock()
		c, _, err := find(tree.snapshot(), path)
		if err == nil && c.State == state {
			return c
		}
		exited := (<-chan struct{})(nil)
		if err == nil && !c.Process.IsZero() {
			exited = c.Process.Done()
		}
		select {
		case <-changed:
		case <-exited:
		case <-deadline.C:
			now := "missing (" + fmt.Sprint(err) + ")"
			if err == nil {
				now = string(c.State)
			}
			tree.t.Fatalf("arbortest: %s is %s, not %s, after %v; the tree:\n%s", path, now, state, tree.opts.timeout, tree.Render())
		}
	}
}

// Advance moves the tree's clock forward by d, firing the timers that are
// due: backoff delays, shutdown timeouts, call timeouts.
func (tree *Tree) Advance(d time.Duration) { tree.Clock.Advance(d) }

// AdvancePastWindow moves the clock past the intensity window of the
// supervisor at path ("" for the top one), so that the restarts counted so
// far no longer count: max_seconds plus one second, since the window holds
// whole seconds and includes its ends.
func (tree *Tree) AdvancePastWindow(path string) {
	tree.t.Helper()
	sup := tree.Supervisor(path)
	tree.Advance(time.Duration(sup.MaxSeconds+1) * time.Second)
}

// Render draws the live tree as AssertTree reads it: a line per child,
// "id: state", then ", restarts n" when it has restarted and
// ", last exit \"reason\"" when it has exited, with the children of a
// supervisor indented by a tab below it; then a line per lingering
// goroutine.
func (tree *Tree) Render() string {
	snap, err := tree.Snapshot()
	if err != nil {
		return "(no snapshot: " + err.Error() + ")"
	}
	var b strings.Builder
	render(&b, snap, 0)
	for _, l := range snap.Lingering {
		fmt.Fprintf(&b, "lingering %s: outlived its shutdown of %s by %v\n", l.Handle, l.Shutdown, l.Outlived)
	}
	return b.String()
}

func render(b *strings.Builder, sup runtime.SupervisorSnapshot, depth int) {
	for _, c := range sup.Children {
		b.WriteString(strings.Repeat("\t", depth))
		fmt.Fprintf(b, "%s: %s", childName(c), c.State)
		if c.Restarts > 0 {
			fmt.Fprintf(b, ", restarts %d", c.Restarts)
		}
		if c.LastExit != "" {
			fmt.Fprintf(b, ", last exit %q", c.LastExit)
		}
		b.WriteByte('\n')
		if c.Supervisor != nil {
			render(b, *c.Supervisor, depth+1)
		}
	}
}

// AssertTree fails the test, with a diff, unless the live tree renders as
// want (see Render). want's lines are compared without their common
// leading indentation, and blank lines are ignored, so it can be written
// as an indented raw string.
func (tree *Tree) AssertTree(want string) {
	tree.t.Helper()
	if diff := cmp.Diff(normalize(want), normalize(tree.Render())); diff != "" {
		tree.t.Errorf("arbortest: the tree (-want +got):\n%s", diff)
	}
}

// normalize returns the non-blank lines of s without their common leading
// indentation (tabs and spaces), and without trailing spaces.
func normalize(s string) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, " \t"))
		}
	}
	common := -1
	for _, l := range lines {
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		lines[i] = l[max(common, 0):]
	}
	return lines
}

// Stop stops the tree, waits until every process it ran has returned, and
// then fails the test for each goroutine still carrying the tree's label
// (unless WithoutLeakCheck). It runs when the test ends; calling it
// earlier, or again, is allowed.
//
// The fake clock does not move while the tree stops: a child that returns
// when its context is cancelled stops at once, whatever its shutdown
// value, and one that does not keeps the tree from stopping, which fails
// the test after the timeout with the stacks of the goroutines still
// running. To test a shutdown timeout, Advance the clock while a
// TerminateChild or a Stop of the test's own runs.
func (tree *Tree) Stop() {
	tree.t.Helper()
	tree.stopOnce.Do(tree.stopAndCheck)
}

func (tree *Tree) stopAndCheck() {
	tree.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), tree.opts.timeout)
	defer cancel()
	err := tree.stop(ctx)
	if err == nil {
		select {
		case <-tree.ended:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		tree.t.Errorf("arbortest: the tree did not stop within %v (%v): a child does not return when its context is cancelled?%s",
			tree.opts.timeout, err, describeGroups(tree.leftBehind()))
		return
	}
	if !tree.opts.leakCheck {
		return
	}
	tree.mu.Lock()
	handles := slices.Clone(tree.handles)
	tree.mu.Unlock()
	var lingering []string
	for _, h := range handles {
		select {
		case <-h.Returned():
		case <-ctx.Done():
			lingering = append(lingering, h.String())
		}
	}
	leaks := tree.leaks(ctx)
	if len(leaks) == 0 && len(lingering) == 0 {
		return
	}
	msg := ""
	if len(lingering) > 0 {
		msg = "\nprocesses given up on whose goroutine has not returned (they ignore their context): " + strings.Join(lingering, ", ")
	}
	tree.t.Errorf("arbortest: the tree left goroutines running after it stopped:%s%s", msg, describeGroups(leaks))
}

// leftBehind returns the goroutines carrying the tree's label now.
func (tree *Tree) leftBehind() []goroutines.Group {
	groups, err := goroutines.Profile()
	if err != nil {
		return nil
	}
	return goroutines.Matching(groups, map[string]string{LabelTree: tree.label})
}

func describeGroups(groups []goroutines.Group) string {
	var b strings.Builder
	for _, g := range groups {
		fmt.Fprintf(&b, "\n%d goroutine(s) with labels %v:", g.Count, labelsOf(g))
		for _, f := range g.Stack {
			fmt.Fprintf(&b, "\n\t%s", f)
		}
	}
	return b.String()
}

// LeakGrace is how long, at most, the goroutines a tree's children started
// are given to return after the tree has stopped, as goleak retries.
const LeakGrace = 2 * time.Second

// leaks returns the groups of goroutines that still carry the tree's
// label, giving them LeakGrace (and at most until ctx ends) to return.
func (tree *Tree) leaks(ctx context.Context) []goroutines.Group {
	ctx, cancel := context.WithTimeout(ctx, LeakGrace)
	defer cancel()
	wait := time.Millisecond
	for {
		left := tree.leftBehind()
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return left
		case <-time.After(wait):
			wait = min(2*wait, 100*time.Millisecond)
		}
	}
}

func labelsOf(g goroutines.Group) string {
	var parts []string
	for k, v := range g.Labels {
		if k != LabelTree {
			parts = append(parts, k+"="+v)
		}
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}
