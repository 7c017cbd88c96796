package runtime

import (
	"context"
)

// supervisor is the state of a Supervisor, owned by the goroutine in Serve.
type supervisor struct {
	core
	flags Flags

	// Owned by the loop.
	children []*child // start order
	byID     map[string]*child
}

// NewSupervisor validates spec, then starts its children in order, waiting
// for each start function (which runs in the child's own goroutine) before
// the next: OTP's supervisor init. It returns once every child has started;
// Serve must then be called to run the supervisor. If ctx ends while a start
// function runs, that start is cancelled and given the child's shutdown to
// return, then given up (ErrKilled), and the init fails.
//
// Give NewSupervisor the context its own start function received when the
// supervisor is a child of another supervisor: that context is its process.
// Any other context works too; the supervisor then stops when that context
// is cancelled. For a supervisor at the top of a program, StartSupervisor
// does both steps.
//
// A start function that fails stops the children already started, in
// reverse order, and NewSupervisor returns Shutdown(&StartChildError{...}),
// OTP's {shutdown, {failed_to_start_child, Id, Reason}}. An invalid spec
// returns a *SpecError and starts nothing.
func NewSupervisor(ctx context.Context, spec SupervisorSpec) (*Supervisor, error) {
	flags := spec.Flags.withDefaults()
	if err := checkFlags(flags, false); err != nil {
		return nil, err
	}
	children := make([]*child, 0, len(spec.Children))
	byID := make(map[string]*child, len(spec.Children))
	for _, cs := range spec.Children {
		if err := checkChildSpec(cs, flags.AutoShutdown, true); err != nil {
			return nil, err
		}
		if _, dup := byID[cs.ID]; dup {
			return nil, &SpecError{Term: "duplicate_child_name", Child: cs.ID, Value: cs.ID}
		}
		cs.Shutdown = cs.Shutdown.orDefault(cs.Type)
		c := newChild(cs)
		children = append(children, c)
		byID[cs.ID] = c
	}

	s := &supervisor{flags: flags, children: children, byID: byID}
	s.init(ctx, spec.Name, flags.MaxRestarts, flags.MaxSeconds)
	s.startMetrics(ctx, s)

	if failed, err := s.startChildren(s.children); failed != nil {
		s.terminateChildren(s.children)
		s.finish(ErrShutdown)
		return nil, Shutdown(&StartChildError{ID: failed.spec.ID, Reason: err})
	}
	s.compact()
	x := &Supervisor{s: s}
	s.self.registerAPI(x)
	return x, nil
}

// StartSupervisor starts a supervisor at the top of a tree: it runs
// NewSupervisor and then Serve in a new goroutine. The supervisor stops when
// ctx is cancelled or Stop is called; Wait returns its exit reason.
func StartSupervisor(ctx context.Context, spec SupervisorSpec) (*Supervisor, error) {
	s, err := NewSupervisor(ctx, spec)
	if err != nil {
		return nil, err
	}
	go s.Serve(s.s.self)
	return s, nil
}

// Serve implements Supervisor.Serve.
func (s *supervisor) Serve(ctx context.Context) error {
	return s.serve(ctx, s.handle, func() {
		s.terminateChildren(s.children)
		s.compact()
	})
}

// handle processes one message; it reports whether the supervisor must
// stop, and why.
func (s *supervisor) handle(m any) (bool, error) {
	switch m := m.(type) {
	case *process:
		return s.handleExit(m)
	case *call:
		m.run()
		if s.stopping {
			return true, nil
		}
	case *retry:
		return s.handleRetry(m)
	}
	return false, nil
}

// handleExit applies OTP's do_restart table to a child's own exit.
func (s *supervisor) handleExit(p *process) (bool, error) {
	c := p.child
	if c == nil || c.proc != p {
		// An exit of no current child: ignored, as OTP ignores an EXIT
		// from a pid that is not a child.
		return false, nil
	}
	reason := p.handle().Reason()
	s.childExited(c, p, reason)
	switch {
	case c.spec.Restart == Permanent:
		s.report(ChildTerminated, c, reason)
		return s.restart(c)
	case c.spec.Restart == Transient && isCleanExit(reason):
		c.proc = nil
		return s.autoShutdown(c)
	case c.spec.Restart == Transient:
		s.report(ChildTerminated, c, reason)
		return s.restart(c)
	default: // Temporary
		if !isCleanExit(reason) {
			s.report(ChildTerminated, c, reason)
		}
		s.remove(c)
		s.compact()
		return s.autoShutdown(c)
	}
}

// autoShutdown decides whether the exit of c, which was not restarted, makes
// the supervisor stop (OTP's do_auto_shutdown).
func (s *supervisor) autoShutdown(c *child) (bool, error) {
	if !c.spec.Significant {
		return false, nil
	}
	switch s.flags.AutoShutdown {
	case AnySignificant:
		return true, Shutdown(ErrAutoShutdown)
	case AllSignificant:
		for _, o := range s.children {
			if o.spec.Significant && (o.proc != nil || o.restarting) {
				return false, nil
			}
		}
		return true, Shutdown(ErrAutoShutdown)
	}
	return false, nil
}

