package runtime

import (
	"context"
	"errors"
	"time"
)

// ChildState is what a child is doing, for introspection.
type ChildState string

const (
	// StateRunning: its process is alive.
	StateRunning ChildState = "running"
	// StateRestarting: a restart failed or is delayed; a retry is pending.
	StateRestarting ChildState = "restarting"
	// StateStopped: its spec is kept but it has no process (OTP's undefined).
	StateStopped ChildState = "stopped"
)

// SupervisorSnapshot is the state of a live supervisor and, recursively, of
// the supervisors below it. It marshals to JSON for tools such as the
// observer.
type SupervisorSnapshot struct {
	Name         string          `json:"name"`
	Handle       string          `json:"handle"`
	Dynamic      bool            `json:"dynamic,omitempty"`
	Strategy     string          `json:"strategy"`
	AutoShutdown string          `json:"auto_shutdown,omitempty"`
	MaxRestarts  int             `json:"max_restarts"`
	MaxSeconds   int             `json:"max_seconds"`
	MaxChildren  int             `json:"max_children,omitempty"`
	Children     []ChildSnapshot `json:"children"`

	// RecentRestarts counts the restarts within the current window of
	// MaxSeconds: the intensity used, of MaxRestarts allowed.
	RecentRestarts int `json:"recent_restarts"`
	// MessageQueueLen counts the messages waiting in its mailbox.
	MessageQueueLen int `json:"message_queue_len"`
	// Process is the supervisor's own process, for Handle.Info; it is not
	// marshalled.
	Process Handle `json:"-"`

	// Lingering lists the goroutines, anywhere below this supervisor, of
	// processes that were given up on (killed) and have not returned yet,
	// oldest first. Only the supervisor that Snapshot was called on has it;
	// its subtrees' snapshots leave it empty.
	Lingering []LingeringGoroutine `json:"lingering,omitempty"`
}

// ChildSnapshot is the state of one child. Children are listed in start
// order (in no particular order for a dynamic supervisor).
type ChildSnapshot struct {
	ID          string     `json:"id"`
	Handle      string     `json:"handle,omitempty"`
	Type        string     `json:"type"`
	Restart     string     `json:"restart"`
	Shutdown    string     `json:"shutdown"`
	Significant bool       `json:"significant,omitempty"`
	State       ChildState `json:"state"`
	// Restarts counts the starts after the first: automatic and API restarts.
	Restarts int `json:"restarts"`
	// LastExit is the reason of the latest exit ("normal" for nil); empty
	// when the child has not exited yet.
	LastExit string `json:"last_exit,omitempty"`
	// Uptime of the running incarnation.
	Uptime time.Duration `json:"uptime_ns,omitempty"`
	// Names are the running incarnation's names: its keys in unique
	// registries, as "registry/key" (the key alone in a registry with no
	// name), such as "buckets/shopping".
	Names []string `json:"names,omitempty"`
	// TreeError says why the tree of a child supervisor is missing: it
	// did not answer (it is busy, or the snapshot's ctx ended first).
	TreeError string `json:"tree_error,omitempty"`
	// Supervisor is the child's own tree, when it is a supervisor.
	Supervisor *SupervisorSnapshot `json:"supervisor,omitempty"`
	// Exits is its restart history: its latest exits of its own, oldest
	// first, at most HistoryLength; stops by its supervisor are not in it.
	Exits []ExitRecord `json:"exits,omitempty"`
	// Process is the running incarnation (the zero Handle when there is
	// none), for Handle.Info and control; it is not marshalled.
	Process Handle `json:"-"`
}

// snapshotter is implemented by Supervisor and DynamicSupervisor.
type snapshotter interface {
	Service
	Snapshot(ctx context.Context) (SupervisorSnapshot, error)
}

// childSnapshot describes c; the loop goroutine calls it.
// now is the supervisor's since().
func (s *core) childSnapshot(c *child, now time.Duration) ChildSnapshot {
	snap := ChildSnapshot{
		ID:          c.spec.ID,
		Type:        c.spec.Type.String(),
		Restart:     c.spec.Restart.String(),
		Shutdown:    c.spec.Shutdown.String(),
		Significant: c.spec.Significant,
		State:       StateStopped,
	}
	if c.incarnation > 1 {
		snap.Restarts = int(c.incarnation) - 1
	}
	if c.extra != nil && c.extra.exited {
		snap.LastExit = reasonString(c.extra.lastExit)
		snap.Exits = s.exitRecords(c)
	}
	switch {
	case c.restarting:
		snap.State = StateRestarting
	case c.proc != nil:
		snap.State = StateRunning
		snap.Handle = c.proc.handle().String()
		snap.Process = c.proc.handle()
		snap.Uptime = now - c.proc.started
		snap.Names = c.proc.registeredNames()
	}
	return snap
}

