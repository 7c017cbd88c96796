package runtime

import (
	"context"
	"sync/atomic"
)

// call is an API request: fn runs in the supervisor's goroutine, then done
// is closed.
type call struct {
	fn   func()
	done chan struct{}
	// query marks a call that only reads the supervisor's state: once its
	// caller has stopped waiting (abandoned), the loop skips it, so that a
	// poller of a busy supervisor (an observer, a health probe) does not
	// pile up work in its mailbox.
	query     bool
	abandoned atomic.Bool
}

// run runs the call in the loop, unless it is an abandoned query.
func (c *call) run() {
	if !c.query || !c.abandoned.Load() {
		c.fn()
	}
	close(c.done)
}

// exec runs fn in the loop of the supervisor whose mailbox is mb and which
// closes exited when it stops. It returns ctx's error if ctx ends first (fn
// may still run later, as an OTP call that timed out is still handled), and
// ErrNoProc if the supervisor has exited without running fn.
func exec(ctx context.Context, mb *mailbox, exited <-chan struct{}, fn func()) error {
	return send(ctx, mb, exited, &call{fn: fn, done: make(chan struct{})})
}

// query is exec for a fn that only reads the supervisor's state: if ctx
// ends first, fn does not run at all.
func query(ctx context.Context, mb *mailbox, exited <-chan struct{}, fn func()) error {
	return send(ctx, mb, exited, &call{fn: fn, done: make(chan struct{}), query: true})
}

func send(ctx context.Context, mb *mailbox, exited <-chan struct{}, c *call) error {
	mb.push(c)
	select {
	case <-c.done:
		return nil
	case <-exited:
		select {
		case <-c.done:
			return nil
		default:
			return ErrNoProc
		}
	case <-ctx.Done():
		c.abandoned.Store(true)
		select {
		case <-c.done: // it ran as ctx ended
			return nil
		default:
			return ctx.Err()
		}
	}
}

// ChildInfo describes one child, as OTP's which_children does.
type ChildInfo struct {
	ID string
	// Handle is the running process; zero when the child is not running
	// (OTP's undefined) or is being restarted.
	Handle     Handle
	Restarting bool
	Type       ChildType
}

// Counts is OTP's count_children.
type Counts struct {
	Specs       int // child specs, running or not
	Active      int // children whose process is alive
	Supervisors int // specs of type supervisor
	Workers     int // specs of type worker
}

func (c *child) info() ChildInfo {
	var h Handle
	if c.proc != nil {
		h = c.proc.handle()
	}
	return ChildInfo{ID: c.spec.ID, Handle: h, Restarting: c.restarting, Type: c.spec.Type}
}

// StartChild implements Supervisor.StartChild.
func (s *supervisor) StartChild(ctx context.Context, spec ChildSpec) (Handle, error) {
	if err := checkChildSpec(spec, s.flags.AutoShutdown, true); err != nil {
		return Handle{}, err
	}
	spec.Shutdown = spec.Shutdown.orDefault(spec.Type)
	var h Handle
	var err error
	callErr := exec(ctx, &s.mbox, s.done, func() {
		if old, ok := s.byID[spec.ID]; ok {
			// As OTP: a child the supervisor holds a process for is
			// already started, even when that process's exit is still in
			// the mailbox.
			if old.proc != nil {
				err = &AlreadyStartedError{Handle: old.proc.handle()}
			} else {
				err = ErrAlreadyPresent
			}
			return
		}
		c := newChild(spec)
		startErr, ignored := s.startChild(c, true)
		switch {
		case startErr != nil:
			err = &StartChildError{ID: spec.ID, Reason: startErr}
			return
		case ignored && spec.Restart == Temporary:
			return
		}
		s.children = append(s.children, c)
		s.byID[spec.ID] = c
		if c.proc != nil {
			h = c.proc.handle()
		}
	})
	if callErr != nil {
		return Handle{}, callErr
	}
	return h, err
}

