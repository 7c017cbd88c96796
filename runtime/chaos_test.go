package runtime_test

// The chaos test: a tree of more than 1,000 children over four levels, with
// every strategy, a dynamic supervisor and every restart type, under random
// crashes, panics, normal and shutdown exits, failing and panicking
// restarts, slow starts (with another exit queued behind them), children that
// ignore cancellation (given up as killed after a short timeout, or at once
// with brutal_kill), API calls (start, terminate, restart, delete, stop) and
// time going by.
//
// One operation at a time is injected, and the model of chaosmodel_test.go
// predicts what it does: every report of every supervisor, which
// supervisors reach their maximum restart intensity and how that escalates,
// the results of API calls, and the resulting tree. The test drives the
// fake clock as the model says (only shutdown timeouts of children that
// ignore cancellation make it move during an operation), waits for the
// predicted reports, and compares them and the tree (WhichChildren,
// CountChildren, the lingering goroutines) with the model. After the storm, every
// permanent child of a live supervisor is running unless it was stopped
// through the API, the tree is stopped, and goleak (TestMain) checks that
// nothing is left running.
//
// go test ./runtime -run 'TestChaos$' runs a short storm (about 2 s).
// go test ./runtime -run 'TestChaos$' -v -chaos.duration=10m runs rounds for
// that long and prints totals; the package must come before these flags,
// which go test hands to the test binary. -chaos.seed picks the seed (the
// default is the time) and -chaos.ops runs exactly that many operations in
// one round, so that a failure can be reproduced with the command it prints.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
)

var (
	chaosSeedFlag     = flag.Int64("chaos.seed", 0, "seed of the chaos test (0: from the time)")
	chaosDurationFlag = flag.Duration("chaos.duration", 0, "run the chaos and load tests for this long (0: a short run)")
	chaosOpsFlag      = flag.Int("chaos.ops", 0, "run exactly this many chaos operations in one round (0: as many as time allows)")
)

// chaosShortBudget is how long the storm lasts in the normal suite.
const chaosShortBudget = 2 * time.Second

var (
	errChaosCrash = errors.New("chaos crash")
	errChaosStart = errors.New("chaos start error")
	errChaosBye   = errors.New("chaos bye")
)

// chaosTotals are counted over all rounds.
type chaosTotals struct {
	rounds, ops, crashes, apiCalls, advances int
	slowStarts, injected, killed, restarts   int
	giveUps, topExits, mismatches, children  int
	namedGivenUp, nameChecks                 int
}

func TestChaos(t *testing.T) {
	seed := *chaosSeedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	budget := chaosShortBudget
	if *chaosDurationFlag > 0 {
		budget = *chaosDurationFlag
	}
	start := time.Now()
	var tot chaosTotals
	for round := 0; ; round++ {
		rseed := seed + int64(round)
		maxOps, deadline := 1<<30, start.Add(budget)
		if *chaosOpsFlag > 0 {
			maxOps, deadline = *chaosOpsFlag, time.Now().Add(24*time.Hour)
		}
		step, err := chaosRound(rseed, maxOps, deadline, &tot)
		if err != nil {
			tot.mismatches++
			t.Errorf("chaos mismatch (seed %d, round %d, round seed %d, operation %d): %v\n"+
				"reproduce: go test ./runtime -run 'TestChaos$' -v -chaos.seed=%d -chaos.ops=%d",
				seed, round, rseed, step, err, rseed, step+1)
			if *chaosDurationFlag == 0 {
				break
			}
		}
		if *chaosOpsFlag > 0 || time.Since(start) >= budget {
			break
		}
	}
	t.Logf("chaos: seed %d, %v: %d rounds, %d operations (%d exits injected, %d API calls, %d time steps, "+
		"%d slow starts with %d exits queued behind them), %d restarts, %d children given up (they ignored cancellation; %d held a name), "+
		"%d registry names checked against the model, "+
		"%d supervisors reached max intensity (%d times the top), trees of up to %d children, %d mismatches",
		seed, time.Since(start).Round(time.Millisecond), tot.rounds, tot.ops, tot.crashes, tot.apiCalls, tot.advances,
		tot.slowStarts, tot.injected, tot.restarts, tot.killed, tot.namedGivenUp, tot.nameChecks,
		tot.giveUps, tot.topExits, tot.children, tot.mismatches)
}

// --- the tree ---

// chaosTree makes the tree of a round: a one_for_one top with a few
// workers, eight supervisors of the three strategies (one transient, one
// temporary), each with workers and four supervisors of 22 to 28 workers
// (some with a fifth level), and a dynamic supervisor that the test fills.
func chaosTree(rng *rand.Rand, stubbornTimeout time.Duration) (*chaosSpec, int) {
	n := 0
	pick := func(xs ...int) int { return xs[rng.IntN(len(xs))] }
	worker := func(parent *chaosSpec, id string) {
		sp := &chaosSpec{id: id, path: parent.path + "/" + id, kind: chaosWorkerKind, restart: chaosRestartType(rng)}
		chaosWorkerShutdown(rng, sp, stubbornTimeout)
		parent.children = append(parent.children, sp)
		n++
	}
	sup := func(parent *chaosSpec, id string, strategy runtime.Strategy, restart runtime.Restart, maxR, maxS int) *chaosSpec {
		sp := &chaosSpec{id: id, path: parent.path + "/" + id, kind: chaosStaticKind, restart: restart,
			shutdown: runtime.Infinity, strategy: strategy, maxR: maxR, maxS: maxS}
		parent.children = append(parent.children, sp)
		n++
		return sp
	}
	strategies := []runtime.Strategy{runtime.OneForOne, runtime.OneForAll, runtime.RestForOne}
	top := &chaosSpec{id: "top", path: "top", kind: chaosStaticKind, strategy: runtime.OneForOne, maxR: 20, maxS: 5}
	worker(top, "w0")
	worker(top, "w1")
	for i := range 8 {
		restart := runtime.Permanent
		switch i {
		case 5:
			restart = runtime.Transient
		case 7:
			restart = runtime.Temporary
		}
		l2 := sup(top, fmt.Sprintf("s%d", i), strategies[i%3], restart, pick(1, 2, 3, 5), pick(1, 2, 5, 10))
		w := 0
		l3s := 0
		for _, kind := range "wwswsswsw" {
			if kind == 'w' {
				worker(l2, fmt.Sprintf("w%d", w))
				w++
				continue
			}
			restart := runtime.Permanent
			if r := rng.IntN(10); r >= 7 {
				restart = runtime.Transient
				if r == 9 {
					restart = runtime.Temporary
				}
			}
			l3 := sup(l2, fmt.Sprintf("s%d.%d", i, l3s), strategies[rng.IntN(3)], restart, pick(0, 1, 2, 3, 5), pick(1, 2, 3, 5))
			l3s++
			size := 22 + rng.IntN(7)
			deep := rng.IntN(4) == 0
			for j := range size {
				if deep && j == size/2 {
					l4 := sup(l3, l3.id+".x", strategies[rng.IntN(3)], runtime.Permanent, pick(1, 2, 3), pick(1, 5))
					for k := range 4 + rng.IntN(3) {
						worker(l4, fmt.Sprintf("w%d", k))
					}
				}
				worker(l3, fmt.Sprintf("w%d", j))
			}
		}
	}
	top.children = append(top.children, &chaosSpec{id: "dyn", path: "top/dyn", kind: chaosDynamicKind,
		restart: runtime.Permanent, shutdown: runtime.Infinity, maxR: 5, maxS: 5, maxChildren: 400})
	n++
	worker(top, "w2")
	return top, n
}

