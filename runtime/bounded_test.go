package runtime_test

// Bounded shutdown: stopping a tree whose every worker ignores cancellation
// still finishes, exactly when the shutdown values say, and brutal_kill
// never waits.
//
// The bound of a supervisor is what its children's shutdowns allow: a
// static supervisor stops its children one at a time, so its bound is the
// sum over its children of what each may take; a dynamic supervisor stops
// them all at once, so its bound is the largest. A worker that ignores
// cancellation takes its timeout (0 for brutal_kill); a child supervisor
// takes its own bound, capped by its timeout (0 for brutal_kill, uncapped
// for infinity); when the cap is reached, the child supervisor and its whole
// subtree are killed at once. For a tree with one child per level that is the sum of the
// shutdown values along the path; in general it is this sum over siblings
// and maximum over a dynamic supervisor's children.
//
// With the fake clock the test knows, from a timeline of the stop, which
// timers are armed and which children have been cancelled at each instant.
// It lets the tree get as far as it can at each instant, checks that, and
// advances the clock to the next deadline: the top's Stop must return
// exactly at the bound, not before the last timeout and not after.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
)

type boundKind uint8

const (
	boundWorker boundKind = iota
	boundStatic
	boundDynamic
)

type boundNode struct {
	id       string
	kind     boundKind
	shutdown runtime.ShutdownSpec
	children []*boundNode
}

func (n *boundNode) String() string {
	s := n.id + ":" + n.shutdown.String()
	if n.kind != boundWorker {
		if n.kind == boundDynamic {
			s += ":dynamic"
		}
		s += fmt.Sprint(n.children)
	}
	return s
}

func boundW(id string, sd runtime.ShutdownSpec) *boundNode {
	return &boundNode{id: id, kind: boundWorker, shutdown: sd}
}

func boundS(id string, sd runtime.ShutdownSpec, children ...*boundNode) *boundNode {
	return &boundNode{id: id, kind: boundStatic, shutdown: sd, children: children}
}

func boundD(id string, sd runtime.ShutdownSpec, children ...*boundNode) *boundNode {
	return &boundNode{id: id, kind: boundDynamic, shutdown: sd, children: children}
}

// boundOf is the time a supervisor takes to stop once asked.
func boundOf(n *boundNode) time.Duration {
	var b time.Duration
	for _, c := range n.children {
		w := boundWait(c)
		if n.kind == boundDynamic {
			b = max(b, w)
		} else {
			b += w
		}
	}
	return b
}

// boundWait is the time a supervisor waits for child c.
func boundWait(c *boundNode) time.Duration {
	if c.shutdown == runtime.BrutalKill {
		return 0
	}
	t, isTimeout := c.shutdown.IsTimeout()
	if c.kind == boundWorker {
		return t // a worker that ignores cancellation never has infinity
	}
	if !isTimeout {
		return boundOf(c)
	}
	return min(t, boundOf(c))
}

// boundTimeline is what happens, and when, as a tree stops.
type boundTimeline struct {
	cancels []time.Duration // each child's cancellation
	exits   []time.Duration // each supervisor's exit (not the top's)
	timers  []boundTimer
}

type boundTimer struct {
	armed, ends time.Duration
	fires       bool // false: stopped at ends, when the child supervisor exited
}

func (tl *boundTimeline) stopSup(n *boundNode, t0 time.Duration) time.Duration {
	if n.kind == boundDynamic {
		var limits []time.Duration
		for _, c := range n.children {
			tl.cancels = append(tl.cancels, t0)
			if t, ok := c.shutdown.IsTimeout(); ok && t > 0 {
				limits = append(limits, t)
			}
		}
		slices.Sort(limits)
		limits = slices.Compact(limits)
		t := t0
		for _, l := range limits { // one timer per distinct timeout, in turn
			tl.timers = append(tl.timers, boundTimer{armed: t, ends: t0 + l, fires: true})
			t = t0 + l
		}
		return t
	}
	t := t0
	for i := len(n.children) - 1; i >= 0; i-- {
		t = tl.stopChild(n.children[i], t)
	}
	return t
}

