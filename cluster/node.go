package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/arborgo/arbor/clock"
)

// DefaultTTL is a node's lease TTL when Config.TTL is zero.
const DefaultTTL = 10 * time.Second

// Config describes a node. Endpoints (or Client) come from the program, for
// instance from a flag or the environment, never from a spec: the same
// program runs against a test etcd and a production one.
type Config struct {
	// Client is the etcd client to use; the node does not close it. When nil,
	// the node dials Endpoints and closes that client in Close.
	Client *clientv3.Client
	// Endpoints of the etcd cluster, as host:port; used when Client is nil.
	Endpoints []string
	// Cluster names the cluster: every key lives under /arbor/<Cluster>/.
	// Required; no slash.
	Cluster string
	// Node names this node, unique in the cluster and stable across
	// restarts (a host or pod name). Required; no slash. A second process
	// with the same name waits until the first one's lease is gone.
	Node string
	// TTL of the node's lease, in whole seconds; DefaultTTL when zero. A node
	// cut off from etcd stops its distributed work within TTL, and a dead
	// node's work starts elsewhere after about TTL. etcd raises a TTL below
	// its minimum (1.5 election timeouts, rounded up: 2 s with etcd's
	// default ticks); the node then uses the TTL etcd granted.
	TTL time.Duration
	// StopMargin: distributed work is told to stop this long before the
	// local deadline (the send time of the last successful renewal + TTL),
	// to leave it time to stop before etcd can give it to another node.
	// Default TTL/5; it must be less than TTL/3.
	StopMargin time.Duration
	// WaitFor names nodes that must be up before NewNode returns, OTP's
	// sync_nodes_mandatory: NewNode fails if one of them is still missing
	// after WaitTimeout.
	WaitFor []string
	// WaitTimeout bounds the wait for WaitFor, OTP's sync_nodes_timeout;
	// zero waits as long as NewNode's context allows.
	WaitTimeout time.Duration
	// Clock is the node's time source; the system clock when nil.
	Clock clock.Clock
	// Events receives the node's reports; SlogHook(slog.Default()) when nil.
	// It is called from the node's goroutines and must return quickly.
	Events func(Event)
}

// Node is this process's membership of a cluster: one etcd client, one
// lease, and a renewal loop of arbor's own that knows the lease's local
// deadline. Every key the node owns (its membership key, the distributed
// applications and keyed children it runs) hangs on that one lease, so a
// dead node's work is freed all at once.
//
// When a renewal fails, the node keeps trying until its local deadline
// minus StopMargin, then tells all its distributed work to stop (with
// ErrLeaseLost), makes a new lease as soon as etcd answers again, and
// competes for work anew with new fencing tokens. It never trusts the etcd
// client's own session signal, which can come up to a second after another
// node has taken over.
//
// A Node is safe for concurrent use. Close it after the applications that
// use it have stopped.
type Node struct {
	name      string
	cluster   string
	cli       *clientv3.Client
	ownClient bool
	keys      keys
	ttl       time.Duration
	margin    time.Duration
	clock     clock.Clock
	events    func(Event)

	mu         sync.Mutex
	gen        *generation // nil while the node has no lease
	last       *generation // the latest generation, for Close
	genChanged chan struct{}

	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	lastErr   atomic.Value // of errorBox: why the latest attempt at a lease failed
}

type errorBox struct{ err error }

// generation is one lease of the node and the work done under it.
type generation struct {
	lease clientv3.LeaseID
	ttl   time.Duration
	// ctx is cancelled, with the reason as its cause, when the lease's
	// local deadline minus the stop margin has come, when etcd says the
	// lease is gone, or when the node closes. It carries no values: work
	// contexts are bound to it with bind.
	ctx    context.Context
	cancel context.CancelCauseFunc
	work   sync.WaitGroup // work running under this lease, awaited by Close

	mu       sync.Mutex
	deadline time.Time
}

func (g *generation) setDeadline(t time.Time) {
	g.mu.Lock()
	g.deadline = t
	g.mu.Unlock()
}

// Deadline returns the local deadline: the send time of the last successful
// renewal plus the TTL. etcd cannot expire the lease before it.
func (g *generation) Deadline() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.deadline
}

