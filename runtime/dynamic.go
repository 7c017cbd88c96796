package runtime

import (
	"context"
	"slices"
	"sync"
	"time"
)

// DynamicSupervisorSpec describes a dynamic supervisor, Elixir's
// DynamicSupervisor: it starts with no children and gets them from
// StartChild at run time. Its strategy is always one_for_one and its
// auto_shutdown always never.
type DynamicSupervisorSpec struct {
	// Name identifies the supervisor in reports and introspection.
	Name string
	// MaxRestarts and MaxSeconds are the restart intensity, with the
	// defaults and rules of Flags.
	MaxRestarts int
	MaxSeconds  int
	// MaxChildren bounds how many children (running or being restarted) it
	// may have; 0 means no limit (Elixir's :infinity).
	MaxChildren int
}

// dynamicSupervisor is the state of a DynamicSupervisor, owned by the
// goroutine in Serve.
type dynamicSupervisor struct {
	core
	maxChildren int

	requests sync.Pool // of *startRequest

	// Owned by the loop.
	children []*child // unordered; child.slot is the index
}

// NewDynamicSupervisor validates spec and returns a dynamic supervisor ready
// to Serve; like NewSupervisor, give it the context of its start function
// when it is a child. It returns a *SpecError for an invalid spec.
func NewDynamicSupervisor(ctx context.Context, spec DynamicSupervisorSpec) (*DynamicSupervisor, error) {
	flags := Flags{MaxRestarts: spec.MaxRestarts, MaxSeconds: spec.MaxSeconds}.withDefaults()
	if err := checkFlags(flags, true); err != nil {
		return nil, err
	}
	if spec.MaxChildren < 0 {
		return nil, &SpecError{Term: "invalid_max_children", Value: spec.MaxChildren}
	}
	d := &dynamicSupervisor{maxChildren: spec.MaxChildren}
	d.init(ctx, spec.Name, flags.MaxRestarts, flags.MaxSeconds)
	d.numberAcross = true
	d.startMetrics(ctx, d)
	x := &DynamicSupervisor{d: d}
	d.self.registerAPI(x)
	return x, nil
}

// StartDynamicSupervisor starts a dynamic supervisor at the top of a tree:
// NewDynamicSupervisor, then Serve in a new goroutine.
func StartDynamicSupervisor(ctx context.Context, spec DynamicSupervisorSpec) (*DynamicSupervisor, error) {
	d, err := NewDynamicSupervisor(ctx, spec)
	if err != nil {
		return nil, err
	}
	go d.Serve(d.d.self)
	return d, nil
}

// Serve implements DynamicSupervisor.Serve.
func (d *dynamicSupervisor) Serve(ctx context.Context) error {
	return d.serve(ctx, d.handle, d.terminateAll)
}

func (d *dynamicSupervisor) handle(m any) (bool, error) {
	switch m := m.(type) {
	case *process:
		return d.handleExit(m)
	case *startRequest:
		d.start(m)
	case *call:
		m.run()
		if d.stopping {
			return true, nil
		}
	case *retry:
		c := m.c
		if c.removed || !c.restarting || m.tag != c.retryTag {
			return false, nil
		}
		if m.counted {
			d.restartChild(c)
			return false, nil
		}
		return d.restart(c)
	}
	return false, nil
}

// handleExit applies the same table as a static supervisor (§2.2), with no
// auto_shutdown.
func (d *dynamicSupervisor) handleExit(p *process) (bool, error) {
	c := p.child
	if c == nil || c.proc != p {
		return false, nil
	}
	reason := p.handle().Reason()
	d.childExited(c, p, reason)
	switch {
	case c.spec.Restart == Permanent, c.spec.Restart == Transient && !isCleanExit(reason):
		d.report(ChildTerminated, c, reason)
		return d.restart(c)
	case c.spec.Restart == Temporary && !isCleanExit(reason):
		d.report(ChildTerminated, c, reason)
	}
	c.proc = nil
	d.remove(c)
	return false, nil
}