func chaosRestartType(rng *rand.Rand) runtime.Restart {
	switch r := rng.IntN(100); {
	case r < 60:
		return runtime.Permanent
	case r < 85:
		return runtime.Transient
	}
	return runtime.Temporary
}

// chaosWorkerShutdown gives a worker its shutdown, and maybe a name.
// Cooperative workers get infinity or brutal_kill, so that the only timers
// ever armed are those of stubborn workers (all with the same timeout),
// which the test fires. Stubborn workers, the ones given up on, are named
// most often: a given-up incarnation must free its name at once, or its
// restart fails with already_started.
func chaosWorkerShutdown(rng *rand.Rand, sp *chaosSpec, stubbornTimeout time.Duration) {
	stubborn := rng.IntN(100) < 6
	sp.named = rng.IntN(4) == 0 || stubborn && rng.IntN(4) > 0
	if stubborn {
		sp.stubborn = true
		switch r := rng.IntN(10); {
		case r < 7:
			sp.shutdown = runtime.Timeout(stubbornTimeout)
		case r < 9:
			sp.shutdown = runtime.BrutalKill
		default:
			sp.shutdown = runtime.Timeout(0)
		}
		return
	}
	sp.shutdown = runtime.Infinity
	if rng.IntN(4) == 0 {
		sp.shutdown = runtime.BrutalKill
	}
}

// --- the runtime side ---

// chaosWorker is a child the test controls: it returns what ctl gives it,
// or stops when cancelled; a stubborn one waits for release first.
type chaosWorker struct {
	ctl      chan func() error
	stubborn bool
	release  chan struct{}
}

func (w *chaosWorker) Serve(ctx context.Context) error {
	select {
	case f := <-w.ctl:
		return f()
	case <-ctx.Done():
		if w.stubborn {
			<-w.release
		}
		return ctx.Err()
	}
}

func chaosExitFunc(r chaosReason) func() error {
	switch r {
	case chaosNormal:
		return func() error { return nil }
	case chaosShutdown:
		return func() error { return runtime.Shutdown(errChaosBye) }
	case chaosPanic:
		return func() error { panic("chaos panic") }
	}
	return func() error { return errChaosCrash }
}

// chaosProcRT is one incarnation the runtime started.
type chaosProcRT struct {
	h     runtime.Handle
	w     *chaosWorker
	sup   *runtime.Supervisor
	dyn   *runtime.DynamicSupervisor
	named bool // it registered its name
}

type chaosSlowStart struct {
	path    string
	release chan struct{}
}

type chaosRec struct{ sup, ev string }

// chaosLog collects the reports of every supervisor of the tree.
type chaosLog struct {
	mu      sync.Mutex
	recs    []chaosRec
	changed chan struct{}
}

func (l *chaosLog) add(e runtime.Event) {
	class := ""
	if e.Kind == runtime.ChildTerminated || e.Kind == runtime.ShutdownError {
		class = chaosReasonClass(e.Reason)
	}
	r := chaosRec{sup: e.Supervisor, ev: chaosEventString(e.Kind, e.Child.ID, class, e.Kind == runtime.ChildStarted && e.External)}
	l.mu.Lock()
	l.recs = append(l.recs, r)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// enough reports whether every supervisor has made at least the reports
// expected of it, and returns the channel closed at the next report.
func (l *chaosLog) enough(want map[string][]string) (<-chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := map[string]int{}
	for _, r := range l.recs {
		got[r.sup]++
	}
	for sup, evs := range want {
		if got[sup] < len(evs) {
			return l.changed, false
		}
	}
	return l.changed, true
}

// take returns the reports so far, per supervisor, and forgets them.
func (l *chaosLog) take() map[string][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string][]string{}
	for _, r := range l.recs {
		out[r.sup] = append(out[r.sup], r.ev)
	}
	l.recs = nil
	return out
}

func chaosReasonClass(err error) string {
	var pe *runtime.PanicError
	switch {
	case err == nil:
		return "normal"
	case errors.Is(err, runtime.ErrKilled):
		return "killed"
	case errors.Is(err, runtime.ErrReachedMaxRestartIntensity):
		return "intensity"
	case errors.As(err, &pe):
		return "panic"
	case runtime.IsShutdown(err):
		return "shutdown"
	case errors.Is(err, errChaosCrash):
		return "crash"
	}
	return "other(" + err.Error() + ")"
}

func chaosResultClass(err error) string {
	var sce *runtime.StartChildError
	var pe *runtime.PanicError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &sce), errors.Is(err, errChaosStart), errors.As(err, &pe):
		return "start_failed"
	case errors.Is(err, runtime.ErrNotFound):
		return "not_found"
	case errors.Is(err, runtime.ErrAlreadyStarted):
		return "already_started"
	case errors.Is(err, runtime.ErrAlreadyPresent):
		return "already_present"
	case errors.Is(err, runtime.ErrRunning):
		return "running"
	case errors.Is(err, runtime.ErrRestarting):
		return "restarting"
	case errors.Is(err, runtime.ErrMaxChildren):
		return "max_children"
	}
	return "error(" + err.Error() + ")"
}