// bind returns a context with parent's values that is cancelled when parent
// is or when the generation ends, and its cancel function.
func (g *generation) bind(parent context.Context) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	stop := context.AfterFunc(g.ctx, func() { cancel(context.Cause(g.ctx)) })
	return ctx, func(cause error) {
		stop()
		cancel(cause)
	}
}

// NewNode validates cfg, connects, takes a lease, registers the node and
// waits for the nodes of WaitFor. It returns once the node holds a lease;
// ctx bounds that (an error matching ErrUnavailable if etcd did not answer
// in time). The lease is then renewed in the background until Close.
func NewNode(ctx context.Context, cfg Config) (*Node, error) {
	if err := checkName("cluster", cfg.Cluster); err != nil {
		return nil, err
	}
	if err := checkName("node", cfg.Node); err != nil {
		return nil, err
	}
	ttl := cfg.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < time.Second || ttl%time.Second != 0 {
		return nil, fmt.Errorf("cluster: ttl %v is not a whole number of seconds of at least 1s", cfg.TTL)
	}
	margin := cfg.StopMargin
	if margin == 0 {
		margin = ttl / 5
	}
	if margin < 0 || margin >= ttl/3 {
		return nil, fmt.Errorf("cluster: stop margin %v must be at least 0 and less than a third of the ttl (%v)", cfg.StopMargin, ttl/3)
	}
	n := &Node{
		name: cfg.Node, cluster: cfg.Cluster, cli: cfg.Client, keys: newKeys(cfg.Cluster),
		ttl: ttl, margin: margin, clock: cfg.Clock, events: cfg.Events,
		genChanged: make(chan struct{}), done: make(chan struct{}),
	}
	if n.clock == nil {
		n.clock = clock.Real()
	}
	if n.events == nil {
		n.events = SlogHook(slog.Default())
	}
	if n.cli == nil {
		if len(cfg.Endpoints) == 0 {
			return nil, errors.New("cluster: no etcd endpoints and no client")
		}
		cli, err := clientv3.New(clientv3.Config{
			Endpoints:   cfg.Endpoints,
			DialTimeout: 5 * time.Second,
			// Find a dead connection within the TTL, so that watches and
			// renewals move to a working endpoint.
			DialKeepAliveTime:    ttl / 3,
			DialKeepAliveTimeout: ttl / 3,
			Logger:               zap.NewNop(),
		})
		if err != nil {
			return nil, unavailable("connect", err)
		}
		n.cli, n.ownClient = cli, true
	}
	runCtx, stop := context.WithCancel(context.Background())
	n.stop = stop
	go n.run(runCtx)
	if err := n.waitLease(ctx); err != nil {
		n.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := n.waitFor(ctx, cfg.WaitFor, cfg.WaitTimeout); err != nil {
		n.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return n, nil
}

func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("cluster: no %s name", what)
	}
	if strings.ContainsAny(s, "/\x00") {
		return fmt.Errorf("cluster: %s name %q contains a slash or a NUL", what, s)
	}
	return nil
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// Client returns the node's etcd client, for the program's own guarded
// writes (see Fence).
func (n *Node) Client() *clientv3.Client { return n.cli }

// TTL returns the lease TTL the node asked for.
func (n *Node) TTL() time.Duration { return n.ttl }

// current returns the generation in force (nil while there is none) and a
// channel that is closed when that changes.
func (n *Node) current() (*generation, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.gen, n.genChanged
}

func (n *Node) setGen(g *generation) {
	n.mu.Lock()
	n.gen = g
	if g != nil {
		n.last = g
	}
	close(n.genChanged)
	n.genChanged = make(chan struct{})
	n.mu.Unlock()
}

// waitLease waits until the node has a lease.
func (n *Node) waitLease(ctx context.Context) error {
	for {
		g, changed := n.current()
		if g != nil {
			return nil
		}
		select {
		case <-changed:
		case <-n.done:
			return ErrClosed
		case <-ctx.Done():
			why := context.Cause(ctx)
			if b, ok := n.lastErr.Load().(errorBox); ok && b.err != nil {
				why = b.err
			}
			return fmt.Errorf("%w: node %q got no lease: %v", ErrUnavailable, n.name, why)
		}
	}
}

func (n *Node) report(e Event) {
	e.Node = n.name
	if e.Time.IsZero() {
		e.Time = n.clock.Now()
	}
	n.events(e)
}

// run is the node's loop: take a lease, keep it until it is lost, and again.
func (n *Node) run(ctx context.Context) {
	defer close(n.done)
	var prev clientv3.LeaseID
	for {
		g, err := n.begin(ctx, prev)
		if err != nil {
			return
		}
		n.setGen(g)
		n.report(Event{Kind: LeaseGranted, Token: int64(g.lease)})
		cause := n.keep(ctx, g)
		n.setGen(nil)
		g.cancel(cause)
		if ctx.Err() != nil {
			return
		}
		n.report(Event{Kind: LeaseLost, Reason: cause})
		prev = g.lease
	}
}

// nodeInfo is the value of a node's membership key.
type nodeInfo struct {
	Lease   int64     `json:"lease"`
	Started time.Time `json:"started"`
}

// begin takes a new lease and registers the node under it, retrying until
// it succeeds or ctx ends. A previous lease of this node is revoked first,
// so its keys go at once; a live lease of another process with the same
// node name is waited out.
func (n *Node) begin(ctx context.Context, prev clientv3.LeaseID) (*generation, error) {
	retry := max(n.ttl/10, 50*time.Millisecond)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			t := n.clock.NewTimer(retry)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C():
			}
		}
		if prev != 0 {
			rctx, cancel := context.WithTimeout(ctx, n.ttl)
			_, err := n.cli.Revoke(rctx, prev)
			cancel()
			if err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				continue
			}
			prev = 0
		}
		g, err := n.grant(ctx)
		n.lastErr.Store(errorBox{err})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			continue
		}
		return g, nil
	}
}

