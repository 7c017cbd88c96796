package cluster

// The nine proofs of issue 15, against real etcd: an embedded member, and a
// proxy per node that cuts it off without closing its connections.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/arborgo/arbor/runtime"
)

// checkHistory reads every change under prefix since revision 1 and fails
// the test if an owner key was ever written while it existed: each write
// must create the key (version 1), so between two owners there is always a
// delete. That is "at most one owner per key at every revision".
func checkHistory(t *testing.T, cli *clientv3.Client, prefix string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now, err := cli.Get(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	owners := 0
	exists := map[string]bool{}
	for w := range cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(1)) {
		if err := w.Err(); err != nil {
			t.Fatalf("history watch: %v", err)
		}
		for _, ev := range w.Events {
			k := string(ev.Kv.Key)
			if !isOwnerKey(k) {
				continue
			}
			switch ev.Type {
			case clientv3.EventTypePut:
				if ev.Kv.Version != 1 || exists[k] {
					t.Errorf("revision %d: %s written over (version %d) by %s: two owners", ev.Kv.ModRevision, k, ev.Kv.Version, ev.Kv.Value)
				}
				exists[k] = true
				owners++
			case clientv3.EventTypeDelete:
				exists[k] = false
			}
		}
		if w.Header.Revision >= now.Header.Revision {
			break
		}
	}
	return owners
}

func isOwnerKey(k string) bool {
	return len(k) > 6 && (k[len(k)-6:] == "/owner" || containsSegment(k, "/owner/"))
}

func containsSegment(k, seg string) bool {
	for i := 0; i+len(seg) <= len(k); i++ {
		if k[i:i+len(seg)] == seg {
			return true
		}
	}
	return false
}

// noOverlap fails the test if an item started on one node while it still
// ran on another, by the one monotonic clock of the story.
func noOverlap(t *testing.T, es []entry) {
	t.Helper()
	on := map[string]map[string]bool{}
	for _, e := range es {
		if on[e.item] == nil {
			on[e.item] = map[string]bool{}
		}
		switch e.what {
		case "start":
			for n := range on[e.item] {
				if n != e.node {
					t.Errorf("%s started on %s at %v while it still ran on %s\n%s", e.item, e.node, e.at.Format(time.StampMicro), n, dump(es))
				}
			}
			on[e.item][e.node] = true
		case "stop":
			delete(on[e.item], e.node)
		}
	}
}