// withSubtrees fills in the trees of children that are supervisors. It runs
// outside the loop: asking a child supervisor from inside would block this
// one on it.
func withSubtrees(ctx context.Context, snap SupervisorSnapshot, handles []Handle) SupervisorSnapshot {
	for i, h := range handles {
		if sub, ok := ServiceOf[snapshotter](h); ok && h.Alive() {
			tree, err := sub.Snapshot(ctx)
			switch {
			case err == nil:
				tree.Lingering = nil // listed once, at the top
				snap.Children[i].Supervisor = &tree
			case !errors.Is(err, ErrNoProc): // busy, or ctx ended: say so; one that just exited is no news
				snap.Children[i].TreeError = err.Error()
			}
		}
	}
	return snap
}

// lingering lists the lingering goroutines below the supervisor, at now.
func (s *core) lingering(now time.Duration) []LingeringGoroutine {
	return s.self.rootProcess().lingeringSet().under(s.self.path(), s.epoch.Add(now))
}

// Snapshot implements Supervisor.Snapshot.
func (s *supervisor) Snapshot(ctx context.Context) (SupervisorSnapshot, error) {
	var snap SupervisorSnapshot
	var handles []Handle
	err := query(ctx, &s.mbox, s.done, func() {
		now := s.since()
		snap = SupervisorSnapshot{
			Name: s.name, Handle: s.self.handle().String(), Strategy: s.flags.Strategy.String(),
			AutoShutdown: s.flags.AutoShutdown.String(),
			MaxRestarts:  s.flags.MaxRestarts, MaxSeconds: s.flags.MaxSeconds,
			RecentRestarts: s.restarts.used(s.second()), MessageQueueLen: s.mbox.len(), Process: s.self.handle(),
		}
		for _, c := range s.children {
			snap.Children = append(snap.Children, s.childSnapshot(c, now))
			handles = append(handles, c.handleOrZero())
		}
		snap.Lingering = s.lingering(now)
	})
	if err != nil {
		return SupervisorSnapshot{}, err
	}
	return withSubtrees(ctx, snap, handles), nil
}

// Snapshot implements DynamicSupervisor.Snapshot.
func (d *dynamicSupervisor) Snapshot(ctx context.Context) (SupervisorSnapshot, error) {
	var snap SupervisorSnapshot
	var handles []Handle
	err := query(ctx, &d.mbox, d.done, func() {
		now := d.since()
		snap = SupervisorSnapshot{
			Name: d.name, Handle: d.self.handle().String(), Dynamic: true, Strategy: OneForOne.String(),
			MaxRestarts: d.restarts.max, MaxSeconds: int(d.restarts.period), MaxChildren: d.maxChildren,
			RecentRestarts: d.restarts.used(d.second()), MessageQueueLen: d.mbox.len(), Process: d.self.handle(),
		}
		for _, c := range d.children {
			snap.Children = append(snap.Children, d.childSnapshot(c, now))
			handles = append(handles, c.handleOrZero())
		}
		snap.Lingering = d.lingering(now)
	})
	if err != nil {
		return SupervisorSnapshot{}, err
	}
	return withSubtrees(ctx, snap, handles), nil
}

func (c *child) handleOrZero() Handle {
	if c.proc == nil {
		return Handle{}
	}
	return c.proc.handle()
}

// reasonString spells an exit reason for people: "normal" for nil.
func reasonString(reason error) string {
	if reason == nil {
		return "normal"
	}
	return reason.Error()
}

// ApplicationSnapshot is the state of one running application.
type ApplicationSnapshot struct {
	Name      string              `json:"name"`
	StartType string              `json:"start_type"`
	DependsOn []string            `json:"depends_on,omitempty"`
	Handle    string              `json:"handle"`
	Tree      *SupervisorSnapshot `json:"tree,omitempty"`
	// TreeError says why Tree is missing when the top supervisor did not
	// answer (it is busy, or the snapshot's ctx ended first).
	TreeError string `json:"tree_error,omitempty"`
	// Process is the application's top process, for Handle.Info; it is
	// not marshalled.
	Process Handle `json:"-"`
}

// Snapshot returns the running applications in start order, each with its
// tree when its top process is a supervisor.
func (a *Applications) Snapshot(ctx context.Context) ([]ApplicationSnapshot, error) {
	reply := make(chan []*runningApp, 1)
	select {
	case a.snaps <- reply:
	case <-a.done:
		return nil, ErrNoProc
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var running []*runningApp
	select {
	case running = <-reply:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := make([]ApplicationSnapshot, 0, len(running))
	for _, app := range running {
		snap := ApplicationSnapshot{
			Name: app.spec.Name, StartType: app.spec.StartType.String(),
			DependsOn: app.spec.DependsOn, Handle: app.proc.handle().String(), Process: app.proc.handle(),
		}
		if sub, ok := ServiceOf[snapshotter](app.proc.handle()); ok {
			tree, err := sub.Snapshot(ctx)
			switch {
			case err == nil:
				snap.Tree = &tree
			case !errors.Is(err, ErrNoProc):
				snap.TreeError = err.Error()
			}
		}
		out = append(out, snap)
	}
	return out, nil
}
