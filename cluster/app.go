package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
)

// StartKind says why a distributed application starts on a node, as OTP's
// start type: normal, {failover, Node} or {takeover, Node}.
type StartKind uint8

const (
	// Normal: the application had never run, or last ran on this node.
	Normal StartKind = iota
	// Failover: it last ran on another node, From, which went down or
	// stopped.
	Failover
	// Takeover: From, a node of lower priority, handed it over to this one,
	// with the Handoff payload.
	Takeover
)

// StartType is what a distributed application's start function learns
// through StartTypeFrom.
type StartType struct {
	Kind StartKind
	// From is the node it ran on before, for Failover and Takeover.
	From string
	// Handoff is the payload the old owner's DistributedSpec.Handoff
	// returned, on a takeover (nil when there is none).
	Handoff []byte
}

// String returns OTP's spelling: normal, failover from N, takeover from N.
func (s StartType) String() string {
	switch s.Kind {
	case Failover:
		return "failover from " + s.From
	case Takeover:
		return "takeover from " + s.From
	}
	return "normal"
}

type startTypeKey struct{}

// StartTypeFrom returns why the distributed application whose context ctx
// is (or is derived from: any process of its tree) was started on this node.
// Outside a distributed application it returns the Normal start type.
func StartTypeFrom(ctx context.Context) StartType {
	st, _ := ctx.Value(startTypeKey{}).(StartType)
	return st
}

// DistributedSpec makes an application distributed, OTP's kernel
// `distributed` entry: it runs on exactly one node of Nodes at a time.
type DistributedSpec struct {
	// App is the application: its Start, PrepStop and Stop run on the node
	// that runs it, each time it starts or stops there.
	App runtime.ApplicationSpec
	// Nodes is the priority list: groups of equals, best first, OTP's
	// [a, {b, c}] written [][]string{{"a"}, {"b", "c"}}. The application
	// runs on the first group with a live node; within a group, on the node
	// running the fewest distributed applications. A node not listed never
	// runs it. A node that is a member of the cluster but whose standby is
	// not up yet (it is still starting) gets one TTL to come before a node
	// of lower priority runs the application in its place.
	Nodes [][]string
	// FailoverDelay is how long to wait, after the node running the
	// application went down, before starting it elsewhere, in case that node
	// comes back: OTP's Timeout. Zero fails over at once.
	FailoverDelay time.Duration
	// Takeover makes a node of higher priority that comes up take the
	// application back from the node running it (OTP always does; say true
	// for OTP's behaviour). Equals in a group never take over from each
	// other.
	Takeover bool
	// Handoff, optional, is called on the old owner during a takeover,
	// while its tree still runs; what it returns reaches the new owner's
	// start function as StartType.Handoff.
	Handoff func(ctx context.Context) ([]byte, error)
}

func (s DistributedSpec) check() error {
	if err := checkName("application", s.App.Name); err != nil {
		return err
	}
	if s.App.Start == nil {
		return errors.New("no start function")
	}
	if len(s.Nodes) == 0 {
		return errors.New("distributed: no nodes")
	}
	seen := map[string]bool{}
	for _, g := range s.Nodes {
		if len(g) == 0 {
			return errors.New("distributed: an empty group of nodes")
		}
		for _, n := range g {
			if err := checkName("node", n); err != nil {
				return fmt.Errorf("distributed: %w", err)
			}
			if seen[n] {
				return fmt.Errorf("distributed: node %q listed twice", n)
			}
			seen[n] = true
		}
	}
	if s.FailoverDelay < 0 {
		return fmt.Errorf("distributed: negative failover delay %v", s.FailoverDelay)
	}
	return nil
}

