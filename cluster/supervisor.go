package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/arborgo/arbor/runtime"
)

// Defaults of SupervisorSpec.
const (
	DefaultMaxMoves    = 3
	DefaultMoveBackoff = time.Second
	// MaxMoveBackoff caps the doubling of MoveBackoff.
	MaxMoveBackoff = 30 * time.Second
)

// SupervisorSpec describes a cluster-wide dynamic supervisor: children
// named by a key of type K, started with arguments of type A, each running
// on exactly one live node of the cluster.
type SupervisorSpec[K comparable, A any] struct {
	// Name identifies the supervisor in the cluster: every node that runs
	// the same name runs the same supervisor. Required; no slash.
	Name string
	// Start is each child's start function, called on the node that owns
	// the key, on every start and local restart, with the arguments given
	// to StartChild (decoded from etcd).
	Start func(ctx context.Context, key K, args A) (runtime.Service, error)
	// Restart is each child's restart type, as OTP's: a permanent child is
	// restarted after any exit; a transient one after a crash only, and is
	// forgotten cluster-wide when it ends normally; a temporary one is never
	// restarted and is forgotten when it ends.
	Restart runtime.Restart
	// Shutdown is how each child is stopped (the runtime's default when
	// zero).
	Shutdown runtime.ShutdownSpec
	// Type is each child's type: runtime.TypeWorker (the zero value) or
	// runtime.TypeSupervisor, for a child that is a supervisor.
	Type runtime.ChildType
	// Backoff, when set, delays each child's local restarts (see
	// runtime.Backoff); the move to another node has MoveBackoff.
	Backoff *runtime.Backoff
	// MaxRestarts and MaxSeconds are each child's own restart intensity on
	// its node, with runtime.Flags' defaults. A child that exceeds it, or
	// fails to start, is released by its node and started on another.
	MaxRestarts int
	MaxSeconds  int
	// MaxMoves bounds those releases: one more marks the child failed, and
	// no node starts it again until TerminateChild forgets it.
	// DefaultMaxMoves when zero; negative allows none.
	MaxMoves int
	// MoveBackoff is how long a released child waits before another node
	// starts it; it doubles with each move, up to MaxMoveBackoff.
	// DefaultMoveBackoff when zero.
	MoveBackoff time.Duration
}

// Supervisor is a cluster-wide dynamic supervisor and registry for keyed
// children. Every node that runs it (Start, as a child of its tree) may be
// given children; StartChild, TerminateChild and Lookup work from any node
// that has the Supervisor, running or not.
//
// A child's desired state (its key and arguments) lives in etcd apart from
// its placement (which node owns it, on that node's lease): when a node
// dies, its lease ends, its children lose their owner, and the live nodes
// start them again, each on exactly one node. The owner's creation
// revision is the child's fencing token (FenceFrom).
//
// Its methods are safe for concurrent use.
type Supervisor[K comparable, A any] struct {
	node   *Node
	spec   SupervisorSpec[K, A]
	encKey func(K) string
	decKey func(string) (K, error)
	prefix string // P/sup/<name>/

	mu    sync.Mutex
	local *localPart[K, A] // while Start's service runs
}

// NewSupervisor checks spec, K and A (see CheckArgs) and returns the
// supervisor. Its local part runs where Start is used as a child's start
// function.
func NewSupervisor[K comparable, A any](n *Node, spec SupervisorSpec[K, A]) (*Supervisor[K, A], error) {
	if err := checkName("supervisor", spec.Name); err != nil {
		return nil, err
	}
	if spec.Start == nil {
		return nil, fmt.Errorf("cluster: supervisor %q: no start function", spec.Name)
	}
	if spec.Restart > runtime.Temporary {
		return nil, fmt.Errorf("cluster: supervisor %q: invalid restart type %v", spec.Name, spec.Restart)
	}
	if spec.Type > runtime.TypeSupervisor {
		return nil, fmt.Errorf("cluster: supervisor %q: invalid child type %v", spec.Name, spec.Type)
	}
	if spec.MaxRestarts < 0 || spec.MaxSeconds < 0 {
		return nil, fmt.Errorf("cluster: supervisor %q: invalid intensity %d in %ds", spec.Name, spec.MaxRestarts, spec.MaxSeconds)
	}
	enc, dec, err := keyCodec[K]()
	if err != nil {
		return nil, fmt.Errorf("cluster: supervisor %q: %w", spec.Name, err)
	}
	if err := CheckArgs(reflect.TypeFor[A]()); err != nil {
		return nil, fmt.Errorf("cluster: supervisor %q: arguments: %w", spec.Name, err)
	}
	if spec.MaxMoves == 0 {
		spec.MaxMoves = DefaultMaxMoves
	}
	if spec.MoveBackoff <= 0 {
		spec.MoveBackoff = DefaultMoveBackoff
	}
	return &Supervisor[K, A]{node: n, spec: spec, encKey: enc, decKey: dec, prefix: n.keys.sup(spec.Name)}, nil
}