// TerminateChild implements Supervisor.TerminateChild.
func (s *supervisor) TerminateChild(ctx context.Context, id string) error {
	var err error
	callErr := exec(ctx, &s.mbox, s.done, func() {
		c, ok := s.byID[id]
		if !ok {
			err = ErrNotFound
			return
		}
		if c.proc != nil {
			s.shutdown(c)
		}
		c.settle()
		if c.spec.Restart == Temporary {
			s.remove(c)
			s.compact()
		}
	})
	if callErr != nil {
		return callErr
	}
	return err
}

// RestartChild implements Supervisor.RestartChild.
func (s *supervisor) RestartChild(ctx context.Context, id string) (Handle, error) {
	var h Handle
	var err error
	callErr := exec(ctx, &s.mbox, s.done, func() {
		c, ok := s.byID[id]
		switch {
		case !ok:
			err = ErrNotFound
		case c.restarting:
			err = ErrRestarting
		case c.proc != nil:
			err = ErrRunning
		default:
			startErr, _ := s.startChild(c, true)
			if startErr != nil {
				err = &StartChildError{ID: id, Reason: startErr}
			} else if c.proc != nil {
				h = c.proc.handle()
			}
		}
	})
	if callErr != nil {
		return Handle{}, callErr
	}
	return h, err
}

// DeleteChild implements Supervisor.DeleteChild.
func (s *supervisor) DeleteChild(ctx context.Context, id string) error {
	var err error
	callErr := exec(ctx, &s.mbox, s.done, func() {
		c, ok := s.byID[id]
		switch {
		case !ok:
			err = ErrNotFound
		case c.restarting:
			err = ErrRestarting
		case c.proc != nil:
			err = ErrRunning
		default:
			s.remove(c)
			s.compact()
		}
	})
	if callErr != nil {
		return callErr
	}
	return err
}

// WhichChildren implements Supervisor.WhichChildren.
func (s *supervisor) WhichChildren(ctx context.Context) ([]ChildInfo, error) {
	var out []ChildInfo
	err := query(ctx, &s.mbox, s.done, func() {
		out = make([]ChildInfo, 0, len(s.children))
		for i := len(s.children) - 1; i >= 0; i-- {
			out = append(out, s.children[i].info())
		}
	})
	return out, err
}

// WhichChild implements Supervisor.WhichChild.
func (s *supervisor) WhichChild(ctx context.Context, id string) (ChildInfo, error) {
	var out ChildInfo
	var err error
	callErr := query(ctx, &s.mbox, s.done, func() {
		c, ok := s.byID[id]
		if !ok {
			err = ErrNotFound
			return
		}
		out = c.info()
	})
	if callErr != nil {
		return ChildInfo{}, callErr
	}
	return out, err
}

// CountChildren implements Supervisor.CountChildren.
func (s *supervisor) CountChildren(ctx context.Context) (Counts, error) {
	var n Counts
	err := query(ctx, &s.mbox, s.done, func() { n = countChildren(s.children) })
	return n, err
}

// countChildren counts children for CountChildren: every spec, by type,
// and the ones whose process is alive.
func countChildren(children []*child) Counts {
	var n Counts
	for _, c := range children {
		n.Specs++
		if c.spec.Type == TypeSupervisor {
			n.Supervisors++
		} else {
			n.Workers++
		}
		if c.proc != nil && c.proc.handle().Alive() {
			n.Active++
		}
	}
	return n
}

// GetChildSpec implements Supervisor.GetChildSpec.
func (s *supervisor) GetChildSpec(ctx context.Context, id string) (ChildSpec, error) {
	var out ChildSpec
	var err error
	callErr := query(ctx, &s.mbox, s.done, func() {
		c, ok := s.byID[id]
		if !ok {
			err = ErrNotFound
			return
		}
		out = c.spec
	})
	if callErr != nil {
		return ChildSpec{}, callErr
	}
	return out, err
}