func (tl *boundTimeline) stopChild(c *boundNode, t time.Duration) time.Duration {
	tl.cancels = append(tl.cancels, t)
	d, isTimeout := c.shutdown.IsTimeout()
	if c.kind == boundWorker {
		if !isTimeout || d == 0 {
			return t
		}
		tl.timers = append(tl.timers, boundTimer{armed: t, ends: t + d, fires: true})
		return t + d
	}
	var sub boundTimeline
	f := sub.stopSup(c, t)
	switch {
	case c.shutdown == runtime.BrutalKill:
		tl.merge(sub.killedAt(t), t) // given up at once: its whole subtree is killed
		return t
	case !isTimeout:
		tl.merge(sub, f)
		return f
	case f < t+d:
		tl.merge(sub, f)
		tl.timers = append(tl.timers, boundTimer{armed: t, ends: f})
		return f
	}
	tl.merge(sub.killedAt(t+d), t+d)
	tl.timers = append(tl.timers, boundTimer{armed: t, ends: t + d, fires: true})
	return t + d
}

// merge adds the timeline of a child supervisor that exits at exit.
func (tl *boundTimeline) merge(sub boundTimeline, exit time.Duration) {
	tl.cancels = append(tl.cancels, sub.cancels...)
	tl.exits = append(append(tl.exits, sub.exits...), exit)
	tl.timers = append(tl.timers, sub.timers...)
}

// killedAt is the timeline of a subtree given up on at g: from g on it is
// dead, so everything not yet cancelled is cancelled at g, every supervisor
// in it exits at g, and its timers end there.
func (tl boundTimeline) killedAt(g time.Duration) boundTimeline {
	var out boundTimeline
	for _, c := range tl.cancels {
		out.cancels = append(out.cancels, min(c, g))
	}
	for _, e := range tl.exits {
		out.exits = append(out.exits, min(e, g))
	}
	for _, tm := range tl.timers {
		if tm.armed < g {
			out.timers = append(out.timers, boundTimer{armed: tm.armed, ends: min(tm.ends, g), fires: tm.fires && tm.ends <= g})
		}
	}
	return out
}

// at returns what must have happened by time t, once the tree can go no
// further without the clock.
func (tl *boundTimeline) at(t time.Duration) (cancels, exits, timers int) {
	for _, c := range tl.cancels {
		if c <= t {
			cancels++
		}
	}
	for _, e := range tl.exits {
		if e <= t {
			exits++
		}
	}
	for _, tm := range tl.timers {
		if tm.armed <= t && t < tm.ends {
			timers++
		}
	}
	return cancels, exits, timers
}

// instants lists the deadlines at which the clock must be advanced.
func (tl *boundTimeline) instants() []time.Duration {
	var out []time.Duration
	for _, tm := range tl.timers {
		if tm.fires {
			out = append(out, tm.ends)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// boundTree is a tree that is running: what its children did, as counts.
type boundTree struct {
	mu      sync.Mutex
	cancels int
	exits   int
	changed chan struct{}

	workers  []runtime.Handle
	releases []chan struct{}
	dynamics map[string]*runtime.DynamicSupervisor

	clk  *clock.Fake // nil with the real clock
	root *boundNode
	top  *runtime.Supervisor
}

func (bt *boundTree) bump(which *int) {
	bt.mu.Lock()
	*which++
	close(bt.changed)
	bt.changed = make(chan struct{})
	bt.mu.Unlock()
}

func (bt *boundTree) counts() (int, int, <-chan struct{}) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	return bt.cancels, bt.exits, bt.changed
}

// boundSupervised wraps a child supervisor to count its exit.
type boundSupervised struct {
	svc runtime.Service
	bt  *boundTree
}

func (s boundSupervised) Serve(ctx context.Context) error {
	err := s.svc.Serve(ctx)
	s.bt.bump(&s.bt.exits)
	return err
}

func (bt *boundTree) childSpec(n *boundNode, path string) runtime.ChildSpec {
	path += "/" + n.id
	cs := runtime.ChildSpec{ID: n.id, Shutdown: n.shutdown}
	switch n.kind {
	case boundWorker:
		cs.Start = func(ctx context.Context) (runtime.Service, error) {
			release := make(chan struct{})
			bt.mu.Lock()
			bt.workers = append(bt.workers, runtime.Self(ctx))
			bt.releases = append(bt.releases, release)
			bt.mu.Unlock()
			return chaosService(func(ctx context.Context) error {
				<-ctx.Done()
				bt.bump(&bt.cancels)
				<-release // ignores cancellation until the test lets it go
				return nil
			}), nil
		}
	case boundStatic:
		cs.Type = runtime.TypeSupervisor
		spec := bt.supSpec(n, path)
		cs.Start = func(ctx context.Context) (runtime.Service, error) {
			s, err := runtime.NewSupervisor(ctx, spec)
			if err != nil {
				return nil, err
			}
			context.AfterFunc(ctx, func() { bt.bump(&bt.cancels) })
			return boundSupervised{s, bt}, nil
		}
	case boundDynamic:
		cs.Type = runtime.TypeSupervisor
		cs.Start = func(ctx context.Context) (runtime.Service, error) {
			d, err := runtime.NewDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: path})
			if err != nil {
				return nil, err
			}
			bt.mu.Lock()
			bt.dynamics[path] = d
			bt.mu.Unlock()
			context.AfterFunc(ctx, func() { bt.bump(&bt.cancels) })
			return boundSupervised{d, bt}, nil
		}
	}
	return cs
}

