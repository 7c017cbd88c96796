package runtime

import "context"

// Supervisor is a running static supervisor: OTP's supervisor with the
// one_for_one, one_for_all or rest_for_one strategy.
//
// NewSupervisor runs its init (starts the children, in order); Serve then runs
// its loop until it stops. One goroutine, the one in Serve, owns all of its
// state: child exits, API calls and retries reach it as messages, in arrival
// order, and start functions and child shutdowns run inside it, blocking it,
// as in OTP. The API methods are safe for concurrent use; each waits for the
// loop, or for its ctx, or for the supervisor to exit (ErrNoProc).
//
// Supervisor is a handle on the state it owns, with nothing but its API, so
// that a type embedding it (as generated code does) gets only that API.
type Supervisor struct{ s *supervisor }

// Snapshot returns the supervisor's live tree: its flags and every child,
// with the trees of child supervisors, recursively.
func (x *Supervisor) Snapshot(ctx context.Context) (SupervisorSnapshot, error) {
	return x.s.Snapshot(ctx)
}

// StartChild adds a child at the end of the start order and starts it
// (OTP's start_child). It returns the new process's handle, or the zero
// Handle when the start function returned ErrIgnore (the spec is then kept,
// unless the child is temporary). Errors:
//
//   - a *SpecError for an invalid spec;
//   - *AlreadyStartedError (ErrAlreadyStarted) when a child with that id runs;
//   - ErrAlreadyPresent when its spec exists but it is not running;
//   - *StartChildError when the start function fails; nothing is kept.
func (x *Supervisor) StartChild(ctx context.Context, spec ChildSpec) (Handle, error) {
	return x.s.StartChild(ctx, spec)
}

// TerminateChild stops the child with that id, as its Shutdown says (OTP's
// terminate_child). A temporary child's spec is then deleted; any other is
// kept, stopped, and can be restarted with RestartChild. Terminating a
// stopped child is a no-op; terminating one being restarted cancels the
// restart. The error is ErrNotFound for an unknown id.
func (x *Supervisor) TerminateChild(ctx context.Context, id string) error {
	return x.s.TerminateChild(ctx, id)
}

// RestartChild starts again a child that is stopped (OTP's restart_child).
// It does not count towards the restart intensity. It returns the new handle,
// or the zero Handle if the start function returned ErrIgnore. Errors:
// ErrNotFound, ErrRunning, ErrRestarting, or *StartChildError (the spec stays).
func (x *Supervisor) RestartChild(ctx context.Context, id string) (Handle, error) {
	return x.s.RestartChild(ctx, id)
}

// DeleteChild deletes the spec of a stopped child (OTP's delete_child).
// Errors: ErrNotFound, ErrRunning, ErrRestarting.
func (x *Supervisor) DeleteChild(ctx context.Context, id string) error {
	return x.s.DeleteChild(ctx, id)
}

// WhichChildren lists the children, newest first: the reverse of the start
// order, as OTP's which_children.
func (x *Supervisor) WhichChildren(ctx context.Context) ([]ChildInfo, error) {
	return x.s.WhichChildren(ctx)
}

// WhichChild describes the child with that id (OTP 28's which_child), or
// returns ErrNotFound.
func (x *Supervisor) WhichChild(ctx context.Context, id string) (ChildInfo, error) {
	return x.s.WhichChild(ctx, id)
}

// CountChildren counts the children as OTP's count_children does.
func (x *Supervisor) CountChildren(ctx context.Context) (Counts, error) {
	return x.s.CountChildren(ctx)
}

// GetChildSpec returns the spec of the child with that id, defaults filled
// in (OTP's get_childspec), or ErrNotFound.
func (x *Supervisor) GetChildSpec(ctx context.Context, id string) (ChildSpec, error) {
	return x.s.GetChildSpec(ctx, id)
}

// Done returns a channel that is closed once the supervisor has exited.
func (x *Supervisor) Done() <-chan struct{} { return x.s.Done() }

// Handle returns the supervisor's own handle.
func (x *Supervisor) Handle() Handle {
	return x.s.Handle()
}

// Name returns the supervisor's name from its spec.
func (x *Supervisor) Name() string {
	return x.s.Name()
}

// Wait blocks until the supervisor has exited and returns Serve's result.
func (x *Supervisor) Wait() error {
	return x.s.Wait()
}

