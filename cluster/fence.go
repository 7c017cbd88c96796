package cluster

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Owner says where a distributed application or a keyed child runs.
type Owner struct {
	// Node runs it.
	Node string
	// Token is the fencing token of this ownership: the etcd revision at
	// which the owner key was created. Every new ownership of the same key
	// has a larger token, so an external store that remembers the largest
	// token it has seen can refuse a write from an older owner.
	Token int64
}

// Fence is what a distributed application's tree or a keyed child knows of
// its own ownership, from FenceFrom(ctx). Guard a write to etcd with it, or
// pass Token to an external store, so that a paused or cut-off old owner
// (a zombie) cannot write after another node has taken over: Kleppmann's
// fencing token, etcd's create revision.
type Fence struct {
	key   string // the owner key in etcd
	token int64
	done  <-chan struct{}
}

// Token returns the fencing token.
func (f *Fence) Token() int64 { return f.token }

// Key returns the owner key in etcd whose create revision is the token.
func (f *Fence) Key() string { return f.key }

// Guard returns the comparison that holds only while this ownership lasts:
// the owner key still exists with the same create revision. Put it in the
// If of an etcd transaction.
func (f *Fence) Guard() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(f.key), "=", f.token)
}

// Valid reports whether this node still considers itself the owner: its
// lease has not reached its local deadline and the work was not released.
// It is advisory; only Guard (or a store checking Token) is a guarantee.
func (f *Fence) Valid() bool {
	select {
	case <-f.done:
		return false
	default:
		return true
	}
}

// Done is closed when the ownership ends on this node.
func (f *Fence) Done() <-chan struct{} { return f.done }

type fenceKey struct{}

// FenceFrom returns the fence of the distributed application or keyed child
// whose context ctx is (or is derived from).
func FenceFrom(ctx context.Context) (*Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(*Fence)
	return f, ok
}

func withFence(ctx context.Context, f *Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}