// Distributed returns the application spec to give runtime.StartApplications
// (or RunApplications) on every node, as OTP starts a distributed
// application on every node: on each it starts at once, as a standby that
// waits for its turn, and it runs spec.App's tree only on the node whose
// turn it is, with StartTypeFrom telling why. A standby whose node becomes
// the owner starts the tree; an owner whose lease reaches its local deadline
// stops it first (with ErrLeaseLost); a takeover stops the old owner's tree
// (PrepStop, the tree, Stop), then releases the ownership with the handoff
// payload, and only then does the new owner start: never two at once.
//
// The returned spec keeps spec.App's name, start type and dependencies. An
// invalid spec makes its start fail with an error that says why. When the
// tree exits by itself, the application is released (the next node starts
// it) and the standby exits with the tree's reason, which the application
// controller handles per its start type.
func (n *Node) Distributed(spec DistributedSpec) runtime.ApplicationSpec {
	return runtime.ApplicationSpec{
		Name:      spec.App.Name,
		StartType: spec.App.StartType,
		DependsOn: spec.App.DependsOn,
		Start: func(ctx context.Context) (runtime.Service, error) {
			if err := spec.check(); err != nil {
				return nil, err
			}
			return newDistApp(n, spec, ctx), nil
		},
	}
}

// distApp is one node's standby or running instance of a distributed
// application. Its Serve goroutine owns its state.
type distApp struct {
	node   *Node
	spec   DistributedSpec
	prio   priority
	name   string
	values context.Context // the standby's context, for its tree's values

	owner, takeover, handoff, last, cands string

	// Owned by Serve.
	cache      cache     // the applications' keys
	members    cache     // the nodes' keys
	graceUntil time.Time // a higher-priority member has until then to stand by
	run        *appRun
	candGen    *generation // the lease under which this node is a candidate
	failoverAt time.Time   // a pending failover delay ends then
	failed     error       // the tree failed to start here: the standby exits
	retryAt    time.Time   // a failed etcd write is tried again then

	snapMu sync.Mutex
	snap   *runtime.DynamicSupervisor // the running tree's holder, for Snapshot
}

// appRun is the application's tree running here under one ownership.
type appRun struct {
	gen    *generation
	token  int64
	ctx    context.Context
	cancel context.CancelCauseFunc
	sup    *runtime.DynamicSupervisor
	down   *runtime.Monitor // of the tree: its exit, with the reason
}

func newDistApp(n *Node, spec DistributedSpec, ctx context.Context) *distApp {
	base := n.keys.app(spec.App.Name)
	return &distApp{
		node: n, spec: spec, prio: priority(spec.Nodes), name: spec.App.Name,
		values: context.WithoutCancel(ctx),
		owner:  base + "owner", takeover: base + "takeover", handoff: base + "handoff",
		last: base + "last", cands: base + "nodes/",
	}
}

// handoffRecord is the value of the handoff key.
type handoffRecord struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Payload []byte `json:"payload,omitempty"`
}

// Serve runs the standby until ctx is cancelled (the application is
// stopped on this node) or the tree exits by itself.
func (d *distApp) Serve(ctx context.Context) error {
	updates, nodeUpdates := make(chan update), make(chan update)
	fctx, stopFollow := context.WithCancel(ctx)
	var followed sync.WaitGroup
	followed.Add(2)
	go func() { defer followed.Done(); follow(fctx, d.node.cli, d.node.keys.apps(), updates) }()
	go func() { defer followed.Done(); follow(fctx, d.node.cli, d.node.keys.nodes(), nodeUpdates) }()
	defer func() { stopFollow(); followed.Wait() }()

	var timer clock.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		gen, changed := d.node.current()
		if ctx.Err() == nil {
			d.reconcile(ctx, gen)
		}
		if d.failed != nil {
			d.leave(ctx)
			return d.failed
		}
		var treeDown <-chan runtime.Down
		if d.run != nil {
			treeDown = d.run.down.C
		}
		var timerC <-chan time.Time
		if wake := d.wakeAt(); !wake.IsZero() {
			if timer == nil {
				timer = d.node.clock.NewTimer(wake.Sub(d.node.clock.Now()))
			} else {
				timer.Reset(wake.Sub(d.node.clock.Now()))
			}
			timerC = timer.C()
		}
		select {
		case u := <-updates:
			d.applyUpdate(u)
		case u := <-nodeUpdates:
			d.members.apply(u)
		case <-changed:
		case <-timerC:
		case down := <-treeDown:
			if d.run.ctx.Err() != nil {
				continue // stopped by this node; reconcile sees why
			}
			reason := down.Reason
			d.stopRun(reason)
			d.leave(ctx)
			return reason
		case <-ctx.Done():
			if d.run != nil {
				d.stopRun(runtime.ErrShutdown)
			}
			d.leave(ctx)
			return nil
		}
	}
}