// grant makes one lease and claims the node's membership key with it.
func (n *Node) grant(ctx context.Context) (*generation, error) {
	cctx, cancel := context.WithTimeout(ctx, n.ttl)
	defer cancel()
	send := n.clock.Now()
	resp, err := n.cli.Grant(cctx, int64(n.ttl/time.Second))
	if err != nil {
		return nil, err
	}
	info, _ := json.Marshal(nodeInfo{Lease: int64(resp.ID), Started: time.Now().UTC()})
	key := n.keys.node(n.name)
	txn, err := n.cli.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(info), clientv3.WithLease(resp.ID))).
		Commit()
	if err != nil || !txn.Succeeded {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), n.ttl)
		_, _ = n.cli.Revoke(rctx, resp.ID)
		rcancel()
		if err == nil {
			err = fmt.Errorf("cluster: node name %q is held by another live process", n.name)
		}
		return nil, err
	}
	gctx, gcancel := context.WithCancelCause(context.Background())
	g := &generation{lease: resp.ID, ttl: time.Duration(resp.TTL) * time.Second, ctx: gctx, cancel: gcancel}
	g.setDeadline(send.Add(g.ttl))
	return g, nil
}

// keep renews g every TTL/3 and returns why g ended: its local deadline
// minus the margin came without a successful renewal, etcd said the lease
// is gone, or ctx (the node) was closed.
func (n *Node) keep(ctx context.Context, g *generation) error {
	interval := g.ttl / 3
	retry := max(g.ttl/20, 20*time.Millisecond)
	next := n.clock.Now().Add(interval)
	for {
		now := n.clock.Now()
		stopAt := g.Deadline().Add(-n.margin)
		if !now.Before(stopAt) {
			return fmt.Errorf("%w: no renewal of lease %x succeeded before its local deadline", ErrLeaseLost, int64(g.lease))
		}
		if now.Before(next) {
			wake := next
			if stopAt.Before(wake) {
				wake = stopAt
			}
			t := n.clock.NewTimer(wake.Sub(now))
			select {
			case <-ctx.Done():
				t.Stop()
				return ErrClosed
			case <-t.C():
			}
			continue
		}
		send := n.clock.Now()
		rctx, cancel := context.WithTimeout(ctx, stopAt.Sub(send))
		resp, err := n.cli.KeepAliveOnce(rctx, g.lease)
		cancel()
		switch {
		case err == nil && resp.TTL > 0:
			g.setDeadline(send.Add(time.Duration(resp.TTL) * time.Second))
			next = send.Add(interval)
		case err == nil, errors.Is(err, rpctypes.ErrLeaseNotFound):
			return fmt.Errorf("%w: etcd says lease %x is gone", ErrLeaseLost, int64(g.lease))
		case ctx.Err() != nil:
			return ErrClosed
		default:
			next = n.clock.Now().Add(retry)
		}
	}
}