func (s *Supervisor[K, A]) specKey(k string) string  { return s.prefix + "spec/" + k }
func (s *Supervisor[K, A]) ownerKey(k string) string { return s.prefix + "owner/" + k }
func (s *Supervisor[K, A]) candKey(n string) string  { return s.prefix + "nodes/" + n }

// childRecord is a keyed child's desired state: the value of its spec key.
type childRecord struct {
	Args json.RawMessage `json:"args"`
	// Moves counts the releases after its intensity was exhausted.
	Moves int `json:"moves,omitempty"`
	// Tried lists the nodes that released it, latest last; the next
	// placement avoids them while another node is live.
	Tried []string `json:"tried,omitempty"`
	// NotBefore delays the next start after a release (wall clock).
	NotBefore time.Time `json:"not_before,omitzero"`
	// Failed, when set, says why it was given up.
	Failed string `json:"failed,omitempty"`
}

// ChildStatus is a keyed child as etcd knows it.
type ChildStatus[K comparable] struct {
	Key K
	// Owner is zero while the child is between owners or failed.
	Owner Owner
	// Moves counts how often it was released after exhausting its
	// intensity; Failed says why it was given up, when it was.
	Moves  int
	Failed string
}

// StartChild starts a child for key somewhere in the cluster, with args:
// it records the child's desired state and its owner in one etcd
// transaction, and returns that owner. The owner is the live node that
// runs this supervisor and ranks first for the key (rendezvous hashing, so
// keys spread over the nodes); that node starts the child as soon as it
// sees the ownership. A key that already has a child gets an
// *AlreadyStartedError naming its owner; a key marked failed gets
// ErrFailed; when no live node runs the supervisor, ErrNoNodes. Without a lease, or when etcd does not answer before ctx
// ends, the error matches ErrUnavailable.
func (s *Supervisor[K, A]) StartChild(ctx context.Context, key K, args A) (Owner, error) {
	k := s.encKey(key)
	if k == "" {
		return Owner{}, fmt.Errorf("cluster: supervisor %q: empty key", s.spec.Name)
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return Owner{}, fmt.Errorf("cluster: supervisor %q: key %q: arguments: %w", s.spec.Name, k, err)
	}
	rec, _ := json.Marshal(childRecord{Args: raw})
	if gen, _ := s.node.current(); gen == nil {
		return Owner{}, fmt.Errorf("%w: node %q holds no lease", ErrUnavailable, s.node.name)
	}
	excluded := map[string]bool{}
	fresh := false
	for {
		cands, rev, err := s.candidates(ctx, fresh)
		if err != nil {
			return Owner{}, err
		}
		var names []string
		for n := range cands {
			if !excluded[n] {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			if !fresh {
				fresh = true // the mirror may lag: ask etcd
				continue
			}
			return Owner{}, fmt.Errorf("%w %q", ErrNoNodes, s.spec.Name)
		}
		target := rendezvous(k, names)[0]
		// The placement holds only if no node joined since the candidates
		// were read (every candidacy key is older than rev) and the target
		// is still a candidate: a node whose local part left deleted its
		// candidacy while its lease lives on, and would own a child it
		// never runs.
		resp, err := s.node.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(s.specKey(k)), "=", 0),
				clientv3.Compare(clientv3.CreateRevision(s.ownerKey(k)), "=", 0),
				clientv3.Compare(clientv3.ModRevision(s.prefix+"nodes/"), "<", rev+1).WithPrefix(),
				clientv3.Compare(clientv3.CreateRevision(s.candKey(target)), ">", 0)).
			Then(clientv3.OpPut(s.specKey(k), string(rec)),
				clientv3.OpPut(s.ownerKey(k), target, clientv3.WithLease(clientv3.LeaseID(cands[target])))).
			Else(clientv3.OpGet(s.specKey(k)), clientv3.OpGet(s.ownerKey(k))).
			Commit()
		switch {
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			excluded[target] = true // that node's lease just ended
			fresh = true
			continue
		case err != nil:
			return Owner{}, unavailable(fmt.Sprintf("start child %q of %q", k, s.spec.Name), err)
		case resp.Succeeded:
			return Owner{Node: target, Token: resp.Header.Revision}, nil
		}
		specKVs := resp.Responses[0].GetResponseRange().Kvs
		ownerKVs := resp.Responses[1].GetResponseRange().Kvs
		if len(specKVs) > 0 {
			var r childRecord
			_ = json.Unmarshal(specKVs[0].Value, &r)
			if r.Failed != "" {
				return Owner{}, fmt.Errorf("%w: key %q of %q: %s", ErrFailed, k, s.spec.Name, r.Failed)
			}
			e := &AlreadyStartedError{Key: k}
			if len(ownerKVs) > 0 {
				e.Owner = Owner{Node: string(ownerKVs[0].Value), Token: ownerKVs[0].CreateRevision}
			}
			return Owner{}, e
		}
		if len(ownerKVs) == 0 {
			fresh = true // a node joined: place again among all
			continue
		}
		// Terminated, but its old owner is still stopping it: wait.
		if err := s.awaitGone(ctx, s.ownerKey(k), resp.Header.Revision); err != nil {
			return Owner{}, err
		}
	}
}