// wakeAt returns when the loop must look again without news from etcd.
func (d *distApp) wakeAt() time.Time {
	var t time.Time
	for _, x := range []time.Time{d.failoverAt, d.retryAt, d.graceUntil} {
		if !x.IsZero() && (t.IsZero() || x.Before(t)) {
			t = x
		}
	}
	return t
}

// applyUpdate mirrors u and starts a failover delay when the owner went
// away with its node.
func (d *distApp) applyUpdate(u update) {
	var gone string
	for _, ev := range u.events {
		if string(ev.Kv.Key) == d.owner && ev.Type == clientv3.EventTypeDelete && ev.PrevKv != nil {
			gone = string(ev.PrevKv.Value)
		}
	}
	d.cache.apply(u)
	if gone == "" || gone == d.node.name || d.spec.FailoverDelay <= 0 {
		return
	}
	if _, handed := d.cache.kvs[d.handoff]; handed {
		return
	}
	if !d.alive(gone) {
		d.failoverAt = d.node.clock.Now().Add(d.spec.FailoverDelay)
	}
}

// alive reports whether node is a live candidate of the application.
func (d *distApp) alive(node string) bool {
	_, ok := d.cache.kvs[d.cands+node]
	return ok
}

// live returns the nodes that run this application's standby.
func (d *distApp) live() map[string]bool {
	out := map[string]bool{}
	for k := range d.cache.kvs {
		if strings.HasPrefix(k, d.cands) {
			out[k[len(d.cands):]] = true
		}
	}
	return out
}

// load returns how many distributed applications node runs.
func (d *distApp) load(node string) int {
	n := 0
	for k, kv := range d.cache.kvs {
		if strings.HasSuffix(k, "/owner") && string(kv.Value) == node {
			n++
		}
	}
	return n
}

// reconcile moves this node's part towards what etcd says: it stops a tree
// it no longer owns, hands over to a higher-priority node that asks, asks
// for a takeover, or claims the application when this node is the one to
// run it.
func (d *distApp) reconcile(ctx context.Context, gen *generation) {
	now := d.node.clock.Now()
	if !d.retryAt.IsZero() && now.Before(d.retryAt) {
		return
	}
	d.retryAt = time.Time{}
	if d.run != nil && (gen == nil || d.run.gen != gen) {
		d.stopRun(context.Cause(d.run.gen.ctx))
	}
	if gen == nil || d.cache.kvs == nil || d.members.kvs == nil {
		return
	}
	me := d.node.name
	myRank := d.prio.rank(me)
	if myRank < 0 {
		return // never runs here
	}
	if d.candGen != gen {
		if err := d.put(ctx, gen, d.cands+me, "", false); err != nil {
			d.retryLater()
			return
		}
		d.candGen = gen
	}
	owner := d.cache.kvs[d.owner]
	if d.run != nil {
		if d.cache.rev < d.run.token {
			return // the mirror has not seen the claim yet
		}
		if owner == nil || owner.CreateRevision != d.run.token {
			d.stopRun(fmt.Errorf("%w: its ownership ended in etcd", ErrReleased))
		} else {
			if tk := d.cache.kvs[d.takeover]; d.spec.Takeover && tk != nil {
				to := string(tk.Value)
				if r := d.prio.rank(to); r >= 0 && r < myRank && d.alive(to) {
					d.handOver(ctx, to)
				}
			}
			return
		}
	}
	if owner != nil {
		holder := string(owner.Value)
		if holder == me {
			// Ours, but not running here (a standby restarted under the same
			// lease): release it, and compete again.
			d.release(ctx, owner.CreateRevision, false)
			return
		}
		if r := d.prio.rank(holder); d.spec.Takeover && (r < 0 || myRank < r) {
			if _, asked := d.cache.kvs[d.takeover]; !asked {
				if err := d.put(ctx, gen, d.takeover, me, true); err != nil {
					d.retryLater()
				}
			}
		}
		return
	}
	if !d.failoverAt.IsZero() {
		if now.Before(d.failoverAt) {
			return
		}
		d.failoverAt = time.Time{}
	}
	live := d.live()
	if d.prio.choose(live, d.load) != me {
		d.graceUntil = time.Time{}
		return
	}
	// A member of higher priority whose standby is not up yet is most
	// likely starting: give it a TTL before running in its place.
	for k := range d.members.kvs {
		if n := lastSegment(k); !live[n] && d.prio.rank(n) >= 0 && d.prio.rank(n) < myRank {
			if d.graceUntil.IsZero() {
				d.graceUntil = now.Add(d.node.ttl)
			}
			if now.Before(d.graceUntil) {
				return
			}
			break
		}
	}
	d.graceUntil = time.Time{}
	d.claim(ctx, gen)
}