// Proof 1: at most one owner per key at every etcd revision, over the full
// history, under random crashes, partitions and resignations of 3 nodes
// and 10 keys (and one distributed application). The seed is logged; set
// ARBOR_CLUSTER_SEED to replay one.
func TestProof1AtMostOneOwner(t *testing.T) {
	t.Parallel()
	srv := startEtcd(t)
	c := newTestCluster(t, srv)
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("ARBOR_CLUSTER_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	names := []string{"a", "b", "c"}
	prio := [][]string{{"a"}, {"b", "c"}}
	sups := map[string]*Supervisor[string, cartArgs]{}
	up := func(name string) {
		n := c.node(name)
		sups[name] = c.supervisor(t, n)
		startApps(t, n, n.Distributed(c.appSpec(n, "billing", prio)))
	}
	for _, n := range names {
		up(n)
	}
	waitMembers(t, sups["a"], 3)
	var keys []string
	for i := range 10 {
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	c.startChildren(t, sups["a"], keys)
	settled := func(what string) {
		c.story.waitFor(t, 10*time.Second, what, func(es []entry) bool {
			run := running(es)
			return exactlyOnce(es, keys, names...) && len(run["billing"]) == 1
		})
	}
	settled("everything placed")
	for round := range 6 {
		name := names[rng.IntN(len(names))]
		n := c.members[name]
		switch action := rng.IntN(3); action {
		case 0:
			t.Logf("round %d: crash %s", round, name)
			n.crash()
			up(name)
		case 1:
			t.Logf("round %d: partition %s", round, name)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := n.waitLease(ctx); err != nil { // it may still be back from a previous cut
				t.Fatal(err)
			}
			cancel()
			lost := len(c.story.snapshot())
			n.proxy.Cut()
			c.story.waitFor(t, 5*time.Second, name+" losing its lease", func(es []entry) bool {
				return slices.ContainsFunc(es[lost:], func(e entry) bool { return e.what == "lease_lost" && e.node == name })
			})
			n.proxy.Heal()
		case 2:
			t.Logf("round %d: resign %s", round, name)
			n.shutdownApps(t)
			up(name)
		}
		settled(fmt.Sprintf("round %d settled", round))
	}
	noOverlap(t, c.story.snapshot())
	owners := checkHistory(t, c.client(), newKeys(c.name).prefix)
	t.Logf("%d ownerships checked", owners)
}

// shutdownApps stops the node gracefully, as a resigning process does:
// the tree releases what it owns, then the lease is revoked.
func (n *testNode) shutdownApps(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n.closed = true
	n.Node.Close(ctx)
}

// Proof 2: no local overlap. The owner of an application and of keyed
// children is cut off (not crashed); its children stop, by its local
// deadline, before any new owner starts them.
func TestProof2NoOverlapWhenCutOff(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	a, _, _, items := c.ownerAndStandby(t, 4)
	a.proxy.Cut()
	c.story.waitFor(t, 5*time.Second, "all on b", func(es []entry) bool { return exactlyOnce(es, items, "b") })
	es := c.story.snapshot()
	noOverlap(t, es)
	deadline := a.lastGen().Deadline()
	for _, e := range es {
		if e.what == "stop" && e.node == "a" && e.at.After(deadline) {
			t.Errorf("%s stopped on a at %v, after a's local deadline %v", e.item, e.at, deadline)
		}
	}
	a.proxy.Heal()
}

func (n *testNode) lastGen() *generation {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.last
}

// keysRankedFirst returns count keys that node ranks first among nodes.
func keysRankedFirst(node string, nodes []string, count int) []string {
	var out []string
	for i := 0; len(out) < count; i++ {
		k := fmt.Sprintf("key-%d", i)
		if rendezvous(k, nodes)[0] == node {
			out = append(out, k)
		}
	}
	return out
}

// Proof 3: after the owner crashes, its application and children run
// again within TTL + 1 s while etcd's leader is stable (a single member
// has no leader change). docs/cluster.md states the bound when it is not.
func TestProof3FailoverWithinTTL(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	a, _, _, items := c.ownerAndStandby(t, 3)
	crashed := time.Now()
	a.crash()
	es := c.story.waitFor(t, 5*time.Second, "all on b", func(es []entry) bool { return exactlyOnce(es, items, "b") })
	var last time.Time
	for _, e := range es {
		if e.what == "start" && e.node == "b" && e.at.After(last) {
			last = e.at
		}
	}
	took := last.Sub(crashed)
	t.Logf("failover of an application and %d children took %v (TTL 1s)", len(items)-1, took)
	if bound := a.TTL() + time.Second; took > bound {
		t.Errorf("failover took %v; want within TTL + 1s = %v", took, bound)
	}
}

// Proof 4: no child is lost when a node dies or is cut off; children of
// the other nodes are not restarted.
func TestProof4NoChildLost(t *testing.T) {
	for _, how := range []string{"crash", "cut"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			c := newTestCluster(t, nil)
			nodes, sa, keys, before := c.threeNodes(t, "k", 15)
			b := nodes[1]
			startsBefore := starts(before)
			if how == "crash" {
				b.crash()
			} else {
				b.proxy.Cut()
				defer b.proxy.Heal()
			}
			after := c.story.waitFor(t, 5*time.Second, "all on a and c", func(es []entry) bool { return exactlyOnce(es, keys, "a", "c") })
			onB := running(before)
			for k, n := range starts(after) {
				if onB[k][0] != "b" && n != startsBefore[k] {
					t.Errorf("%s, which ran on %s, was started again", k, onB[k][0])
				}
			}
			if ws, err := sa.WhichChildren(context.Background()); err != nil || len(ws) != len(keys) {
				t.Errorf("WhichChildren: %d children, %v; want %d", len(ws), err, len(keys))
			}
		})
	}
}

