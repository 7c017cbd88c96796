package runtime_test

// The reference model of the chaos test: OTP's supervisor rules
// (reference/otp-semantics.md §1.2–§3.7, §5.1) written down a second time,
// as plainly as possible and without the runtime's code, so that the chaos
// test can predict, event by event, what a tree of supervisors does.
//
// The model is a sequential simulation. Each supervisor has a mailbox of
// child exits and retries, handled in order; start functions and child
// shutdowns run inside the handling, as they do in OTP and in the runtime.
// Time is the fake clock's: the model knows when the test advances it, and
// a child that ignores cancellation and has a timeout shutdown advances it
// by that timeout when it is given up. From the injected events it predicts
// every report of every supervisor, which supervisors reach their maximum
// restart intensity, the shape of the tree, and the results of API calls.
//
// Restart intensity is OTP's list form (§1.2, S2): keep the restart seconds
// r with now-r <= period; the restart is allowed iff that number plus one is
// at most the intensity. Seconds are whole seconds since the supervisor
// (instance) started, as the runtime documents.

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/arborgo/arbor/runtime"
)

type chaosKind uint8

const (
	chaosWorkerKind chaosKind = iota
	chaosStaticKind
	chaosDynamicKind
)

// chaosSpec is a child spec of the model: a worker, a static supervisor with
// its children, or a dynamic supervisor (whose children come from the API).
type chaosSpec struct {
	id, path string
	kind     chaosKind
	restart  runtime.Restart
	shutdown runtime.ShutdownSpec // resolved: never DefaultShutdown
	stubborn bool                 // a worker that ignores cancellation
	// named: each incarnation of the worker registers under its path in
	// the round's registry (ChildSpec.Name). Given up means dead, so a
	// restarted incarnation always gets the name: the model needs no rule
	// for names, and the test checks the registry against the model.
	named bool

	strategy    runtime.Strategy
	maxR, maxS  int
	maxChildren int
	children    []*chaosSpec
}

type chaosState uint8

const (
	chaosUndefined chaosState = iota
	chaosRunning
	chaosRestarting
)

func (s chaosState) String() string {
	return [...]string{"undefined", "running", "restarting"}[s]
}

// chaosChild is a supervisor's record of one child.
type chaosChild struct {
	spec  *chaosSpec
	state chaosState
	inc   int       // the latest incarnation that started
	sup   *chaosSup // the running instance of a supervisor child
	tag   int       // retry tag; a retry with another tag is stale
	// removed: the record is deleted (a static supervisor compacts its list
	// after the operation, as the runtime does).
	removed bool
	// apiStopped: the child was stopped through TerminateChild and has not
	// started since; only such a permanent child may be left not running.
	apiStopped bool
}

// chaosSup is one running instance of a supervisor.
type chaosSup struct {
	spec     *chaosSpec
	inc      int
	self     *chaosChild // its record in its parent; nil for the top
	parent   *chaosSup
	epoch    time.Duration
	restarts []int64 // seconds of the restarts in the window
	children []*chaosChild
	queue    []chaosMsg
	alive    bool
}

type chaosReason uint8

const (
	chaosNormal chaosReason = iota
	chaosShutdown
	chaosCrash
	chaosPanic
	chaosIntensity // a child supervisor that gave up: shutdown-class
)

func (r chaosReason) String() string {
	return [...]string{"normal", "shutdown", "crash", "panic", "intensity"}[r]
}

// clean reports the exits after which a transient child is not restarted.
func (r chaosReason) clean() bool {
	return r == chaosNormal || r == chaosShutdown || r == chaosIntensity
}

// chaosMsg is a message in a supervisor's mailbox: the exit of one
// incarnation of a child, or a retry of a failed restart.
type chaosMsg struct {
	c      *chaosChild
	inc    int
	reason chaosReason
	retry  bool
	tag    int
}

// chaosProc names one incarnation: the path of a child and its number.
type chaosProc struct {
	path string
	inc  int
}

// chaosInjection is what the test does while a slow start blocks its
// supervisor: make victim exit with reason (if ok), so that the exit is
// queued behind the message being handled.
type chaosInjection struct {
	slowPath string
	victim   chaosProc
	reason   chaosReason
	ok       bool
}