// chaosRT is the runtime side of a round: the fake clock, the start
// functions and what they started, and the reports.
type chaosRT struct {
	clk *clock.Fake
	ctx context.Context
	d   time.Duration // the timeout of stubborn workers
	log *chaosLog

	mu       sync.Mutex
	procs    map[chaosProc]*chaosProcRT
	byHandle map[runtime.Handle]chaosProc
	incs     map[string]int
	fails    map[string]int
	slow     map[string]bool
	stubborn map[*chaosWorker]bool // not yet released

	slowCh chan chaosSlowStart
	abort  chan struct{}
	top    *runtime.Supervisor
	reg    *runtime.Registry[string] // the names of named workers: their paths
}

func newChaosRT(d time.Duration) *chaosRT {
	rt := &chaosRT{
		clk: clock.NewFake(time.Unix(1_000_000, 0)), d: d,
		log:   &chaosLog{changed: make(chan struct{})},
		procs: map[chaosProc]*chaosProcRT{}, byHandle: map[runtime.Handle]chaosProc{},
		incs: map[string]int{}, fails: map[string]int{}, slow: map[string]bool{},
		stubborn: map[*chaosWorker]bool{},
		slowCh:   make(chan chaosSlowStart), abort: make(chan struct{}),
		reg: runtime.NewRegistry[string](),
	}
	rt.ctx = runtime.WithEventHook(runtime.WithClock(context.Background(), rt.clk), rt.log.add)
	return rt
}

func (rt *chaosRT) register(path string, h runtime.Handle, p *chaosProcRT) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.incs[path]++
	key := chaosProc{path, rt.incs[path]}
	p.h = h
	rt.procs[key] = p
	rt.byHandle[h] = key
	if p.w != nil && p.w.stubborn {
		rt.stubborn[p.w] = true
	}
}

func (rt *chaosRT) proc(key chaosProc) *chaosProcRT {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.procs[key]
}

func (rt *chaosRT) keyOf(h runtime.Handle) (chaosProc, bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	k, ok := rt.byHandle[h]
	return k, ok
}

func (rt *chaosRT) setFails(path string, n int) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.fails[path] = n
}

func (rt *chaosRT) setSlow(path string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.slow[path] = true
}

func (rt *chaosRT) clearPlans() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	clear(rt.fails)
	clear(rt.slow)
}

func (rt *chaosRT) release(w *chaosWorker) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.stubborn[w] {
		delete(rt.stubborn, w)
		close(w.release)
	}
}

func (rt *chaosRT) releaseAll() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for w := range rt.stubborn {
		close(w.release)
	}
	clear(rt.stubborn)
}

func (rt *chaosRT) childSpec(sp *chaosSpec) runtime.ChildSpec {
	cs := runtime.ChildSpec{ID: sp.id, Restart: sp.restart, Shutdown: sp.shutdown}
	if sp.named {
		cs.Name = rt.reg.Name(sp.path)
	}
	switch sp.kind {
	case chaosWorkerKind:
		cs.Start = func(ctx context.Context) (runtime.Service, error) { return rt.startWorker(ctx, sp) }
	case chaosStaticKind:
		cs.Type = runtime.TypeSupervisor
		spec := rt.supSpec(sp)
		cs.Start = func(ctx context.Context) (runtime.Service, error) {
			s, err := runtime.NewSupervisor(ctx, spec)
			if err != nil {
				return nil, err
			}
			rt.register(sp.path, runtime.Self(ctx), &chaosProcRT{sup: s})
			return s, nil
		}
	case chaosDynamicKind:
		cs.Type = runtime.TypeSupervisor
		spec := runtime.DynamicSupervisorSpec{Name: sp.path, MaxRestarts: sp.maxR, MaxSeconds: sp.maxS, MaxChildren: sp.maxChildren}
		cs.Start = func(ctx context.Context) (runtime.Service, error) {
			d, err := runtime.NewDynamicSupervisor(ctx, spec)
			if err != nil {
				return nil, err
			}
			rt.register(sp.path, runtime.Self(ctx), &chaosProcRT{dyn: d})
			return d, nil
		}
	}
	return cs
}

func (rt *chaosRT) supSpec(sp *chaosSpec) runtime.SupervisorSpec {
	spec := runtime.SupervisorSpec{Name: sp.path, Flags: runtime.Flags{Strategy: sp.strategy, MaxRestarts: sp.maxR, MaxSeconds: sp.maxS}}
	for _, c := range sp.children {
		spec.Children = append(spec.Children, rt.childSpec(c))
	}
	return spec
}

func (rt *chaosRT) startWorker(ctx context.Context, sp *chaosSpec) (runtime.Service, error) {
	rt.mu.Lock()
	if n := rt.fails[sp.path]; n > 0 {
		rt.fails[sp.path] = n - 1
		rt.mu.Unlock()
		if n%2 == 0 {
			panic("chaos: the start function panics")
		}
		return nil, errChaosStart
	}
	slow := rt.slow[sp.path]
	delete(rt.slow, sp.path)
	rt.mu.Unlock()
	if slow {
		release := make(chan struct{})
		select {
		case rt.slowCh <- chaosSlowStart{path: sp.path, release: release}:
			select {
			case <-release:
			case <-rt.abort:
			}
		case <-rt.abort:
		}
	}
	w := &chaosWorker{ctl: make(chan func() error, 1), stubborn: sp.stubborn, release: make(chan struct{})}
	rt.register(sp.path, runtime.Self(ctx), &chaosProcRT{w: w, named: sp.named})
	return w, nil
}

type chaosAPIResult struct {
	class string
	h     runtime.Handle
}

func chaosClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// settle waits until the tree has done what the model predicts of an
// operation: the reports, the shutdown timeouts (it advances the fake clock
// once a timer is armed), the slow starts (it queues the predicted exit
// behind each, then lets it go), the API call's return and the top's exit.
// It then compares the reports.
func (rt *chaosRT) settle(p *chaosPrediction, api <-chan chaosAPIResult) (chaosAPIResult, error) {
	var res chaosAPIResult
	guard := time.NewTimer(waitLimit) // only a hang detector
	defer guard.Stop()
	stopWait := make(chan struct{})
	armed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer func() { close(stopWait); wg.Wait() }()
	waiting, advanced, slowDone, apiDone := false, 0, 0, api == nil
	var topDone <-chan struct{}
	topOK := !p.topExit
	if p.topExit {
		topDone = rt.top.Done()
	}
	for {
		if advanced < p.advances && !waiting {
			waiting = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				if rt.clk.WaitForTimers(1, stopWait) {
					armed <- struct{}{}
				}
			}()
		}
		changed, enough := rt.log.enough(p.events)
		if enough && advanced == p.advances && slowDone == len(p.slow) && apiDone && topOK {
			break
		}
		select {
		case <-changed:
		case <-armed:
			waiting = false
			rt.clk.Advance(rt.d)
			advanced++
		case s := <-rt.slowCh:
			if slowDone >= len(p.slow) || s.path != p.slow[slowDone].slowPath {
				close(s.release)
				return res, fmt.Errorf("unexpected slow start of %s (expected %d: %+v)%s", s.path, len(p.slow), p.slow, rt.eventDiff(p.events, rt.log.take()))
			}
			inj := p.slow[slowDone]
			slowDone++
			if inj.ok {
				if err := rt.inject(inj, guard.C); err != nil {
					close(s.release)
					return res, err
				}
			}
			close(s.release)
		case res = <-api:
			apiDone = true
		case <-topDone:
			topDone, topOK = nil, true
		case <-guard.C:
			return res, fmt.Errorf("the tree did not do what the model predicts: timeouts fired %d of %d, slow starts %d of %d, API call returned %v, top exited %v (want %v), timers armed %d%s",
				advanced, p.advances, slowDone, len(p.slow), apiDone, topOK, p.topExit, rt.clk.Timers(), rt.eventDiff(p.events, rt.log.take()))
		}
	}
	if d := rt.eventDiff(p.events, rt.log.take()); d != "" {
		return res, errors.New("reports differ from the model's:" + d)
	}
	// A supervisor's exit may make its parent do nothing to report (a
	// transient one that gave up): wait until it is in the parent's mailbox.
	for _, key := range p.stopped {
		proc := rt.proc(key)
		if proc == nil {
			return res, fmt.Errorf("supervisor %v stopped, but the runtime never started it", key)
		}
		select {
		case <-proc.h.Done():
		case <-guard.C:
			return res, fmt.Errorf("supervisor %v did not exit", key)
		}
	}
	return res, nil
}

// inject makes the victim of a slow start exit and waits until its exit is
// in its supervisor's mailbox.
func (rt *chaosRT) inject(inj chaosInjection, guard <-chan time.Time) error {
	v := rt.proc(inj.victim)
	if v == nil || v.w == nil {
		return fmt.Errorf("slow start of %s: no worker %v to make exit", inj.slowPath, inj.victim)
	}
	if !v.h.Alive() {
		return fmt.Errorf("slow start of %s: %v is not running, the model says it is", inj.slowPath, inj.victim)
	}
	select {
	case v.w.ctl <- chaosExitFunc(inj.reason):
	default:
		return fmt.Errorf("slow start of %s: %v was already told to exit", inj.slowPath, inj.victim)
	}
	select {
	case <-v.h.Done():
		return nil
	case <-guard:
		return fmt.Errorf("slow start of %s: %v did not exit", inj.slowPath, inj.victim)
	}
}

// eventDiff compares reports per supervisor: in order, except for a
// dynamic supervisor, which stops its children all at once.
func (rt *chaosRT) eventDiff(want, got map[string][]string) string {
	names := map[string]bool{}
	for k := range want {
		names[k] = true
	}
	for k := range got {
		names[k] = true
	}
	var keys []string
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		w, g := slices.Clone(want[k]), slices.Clone(got[k])
		if strings.HasSuffix(k, "/dyn") {
			sort.Strings(w)
			sort.Strings(g)
		}
		if !slices.Equal(w, g) {
			fmt.Fprintf(&b, "\n  supervisor %s:\n    model:   %s\n    runtime: %s", k, strings.Join(w, ", "), strings.Join(g, ", "))
		}
	}
	return b.String()
}

// --- a round ---

type chaosRun struct {
	rng   *rand.Rand
	m     *chaosModel
	rt    *chaosRT
	tot   *chaosTotals
	next  int // numbers the children added through the API
	steps int
}

// chaosRound runs one tree from start to stop and returns the number of
// operations done and the first mismatch.
func chaosRound(seed int64, maxOps int, deadline time.Time, tot *chaosTotals) (int, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc4a05))
	d := []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, 700 * time.Millisecond}[rng.IntN(3)]
	spec, n := chaosTree(rng, d)
	r := &chaosRun{rng: rng, m: newChaosModel(rng, d), rt: newChaosRT(d), tot: tot}
	tot.rounds++
	err := r.run(spec, maxOps, deadline)
	tot.restarts += r.m.restarts
	tot.giveUps += r.m.giveUps
	tot.topExits += r.m.topExits
	tot.children = max(tot.children, n+200)
	if terr := r.teardown(); terr != nil && err == nil {
		err = terr
	}
	return r.steps, err
}

func (r *chaosRun) run(spec *chaosSpec, maxOps int, deadline time.Time) error {
	if err := r.model(func() { r.m.startTop(spec) }); err != nil {
		return err
	}
	p := r.m.take()
	top, err := runtime.StartSupervisor(r.rt.ctx, r.rt.supSpec(spec))
	if err != nil {
		return fmt.Errorf("StartSupervisor: %v", err)
	}
	r.rt.top = top
	r.rt.register("top", top.Handle(), &chaosProcRT{sup: top})
	if err := r.check("start the tree", p, nil); err != nil {
		return err
	}
	for range 200 {
		if err := r.opDynamicStart(false); err != nil {
			return err
		}
	}
	if err := r.compareAll(); err != nil {
		return fmt.Errorf("after the tree started: %v", err)
	}
	for r.steps < maxOps && time.Now().Before(deadline) && r.m.top.alive {
		if err := r.op(); err != nil {
			return err
		}
		r.steps++
		r.tot.ops++
		if r.steps%100 == 0 {
			if err := r.compareAll(); err != nil {
				return err
			}
		}
		if r.steps%256 == 0 {
			r.prune()
		}
	}
	return r.finish()
}