func starts(es []entry) map[string]int {
	out := map[string]int{}
	for _, e := range es {
		if e.what == "start" {
			out[e.item]++
		}
	}
	return out
}

// Proof 5: a zombie's fenced writes are rejected. The old owner, cut off
// while another node took over, writes with its fence after the network
// heals: etcd refuses; so does a store that checks tokens.
func TestProof5ZombieFenced(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	a, b := c.node("a"), c.node("b")
	sa := c.supervisor(t, a)
	c.supervisor(t, b)
	waitMembers(t, sa, 2)
	key := keysRankedFirst("a", []string{"a", "b"}, 1)[0]
	old := startChild(t, sa, key, cartArgs{})
	zombie := &Fence{key: sa.ownerKey(key), token: old.Token}
	a.proxy.Cut()
	c.story.waitFor(t, 5*time.Second, key+" on b", func(es []entry) bool { return exactlyOnce(es, []string{key}, "b") })
	a.proxy.Heal()
	owner, _, err := sa.Lookup(context.Background(), key)
	if err != nil || owner.Node != "b" || owner.Token <= old.Token {
		t.Fatalf("Lookup = %+v, %v; want b with a token above %d", owner, err, old.Token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range 5 {
		resp, err := a.client.Txn(ctx).If(zombie.Guard()).Then(clientv3.OpPut("/external/"+key, fmt.Sprint("zombie ", i))).Commit()
		if err != nil {
			t.Fatal(err)
		}
		if resp.Succeeded {
			t.Errorf("write %d of the zombie (token %d) was accepted", i, zombie.Token())
		}
	}
	fresh := &Fence{key: sa.ownerKey(key), token: owner.Token}
	resp, err := b.client.Txn(ctx).If(fresh.Guard()).Then(clientv3.OpPut("/external/"+key, "owner")).Commit()
	if err != nil || !resp.Succeeded {
		t.Errorf("the owner's guarded write failed: %v, %v", resp, err)
	}
	// An external store that keeps the highest token it has seen.
	store := &tokenStore{}
	if !store.write(fresh.Token()) || store.write(zombie.Token()) {
		t.Error("a token-checking store accepted the zombie's write")
	}
}

type tokenStore struct{ highest int64 }

func (s *tokenStore) write(token int64) bool {
	if token < s.highest {
		return false
	}
	s.highest = token
	return true
}

// Proof 6: etcd unavailable. Every node is cut off: local trees keep
// running, distributed work stops by each node's local deadline, API calls
// fail with ErrUnavailable; after recovery every key has exactly one owner
// again.
func TestProof6EtcdUnavailable(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	prio := [][]string{{"a"}, {"b"}}
	a, b := c.node("a"), c.node("b")
	nodes := []*testNode{a, b}
	sa := c.supervisor(t, a)
	c.supervisor(t, b)
	var locals []*runtime.Supervisor
	for _, n := range nodes {
		startApps(t, n, n.Distributed(c.appSpec(n, "billing", prio)))
		local, err := runtime.StartSupervisor(runtime.WithEventHook(context.Background(), nil), runtime.SupervisorSpec{
			Name: "local", Children: []runtime.ChildSpec{{ID: "w", Start: func(ctx context.Context) (runtime.Service, error) {
				c.story.add(entry{what: "start", node: n.name, item: "local-" + n.name})
				return &worker{s: c.story, node: n.name, item: "local-" + n.name}, nil
			}}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { local.Stop(context.Background()) })
		locals = append(locals, local)
	}
	waitMembers(t, sa, 2)
	var keys []string
	for i := range 6 {
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	c.startChildren(t, sa, keys)
	items := append(slices.Clone(keys), "billing")
	c.story.waitFor(t, 5*time.Second, "all placed", func(es []entry) bool { return exactlyOnce(es, items, "a", "b") })
	for _, n := range nodes {
		n.proxy.Cut()
	}
	es := c.story.waitFor(t, 5*time.Second, "all distributed work stopped", func(es []entry) bool {
		run := running(es)
		for _, it := range items {
			if len(run[it]) > 0 {
				return false
			}
		}
		return true
	})
	for _, n := range nodes {
		deadline := n.lastGen().Deadline()
		for _, e := range es {
			if e.what == "stop" && e.node == n.name && e.at.After(deadline) {
				t.Errorf("%s stopped on %s after its local deadline", e.item, n.name)
			}
		}
	}
	for _, l := range locals {
		if ws, err := l.WhichChildren(context.Background()); err != nil || !ws[0].Handle.Alive() {
			t.Errorf("a local tree stopped when etcd went away: %v %v", ws, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, err := sa.StartChild(ctx, "new", cartArgs{})
	cancel()
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("StartChild while etcd is away: %v; want ErrUnavailable", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, _, err = sa.Lookup(ctx, "k1")
	cancel()
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Lookup while etcd is away: %v; want ErrUnavailable", err)
	}
	for _, n := range nodes {
		n.proxy.Heal()
	}
	c.story.waitFor(t, 10*time.Second, "all placed again", func(es []entry) bool { return exactlyOnce(es, items, "a", "b") })
	noOverlap(t, c.story.snapshot())
	if !slices.Equal(running(c.story.snapshot())["local-a"], []string{"a"}) {
		t.Error("the local tree of a did not keep running")
	}
}

// Proof 7: takeover is sequential and the handoff payload arrives. The
// application runs on b; a, of higher priority, comes up and takes it
// over: b's tree stops before a's starts, and a's start function gets b's
// payload.
func TestProof7TakeoverHandoff(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	prio := [][]string{{"a"}, {"b"}}
	spec := func(n *testNode) DistributedSpec {
		s := c.appSpec(n, "billing", prio)
		s.Takeover = true
		s.Handoff = func(ctx context.Context) ([]byte, error) { return []byte("state of " + n.name), nil }
		return s
	}
	b := c.node("b")
	startApps(t, b, b.Distributed(spec(b)))
	c.story.waitFor(t, 5*time.Second, "billing on b", func(es []entry) bool { return exactlyOnce(es, []string{"billing"}, "b") })
	a := c.node("a")
	startApps(t, a, a.Distributed(spec(a)))
	es := c.story.waitFor(t, 5*time.Second, "billing on a", func(es []entry) bool { return exactlyOnce(es, []string{"billing"}, "a") })
	noOverlap(t, es)
	var stopB, startA entry
	for _, e := range es {
		switch {
		case e.what == "stop" && e.node == "b":
			stopB = e
		case e.what == "start" && e.node == "a":
			startA = e
		}
	}
	if !stopB.at.Before(startA.at) {
		t.Errorf("b stopped at %v, a started at %v: not sequential", stopB.at, startA.at)
	}
	want := StartType{Kind: Takeover, From: "b", Handoff: []byte("state of b")}
	if startA.st.Kind != want.Kind || startA.st.From != want.From || string(startA.st.Handoff) != string(want.Handoff) {
		t.Errorf("a started with %+v; want %+v", startA.st, want)
	}
}

// Proof 8: a watch that gets compacted away re-lists and converges. Node c
// is cut off briefly; meanwhile a child is placed on it, another of its
// children is terminated, and etcd compacts its history. When the network
// heals, c's watch finds its revision compacted, c lists again, starts the
// new child and stops the terminated one.
func TestProof8CompactionRelist(t *testing.T) {
	t.Parallel()
	srv := startEtcd(t)
	c := newTestCluster(t, srv)
	ttl := func(cfg *Config) { cfg.TTL = 3 * time.Second }
	a, cc := c.node("a", ttl), c.node("c", ttl)
	sa := c.supervisor(t, a)
	sc := c.supervisor(t, cc)
	waitMembers(t, sa, 2)
	onC := keysRankedFirst("c", []string{"a", "c"}, 2)
	startChild(t, sa, onC[0], cartArgs{})
	c.story.waitFor(t, 5*time.Second, onC[0]+" on c", func(es []entry) bool { return exactlyOnce(es, onC[:1], "c") })
	cc.proxy.Cut()
	ctx := context.Background()
	if _, err := sa.StartChild(ctx, onC[1], cartArgs{}); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err := sa.TerminateChild(tctx, onC[0]) // deleted now; c cannot say it stopped yet
	cancel()
	if err != nil && !errors.Is(err, ErrUnavailable) {
		t.Fatal(err)
	}
	cli := c.client()
	resp, err := cli.Get(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	cc.proxy.Heal()
	c.story.waitFor(t, 5*time.Second, "c converged", func(es []entry) bool {
		run := running(es)
		return len(run[onC[0]]) == 0 && slices.Equal(run[onC[1]], []string{"c"})
	})
	if n := sc.relists(); n == 0 {
		t.Error("c never listed again after its watch was compacted")
	}
}

// relists returns how often the local part listed its prefix again.
func (s *Supervisor[K, A]) relists() int {
	s.mu.Lock()
	lp := s.local
	s.mu.Unlock()
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.relisted
}

// Proof 9: a poison child does not bounce between nodes for ever. A child
// that fails at start (or crashes at once, every time) is released by each
// node, moves with backoff to a node that has not tried it, and is marked
// failed after MaxMoves; then nobody starts it again.
func TestProof9PoisonChild(t *testing.T) {
	for _, how := range []string{"at start", "while serving"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			poison(t, how == "at start")
		})
	}
}

func poison(t *testing.T, atStart bool) {
	c := newTestCluster(t, nil)
	const moves = 2
	tweak := func(s *SupervisorSpec[string, cartArgs]) {
		s.MaxMoves = moves
		s.MoveBackoff = 100 * time.Millisecond
	}
	a, b, cc := c.node("a"), c.node("b"), c.node("c")
	sa := c.supervisor(t, a, tweak)
	c.supervisor(t, b, tweak)
	c.supervisor(t, cc, tweak)
	waitMembers(t, sa, 3)
	// Failing at start releases at once; crashing while serving is
	// restarted on the node (MaxRestarts 1) until its intensity is exceeded.
	perNode := 2
	if atStart {
		perNode = 1
	}
	startChild(t, sa, "poison", cartArgs{Crash: atStart, Crashing: !atStart})
	es := c.story.waitFor(t, 10*time.Second, "poison marked failed", func(es []entry) bool {
		return slices.ContainsFunc(es, func(e entry) bool { return e.what == "child_failed" })
	})
	var tries []entry
	for _, e := range es {
		if e.what == "start" && e.item == "poison" && (len(tries) == 0 || tries[len(tries)-1].node != e.node) {
			tries = append(tries, e)
		}
	}
	if len(tries) != moves+1 || starts(es)["poison"] != (moves+1)*perNode {
		t.Fatalf("poison was started %d times on %d nodes in turn; want %d on %d\n%s",
			starts(es)["poison"], len(tries), (moves+1)*perNode, moves+1, dump(es))
	}
	seen := map[string]bool{}
	for i, e := range tries {
		if seen[e.node] {
			t.Errorf("poison was tried twice on %s", e.node)
		}
		seen[e.node] = true
		if i > 0 && e.at.Sub(tries[i-1].at) < 100*time.Millisecond {
			t.Errorf("move %d came %v after the previous try; want at least the backoff", i, e.at.Sub(tries[i-1].at))
		}
	}
	if _, _, err := sa.Lookup(context.Background(), "poison"); !errors.Is(err, ErrFailed) {
		t.Errorf("Lookup(poison) = %v; want ErrFailed", err)
	}
	if _, err := sa.StartChild(context.Background(), "poison", cartArgs{}); !errors.Is(err, ErrFailed) {
		t.Errorf("StartChild(poison) = %v; want ErrFailed", err)
	}
	// After TerminateChild forgets it, it may start again.
	if err := sa.TerminateChild(context.Background(), "poison"); err != nil {
		t.Fatal(err)
	}
	if _, err := sa.StartChild(context.Background(), "poison", cartArgs{}); err != nil {
		t.Errorf("StartChild after TerminateChild: %v", err)
	}
}

func (c *testCluster) takeoverSpec(n *testNode, name string, prio [][]string) DistributedSpec {
	s := c.appSpec(n, name, prio)
	s.Takeover = true
	return s
}