// chaosPrediction is what one injected operation makes the tree do.
type chaosPrediction struct {
	events   map[string][]string // per supervisor name, in order
	advances int                 // shutdown timeouts the test must let expire
	slow     []chaosInjection    // slow starts, in order
	givenUp  []chaosProc         // stubborn children given up (still running)
	brutal   []chaosProc         // cooperative children cancelled without waiting
	stopped  []chaosProc         // supervisor instances that exited
	topExit  bool                // the top supervisor exited
	result   string              // the API call's result
	started  chaosProc           // what a successful API start started
	touched  map[*chaosSup]bool  // supervisors that did something
}

type chaosModel struct {
	now             time.Duration
	stubbornTimeout time.Duration
	rng             *rand.Rand
	top             *chaosSup

	incs  map[string]int  // successful starts per path
	fails map[string]int  // failing starts to come per path
	slow  map[string]bool // the next successful start of the path is slow

	owner   *chaosSup   // the supervisor whose goroutine runs the current work
	pending []*chaosSup // supervisors with queued messages
	p       chaosPrediction

	// totals
	restarts, giveUps, topExits int
}

func newChaosModel(rng *rand.Rand, stubbornTimeout time.Duration) *chaosModel {
	m := &chaosModel{
		rng: rng, stubbornTimeout: stubbornTimeout,
		incs: map[string]int{}, fails: map[string]int{}, slow: map[string]bool{},
	}
	m.reset()
	return m
}

func (m *chaosModel) reset() {
	m.p = chaosPrediction{events: map[string][]string{}, touched: map[*chaosSup]bool{}}
}

// take returns the prediction of the operation just modelled.
func (m *chaosModel) take() chaosPrediction {
	p := m.p
	m.reset()
	return p
}

func chaosEventString(kind runtime.EventKind, id, class string, external bool) string {
	s := kind.String() + " " + id
	if class != "" {
		s += " " + class
	}
	if external {
		s += " external"
	}
	return s
}

func (m *chaosModel) ev(s *chaosSup, kind runtime.EventKind, c *chaosChild, class string, external bool) {
	m.p.events[s.spec.path] = append(m.p.events[s.spec.path], chaosEventString(kind, c.spec.id, class, external))
	m.p.touched[s] = true
}

func (m *chaosModel) second(s *chaosSup) int64 { return int64((m.now - s.epoch) / time.Second) }

// addRestart is OTP's add_restart (§1.2): it records a restart now if the
// intensity allows it.
func (m *chaosModel) addRestart(s *chaosSup) bool {
	now := m.second(s)
	kept := s.restarts[:0]
	for _, r := range s.restarts {
		if now-r <= int64(s.spec.maxS) {
			kept = append(kept, r)
		}
	}
	s.restarts = kept
	if len(kept)+1 > s.spec.maxR {
		return false
	}
	s.restarts = append(s.restarts, now)
	return true
}

// --- mailboxes ---

func (m *chaosModel) push(s *chaosSup, msg chaosMsg) {
	if s == nil || !s.alive {
		return // a message to a process that is gone is lost
	}
	s.queue = append(s.queue, msg)
	m.pending = append(m.pending, s)
}

// drain handles queued messages until every mailbox is empty. In the
// operations the test injects, only one supervisor at a time has messages,
// so the order is the runtime's.
func (m *chaosModel) drain() {
	for len(m.pending) > 0 {
		s := m.pending[0]
		if !s.alive || len(s.queue) == 0 {
			m.pending = m.pending[1:]
			continue
		}
		for _, o := range m.pending[1:] {
			if o != s && o.alive && len(o.queue) > 0 {
				panic(fmt.Sprintf("chaos model: %s and %s both have messages: the operation is not sequential", s.spec.path, o.spec.path))
			}
		}
		msg := s.queue[0]
		s.queue = s.queue[1:]
		m.owner = s
		m.handle(s, msg)
	}
	m.pending = m.pending[:0]
}

// takeQueuedExit removes the queued exit of c's current incarnation, as a
// shutdown does (selective receive), and returns its reason.
func (m *chaosModel) takeQueuedExit(s *chaosSup, c *chaosChild) (chaosReason, bool) {
	for i, msg := range s.queue {
		if !msg.retry && msg.c == c && msg.inc == c.inc {
			s.queue = append(s.queue[:i:i], s.queue[i+1:]...)
			return msg.reason, true
		}
	}
	return 0, false
}

