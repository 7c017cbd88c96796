package runtime

import (
	"context"
	"fmt"
	"time"
)

// Service is a child's running body. Serve runs until the child is done and
// returns its exit reason:
//
//   - nil is OTP's normal exit;
//   - an error for which errors.Is(err, ErrShutdown) holds (see Shutdown) is OTP's
//     shutdown or {shutdown, Reason};
//   - any other error is a crash, and so is a panic, which the supervisor recovers
//     into a *PanicError, and runtime.Goexit (as t.FailNow calls), ErrGoexit.
//
// The supervisor cancels ctx to ask the child to stop; whatever Serve returns
// after that counts as shutdown, except a panic or runtime.Goexit. The shape
// is suture's, so services written for suture run under arbor unchanged.
type Service interface {
	Serve(ctx context.Context) error
}

// StartFunc is a child's start function, OTP's init. It runs in the child's
// new goroutine, with the child's context (Self(ctx) is the child's handle),
// while its supervisor waits for it; then the same goroutine runs the
// returned service's Serve with the same context, once the supervisor has
// reported the start.
//
// It returns the service; or an error for a failed start; or ErrIgnore, OTP's
// ignore, for a child that has nothing to do now.
type StartFunc func(ctx context.Context) (Service, error)

// Restart is a child's restart type: when its own exit makes the supervisor
// restart it. The zero value is Permanent.
type Restart uint8

const (
	// Permanent children are always restarted.
	Permanent Restart = iota
	// Transient children are restarted only after a crash: not after a normal
	// or shutdown exit.
	Transient
	// Temporary children are never restarted, and their spec is deleted when
	// they exit.
	Temporary
)

// String returns OTP's name for r.
func (r Restart) String() string {
	switch r {
	case Permanent:
		return "permanent"
	case Transient:
		return "transient"
	case Temporary:
		return "temporary"
	}
	return fmt.Sprintf("Restart(%d)", uint8(r))
}

// ChildType is OTP's child type. It sets the default shutdown and shows in
// reports and counts. The zero value is TypeWorker.
type ChildType uint8

const (
	// TypeWorker is a child that is not a supervisor.
	TypeWorker ChildType = iota
	// TypeSupervisor is a child that is itself a supervisor.
	TypeSupervisor
)

// String returns OTP's name for t.
func (t ChildType) String() string {
	switch t {
	case TypeWorker:
		return "worker"
	case TypeSupervisor:
		return "supervisor"
	}
	return fmt.Sprintf("ChildType(%d)", uint8(t))
}

// ShutdownSpec is how a child is stopped (OTP's shutdown field): BrutalKill, Infinity, or a timeout made
// by Timeout. The zero value, DefaultShutdown, means 5 seconds for a worker
// and Infinity for a supervisor.
//
// Go cannot kill a goroutine, so every way of stopping starts by cancelling
// the child's context; they differ in how long the supervisor waits for Serve
// to return. A child still running when the supervisor stops waiting is
// killed: dead at once to the whole runtime (its names freed, its monitors
// and links fired with ErrKilled, everything below it killed too), and
// reported. Its goroutine is the one thing that lives on, listed as a
// LingeringGoroutine until Serve returns: the hazard is that the old
// goroutine may still act — write, call, log — while a new incarnation
// already runs, so a service must return promptly once its context is
// cancelled.
type ShutdownSpec int64

const (
	// DefaultShutdown is the zero ShutdownSpec: 5s for workers, Infinity for supervisors.
	DefaultShutdown ShutdownSpec = 0
	// BrutalKill cancels the child and does not wait for it.
	BrutalKill ShutdownSpec = -1
	// Infinity cancels the child and waits for it, however long it takes.
	Infinity ShutdownSpec = -2
	// zeroTimeout is Timeout(0): cancel, and give up at once. It has its own
	// value because 0 is DefaultShutdown.
	zeroTimeout ShutdownSpec = -3
)

// DefaultWorkerShutdown is the timeout a worker gets when its spec leaves
// Shutdown at DefaultShutdown.
const DefaultWorkerShutdown = 5 * time.Second

// Timeout returns the shutdown that cancels the child and waits up to d for it
// to return. Timeout(0) is valid: cancel, and give the child up at once as
// killed. A negative d gives an invalid ShutdownSpec.
func Timeout(d time.Duration) ShutdownSpec {
	switch {
	case d == 0:
		return zeroTimeout
	case d < 0:
		return ShutdownSpec(minShutdown - 1)
	}
	return ShutdownSpec(d)
}

const minShutdown = zeroTimeout

// IsTimeout reports whether s is a timeout and, if so, returns it.
func (s ShutdownSpec) IsTimeout() (time.Duration, bool) {
	switch {
	case s == zeroTimeout:
		return 0, true
	case s > 0:
		return time.Duration(s), true
	}
	return 0, false
}

// String returns OTP's spelling: brutal_kill, infinity, or the timeout as a
// Go duration.
func (s ShutdownSpec) String() string {
	switch s {
	case DefaultShutdown:
		return "default"
	case BrutalKill:
		return "brutal_kill"
	case Infinity:
		return "infinity"
	case zeroTimeout:
		return "0s"
	}
	if s > 0 {
		return time.Duration(s).String()
	}
	return fmt.Sprintf("Shutdown(%d)", int64(s))
}

// orDefault resolves DefaultShutdown for a child of type t.
func (s ShutdownSpec) orDefault(t ChildType) ShutdownSpec {
	if s != DefaultShutdown {
		return s
	}
	if t == TypeSupervisor {
		return Infinity
	}
	return ShutdownSpec(DefaultWorkerShutdown)
}

// ChildSpec is OTP's child specification. The zero values of Restart, Type
// and Shutdown are OTP's defaults: permanent, worker, and 5s (Infinity for a
// supervisor).
type ChildSpec struct {
	// ID names the child within its supervisor; it must be unique there. A
	// dynamic supervisor neither requires it nor checks that it is unique;
	// when set, it names the child in its handle, the snapshot and reports.
	ID string
	// Start starts the child; it is required.
	Start StartFunc
	// Restart says when the child's own exit restarts it.
	Restart Restart
	// Type is worker or supervisor.
	Type ChildType
	// Significant children stop their supervisor when they exit by themselves,
	// as its AutoShutdown says. A significant child must not be Permanent.
	Significant bool
	// Shutdown says how long to wait for the child when stopping it.
	Shutdown ShutdownSpec
	// Backoff, when set, delays this child's restarts (beyond OTP; see Backoff).
	Backoff *Backoff
	// Name, when set, registers each incarnation of the child in a Registry
	// once its start function has returned, before Serve runs, as OTP's
	// {via, Registry, Key} name. A name held by another live process makes
	// the start fail with an *AlreadyStartedError. The entry goes away when
	// the incarnation exits.
	Name Name
}

// Backoff delays a child's restarts: the first restart after a run waits Min,
// each consecutive one twice as long up to Max, each delay varied at random
// by up to Jitter of itself (0.2 means ±20%). A child that has stayed up for
// Max without exiting starts again from Min.
//
// OTP has no backoff. Each restart still counts towards the supervisor's
// intensity when it is decided, before the delay, so backoff never lets a
// supervisor outlive a crash loop that OTP's rule would stop; while it waits,
// the child is in the restarting state.
type Backoff struct {
	Min    time.Duration
	Max    time.Duration
	Jitter float64
}
