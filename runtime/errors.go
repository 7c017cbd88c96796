package runtime

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors; compare with errors.Is. An error the runtime returns
// reads as a Go error, "arbor: " and what happened in plain words, and ends
// with OTP's term in parentheses for people who know it or search for it:
// "arbor: no such process (noproc)". Exit reasons are the exception: they
// keep OTP's short names (shutdown, killed), because they are values shown
// in reports and snapshots ("last exit: killed").
var (
	// ErrIgnore is what a start function returns for OTP's ignore: the child
	// has nothing to do. Its spec is kept (dropped if temporary) without a process.
	ErrIgnore = errors.New("arbor: the start function has nothing to do (ignore)")

	// ErrShutdown is OTP's shutdown exit reason. Use Shutdown to make
	// {shutdown, Reason}.
	ErrShutdown = errors.New("shutdown")

	// ErrKilled is the exit reason of a process the runtime gave up on (OTP's
	// killed): a child that outlived its shutdown (at once for brutal_kill),
	// and everything below a supervisor given up on. Go cannot stop a
	// goroutine, so such a process is dead to the runtime while its goroutine
	// may still run: see LingeringGoroutine.
	ErrKilled = errors.New("killed")

	// ErrGoexit is the exit reason of a process whose goroutine called
	// runtime.Goexit (as t.FailNow and t.Fatal do) in a start function,
	// Serve, a server's handler or a task: an abnormal exit, so a permanent
	// or transient child is restarted and a task's Await returns it.
	ErrGoexit = errors.New("goexit: runtime.Goexit was called (t.FailNow or t.Fatal in a test?)")

	// ErrNoProc means the process is not running (OTP's noproc): a Down for
	// a process that was already gone, or a call to a supervisor that has exited.
	ErrNoProc = errors.New("arbor: no such process (noproc)")

	// ErrAlreadyStarted is matched by *AlreadyStartedError.
	ErrAlreadyStarted = errors.New("arbor: already started (already_started)")
	// ErrAlreadyPresent: start_child for an id whose spec exists but is not running.
	ErrAlreadyPresent = errors.New("arbor: a child with that id is present but not running; RestartChild starts it (already_present)")
	// ErrNotFound: no child with that id (or handle).
	ErrNotFound = errors.New("arbor: no such child (not_found)")
	// ErrRunning: restart_child or delete_child of a running child.
	ErrRunning = errors.New("arbor: the child is running (running)")
	// ErrRestarting: restart_child or delete_child of a child being restarted.
	ErrRestarting = errors.New("arbor: the child is being restarted (restarting)")
	// ErrMaxChildren: a dynamic supervisor already has max_children children.
	ErrMaxChildren = errors.New("arbor: the supervisor already has its maximum number of children (max_children)")

	// ErrReachedMaxRestartIntensity is matched by *IntensityError.
	ErrReachedMaxRestartIntensity = errors.New("arbor: too many restarts (reached_max_restart_intensity)")
	// ErrAutoShutdown is the reason a supervisor stops after its significant
	// children exited, wrapped by Shutdown.
	ErrAutoShutdown = errors.New("arbor: its significant children exited (auto_shutdown)")

	// ErrInvalidSpec is matched by *SpecError.
	ErrInvalidSpec = errors.New("arbor: invalid spec")
)

// Shutdown returns OTP's {shutdown, reason}: an error that matches both
// ErrShutdown and reason with errors.Is. A child that returns it exits as
// shutdown, so a transient child is not restarted. Shutdown(nil) is ErrShutdown.
func Shutdown(reason error) error {
	if reason == nil {
		return ErrShutdown
	}
	return &shutdownError{reason: reason}
}

// shutdownError is {shutdown, Reason}; errors.Unwrap gives the reason.
type shutdownError struct {
	reason error
}

func (e *shutdownError) Error() string        { return "shutdown: " + e.reason.Error() }
func (e *shutdownError) Unwrap() error        { return e.reason }
func (e *shutdownError) Is(target error) bool { return target == ErrShutdown }

// IsShutdown reports whether reason is OTP's shutdown or {shutdown, _}.
func IsShutdown(reason error) bool { return errors.Is(reason, ErrShutdown) }

// IsNormal reports whether reason is a normal exit: nil.
func IsNormal(reason error) bool { return reason == nil }

// isCleanExit reports whether reason is normal, shutdown or {shutdown, _}:
// the exits after which a transient child is not restarted.
func isCleanExit(reason error) bool { return reason == nil || IsShutdown(reason) }

// PanicError is the exit reason of a child whose Serve or start function
// panicked: a crash, with the panic value and the stack where it happened.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// AlreadyStartedError says a child with that id (or a process under that
// name) is running, and names it.
type AlreadyStartedError struct {
	Handle Handle
}