func (m *chaosModel) handle(s *chaosSup, msg chaosMsg) {
	var stop bool
	var reason chaosReason
	if msg.retry {
		c := msg.c
		if c.removed || c.state != chaosRestarting || msg.tag != c.tag {
			return
		}
		stop, reason = m.restart(s, c)
	} else {
		stop, reason = m.handleExit(s, msg)
	}
	if stop {
		m.stopSup(s, reason, true)
	}
}

// handleExit is §2.2's table (and §5.1's for a dynamic supervisor).
func (m *chaosModel) handleExit(s *chaosSup, msg chaosMsg) (bool, chaosReason) {
	c := msg.c
	if c.removed || c.state != chaosRunning || c.inc != msg.inc {
		return false, 0 // not a current child: ignored
	}
	r := msg.reason
	m.p.touched[s] = true
	if s.spec.kind == chaosDynamicKind {
		switch {
		case c.spec.restart == runtime.Permanent, c.spec.restart == runtime.Transient && !r.clean():
			m.ev(s, runtime.ChildTerminated, c, r.String(), false)
			return m.restart(s, c)
		case c.spec.restart == runtime.Temporary && !r.clean():
			m.ev(s, runtime.ChildTerminated, c, r.String(), false)
		}
		m.setDown(c)
		m.remove(s, c)
		return false, 0
	}
	switch {
	case c.spec.restart == runtime.Permanent:
		m.ev(s, runtime.ChildTerminated, c, r.String(), false)
		return m.restart(s, c)
	case c.spec.restart == runtime.Transient && r.clean():
		m.setDown(c)
		return false, 0
	case c.spec.restart == runtime.Transient:
		m.ev(s, runtime.ChildTerminated, c, r.String(), false)
		return m.restart(s, c)
	default:
		if !r.clean() {
			m.ev(s, runtime.ChildTerminated, c, r.String(), false)
		}
		m.setDown(c)
		m.remove(s, c)
		m.compact(s)
		return false, 0
	}
}

func (m *chaosModel) setDown(c *chaosChild) {
	c.state = chaosUndefined
	c.sup = nil
}

// settle ends a pending restart: a queued retry becomes stale.
func (m *chaosModel) settle(c *chaosChild) {
	if c.state == chaosRestarting {
		c.state = chaosUndefined
	}
	c.tag++
}

func (m *chaosModel) remove(s *chaosSup, c *chaosChild) {
	if c.removed {
		return
	}
	c.removed = true
	m.settle(c)
	if s.spec.kind == chaosDynamicKind {
		for i, o := range s.children {
			if o == c {
				s.children = append(s.children[:i], s.children[i+1:]...)
				break
			}
		}
	}
}

func (m *chaosModel) compact(s *chaosSup) {
	kept := s.children[:0]
	for _, c := range s.children {
		if !c.removed {
			kept = append(kept, c)
		}
	}
	clear(s.children[len(kept):])
	s.children = kept
}

// restart counts a restart and, if the intensity allows it, restarts as the
// strategy says; otherwise the supervisor gives up (§1.2(5)).
func (m *chaosModel) restart(s *chaosSup, c *chaosChild) (bool, chaosReason) {
	if !m.addRestart(s) {
		m.ev(s, runtime.ReachedMaxRestartIntensity, c, "", false)
		m.giveUps++
		switch {
		case s.spec.kind == chaosDynamicKind:
			m.setDown(c)
			m.remove(s, c)
		case c.spec.restart == runtime.Temporary:
			m.setDown(c)
			m.remove(s, c)
			m.compact(s)
		default:
			m.setDown(c)
			m.settle(c)
		}
		return true, chaosIntensity
	}
	m.restarts++
	if s.spec.kind == chaosDynamicKind {
		m.setDown(c)
		if !m.startChild(s, c, false) {
			m.ev(s, runtime.StartError, c, "", false)
			m.retryLater(s, c)
		}
		return false, 0
	}
	m.restartByStrategy(s, c)
	return false, 0
}

// restartByStrategy is §3.3–§3.5, with §3.7's retry on failure.
func (m *chaosModel) restartByStrategy(s *chaosSup, c *chaosChild) {
	var group []*chaosChild
	switch s.spec.strategy {
	case runtime.OneForOne:
		m.setDown(c)
		if !m.startChild(s, c, false) {
			m.ev(s, runtime.StartError, c, "", false)
			m.retryLater(s, c)
		}
		return
	case runtime.OneForAll:
		group = s.children
	case runtime.RestForOne:
		for i, o := range s.children {
			if o == c {
				group = s.children[i:]
				break
			}
		}
	}
	m.setDown(c)
	m.terminateChildren(s, group)
	if f := m.startChildren(s, group); f != nil {
		m.retryLater(s, f)
	}
	m.compact(s)
}