// Stop stops the supervisor, its children first in reverse start order, and
// waits until it has exited (OTP's supervisor:stop). If ctx ends first, Stop
// returns ctx's error and the supervisor still finishes stopping. Stopping a
// supervisor that has already exited returns nil.
func (x *Supervisor) Stop(ctx context.Context) error {
	return x.s.Stop(ctx)
}

// Serve runs the supervisor until its context is cancelled (its parent
// stops it), Stop is called, its restart intensity is exceeded or a
// significant child makes it shut down; in every case it first stops its
// children in reverse start order. It returns:
//
//   - nil after Stop, OTP's normal;
//   - an *IntensityError after giving up on restarts;
//   - Shutdown(ErrAutoShutdown) after an auto_shutdown;
//   - a shutdown-class error when its context was cancelled.
//
// Serve must be called exactly once, with the context given to NewSupervisor
// (the supervisor also stops if ctx is another context that is cancelled).
func (x *Supervisor) Serve(ctx context.Context) error {
	return x.s.Serve(ctx)
}

// DynamicSupervisor is a running dynamic supervisor. As with Supervisor, one
// goroutine (the one in Serve) owns its state, start functions run in it,
// and its API methods are safe for concurrent use.
//
// Children have no order, and their ids need not be unique or set: a child
// is named by its handle, whose path ends with its id (the name a template
// gives it, such as "kv/buckets/shopping#3") or, without one, only its
// number ("kv/buckets/#3"). A restart reuses the child's spec, so the arguments its start
// function was bound to — the template's extra arguments — are given again.
// When it stops, all children are cancelled at once and then awaited, with one
// deadline per distinct shutdown value.
type DynamicSupervisor struct{ d *dynamicSupervisor }

// Serve runs the dynamic supervisor until its context is cancelled, Stop is
// called or its restart intensity is exceeded, then stops all its children
// concurrently. Its results are those of Supervisor.Serve.
func (x *DynamicSupervisor) Serve(ctx context.Context) error {
	return x.d.Serve(ctx)
}

// StartChild starts a child from spec (its ID, if any, names it) and returns its
// handle. When the start function returns ErrIgnore, it returns the zero
// Handle and a nil error, and keeps nothing. It returns ErrMaxChildren when
// the supervisor is full, a *SpecError for an invalid spec, and the start
// function's error (a *PanicError if it panicked) as it is.
func (x *DynamicSupervisor) StartChild(ctx context.Context, spec ChildSpec) (Handle, error) {
	return x.d.StartChild(ctx, spec)
}

// TerminateChild stops the child whose handle is h and deletes it. h may
// also be the last handle of a child being restarted, which cancels the
// restart. It returns ErrNotFound when h is not a child of d.
func (x *DynamicSupervisor) TerminateChild(ctx context.Context, h Handle) error {
	return x.d.TerminateChild(ctx, h)
}

// WhichChildren lists the children in no particular order, each with the
// ID its spec gave it (empty when none).
func (x *DynamicSupervisor) WhichChildren(ctx context.Context) ([]ChildInfo, error) {
	return x.d.WhichChildren(ctx)
}

// CountChildren counts as Elixir's DynamicSupervisor does: Specs counts every
// child, those being restarted too; Active only the running ones.
func (x *DynamicSupervisor) CountChildren(ctx context.Context) (Counts, error) {
	return x.d.CountChildren(ctx)
}

// Snapshot returns the dynamic supervisor's live tree.
func (x *DynamicSupervisor) Snapshot(ctx context.Context) (SupervisorSnapshot, error) {
	return x.d.Snapshot(ctx)
}

// Done returns a channel that is closed once the supervisor has exited.
func (x *DynamicSupervisor) Done() <-chan struct{} { return x.d.Done() }

// Handle returns the supervisor's own handle.
func (x *DynamicSupervisor) Handle() Handle {
	return x.d.Handle()
}

// Name returns the supervisor's name from its spec.
func (x *DynamicSupervisor) Name() string {
	return x.d.Name()
}

// Wait blocks until the supervisor has exited and returns Serve's result.
func (x *DynamicSupervisor) Wait() error {
	return x.d.Wait()
}

// Stop stops the dynamic supervisor and waits until it has exited. Its
// children are stopped all at once, as OTP's simple_one_for_one and
// Elixir's DynamicSupervisor do: every one is cancelled, then each is
// awaited up to its own shutdown. If ctx ends first, Stop returns ctx's
// error and the supervisor still finishes stopping. Stopping a supervisor
// that has already exited returns nil.
func (x *DynamicSupervisor) Stop(ctx context.Context) error {
	return x.d.Stop(ctx)
}