// model runs a step of the model, turning its panics into errors.
func (r *chaosRun) model(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	f()
	return nil
}

type chaosTarget struct {
	s *chaosSup
	c *chaosChild
}

// live lists the live static and dynamic supervisors and the running
// workers of the model.
func (r *chaosRun) live() (static, dynamic []*chaosSup, workers []chaosTarget) {
	r.m.walk(func(s *chaosSup) {
		if s.spec.kind == chaosDynamicKind {
			dynamic = append(dynamic, s)
		} else {
			static = append(static, s)
		}
		for _, c := range s.children {
			if c.state == chaosRunning && c.spec.kind == chaosWorkerKind {
				workers = append(workers, chaosTarget{s, c})
			}
		}
	})
	return static, dynamic, workers
}

func (r *chaosRun) op() error {
	static, dynamic, workers := r.live()
	switch x := r.rng.IntN(100); {
	case x < 45 && len(workers) > 0:
		return r.opExit(workers[r.rng.IntN(len(workers))])
	case x < 57:
		return r.opAdvance()
	case x < 72:
		return r.opStaticAPI(static[r.rng.IntN(len(static))])
	case x < 90 && len(dynamic) > 0:
		d := dynamic[r.rng.IntN(len(dynamic))]
		if r.rng.IntN(5) < 3 {
			return r.opDynamicStart(true)
		}
		return r.opDynamicTerminate(d)
	case x < 95:
		var subs []*chaosSup
		for _, s := range append(static, dynamic...) {
			if s != r.m.top {
				subs = append(subs, s)
			}
		}
		if len(subs) > 0 {
			return r.opStop(subs[r.rng.IntN(len(subs))])
		}
	}
	return r.opAdvance()
}

// opExit makes a running worker exit, maybe with failing or slow restarts
// to come.
func (r *chaosRun) opExit(tg chaosTarget) error {
	path := tg.c.spec.path
	reason := chaosReason(r.rng.IntN(4))
	what := fmt.Sprintf("%s#%d exits %s", path, tg.c.inc, reason)
	if r.rng.IntN(4) == 0 {
		n := []int{1, 1, 2, 3, 5, 9}[r.rng.IntN(6)]
		r.m.fails[path] = n
		r.rt.setFails(path, n)
		what += fmt.Sprintf(", its next %d starts fail", n)
	}
	if r.rng.IntN(8) == 0 {
		r.m.slow[path] = true
		r.rt.setSlow(path)
		what += ", its next start is slow"
	}
	proc := r.rt.proc(chaosProc{path, tg.c.inc})
	if proc == nil || proc.w == nil {
		return fmt.Errorf("%s: the runtime never started it", what)
	}
	if !proc.h.Alive() {
		return fmt.Errorf("%s: it is not running, the model says it is", what)
	}
	if err := r.model(func() { r.m.exit(tg.s, tg.c, reason) }); err != nil {
		return err
	}
	p := r.m.take()
	select {
	case proc.w.ctl <- chaosExitFunc(reason):
	default:
		return fmt.Errorf("%s: it was already told to exit", what)
	}
	r.tot.crashes++
	// Once Done is closed, the exit is in the supervisor's mailbox, ahead of
	// the calls that check the tree.
	select {
	case <-proc.h.Done():
	case <-time.After(waitLimit):
		return fmt.Errorf("%s: it did not exit", what)
	}
	return r.check(what, p, nil)
}

func (r *chaosRun) opAdvance() error {
	d := []time.Duration{300 * time.Millisecond, 700 * time.Millisecond, time.Second, 1500 * time.Millisecond,
		2 * time.Second, 4900 * time.Millisecond, 5 * time.Second, 6 * time.Second}[r.rng.IntN(8)]
	d += time.Duration(r.rng.IntN(1000)) * time.Millisecond
	if n := r.rt.clk.Timers(); n != 0 {
		return fmt.Errorf("%d timers armed in a settled tree", n)
	}
	r.m.advance(d)
	r.rt.clk.Advance(d)
	r.tot.advances++
	return nil
}

func (r *chaosRun) newWorker(parent *chaosSpec, prefix string) *chaosSpec {
	r.next++
	id := fmt.Sprintf("%s%d", prefix, r.next)
	sp := &chaosSpec{id: id, path: parent.path + "/" + id, kind: chaosWorkerKind, restart: chaosRestartType(r.rng)}
	chaosWorkerShutdown(r.rng, sp, r.m.stubbornTimeout)
	return sp
}