// candidates returns the live nodes that run this supervisor, with their
// leases, and the revision they are as of: from the local part's mirror
// when it runs (unless fresh), else from etcd.
func (s *Supervisor[K, A]) candidates(ctx context.Context, fresh bool) (map[string]int64, int64, error) {
	s.mu.Lock()
	lp := s.local
	s.mu.Unlock()
	if lp != nil && !fresh {
		if c, rev := lp.candidates(); c != nil {
			return c, rev, nil
		}
	}
	resp, err := s.node.cli.Get(ctx, s.prefix+"nodes/", clientv3.WithPrefix())
	if err != nil {
		return nil, 0, unavailable("list the nodes of "+s.spec.Name, err)
	}
	out := map[string]int64{}
	for _, kv := range resp.Kvs {
		out[lastSegment(string(kv.Key))] = kv.Lease
	}
	return out, resp.Header.Revision, nil
}

// awaitGone waits until key is deleted, watching from rev.
func (s *Supervisor[K, A]) awaitGone(ctx context.Context, key string, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := range s.node.cli.Watch(wctx, key, clientv3.WithRev(rev)) {
		for _, ev := range w.Events {
			if ev.Type == clientv3.EventTypeDelete {
				return nil
			}
		}
		if w.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return unavailable("wait for the old owner of "+key+" to stop", context.Cause(ctx))
	}
	resp, err := s.node.cli.Get(ctx, key)
	if err != nil {
		return unavailable("wait for the old owner of "+key+" to stop", err)
	}
	if len(resp.Kvs) == 0 {
		return nil
	}
	return s.awaitGone(ctx, key, resp.Header.Revision+1)
}

// TerminateChild ends key's child cluster-wide: it deletes the desired
// state, and waits until the owner has stopped the child and released it
// (or, for an owner cut off from etcd, until its lease has ended: by then
// it has stopped the child at its local deadline). It returns ErrNotFound
// when the key has no child.
func (s *Supervisor[K, A]) TerminateChild(ctx context.Context, key K) error {
	k := s.encKey(key)
	resp, err := s.node.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(s.specKey(k)), ">", 0)).
		Then(clientv3.OpDelete(s.specKey(k)), clientv3.OpGet(s.ownerKey(k))).
		Commit()
	if err != nil {
		return unavailable(fmt.Sprintf("terminate child %q of %q", k, s.spec.Name), err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("%w: key %q of supervisor %q", ErrNotFound, k, s.spec.Name)
	}
	if len(resp.Responses[1].GetResponseRange().Kvs) == 0 {
		return nil
	}
	return s.awaitGone(ctx, s.ownerKey(k), resp.Header.Revision+1)
}

// Lookup returns where key's child runs and its fencing token, from a
// linearizable read: ok is false while it is between owners. The error is
// ErrNotFound for a key without a child, and matches ErrFailed for one
// given up.
func (s *Supervisor[K, A]) Lookup(ctx context.Context, key K) (owner Owner, ok bool, err error) {
	k := s.encKey(key)
	var resp *clientv3.TxnResponse
	err = s.node.retryRead(ctx, func() error {
		resp, err = s.node.cli.Txn(ctx).Then(clientv3.OpGet(s.specKey(k)), clientv3.OpGet(s.ownerKey(k))).Commit()
		return err
	})
	if err != nil {
		return Owner{}, false, unavailable(fmt.Sprintf("look up %q of %q", k, s.spec.Name), err)
	}
	specKVs := resp.Responses[0].GetResponseRange().Kvs
	if len(specKVs) == 0 {
		return Owner{}, false, fmt.Errorf("%w: key %q of supervisor %q", ErrNotFound, k, s.spec.Name)
	}
	var r childRecord
	_ = json.Unmarshal(specKVs[0].Value, &r)
	if r.Failed != "" {
		return Owner{}, false, fmt.Errorf("%w: key %q of %q: %s", ErrFailed, k, s.spec.Name, r.Failed)
	}
	if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 {
		return Owner{Node: string(kvs[0].Value), Token: kvs[0].CreateRevision}, true, nil
	}
	return Owner{}, false, nil
}