func (bt *boundTree) supSpec(n *boundNode, path string) runtime.SupervisorSpec {
	spec := runtime.SupervisorSpec{Name: path}
	for _, c := range n.children {
		spec.Children = append(spec.Children, bt.childSpec(c, path))
	}
	return spec
}

// boundStart starts root's tree, with the fake clock clk or, if it is nil,
// the real one; then the dynamic supervisors' children. Cleanup lets every
// worker go and waits until the whole tree has exited.
func boundStart(t *testing.T, clk *clock.Fake, root *boundNode) *boundTree {
	t.Helper()
	bt := &boundTree{changed: make(chan struct{}), dynamics: map[string]*runtime.DynamicSupervisor{}, clk: clk, root: root}
	ctx := runtime.WithEventHook(context.Background(), func(runtime.Event) {})
	if clk != nil {
		ctx = runtime.WithClock(ctx, clk)
	}
	top, err := runtime.StartSupervisor(ctx, bt.supSpec(root, ""))
	if err != nil {
		t.Fatal(err)
	}
	bt.top = top
	t.Cleanup(bt.finish)
	var add func(n *boundNode, path string)
	add = func(n *boundNode, path string) {
		path += "/" + n.id
		for _, c := range n.children {
			if n.kind == boundDynamic {
				if _, err := bt.dynamics[path].StartChild(ctx, bt.childSpec(c, path)); err != nil {
					t.Fatal(err)
				}
			}
			add(c, path)
		}
	}
	for _, c := range root.children {
		add(c, "")
	}
	return bt
}

// finish lets every worker go, stops the tree if the test has not, fires
// any timer left, and waits until every worker and supervisor has exited,
// even after a failure.
func (bt *boundTree) finish() {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	if bt.clk != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for bt.clk.WaitForTimers(1, quit) {
				bt.clk.Advance(time.Hour)
			}
		}()
	}
	defer func() { close(quit); wg.Wait() }()
	bt.mu.Lock()
	for _, r := range bt.releases {
		close(r)
	}
	bt.releases = nil
	workers := bt.workers
	bt.mu.Unlock()
	guard := time.After(waitLimit)
	go bt.top.Stop(context.Background())
	var tl boundTimeline
	tl.stopSup(bt.root, 0)
	for _, c := range append([]<-chan struct{}{bt.top.Done()}, boundDones(workers)...) {
		select {
		case <-c:
		case <-guard:
			panic("bounded shutdown test: the tree did not exit")
		}
	}
	for {
		_, e, changed := bt.counts()
		if e >= len(tl.exits) {
			return
		}
		select {
		case <-changed:
		case <-guard:
			panic("bounded shutdown test: supervisors did not exit")
		}
	}
}

func boundDones(hs []runtime.Handle) []<-chan struct{} {
	var out []<-chan struct{}
	for _, h := range hs {
		out = append(out, h.Done())
	}
	return out
}

