package cluster

import (
	"errors"
	"fmt"

	"github.com/arborgo/arbor/runtime"
)

// Sentinel errors; compare with errors.Is.
var (
	// ErrUnavailable: etcd could not be reached in time, or this node holds
	// no lease (it lost it and has not made a new one yet). Nothing was done
	// locally in its place: a node never falls back to a decision of its own
	// that could make a second owner.
	ErrUnavailable = errors.New("cluster: etcd unavailable")

	// ErrLeaseLost is the shutdown reason of distributed work stopped because
	// this node's lease reached its local deadline (or etcd said it was
	// gone): another node may own the work now.
	ErrLeaseLost = errors.New("cluster: lease lost")

	// ErrReleased is the shutdown reason of work this node gave up on
	// purpose: a takeover by a higher-priority node, a keyed child moved
	// after it exhausted its restart intensity, or TerminateChild.
	ErrReleased = errors.New("cluster: released")

	// ErrAlreadyStarted is matched by *AlreadyStartedError, which also
	// matches the runtime's runtime.ErrAlreadyStarted.
	ErrAlreadyStarted = errors.New("cluster: already started (already_started)")

	// ErrFailed: a keyed child was marked failed after moving between nodes
	// as many times as its supervisor's MaxMoves allows. TerminateChild
	// forgets it, after which StartChild may start it again.
	ErrFailed = errors.New("cluster: child failed")

	// ErrNotFound: no keyed child with that key. It is the runtime's
	// runtime.ErrNotFound, so one errors.Is serves both.
	ErrNotFound = runtime.ErrNotFound

	// ErrNoNodes: no live node runs the supervisor's local part, so a new
	// child has nowhere to run. It passes when one does (a node that lost
	// its lease makes a new one as soon as etcd answers).
	ErrNoNodes = errors.New("cluster: no live node runs the supervisor")

	// ErrClosed: the node has been closed.
	ErrClosed = errors.New("cluster: node closed")
)

// AlreadyStartedError is StartChild's answer for a key that already has a
// child somewhere in the cluster: OTP's {already_started, Pid}, with the
// owner in place of the pid. Owner.Node is empty when the child is between
// owners (its node died and it has not been placed again yet).
type AlreadyStartedError struct {
	Key   string
	Owner Owner
}

func (e *AlreadyStartedError) Error() string {
	if e.Owner.Node == "" {
		return fmt.Sprintf("cluster: key %q already started, being placed on a node (already_started)", e.Key)
	}
	return fmt.Sprintf("cluster: key %q already started on node %q, token %d (already_started)", e.Key, e.Owner.Node, e.Owner.Token)
}

func (e *AlreadyStartedError) Is(target error) bool {
	return target == ErrAlreadyStarted || target == runtime.ErrAlreadyStarted
}

// unavailable wraps err, an etcd call's failure, as ErrUnavailable with what
// was being done.
func unavailable(doing string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, doing, err)
}