func (m *chaosModel) retryLater(s *chaosSup, c *chaosChild) {
	c.state = chaosRestarting
	c.tag++
	m.push(s, chaosMsg{c: c, retry: true, tag: c.tag})
}

// startChildren starts, in order, the children of group that are not
// running; it stops at the first failure, which it reports and returns.
func (m *chaosModel) startChildren(s *chaosSup, group []*chaosChild) *chaosChild {
	for _, c := range group {
		if c.removed || c.state == chaosRunning {
			continue
		}
		if !m.startChild(s, c, false) {
			m.ev(s, runtime.StartError, c, "", false)
			return c
		}
	}
	return nil
}

// terminateChildren stops the running children of group, last first;
// temporary ones are removed.
func (m *chaosModel) terminateChildren(s *chaosSup, group []*chaosChild) {
	for i := len(group) - 1; i >= 0; i-- {
		c := group[i]
		if c.removed {
			continue
		}
		if c.state == chaosRunning {
			m.shutdown(s, c)
		}
		m.settle(c)
		if c.spec.restart == runtime.Temporary {
			m.remove(s, c)
		}
	}
}

// startChild runs c's start function (OTP's init), and reports whether it
// started. It does not report a failure; its callers do, or return it.
func (m *chaosModel) startChild(s *chaosSup, c *chaosChild, external bool) bool {
	m.settle(c)
	sp := c.spec
	switch sp.kind {
	case chaosWorkerKind:
		if m.fails[sp.path] > 0 {
			m.fails[sp.path]--
			return false
		}
		if m.slow[sp.path] {
			delete(m.slow, sp.path)
			m.slowStart(sp.path)
		}
		m.incs[sp.path]++
		c.inc = m.incs[sp.path]
	case chaosStaticKind:
		ns := m.newSup(sp, s, c)
		if f := m.startChildren(ns, ns.children); f != nil {
			m.terminateChildren(ns, ns.children)
			return false
		}
		m.compact(ns)
		m.incs[sp.path]++
		ns.inc, c.inc, c.sup, ns.alive = m.incs[sp.path], m.incs[sp.path], ns, true
	case chaosDynamicKind:
		ns := m.newSup(sp, s, c)
		m.incs[sp.path]++
		ns.inc, c.inc, c.sup, ns.alive = m.incs[sp.path], m.incs[sp.path], ns, true
		m.p.touched[ns] = true
	}
	c.state = chaosRunning
	c.apiStopped = false
	m.ev(s, runtime.ChildStarted, c, "", external)
	return true
}

func (m *chaosModel) newSup(sp *chaosSpec, parent *chaosSup, self *chaosChild) *chaosSup {
	ns := &chaosSup{spec: sp, parent: parent, self: self, epoch: m.now}
	if sp.kind == chaosStaticKind {
		for _, cs := range sp.children {
			ns.children = append(ns.children, &chaosChild{spec: cs})
		}
	}
	return ns
}

// slowStart is a start that blocks its supervisor until the test lets it
// go; the test meanwhile makes a running worker child of the supervisor
// that is working exit, so that its exit waits in the mailbox.
func (m *chaosModel) slowStart(path string) {
	inj := chaosInjection{slowPath: path}
	if s := m.owner; s != nil && s.alive && m.rng.IntN(4) > 0 {
		queued := map[*chaosChild]bool{}
		for _, msg := range s.queue {
			if !msg.retry && msg.inc == msg.c.inc {
				queued[msg.c] = true
			}
		}
		var cands []*chaosChild
		for _, c := range s.children {
			if !c.removed && c.state == chaosRunning && c.spec.kind == chaosWorkerKind && c.spec.path != path && !queued[c] {
				cands = append(cands, c)
			}
		}
		if len(cands) > 0 {
			v := cands[m.rng.IntN(len(cands))]
			inj.victim = chaosProc{v.spec.path, v.inc}
			inj.reason = chaosReason(m.rng.IntN(4))
			inj.ok = true
			m.push(s, chaosMsg{c: v, inc: v.inc, reason: inj.reason})
		}
	}
	m.p.slow = append(m.p.slow, inj)
}