// opStaticAPI calls the API of a static supervisor.
func (r *chaosRun) opStaticAPI(s *chaosSup) error {
	obj := r.rt.proc(chaosProc{s.spec.path, s.inc})
	if obj == nil || obj.sup == nil {
		return fmt.Errorf("supervisor %s#%d: the runtime never started it", s.spec.path, s.inc)
	}
	var ids []string
	for _, c := range s.children {
		ids = append(ids, c.spec.id)
	}
	id := "nope"
	if len(ids) > 0 && r.rng.IntN(12) > 0 {
		id = ids[r.rng.IntN(len(ids))]
	}
	var call func(ctx context.Context) chaosAPIResult
	var what string
	var err error
	switch x := r.rng.IntN(7); x {
	case 0:
		what = fmt.Sprintf("TerminateChild(%s, %s)", s.spec.path, id)
		err = r.model(func() { r.m.terminateChild(s, id) })
		call = func(ctx context.Context) chaosAPIResult {
			return chaosAPIResult{class: chaosResultClass(obj.sup.TerminateChild(ctx, id))}
		}
	case 1, 2:
		what = fmt.Sprintf("RestartChild(%s, %s)", s.spec.path, id)
		if c := r.m.find(s, id); c != nil && r.rng.IntN(6) == 0 && c.spec.kind == chaosWorkerKind {
			r.m.fails[c.spec.path] = 1
			r.rt.setFails(c.spec.path, 1)
			what += " failing"
		}
		err = r.model(func() { r.m.restartChild(s, id) })
		call = func(ctx context.Context) chaosAPIResult {
			h, err := obj.sup.RestartChild(ctx, id)
			return chaosAPIResult{class: chaosResultClass(err), h: h}
		}
	case 3:
		what = fmt.Sprintf("DeleteChild(%s, %s)", s.spec.path, id)
		err = r.model(func() { r.m.deleteChild(s, id) })
		call = func(ctx context.Context) chaosAPIResult {
			return chaosAPIResult{class: chaosResultClass(obj.sup.DeleteChild(ctx, id))}
		}
	default:
		sp := r.newWorker(s.spec, "x")
		if x == 6 && len(s.children) > 0 {
			sp = s.children[r.rng.IntN(len(s.children))].spec // an id that exists
		} else if r.rng.IntN(8) == 0 {
			r.m.fails[sp.path] = 1
			r.rt.setFails(sp.path, 1)
		}
		what = fmt.Sprintf("StartChild(%s, %s)", s.spec.path, sp.id)
		cs := r.rt.childSpec(sp)
		err = r.model(func() { r.m.startChildStatic(s, sp) })
		call = func(ctx context.Context) chaosAPIResult {
			h, err := obj.sup.StartChild(ctx, cs)
			return chaosAPIResult{class: chaosResultClass(err), h: h}
		}
	}
	if err != nil {
		return err
	}
	return r.check(what, r.m.take(), call)
}

// opDynamicStart starts a child of the dynamic supervisor.
func (r *chaosRun) opDynamicStart(faults bool) error {
	_, dynamic, _ := r.live()
	if len(dynamic) == 0 {
		return nil
	}
	d := dynamic[0]
	obj := r.rt.proc(chaosProc{d.spec.path, d.inc})
	if obj == nil || obj.dyn == nil {
		return fmt.Errorf("dynamic supervisor %s#%d: the runtime never started it", d.spec.path, d.inc)
	}
	sp := r.newWorker(d.spec, "d")
	what := fmt.Sprintf("StartChild(%s, %s)", d.spec.path, sp.id)
	if faults && r.rng.IntN(10) == 0 {
		r.m.fails[sp.path] = 1
		r.rt.setFails(sp.path, 1)
		what += " failing"
	}
	cs := r.rt.childSpec(sp)
	if err := r.model(func() { r.m.startChildDynamic(d, sp) }); err != nil {
		return err
	}
	return r.check(what, r.m.take(), func(ctx context.Context) chaosAPIResult {
		h, err := obj.dyn.StartChild(ctx, cs)
		return chaosAPIResult{class: chaosResultClass(err), h: h}
	})
}

// opDynamicTerminate terminates a child of the dynamic supervisor by its
// latest handle, or by an older one, which must not be found.
func (r *chaosRun) opDynamicTerminate(d *chaosSup) error {
	if len(d.children) == 0 {
		return r.opDynamicStart(true)
	}
	obj := r.rt.proc(chaosProc{d.spec.path, d.inc})
	if obj == nil || obj.dyn == nil {
		return fmt.Errorf("dynamic supervisor %s#%d: the runtime never started it", d.spec.path, d.inc)
	}
	c := d.children[r.rng.IntN(len(d.children))]
	key := chaosProc{c.spec.path, c.inc}
	stale := false
	if r.rng.IntN(5) == 0 {
		if old := r.rt.proc(chaosProc{c.spec.path, c.inc - 1}); old != nil {
			key, stale = chaosProc{c.spec.path, c.inc - 1}, true
		}
	}
	proc := r.rt.proc(key)
	if proc == nil {
		return fmt.Errorf("dynamic child %v: the runtime never started it", key)
	}
	what := fmt.Sprintf("TerminateChild(%s, %v)", d.spec.path, key)
	if err := r.model(func() { r.m.terminateDynamic(d, c, stale) }); err != nil {
		return err
	}
	return r.check(what, r.m.take(), func(ctx context.Context) chaosAPIResult {
		return chaosAPIResult{class: chaosResultClass(obj.dyn.TerminateChild(ctx, proc.h))}
	})
}

// opStop stops a supervisor that is not the top: it exits normally, and its
// parent applies its restart type.
func (r *chaosRun) opStop(s *chaosSup) error {
	obj := r.rt.proc(chaosProc{s.spec.path, s.inc})
	if obj == nil {
		return fmt.Errorf("supervisor %s#%d: the runtime never started it", s.spec.path, s.inc)
	}
	if err := r.model(func() { r.m.stop(s) }); err != nil {
		return err
	}
	return r.check(fmt.Sprintf("Stop(%s)", s.spec.path), r.m.take(), func(ctx context.Context) chaosAPIResult {
		if obj.dyn != nil {
			return chaosAPIResult{class: chaosResultClass(obj.dyn.Stop(ctx))}
		}
		return chaosAPIResult{class: chaosResultClass(obj.sup.Stop(ctx))}
	})
}