// restart counts a restart of c against the intensity and, if allowed,
// restarts per the strategy (OTP's restart/2).
func (s *supervisor) restart(c *child) (bool, error) {
	if !s.countRestart(c) {
		s.report(ReachedMaxRestartIntensity, c, ErrReachedMaxRestartIntensity)
		if c.spec.Restart == Temporary {
			s.remove(c)
			s.compact()
		} else {
			c.proc = nil
			c.settle()
		}
		return true, &IntensityError{Supervisor: s.name, Child: c.spec.ID,
			MaxRestarts: s.flags.MaxRestarts, MaxSeconds: s.flags.MaxSeconds}
	}
	if c.spec.Backoff != nil {
		s.delayRestart(c)
		return false, nil
	}
	s.restartByStrategy(c)
	return false, nil
}

// delayRestart does the stopping part of a restart now and schedules the
// starting part after c's backoff delay.
func (s *supervisor) delayRestart(c *child) {
	delay := nextBackoff(c, s.since())
	c.proc = nil
	switch s.flags.Strategy {
	case OneForAll:
		s.terminateChildren(s.children)
	case RestForOne:
		s.terminateChildren(s.after(c))
	}
	s.compact()
	c.restarting = true
	c.retryTag++
	r := &retry{c: c, tag: c.retryTag, counted: true}
	c.ext().backoffTimer = s.clock.AfterFunc(delay, func() { s.mbox.push(r) })
}

// restartByStrategy restarts c and whatever its strategy says with it. A
// failed start marks the failed child restarting and sends the supervisor a
// retry message, so that anything already queued is handled first.
func (s *supervisor) restartByStrategy(c *child) {
	var group []*child
	switch s.flags.Strategy {
	case OneForOne:
		c.proc = nil
		err, ignored := s.startChild(c, false)
		switch {
		case err != nil:
			s.report(StartError, c, err)
			s.retryLater(c)
		case ignored && c.spec.Restart == Temporary:
			s.remove(c)
			s.compact()
		}
		return
	case OneForAll:
		group = s.children
	case RestForOne:
		group = s.after(c)
	}
	c.proc = nil
	s.terminateChildren(group)
	if failed, _ := s.startChildren(group); failed != nil {
		s.retryLater(failed)
	}
	s.compact()
}

func (s *supervisor) retryLater(c *child) {
	c.restarting = true
	c.retryTag++
	s.mbox.push(&retry{c: c, tag: c.retryTag})
}

func (s *supervisor) handleRetry(r *retry) (bool, error) {
	c := r.c
	if c.removed || !c.restarting || r.tag != c.retryTag {
		return false, nil
	}
	if r.counted {
		s.restartByStrategy(c)
		return false, nil
	}
	return s.restart(c)
}

// after returns c and the children started after it.
func (s *supervisor) after(c *child) []*child {
	for i, o := range s.children {
		if o == c {
			return s.children[i:]
		}
	}
	return nil
}

// startChildren starts, in order, every child of group that is not running
// (OTP's start_children). It stops at the first failure, reports it, and
// returns that child and its error; the children after it are left stopped.
func (s *supervisor) startChildren(group []*child) (*child, error) {
	for _, c := range group {
		if c.removed || c.proc != nil {
			continue
		}
		err, ignored := s.startChild(c, false)
		switch {
		case err != nil:
			s.report(StartError, c, err)
			return c, err
		case ignored && c.spec.Restart == Temporary:
			s.remove(c)
		}
	}
	return nil, nil
}

// terminateChildren stops the running children of group one at a time, last
// started first (OTP's terminate_children). Temporary children are removed;
// the others are left stopped, with any pending restart cancelled.
func (s *supervisor) terminateChildren(group []*child) {
	for i := len(group) - 1; i >= 0; i-- {
		c := group[i]
		if c.removed {
			continue
		}
		if c.proc != nil {
			s.shutdown(c)
		}
		c.settle()
		if c.spec.Restart == Temporary {
			s.remove(c)
		}
	}
}

// remove marks c deleted; compact drops it from the list.
func (s *supervisor) remove(c *child) {
	if c.removed {
		return
	}
	c.removed = true
	c.settle()
	if s.byID[c.spec.ID] == c {
		delete(s.byID, c.spec.ID)
	}
}

func (s *supervisor) compact() {
	kept := s.children[:0]
	for _, c := range s.children {
		if !c.removed {
			kept = append(kept, c)
		}
	}
	clear(s.children[len(kept):])
	s.children = kept
}

func checkFlags(f Flags, dynamic bool) error {
	bad := func(term string, v any) error { return &SpecError{Term: term, Value: v} }
	switch {
	case f.Strategy > RestForOne || (dynamic && f.Strategy != OneForOne):
		return bad("invalid_strategy", f.Strategy)
	case f.MaxRestarts < 0:
		return bad("invalid_intensity", f.MaxRestarts)
	case f.MaxSeconds <= 0:
		return bad("invalid_period", f.MaxSeconds)
	case f.AutoShutdown > AllSignificant:
		return bad("invalid_auto_shutdown", f.AutoShutdown)
	case dynamic && f.AutoShutdown != Never:
		return bad("bad_combination", "dynamic supervisor with auto_shutdown "+f.AutoShutdown.String())
	}
	return nil
}