func (e *AlreadyStartedError) Error() string {
	if e.Handle.IsZero() {
		return "arbor: already being started (already_started)"
	}
	return "arbor: already started as " + e.Handle.String() + " (already_started)"
}
func (e *AlreadyStartedError) Is(target error) bool { return target == ErrAlreadyStarted }

// StartChildError is a failed start: OTP's {failed_to_start_child, ID, Reason}.
// NewSupervisor returns it wrapped in Shutdown, as OTP's start_link does; the
// API's StartChild and RestartChild return it alone.
type StartChildError struct {
	ID     string
	Reason error
}

func (e *StartChildError) Error() string {
	return fmt.Sprintf("arbor: child %q failed to start: %v (failed_to_start_child)", e.ID, e.Reason)
}
func (e *StartChildError) Unwrap() error { return e.Reason }

// IntensityError is the exit reason of a supervisor that gave up: more than
// MaxRestarts restarts within MaxSeconds. It matches ErrShutdown, so the
// parent treats it as OTP's shutdown (a transient parent spec does not
// restart it), and ErrReachedMaxRestartIntensity.
type IntensityError struct {
	Supervisor  string
	Child       string // the child whose restart was refused
	MaxRestarts int
	MaxSeconds  int
}

func (e *IntensityError) Error() string {
	return fmt.Sprintf("arbor: supervisor %q gave up after more than %d restarts in %ds, the last of child %q; it exits as shutdown (reached_max_restart_intensity)",
		e.Supervisor, e.MaxRestarts, e.MaxSeconds, e.Child)
}

func (e *IntensityError) Is(target error) bool {
	return target == ErrShutdown || target == ErrReachedMaxRestartIntensity
}

// SpecError is an invalid supervisor flag or child spec, named by OTP's error
// term (invalid_strategy, invalid_intensity, invalid_period,
// invalid_auto_shutdown, bad_combination, missing_id, missing_start,
// invalid_restart_type, invalid_child_type, invalid_shutdown,
// duplicate_child_name, invalid_max_children).
type SpecError struct {
	Term  string // OTP's error term
	Child string // the child's id, when the error is about a child
	Value any    // the offending value
}

func (e *SpecError) Error() string {
	what := specTermWords[e.Term]
	if what == "" {
		what = "is invalid"
	}
	if e.Child != "" {
		return fmt.Sprintf("arbor: invalid child spec %q: %s: %v (%s)", e.Child, what, e.Value, e.Term)
	}
	return fmt.Sprintf("arbor: invalid supervisor flags: %s: %v (%s)", what, e.Value, e.Term)
}

// specTermWords says each of OTP's spec error terms in plain words.
var specTermWords = map[string]string{
	"invalid_strategy":      "the strategy must be one_for_one, one_for_all or rest_for_one (one_for_one for a dynamic supervisor)",
	"invalid_intensity":     "max_restarts must be 0 or more",
	"invalid_period":        "max_seconds must be more than 0",
	"invalid_auto_shutdown": "auto_shutdown must be never, any_significant or all_significant",
	"bad_combination":       "these settings do not go together",
	"missing_id":            "a child needs an id",
	"missing_start":         "a child needs a start function",
	"invalid_restart_type":  "restart must be permanent, transient or temporary",
	"invalid_child_type":    "the type must be worker or supervisor",
	"invalid_shutdown":      "shutdown must be brutal_kill, infinity or a timeout of 0 or more",
	"invalid_backoff":       "a backoff needs 0 < Min <= Max and a jitter from 0 to 1",
	"duplicate_child_name":  "two children have this id",
	"invalid_max_children":  "max_children must be 0 (no limit) or more",
}

func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// classifyExit turns what Serve returned into the exit reason, given how the
// process was cancelled (cause is nil when it was not).
//
// A process cancelled by its supervisor (cause is shutdown-class) exits as
// shutdown whatever Serve returns, unless it panicked: this is the Go
// counterpart of a worker killed by exit(Pid, shutdown). A non-nil error
// other than a context error is kept inside the shutdown reason for reports.
// A process cancelled because a linked process crashed exits with that
// crash's reason, as an Erlang process does.
func classifyExit(served error, cause error) error {
	if cause == nil {
		return served
	}
	if _, panicked := served.(*PanicError); panicked || served == ErrGoexit {
		return served
	}
	if !IsShutdown(cause) {
		return cause
	}
	switch {
	case served == nil, errors.Is(served, context.Canceled):
		return cause
	case IsShutdown(served):
		return served
	}
	return Shutdown(served)
}