func (d *dynamicSupervisor) restart(c *child) (bool, error) {
	if !d.countRestart(c) {
		d.report(ReachedMaxRestartIntensity, c, ErrReachedMaxRestartIntensity)
		c.proc = nil
		d.remove(c)
		return true, &IntensityError{Supervisor: d.name, Child: c.name(), MaxRestarts: d.restarts.max, MaxSeconds: int(d.restarts.period)}
	}
	c.proc = nil
	if c.spec.Backoff != nil {
		delay := nextBackoff(c, d.since())
		c.restarting = true
		c.retryTag++
		r := &retry{c: c, tag: c.retryTag, counted: true}
		c.ext().backoffTimer = d.clock.AfterFunc(delay, func() { d.mbox.push(r) })
		return false, nil
	}
	d.restartChild(c)
	return false, nil
}

// restartChild starts c again. A failure marks it restarting and sends the
// supervisor a retry; an ignore deletes it.
func (d *dynamicSupervisor) restartChild(c *child) {
	err, ignored := d.startChild(c, false)
	switch {
	case err != nil:
		d.report(StartError, c, err)
		c.restarting = true
		c.retryTag++
		d.mbox.push(&retry{c: c, tag: c.retryTag})
	case ignored:
		d.remove(c)
	}
}

func (d *dynamicSupervisor) remove(c *child) {
	if c.removed {
		return
	}
	c.removed = true
	c.settle()
	last := d.children[len(d.children)-1]
	d.children[c.slot] = last
	last.slot = c.slot
	d.children[len(d.children)-1] = nil
	d.children = d.children[:len(d.children)-1]
}

// StartChild implements DynamicSupervisor.StartChild.
func (d *dynamicSupervisor) StartChild(ctx context.Context, spec ChildSpec) (Handle, error) {
	if err := checkChildSpec(spec, Never, false); err != nil {
		return Handle{}, err
	}
	spec.Shutdown = spec.Shutdown.orDefault(spec.Type)
	req, _ := d.requests.Get().(*startRequest)
	if req == nil {
		req = &startRequest{reply: make(chan struct{}, 1)}
	}
	req.c = newChild(spec)
	d.mbox.push(req)
	select {
	case <-req.reply:
	case <-d.done:
		select {
		case <-req.reply:
		default:
			return Handle{}, ErrNoProc
		}
	case <-ctx.Done():
		// The request stays queued and may still start the child, as an
		// OTP call that timed out is still handled; it is not reused.
		return Handle{}, ctx.Err()
	}
	h, err := req.h, req.err
	*req = startRequest{reply: req.reply}
	d.requests.Put(req)
	return h, err
}

// startRequest is a StartChild call, the hot path of a dynamic supervisor:
// a typed message, reused through a pool, so that a start allocates little
// beyond the child itself.
type startRequest struct {
	c     *child
	h     Handle
	err   error
	reply chan struct{} // capacity 1: the loop never waits on the caller
}

// start runs a StartChild request in the loop.
func (d *dynamicSupervisor) start(req *startRequest) {
	defer func() { req.reply <- struct{}{} }()
	if d.maxChildren > 0 && len(d.children) >= d.maxChildren {
		req.err = ErrMaxChildren
		return
	}
	c := req.c
	err, ignored := d.startChild(c, true)
	if err != nil || ignored {
		req.err = err
		return
	}
	c.slot = int32(len(d.children))
	d.children = append(d.children, c)
	req.h = c.proc.handle()
}

// TerminateChild implements DynamicSupervisor.TerminateChild.
func (d *dynamicSupervisor) TerminateChild(ctx context.Context, h Handle) error {
	var err error
	callErr := exec(ctx, &d.mbox, d.done, func() {
		c := d.childOf(h)
		if c == nil {
			err = ErrNotFound
			return
		}
		if c.proc != nil {
			d.shutdown(c)
		}
		d.remove(c)
	})
	if callErr != nil {
		return callErr
	}
	return err
}