// check runs the API call, if any, waits for the tree to settle, and
// compares it with the model's prediction p.
func (r *chaosRun) check(what string, p chaosPrediction, call func(context.Context) chaosAPIResult) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", what, fmt.Sprintf(format, args...))
	}
	var api chan chaosAPIResult
	var cancel context.CancelFunc = func() {}
	if call != nil {
		r.tot.apiCalls++
		api = make(chan chaosAPIResult, 1)
		var ctx context.Context
		ctx, cancel = context.WithTimeout(context.Background(), waitLimit)
		go func() { api <- call(ctx) }()
	}
	defer cancel()
	res, err := r.rt.settle(&p, api)
	if err != nil {
		return fail("%v", err)
	}
	r.tot.slowStarts += len(p.slow)
	for _, s := range p.slow {
		if s.ok {
			r.tot.injected++
		}
	}
	if call != nil {
		if res.class != p.result {
			return fail("the API call returned %s, the model says %s", res.class, p.result)
		}
		if p.started != (chaosProc{}) {
			if got, _ := r.rt.keyOf(res.h); got != p.started {
				return fail("the API call returned the handle of %v, the model says %v", got, p.started)
			}
		}
	}
	// Children given up are let go now, and cooperative children that were
	// not waited for are awaited, so that nothing is running that the model
	// does not know of.
	for _, g := range append(p.givenUp, p.brutal...) {
		proc := r.rt.proc(g)
		if proc == nil || proc.w == nil {
			return fail("%v was given up but the runtime never started it", g)
		}
		r.rt.release(proc.w)
		select {
		case <-proc.h.Returned(): // its process may have been dead for a while: it was killed
		case <-time.After(waitLimit):
			return fail("%v did not return once let go", g)
		}
		if proc.h.Alive() {
			return fail("%v returned but is still alive", g)
		}
	}
	r.tot.killed += len(p.givenUp)
	for _, g := range p.givenUp {
		if r.rt.proc(g).named {
			r.tot.namedGivenUp++
		}
	}
	if n := r.rt.clk.Timers(); n != 0 {
		return fail("%d timers still armed once the tree settled", n)
	}
	if p.topExit {
		if err := r.rt.top.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
			return fail("the top supervisor exited with %v, the model says it reached max intensity", err)
		}
	} else if chaosClosed(r.rt.top.Done()) {
		return fail("the top supervisor exited (%v); the model says it runs", r.rt.top.Wait())
	}
	var touched []*chaosSup
	for s := range p.touched {
		if s.alive {
			touched = append(touched, s)
		}
	}
	sort.Slice(touched, func(i, j int) bool { return touched[i].spec.path < touched[j].spec.path })
	for _, s := range touched {
		if err := r.compare(s, false); err != nil {
			return fail("%v", err)
		}
	}
	return nil
}