func (d *distApp) retryLater() {
	d.retryAt = d.node.clock.Now().Add(max(d.node.ttl/10, 50*time.Millisecond))
}

// put writes key with gen's lease; createOnly makes it create-if-absent.
func (d *distApp) put(ctx context.Context, gen *generation, key, value string, createOnly bool) error {
	cctx, cancel := context.WithTimeout(ctx, d.node.ttl/3)
	defer cancel()
	op := clientv3.OpPut(key, value, clientv3.WithLease(gen.lease))
	var err error
	if createOnly {
		_, err = d.node.cli.Txn(cctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).Then(op).Commit()
	} else {
		_, err = d.node.cli.Do(cctx, op)
	}
	return err
}

// claim makes this node the owner, if nobody is, and starts the tree.
func (d *distApp) claim(ctx context.Context, gen *generation) {
	me := d.node.name
	cctx, cancel := context.WithTimeout(ctx, d.node.ttl/3)
	defer cancel()
	resp, err := d.node.cli.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(d.owner), "=", 0)).
		Then(clientv3.OpPut(d.owner, me, clientv3.WithLease(gen.lease)),
			clientv3.OpGet(d.handoff), clientv3.OpGet(d.last),
			clientv3.OpDelete(d.handoff), clientv3.OpDelete(d.takeover),
			clientv3.OpPut(d.last, me)).
		Commit()
	if err != nil {
		d.retryLater()
		return
	}
	if !resp.Succeeded {
		return // someone else was faster; the watch will say who
	}
	st := StartType{Kind: Normal}
	if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 {
		var h handoffRecord
		if json.Unmarshal(kvs[0].Value, &h) == nil {
			st = StartType{Kind: Takeover, From: h.From, Handoff: h.Payload}
		}
	} else if kvs := resp.Responses[2].GetResponseRange().Kvs; len(kvs) > 0 && string(kvs[0].Value) != me {
		st = StartType{Kind: Failover, From: string(kvs[0].Value)}
	}
	token := resp.Header.Revision
	if err := d.startRun(gen, token, st); err != nil {
		// As a tree that exits by itself: released for the next node, and
		// the standby exits with the reason.
		d.release(ctx, token, false)
		d.node.report(Event{Kind: AppStopped, Application: d.name, Token: token, Reason: err})
		d.failed = err
	}
}

// startRun starts the tree under a fresh ownership.
func (d *distApp) startRun(gen *generation, token int64, st StartType) error {
	rctx, cancel := gen.bind(d.values)
	f := &Fence{key: d.owner, token: token, done: rctx.Done()}
	rctx = context.WithValue(withFence(rctx, f), startTypeKey{}, st)
	sup, err := runtime.StartDynamicSupervisor(rctx, runtime.DynamicSupervisorSpec{Name: d.name, MaxRestarts: 0, MaxSeconds: 1})
	if err != nil {
		cancel(err)
		return err
	}
	tree, err := sup.StartChild(rctx, runtime.ChildSpec{
		ID: d.name, Start: d.spec.App.Start, Restart: runtime.Temporary,
		Type: runtime.TypeSupervisor, Shutdown: runtime.Infinity,
	})
	if err == nil && tree.IsZero() {
		err = errors.New("start function returned ignore")
	}
	if err != nil {
		cancel(err)
		<-sup.Done()
		return fmt.Errorf("application %q failed to start on node %q: %w", d.name, d.node.name, err)
	}
	gen.work.Add(1)
	d.run = &appRun{gen: gen, token: token, ctx: rctx, cancel: cancel, sup: sup, down: tree.Monitor()}
	d.snapMu.Lock()
	d.snap = sup
	d.snapMu.Unlock()
	d.node.report(Event{Kind: AppStarted, Application: d.name, Token: token, StartType: st})
	return nil
}