// boundStopAtBound stops root's tree on a fake clock, instant by instant,
// and checks that the stop returns exactly at boundOf(root).
func boundStopAtBound(t *testing.T, root *boundNode) {
	t.Helper()
	bound := boundOf(root)
	var tl boundTimeline
	if got := tl.stopSup(root, 0); got != bound {
		t.Fatalf("timeline ends at %v, bound is %v", got, bound)
	}
	clk := clock.NewFake(time.Unix(1_000_000, 0))
	bt := boundStart(t, clk, root)
	top := bt.top
	stopped := make(chan error, 1)
	go func() { stopped <- top.Stop(context.Background()) }()

	now := time.Duration(0)
	for _, next := range append([]time.Duration{0}, tl.instants()...) {
		clk.Advance(next - now)
		now = next
		wantC, wantE, wantT := tl.at(now)
		boundSettle(t, bt, wantC, wantE, wantT, now >= bound, stopped, fmt.Sprintf("at %v (bound %v) stopping %v", now, bound, root))
		if now < bound {
			select {
			case err := <-stopped:
				t.Fatalf("Stop returned (%v) at %v, before the bound %v; tree %v", err, now, bound, root)
			default:
			}
		}
	}
	if now < bound {
		t.Fatalf("no timer left at %v, before the bound %v; tree %v", now, bound, root)
	}
	if err := top.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
}

// boundSettle waits until the tree has done what it must have by now: the
// cancellations, the supervisors' exits, the armed timers and (with
// topDone) the top's exit; then checks that it has done no more.
func boundSettle(t *testing.T, bt *boundTree, wantC, wantE, wantT int, topDone bool, stopped chan error, where string) {
	t.Helper()
	clk := bt.clk
	guard := time.NewTimer(waitLimit) // only a hang detector
	defer guard.Stop()
	for {
		c, e, changed := bt.counts()
		if c >= wantC && e >= wantE {
			break
		}
		select {
		case <-changed:
		case <-guard.C:
			t.Fatalf("%s: %d of %d children cancelled, %d of %d supervisors exited", where, c, wantC, e, wantE)
		}
	}
	if topDone {
		select {
		case err := <-stopped:
			stopped <- err
		case <-guard.C:
			t.Fatalf("%s: Stop has not returned at the bound", where)
		}
	}
	if clk == nil {
		return
	}
	armed := make(chan bool, 1)
	quit := make(chan struct{})
	defer close(quit)
	go func() { armed <- clk.WaitForTimers(wantT, quit) }()
	select {
	case <-armed:
	case <-guard.C:
		t.Fatalf("%s: %d of %d timers armed", where, clk.Timers(), wantT)
	}
	if c, e, _ := bt.counts(); c != wantC || e != wantE || clk.Timers() != wantT {
		t.Fatalf("%s: %d children cancelled, %d supervisors exited, %d timers armed; want %d, %d, %d",
			where, c, e, clk.Timers(), wantC, wantE, wantT)
	}
}

func TestBoundedShutdownExamples(t *testing.T) {
	q := 100 * time.Millisecond
	to := func(n int) runtime.ShutdownSpec { return runtime.Timeout(time.Duration(n) * q) }
	bk, inf := runtime.BrutalKill, runtime.Infinity
	for _, c := range []struct {
		name  string
		root  *boundNode
		bound time.Duration
	}{
		// One child per level: the sum along the path.
		{"path", boundS("top", inf, boundW("w0", to(3)), boundS("s1", inf, boundW("w1", to(2)), boundS("s2", to(10), boundW("w2", to(1)), boundW("w3", to(1))))), 7 * q},
		// Siblings stop one after the other: their waits add up.
		{"siblings", boundS("top", inf, boundW("a", to(1)), boundW("b", to(2)), boundW("c", to(4))), 7 * q},
		// A supervisor's timeout caps what its children may take; once it is
		// given up, everything below it is killed at once.
		{"capped", boundS("top", inf, boundS("s", to(2), boundW("w", to(5)), boundW("v", to(1)))), 2 * q},
		// A dynamic supervisor waits for all its children at once.
		{"dynamic", boundS("top", inf, boundD("d", inf, boundW("a", to(1)), boundW("b", to(4)), boundW("c", bk), boundW("e", runtime.Timeout(0)), boundW("f", to(4)))), 4 * q},
		// brutal_kill never waits, at any level, and Timeout(0) gives up at once.
		{"brutal", boundS("top", inf, boundW("a", bk), boundS("s", bk, boundW("w", to(5))), boundD("d", bk, boundW("x", to(3))), boundW("z", runtime.Timeout(0))), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := boundOf(c.root); got != c.bound {
				t.Fatalf("boundOf = %v, want %v", got, c.bound)
			}
			boundStopAtBound(t, c.root)
		})
	}
}