// compare checks one live supervisor of the model against the runtime:
// WhichChildren (ids, order, states, incarnations), CountChildren both
// against it and against the model, and with full, the lingering
// goroutines of a snapshot.
func (r *chaosRun) compare(s *chaosSup, full bool) error {
	obj := r.rt.proc(chaosProc{s.spec.path, s.inc})
	if obj == nil {
		return fmt.Errorf("supervisor %s#%d: the runtime never started it", s.spec.path, s.inc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var infos []runtime.ChildInfo
	var counts runtime.Counts
	var lingering []runtime.LingeringGoroutine
	var err1, err2, err3 error
	var snap runtime.SupervisorSnapshot
	if obj.dyn != nil {
		infos, err1 = obj.dyn.WhichChildren(ctx)
		counts, err2 = obj.dyn.CountChildren(ctx)
		if full {
			snap, err3 = obj.dyn.Snapshot(ctx)
		}
	} else {
		infos, err1 = obj.sup.WhichChildren(ctx)
		counts, err2 = obj.sup.CountChildren(ctx)
		if full {
			snap, err3 = obj.sup.Snapshot(ctx)
		}
	}
	lingering = snap.Lingering
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("supervisor %s#%d: %v", s.spec.path, s.inc, err)
	}
	var got, want []string
	var fromInfos runtime.Counts
	for _, in := range infos {
		fromInfos.Specs++
		if in.Type == runtime.TypeSupervisor {
			fromInfos.Supervisors++
		} else {
			fromInfos.Workers++
		}
		state := "undefined"
		switch {
		case in.Restarting:
			state = "restarting"
		case !in.Handle.IsZero():
			fromInfos.Active++
			key, ok := r.rt.keyOf(in.Handle)
			if !ok {
				state = "running(unknown handle " + in.Handle.String() + ")"
			} else if obj.dyn != nil {
				state = fmt.Sprintf("%s#%d", key.path, key.inc)
			} else if key.path != s.spec.path+"/"+in.ID {
				state = fmt.Sprintf("running(handle of %v)", key)
			} else {
				state = fmt.Sprintf("running#%d", key.inc)
			}
		}
		if obj.dyn != nil {
			got = append(got, state)
		} else {
			got = append(got, in.ID+"="+state)
		}
	}
	var fromModel runtime.Counts
	for i := len(s.children) - 1; i >= 0; i-- {
		c := s.children[i]
		fromModel.Specs++
		if c.spec.kind == chaosWorkerKind {
			fromModel.Workers++
		} else {
			fromModel.Supervisors++
		}
		state := c.state.String()
		if c.state == chaosRunning {
			fromModel.Active++
			state = fmt.Sprintf("running#%d", c.inc)
			if s.spec.kind == chaosDynamicKind {
				state = fmt.Sprintf("%s#%d", c.spec.path, c.inc)
			}
		}
		if s.spec.kind == chaosDynamicKind {
			want = append(want, state)
		} else {
			want = append(want, c.spec.id+"="+state)
		}
	}
	if s.spec.kind == chaosDynamicKind {
		sort.Strings(got)
		sort.Strings(want)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("supervisor %s#%d: which_children differs from the model:\n    model:   %s\n    runtime: %s",
			s.spec.path, s.inc, strings.Join(want, " "), strings.Join(got, " "))
	}
	for _, c := range s.children {
		if !c.spec.named || c.removed {
			continue
		}
		r.tot.nameChecks++
		h, ok := r.rt.reg.Lookup(c.spec.path)
		key, known := r.rt.keyOf(h)
		switch {
		case c.state == chaosRunning && (!ok || !known || key != chaosProc{c.spec.path, c.inc}):
			return fmt.Errorf("supervisor %s#%d: name %s is held by %v (alive %v), the model says by #%d",
				s.spec.path, s.inc, c.spec.path, key, ok, c.inc)
		case c.state != chaosRunning && ok:
			return fmt.Errorf("supervisor %s#%d: name %s is held by %v, the model says the child is %s",
				s.spec.path, s.inc, c.spec.path, key, c.state)
		}
	}
	if counts != fromInfos || counts != fromModel {
		return fmt.Errorf("supervisor %s#%d: count_children %+v, which_children gives %+v, the model %+v",
			s.spec.path, s.inc, counts, fromInfos, fromModel)
	}
	if len(lingering) > 0 {
		return fmt.Errorf("supervisor %s#%d: goroutines still listed as lingering after they returned: %+v", s.spec.path, s.inc, lingering)
	}
	return nil
}

func (r *chaosRun) compareAll() error {
	var sups []*chaosSup
	r.m.walk(func(s *chaosSup) { sups = append(sups, s) })
	for _, s := range sups {
		if err := r.compare(s, true); err != nil {
			return err
		}
	}
	return nil
}

// prune forgets the incarnations that are neither running nor needed.
func (r *chaosRun) prune() {
	cur := r.m.current()
	r.rt.mu.Lock()
	defer r.rt.mu.Unlock()
	for key, p := range r.rt.procs {
		if !cur[key] && chaosClosed(p.h.Done()) {
			delete(r.rt.procs, key)
			delete(r.rt.byHandle, p.h)
		}
	}
}

// finish ends the storm: no more faults; every permanent child of a live
// supervisor must be running unless it was stopped through the API; those
// and every other stopped child are restarted through the API, after which
// every child of every live supervisor runs.
func (r *chaosRun) finish() error {
	if !r.m.top.alive {
		return nil
	}
	clear(r.m.fails)
	clear(r.m.slow)
	r.rt.clearPlans()
	if err := r.compareAll(); err != nil {
		return fmt.Errorf("after the storm: %v", err)
	}
	var stopped []chaosTarget
	var bad []string
	r.m.walk(func(s *chaosSup) {
		for _, c := range s.children {
			if c.state == chaosRunning {
				continue
			}
			if c.spec.restart == runtime.Permanent && !c.apiStopped {
				bad = append(bad, c.spec.path+" is "+c.state.String())
			}
			if s.spec.kind == chaosStaticKind {
				stopped = append(stopped, chaosTarget{s, c})
			}
		}
	})
	if len(bad) > 0 {
		return fmt.Errorf("after the storm, permanent children are not running: %s", strings.Join(bad, ", "))
	}
	for _, tg := range stopped {
		if !tg.s.alive || tg.c.removed || tg.c.state == chaosRunning {
			continue
		}
		obj := r.rt.proc(chaosProc{tg.s.spec.path, tg.s.inc})
		id := tg.c.spec.id
		if err := r.model(func() { r.m.restartChild(tg.s, id) }); err != nil {
			return err
		}
		err := r.check(fmt.Sprintf("after the storm, RestartChild(%s, %s)", tg.s.spec.path, id), r.m.take(),
			func(ctx context.Context) chaosAPIResult {
				h, err := obj.sup.RestartChild(ctx, id)
				return chaosAPIResult{class: chaosResultClass(err), h: h}
			})
		if err != nil {
			return err
		}
	}
	if err := r.compareAll(); err != nil {
		return fmt.Errorf("after restarting the stopped children: %v", err)
	}
	r.m.walk(func(s *chaosSup) {
		for _, c := range s.children {
			if c.state != chaosRunning {
				bad = append(bad, c.spec.path)
			}
		}
	})
	if len(bad) > 0 {
		return fmt.Errorf("children not running after RestartChild: %s", strings.Join(bad, ", "))
	}
	return nil
}

// teardown stops the tree, lets every stubborn child go, and waits until
// every process the round started has exited. It also works after a
// mismatch, when the model no longer says what the tree is doing.
func (r *chaosRun) teardown() error {
	rt := r.rt
	close(rt.abort)
	rt.releaseAll()
	if rt.top == nil {
		return nil
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // fire any timer left, so that nothing waits on the fake clock
		defer wg.Done()
		for rt.clk.WaitForTimers(1, done) {
			rt.clk.Advance(time.Hour)
		}
	}()
	defer func() { close(done); wg.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := rt.top.Stop(ctx); err != nil {
		return fmt.Errorf("stopping the tree: %v", err)
	}
	if n := rt.reg.Len(); n != 0 { // given up means dead: no name outlives Stop
		return fmt.Errorf("%d names still registered once the tree stopped", n)
	}
	rt.releaseAll() // started while stopping
	rt.mu.Lock()
	procs := make([]*chaosProcRT, 0, len(rt.procs))
	for _, p := range rt.procs {
		procs = append(procs, p)
	}
	rt.mu.Unlock()
	for _, p := range procs {
		select {
		case <-p.h.Returned():
		case <-ctx.Done():
			return fmt.Errorf("%v still running after the tree stopped", p.h)
		}
	}
	return nil
}

// chaosService is a Service made of a function.
type chaosService func(ctx context.Context) error

func (f chaosService) Serve(ctx context.Context) error { return f(ctx) }

// A child that exited by itself, whose exit is still queued when its
// supervisor shuts it down (here: b crashes while the supervisor is busy,
// and a's crash, handled first, makes one_for_all stop b), keeps its own
// exit reason: the shutdown reports it as shutdown_error with that reason
// (§2.3 step 4: the reason the DOWN carries), and b's handle says crash.
// Found by TestChaos.
func TestChaosQueuedExitKeepsItsReason(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Flags: flags(runtime.OneForAll, 3, 5),
		Children: []runtime.ChildSpec{tr.child("a"), tr.child("b")}})
	ah, bh := handleOf(t, sup, "a"), handleOf(t, sup, "b")
	// A start that blocks the supervisor until released.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	slow := runtime.ChildSpec{ID: "slow", Shutdown: runtime.Infinity, Start: func(context.Context) (runtime.Service, error) {
		once.Do(func() { close(entered) })
		<-release
		return chaosService(func(ctx context.Context) error { <-ctx.Done(); return nil }), nil
	}}
	started := make(chan error, 1)
	go func() { _, err := sup.StartChild(tr.ctx, slow); started <- err }()
	waitClosed(t, entered)
	tr.worker("a").ctl <- func() error { return errCrash }
	waitDone(t, ah)
	tr.worker("b").ctl <- func() error { return errCrash }
	waitDone(t, bh)
	close(release)
	if err := waitErr(t, started); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, sup, "slow=running", "b=running", "a=running") // a's crash restarted all
	if reason := bh.Reason(); !errors.Is(reason, errCrash) {
		t.Errorf("b's handle gives the exit reason %v; b crashed with %v before its supervisor stopped it", reason, errCrash)
	}
	var got []string
	for _, e := range tr.events.all() {
		if e.Kind == runtime.ShutdownError {
			got = append(got, fmt.Sprintf("%s: %v", e.Child.ID, e.Reason))
		}
	}
	if !slices.Equal(got, []string{"b: " + errCrash.Error()}) {
		t.Errorf("shutdown_error reports = %q, want b's crash", got)
	}
}