// shutdown stops one child (§2.3 in Go terms): cancel, then wait as its
// shutdown says; a stubborn child is given up, as killed unless the
// shutdown is brutal_kill. The exit is consumed.
func (m *chaosModel) shutdown(s *chaosSup, c *chaosChild) {
	c.state = chaosUndefined
	sp := c.spec
	if r, ok := m.takeQueuedExit(s, c); ok {
		if !chaosExpectedStop(r, sp.restart) {
			m.ev(s, runtime.ShutdownError, c, r.String(), false)
		}
		c.sup = nil
		return
	}
	switch sp.kind {
	case chaosWorkerKind:
		proc := chaosProc{sp.path, c.inc}
		if !sp.stubborn {
			if sp.shutdown == runtime.BrutalKill {
				m.p.brutal = append(m.p.brutal, proc)
			}
			return
		}
		m.p.givenUp = append(m.p.givenUp, proc)
		if sp.shutdown == runtime.BrutalKill {
			return
		}
		if d, _ := sp.shutdown.IsTimeout(); d > 0 {
			m.now += d
			m.p.advances++
		}
		m.ev(s, runtime.ShutdownError, c, "killed", false)
	default: // supervisors are shut down with infinity
		m.stopSup(c.sup, chaosShutdown, false)
		c.sup = nil
	}
}

func chaosExpectedStop(r chaosReason, restart runtime.Restart) bool {
	return r == chaosShutdown || r == chaosIntensity || (r == chaosNormal && restart != runtime.Permanent)
}

// terminateAll stops a dynamic supervisor's children at once (§2.3 point 5):
// one wait for all the stubborn ones with a timeout.
func (m *chaosModel) terminateAll(d *chaosSup) {
	var killed []*chaosChild
	wait := false
	for _, c := range d.children {
		running := c.state == chaosRunning
		m.settle(c)
		if !running {
			continue
		}
		c.state = chaosUndefined
		sp := c.spec
		if r, ok := m.takeQueuedExit(d, c); ok {
			if !chaosExpectedStop(r, sp.restart) {
				m.ev(d, runtime.ShutdownError, c, r.String(), false)
			}
			continue
		}
		proc := chaosProc{sp.path, c.inc}
		if !sp.stubborn {
			if sp.shutdown == runtime.BrutalKill {
				m.p.brutal = append(m.p.brutal, proc)
			}
			continue
		}
		m.p.givenUp = append(m.p.givenUp, proc)
		if sp.shutdown == runtime.BrutalKill {
			continue
		}
		killed = append(killed, c)
		if t, _ := sp.shutdown.IsTimeout(); t > 0 {
			wait = true
		}
	}
	d.children = nil
	if wait {
		m.now += m.stubbornTimeout
		m.p.advances++
	}
	for _, c := range killed {
		m.ev(d, runtime.ShutdownError, c, "killed", false)
	}
}

// stopSup stops a supervisor instance: its children in reverse order (all
// at once for a dynamic one), then it exits with reason; notify sends the
// exit to its parent (not when the parent is the one stopping it).
func (m *chaosModel) stopSup(s *chaosSup, reason chaosReason, notify bool) {
	m.p.touched[s] = true
	if s.spec.kind == chaosDynamicKind {
		m.terminateAll(s)
	} else {
		m.terminateChildren(s, s.children)
		m.compact(s)
	}
	s.alive = false
	s.queue = nil
	m.p.stopped = append(m.p.stopped, chaosProc{s.spec.path, s.inc})
	if s.self == nil {
		m.p.topExit = true
		m.topExits++
		return
	}
	if notify {
		m.push(s.parent, chaosMsg{c: s.self, inc: s.inc, reason: reason})
	}
}

// --- operations the test injects ---

// startTop starts the tree.
func (m *chaosModel) startTop(sp *chaosSpec) {
	top := m.newSup(sp, nil, nil)
	if f := m.startChildren(top, top.children); f != nil {
		panic("chaos model: the tree cannot start")
	}
	m.incs[sp.path]++
	top.inc, top.alive = m.incs[sp.path], true
	m.top = top
	m.p.touched[top] = true
}

// exit makes incarnation inc of c, a child of s, exit with reason.
func (m *chaosModel) exit(s *chaosSup, c *chaosChild, reason chaosReason) {
	m.push(s, chaosMsg{c: c, inc: c.inc, reason: reason})
	m.drain()
}

func (m *chaosModel) advance(d time.Duration) { m.now += d }