// stopRun stops the running tree as OTP stops an application: PrepStop,
// the tree (waiting as long as its shutdown values say), Stop.
func (d *distApp) stopRun(reason error) {
	r := d.run
	d.run = nil
	d.hook(d.spec.App.PrepStop)
	r.cancel(reason)
	<-r.sup.Done()
	d.hook(d.spec.App.Stop)
	d.snapMu.Lock()
	d.snap = nil
	d.snapMu.Unlock()
	r.gen.work.Done()
	d.node.report(Event{Kind: AppStopped, Application: d.name, Token: r.token, Reason: reason})
}

func (d *distApp) hook(f func(context.Context)) {
	if f == nil {
		return
	}
	defer func() { _ = recover() }() // as OTP: a crashing prep_stop or stop is logged and ignored
	f(d.values)
}

// handOver runs a takeover on the old owner: the payload is collected while
// the tree runs, the tree stops, and only then is the ownership released,
// in one transaction with the payload.
func (d *distApp) handOver(ctx context.Context, to string) {
	token := d.run.token
	var payload []byte
	if d.spec.Handoff != nil {
		hctx, cancel := context.WithTimeout(d.run.ctx, d.node.ttl/3)
		p, err := d.spec.Handoff(hctx)
		cancel()
		if err == nil {
			payload = p
		}
	}
	d.stopRun(fmt.Errorf("%w: taken over by node %q", ErrReleased, to))
	rec, _ := json.Marshal(handoffRecord{From: d.node.name, To: to, Payload: payload})
	cctx, cancel := context.WithTimeout(ctx, d.node.ttl/3)
	defer cancel()
	_, err := d.node.cli.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(d.owner), "=", token)).
		Then(clientv3.OpDelete(d.owner), clientv3.OpPut(d.handoff, string(rec)), clientv3.OpDelete(d.takeover)).
		Commit()
	if err != nil {
		// etcd did not answer: the tree has stopped, and the lease ends the
		// ownership if this node cannot renew it; otherwise the next look
		// finds the ownership without a tree and releases it.
		d.retryLater()
	}
}

// release deletes the ownership with token if it is still there and, when
// leaving, this node's candidacy with it.
func (d *distApp) release(ctx context.Context, token int64, leaving bool) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.node.ttl/3)
	defer cancel()
	var also []clientv3.Op
	if leaving {
		also = append(also, clientv3.OpDelete(d.cands+d.node.name))
	}
	_, _ = d.node.cli.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(d.owner), "=", token)).
		Then(append([]clientv3.Op{clientv3.OpDelete(d.owner)}, also...)...).
		Else(also...).
		Commit()
}

// leave releases what this node holds of the application as the standby
// stops.
func (d *distApp) leave(ctx context.Context) {
	token := int64(-1)
	if kv := d.cache.kvs[d.owner]; kv != nil && string(kv.Value) == d.node.name {
		token = kv.CreateRevision
	}
	d.release(ctx, token, true)
}

// Snapshot returns the running tree, under the dynamic supervisor that
// holds it on this node; a standby shows an empty one.
func (d *distApp) Snapshot(ctx context.Context) (runtime.SupervisorSnapshot, error) {
	d.snapMu.Lock()
	sup := d.snap
	d.snapMu.Unlock()
	if sup == nil {
		return runtime.SupervisorSnapshot{Name: d.name + " (standby)", Dynamic: true, Strategy: "one_for_one", Children: []runtime.ChildSnapshot{}}, nil
	}
	return sup.Snapshot(ctx)
}