// childOf returns the child whose current or latest process is h's, or nil.
func (d *dynamicSupervisor) childOf(h Handle) *child {
	if h.p == nil || h.p.child == nil || h.p.parent != d.self {
		return nil // no child of this supervisor: its record belongs to another loop
	}
	c := h.p.child
	if c.removed || int(c.slot) >= len(d.children) || d.children[c.slot] != c ||
		(c.proc != h.p && (c.extra == nil || c.extra.last != h.p || c.proc != nil)) {
		return nil
	}
	return c
}

// WhichChildren implements DynamicSupervisor.WhichChildren.
func (d *dynamicSupervisor) WhichChildren(ctx context.Context) ([]ChildInfo, error) {
	var out []ChildInfo
	err := query(ctx, &d.mbox, d.done, func() {
		out = make([]ChildInfo, 0, len(d.children))
		for _, c := range d.children {
			out = append(out, c.info())
		}
	})
	return out, err
}

// CountChildren implements DynamicSupervisor.CountChildren.
func (d *dynamicSupervisor) CountChildren(ctx context.Context) (Counts, error) {
	var n Counts
	err := query(ctx, &d.mbox, d.done, func() { n = countChildren(d.children) })
	return n, err
}

// terminateAll stops every child concurrently: all are cancelled at once,
// then awaited, each up to its own shutdown (§2.3 for dynamic supervisors).
// Children still running at their deadline are given up as killed.
func (d *dynamicSupervisor) terminateAll() {
	begin := d.metricsNow()
	pending := make(map[*process]*child, len(d.children))
	var timeouts []time.Duration
	for _, c := range d.children {
		p := c.proc
		c.settle()
		if p == nil {
			continue
		}
		c.proc = nil
		p.cancel(ErrShutdown)
		pending[p] = c
		if t, ok := c.spec.Shutdown.IsTimeout(); ok {
			timeouts = append(timeouts, t)
		}
	}
	d.children = nil
	slices.Sort(timeouts)
	timeouts = slices.Compact(timeouts)

	isPending := func(p *process) bool { _, ok := pending[p]; return ok }
	exited := func(p *process) {
		c := pending[p]
		delete(pending, p)
		reason := p.handle().Reason()
		c.exited(p, reason)
		d.measureStop(c, begin)
		if !expectedStopReason(reason, c.spec.Restart) {
			d.reportProc(ShutdownError, c, p, reason)
		}
	}
	// giveUp kills the pending children whose shutdown is due: those with
	// brutal_kill, or a timeout of at most limit; all of them once the
	// supervisor itself is killed. A child that returns just then is left
	// pending: its exit is on its way.
	giveUp := func(limit time.Duration, brutal bool) {
		killed := d.mbox.isKilled()
		now := d.clock.Now()
		for p, c := range pending {
			t, isTimeout := c.spec.Shutdown.IsTimeout()
			due := killed || (brutal && c.spec.Shutdown == BrutalKill) || (!brutal && isTimeout && t <= limit)
			if !due || !(p.kill(now, c.spec.Shutdown) || p.wasKilled()) {
				continue
			}
			delete(pending, p)
			c.exited(p, ErrKilled)
			d.measureStop(c, begin)
			if c.spec.Shutdown != BrutalKill && !killed {
				d.reportProc(ShutdownError, c, p, ErrKilled)
			}
		}
	}

	d.mbox.takeExits(isPending, exited)
	giveUp(0, true) // brutal_kill does not wait
	start := d.clock.Now()
	for _, limit := range timeouts {
		if len(pending) == 0 {
			return
		}
		wait := limit - d.clock.Now().Sub(start)
		t := d.clock.NewTimer(wait)
		for fired := false; !fired && len(pending) > 0; {
			select {
			case <-d.mbox.signal:
			case <-d.mbox.dead:
				giveUp(0, true)
			case <-t.C():
				fired = true
			}
			d.mbox.takeExits(isPending, exited)
		}
		t.Stop()
		giveUp(limit, false)
	}
	for len(pending) > 0 { // children with shutdown infinity
		select {
		case <-d.mbox.signal:
		case <-d.mbox.dead:
			giveUp(0, true)
		}
		d.mbox.takeExits(isPending, exited)
	}
}