func (m *chaosModel) api(s *chaosSup, f func() string) {
	m.owner = s
	m.p.touched[s] = true
	m.p.result = f()
	m.drain()
}

func (m *chaosModel) find(s *chaosSup, id string) *chaosChild {
	for _, c := range s.children {
		if !c.removed && c.spec.id == id {
			return c
		}
	}
	return nil
}

func (m *chaosModel) terminateChild(s *chaosSup, id string) {
	m.api(s, func() string {
		c := m.find(s, id)
		if c == nil {
			return "not_found"
		}
		if c.state == chaosRunning {
			m.shutdown(s, c)
		}
		m.settle(c)
		c.apiStopped = true
		if c.spec.restart == runtime.Temporary {
			m.remove(s, c)
			m.compact(s)
		}
		return "ok"
	})
}

func (m *chaosModel) restartChild(s *chaosSup, id string) {
	m.api(s, func() string {
		c := m.find(s, id)
		switch {
		case c == nil:
			return "not_found"
		case c.state == chaosRestarting:
			return "restarting"
		case c.state == chaosRunning:
			return "running"
		case !m.startChild(s, c, true):
			return "start_failed"
		}
		m.p.started = chaosProc{c.spec.path, c.inc}
		return "ok"
	})
}

func (m *chaosModel) deleteChild(s *chaosSup, id string) {
	m.api(s, func() string {
		c := m.find(s, id)
		switch {
		case c == nil:
			return "not_found"
		case c.state == chaosRestarting:
			return "restarting"
		case c.state == chaosRunning:
			return "running"
		}
		m.remove(s, c)
		m.compact(s)
		return "ok"
	})
}

// startChildStatic is StartChild on a static supervisor.
func (m *chaosModel) startChildStatic(s *chaosSup, sp *chaosSpec) {
	m.api(s, func() string {
		if old := m.find(s, sp.id); old != nil {
			if old.state == chaosRunning {
				return "already_started"
			}
			return "already_present"
		}
		c := &chaosChild{spec: sp}
		if !m.startChild(s, c, true) {
			return "start_failed"
		}
		s.children = append(s.children, c)
		m.p.started = chaosProc{c.spec.path, c.inc}
		return "ok"
	})
}

// startChildDynamic is StartChild on a dynamic supervisor.
func (m *chaosModel) startChildDynamic(d *chaosSup, sp *chaosSpec) {
	m.api(d, func() string {
		if d.spec.maxChildren > 0 && len(d.children) >= d.spec.maxChildren {
			return "max_children"
		}
		c := &chaosChild{spec: sp}
		if !m.startChild(d, c, true) {
			return "start_failed"
		}
		d.children = append(d.children, c)
		m.p.started = chaosProc{c.spec.path, c.inc}
		return "ok"
	})
}

// terminateDynamic is TerminateChild on a dynamic supervisor, with the
// latest handle of c (stale when c is no longer its child).
func (m *chaosModel) terminateDynamic(d *chaosSup, c *chaosChild, stale bool) {
	m.api(d, func() string {
		if stale || c.removed {
			return "not_found"
		}
		if c.state == chaosRunning {
			m.shutdown(d, c)
		}
		m.remove(d, c)
		return "ok"
	})
}

// stop is Stop on a supervisor that is not the top: it exits normally.
func (m *chaosModel) stop(s *chaosSup) {
	m.owner = s
	m.p.result = "ok"
	m.stopSup(s, chaosNormal, true)
	m.drain()
}

// --- views for the test ---

// walk calls f for every live supervisor instance, parents first.
func (m *chaosModel) walk(f func(s *chaosSup)) {
	var rec func(s *chaosSup)
	rec = func(s *chaosSup) {
		f(s)
		for _, c := range s.children {
			if c.sup != nil && c.sup.alive && c.state == chaosRunning {
				rec(c.sup)
			}
		}
	}
	if m.top != nil && m.top.alive {
		rec(m.top)
	}
}

// current lists the incarnations the model has running, the supervisors'
// included.
func (m *chaosModel) current() map[chaosProc]bool {
	out := map[chaosProc]bool{}
	m.walk(func(s *chaosSup) {
		out[chaosProc{s.spec.path, s.inc}] = true
		for _, c := range s.children {
			if c.state == chaosRunning {
				out[chaosProc{c.spec.path, c.inc}] = true
			}
		}
	})
	return out
}