// WhichChildren lists every keyed child of the cluster, from a
// linearizable read, in key order.
func (s *Supervisor[K, A]) WhichChildren(ctx context.Context) ([]ChildStatus[K], error) {
	var resp *clientv3.GetResponse
	err := s.node.retryRead(ctx, func() (err error) {
		resp, err = s.node.cli.Get(ctx, s.prefix, clientv3.WithPrefix())
		return err
	})
	if err != nil {
		return nil, unavailable("list the children of "+s.spec.Name, err)
	}
	owners := map[string]*mvccpb.KeyValue{}
	var specs []*mvccpb.KeyValue
	for _, kv := range resp.Kvs {
		switch k := string(kv.Key)[len(s.prefix):]; {
		case strings.HasPrefix(k, "owner/"):
			owners[k[len("owner/"):]] = kv
		case strings.HasPrefix(k, "spec/"):
			specs = append(specs, kv)
		}
	}
	out := make([]ChildStatus[K], 0, len(specs))
	for _, kv := range specs {
		k := string(kv.Key)[len(s.prefix)+len("spec/"):]
		key, err := s.decKey(k)
		if err != nil {
			continue
		}
		var r childRecord
		_ = json.Unmarshal(kv.Value, &r)
		st := ChildStatus[K]{Key: key, Moves: r.Moves, Failed: r.Failed}
		if o := owners[k]; o != nil {
			st.Owner = Owner{Node: string(o.Value), Token: o.CreateRevision}
		}
		out = append(out, st)
	}
	return out, nil
}

// Nodes returns the live nodes that run the supervisor's local part, by
// name, from a linearizable read: where StartChild may place children.
func (s *Supervisor[K, A]) Nodes(ctx context.Context) ([]string, error) {
	var resp *clientv3.GetResponse
	err := s.node.retryRead(ctx, func() (err error) {
		resp, err = s.node.cli.Get(ctx, s.prefix+"nodes/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
		return err
	})
	if err != nil {
		return nil, unavailable("list the nodes of "+s.spec.Name, err)
	}
	out := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, lastSegment(string(kv.Key)))
	}
	return out, nil
}

// Local returns the keys whose children run on this node now, sorted by
// their encoded form.
func (s *Supervisor[K, A]) Local() []K {
	s.mu.Lock()
	lp := s.local
	s.mu.Unlock()
	if lp == nil {
		return nil
	}
	enc := lp.localKeys()
	slices.Sort(enc)
	out := make([]K, 0, len(enc))
	for _, k := range enc {
		if key, err := s.decKey(k); err == nil {
			out = append(out, key)
		}
	}
	return out
}

// Start is the start function of the supervisor's local part: put it in a
// tree as a child of type supervisor. The local part makes this node a
// candidate for new children, starts those it owns under a node-local
// dynamic supervisor, each in a supervisor of its own with the spec's
// restart intensity, and places children whose owner is gone. When it
// stops, it stops its children and releases them, so other nodes start
// them at once. One node runs one local part of a supervisor at a time.
// When etcd answers within a third of the TTL, the node is a candidate for
// new children once Start has returned.
func (s *Supervisor[K, A]) Start(ctx context.Context) (runtime.Service, error) {
	dyn, err := runtime.NewDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: s.spec.Name})
	if err != nil {
		return nil, err
	}
	lp := &localPart[K, A]{s: s, dyn: dyn,
		running: map[string]*keyedRun{}, wake: make(chan struct{}, 1), since: map[string]time.Time{},
		dirty: map[string]bool{}, runningView: map[string]bool{}, ended: map[string]int64{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local != nil {
		return nil, fmt.Errorf("cluster: supervisor %q already runs on node %q", s.spec.Name, s.node.name)
	}
	// Stand as a candidate now, if etcd answers soon, so that children can
	// be placed here as soon as the tree is up; otherwise the loop does it.
	if gen, _ := s.node.current(); gen != nil {
		cctx, cancel := context.WithTimeout(ctx, s.node.ttl/3)
		_, err := s.node.cli.Put(cctx, s.candKey(s.node.name), "", clientv3.WithLease(gen.lease))
		cancel()
		if err == nil {
			lp.candGen = gen
		}
	}
	s.local = lp
	return lp, nil
}