// Close stops the node: its distributed work is told to stop (ErrClosed),
// Close waits for it (as long as ctx allows), then revokes the lease, so
// that other nodes take over at once instead of after the TTL, and closes
// the client if the node dialled it. Close the node after the applications
// that use it have stopped; they then release what they own first.
func (n *Node) Close(ctx context.Context) error {
	var err error
	n.closeOnce.Do(func() {
		if g := n.halt(); g != nil {
			g.cancel(ErrClosed)
			waited := make(chan struct{})
			go func() { g.work.Wait(); close(waited) }()
			select {
			case <-waited:
			case <-ctx.Done():
				err = ctx.Err()
			}
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.ttl)
			_, rerr := n.cli.Revoke(rctx, g.lease)
			cancel()
			if rerr != nil && !errors.Is(rerr, rpctypes.ErrLeaseNotFound) && err == nil {
				err = unavailable("revoke the lease", rerr)
			}
		}
		if n.ownClient {
			if cerr := n.cli.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	})
	return err
}

// halt stops the renewal loop and returns the latest generation.
func (n *Node) halt() *generation {
	n.stop()
	<-n.done
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.last
}

// Member is a live node of the cluster.
type Member struct {
	Name    string
	Lease   int64
	Started time.Time
}

// Members returns the live nodes, by name: those whose lease etcd holds.
// It is a linearizable read.
func (n *Node) Members(ctx context.Context) ([]Member, error) {
	resp, err := n.cli.Get(ctx, n.keys.nodes(), clientv3.WithPrefix())
	if err != nil {
		return nil, unavailable("list members", err)
	}
	out := make([]Member, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var info nodeInfo
		_ = json.Unmarshal(kv.Value, &info)
		out = append(out, Member{Name: lastSegment(string(kv.Key)), Lease: kv.Lease, Started: info.Started})
	}
	return out, nil
}

// MissingNodesError is NewNode's error when nodes of WaitFor were still
// down after WaitTimeout: OTP terminates such a node.
type MissingNodesError struct {
	Missing []string
	Waited  time.Duration
}

func (e *MissingNodesError) Error() string {
	return fmt.Sprintf("cluster: mandatory nodes not up after %v: %s", e.Waited, strings.Join(e.Missing, ", "))
}

// waitFor waits until every node of names is a member.
func (n *Node) waitFor(ctx context.Context, names []string, timeout time.Duration) error {
	if len(names) == 0 {
		return nil
	}
	start := n.clock.Now()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	missing := func(kvs map[string]bool) []string {
		var out []string
		for _, name := range names {
			if !kvs[name] {
				out = append(out, name)
			}
		}
		slices.Sort(out)
		return out
	}
	updates := make(chan update)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go follow(wctx, n.cli, n.keys.nodes(), updates)
	var c cache
	up := map[string]bool{}
	for {
		select {
		case u := <-updates:
			c.apply(u)
			clear(up)
			for k := range c.kvs {
				up[lastSegment(k)] = true
			}
			if len(missing(up)) == 0 {
				return nil
			}
		case <-ctx.Done():
			if m := missing(up); len(m) > 0 {
				return &MissingNodesError{Missing: m, Waited: n.clock.Now().Sub(start)}
			}
			return nil
		}
	}
}

// retryRead runs a read until it succeeds or ctx ends: a read is safe to
// repeat, and a connection that has just been re-established (after a
// network cut) fails the call that was in flight.
func (n *Node) retryRead(ctx context.Context, read func() error) error {
	for {
		err := read()
		if err == nil || ctx.Err() != nil {
			return err
		}
		t := n.clock.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C():
		}
	}
}