// A tree where everything is brutal_kill stops without the clock moving and
// without arming a single timer.
func TestBoundedShutdownBrutalKillNeverWaits(t *testing.T) {
	bk := runtime.BrutalKill
	root := boundS("top", runtime.Infinity,
		boundW("a", bk), boundS("s", bk, boundW("b", bk), boundS("t", bk, boundW("c", bk))), boundD("d", bk, boundW("e", bk), boundW("f", bk)), boundW("g", bk))
	clk := clock.NewFake(time.Unix(1_000_000, 0))
	bt := boundStart(t, clk, root)
	start := clk.Now()
	if err := bt.top.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The supervisors given up are killed with everything below them: all
	// of it happens with the clock standing still.
	var tl boundTimeline
	tl.stopSup(root, 0)
	wantC, wantE, _ := tl.at(0)
	boundSettle(t, bt, wantC, wantE, 0, false, nil, "brutal_kill tree")
	if !clk.Now().Equal(start) {
		t.Fatal("the clock moved")
	}
}

// boundRandomTree makes a random tree whose workers all ignore cancellation.
func boundRandomTree(rng *rand.Rand, q time.Duration) *boundNode {
	workerSD := func() runtime.ShutdownSpec {
		switch r := rng.IntN(10); {
		case r < 2:
			return runtime.BrutalKill
		case r == 2:
			return runtime.Timeout(0)
		}
		return runtime.Timeout(time.Duration(1+rng.IntN(5)) * q)
	}
	supSD := func() runtime.ShutdownSpec {
		switch r := rng.IntN(10); {
		case r < 2:
			return runtime.BrutalKill
		case r < 5:
			return runtime.Infinity
		}
		return runtime.Timeout(time.Duration(1+rng.IntN(12)) * q)
	}
	next := 0
	id := func(p string) string { next++; return fmt.Sprintf("%s%d", p, next) }
	var gen func(depth int) []*boundNode
	gen = func(depth int) []*boundNode {
		var out []*boundNode
		for range 1 + rng.IntN(4) {
			switch r := rng.IntN(10); {
			case depth < 3 && r < 3:
				out = append(out, boundS(id("s"), supSD(), gen(depth+1)...))
			case depth < 3 && r == 3:
				d := boundD(id("d"), supSD())
				for range 1 + rng.IntN(4) {
					d.children = append(d.children, boundW(id("w"), workerSD()))
				}
				out = append(out, d)
			default:
				out = append(out, boundW(id("w"), workerSD()))
			}
		}
		return out
	}
	return boundS("top", runtime.Infinity, gen(0)...)
}

func TestBoundedShutdownRandomTrees(t *testing.T) {
	seed := *chaosSeedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	for i := range 40 {
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
		root := boundRandomTree(rng, 100*time.Millisecond)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("seed %d (go test ./runtime -run 'TestBoundedShutdownRandomTrees/%d$' -chaos.seed=%d), tree %v", seed, i, seed, root)
				}
			}()
			boundStopAtBound(t, root)
		})
	}
}

// With the real clock and timeouts of a few milliseconds, the stop takes at
// least the bound (every timeout really elapses) and finishes.
func TestBoundedShutdownRealClock(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var root *boundNode
	for root == nil || boundOf(root) == 0 {
		root = boundRandomTree(rng, 2*time.Millisecond)
	}
	bound := boundOf(root)
	bt := boundStart(t, nil, root)
	stopCtx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	start := time.Now()
	if err := bt.top.Stop(stopCtx); err != nil {
		t.Fatalf("Stop = %v; tree %v", err, root)
	}
	if took := time.Since(start); took < bound {
		t.Fatalf("Stop took %v, less than the bound %v: a timeout did not elapse; tree %v", took, bound, root)
	}
	// Supervisors that were given up are dead, and their goroutines return.
	var tl boundTimeline
	tl.stopSup(root, 0)
	boundSettle(t, bt, len(tl.cancels), len(tl.exits), 0, false, nil, fmt.Sprintf("real clock, tree %v", root))
}
