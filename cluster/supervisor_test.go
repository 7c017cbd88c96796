package cluster

import (
	"context"
	"github.com/arborgo/arbor/runtime"

	"errors"
	clientv3 "go.etcd.io/etcd/client/v3"
	"testing"
	"time"
)

// Keyed children run once each, spread over the nodes; a second start
// names the owner; Lookup gives owner and token; TerminateChild ends one
// cluster-wide; a crashed node's children start on the others.
func TestKeyedChildren(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	nodes, sa, keys, es := c.threeNodes(t, "cart-", 12)
	b := nodes[1]
	ctx := context.Background()
	per := map[string]int{}
	for _, nodes := range running(es) {
		for _, n := range nodes {
			per[n]++
		}
	}
	if len(per) != 3 {
		t.Errorf("carts placed on %v; want all three nodes used", per)
	}
	_, err := sa.StartChild(ctx, "cart-3", cartArgs{})
	var already *AlreadyStartedError
	if !errors.As(err, &already) || already.Owner.Node != running(es)["cart-3"][0] {
		t.Errorf("second start of cart-3: %v; want already started on %v", err, running(es)["cart-3"])
	}
	owner, ok, err := sa.Lookup(ctx, "cart-3")
	if err != nil || !ok || owner.Node != already.Owner.Node || owner.Token == 0 {
		t.Errorf("Lookup(cart-3) = %+v, %v, %v", owner, ok, err)
	}
	if err := sa.TerminateChild(ctx, "cart-3"); err != nil {
		t.Fatal(err)
	}
	if got := running(c.story.snapshot())["cart-3"]; len(got) != 0 {
		t.Errorf("cart-3 still runs on %v after TerminateChild returned", got)
	}
	if _, _, err := sa.Lookup(ctx, "cart-3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup after terminate: %v; want ErrNotFound", err)
	}
	keys = append(keys[:3], keys[4:]...)
	b.crash()
	c.story.waitFor(t, 5*time.Second, "carts of b on a and c", func(es []entry) bool {
		return exactlyOnce(es, keys, "a", "c")
	})
}

// waitMembers waits until n nodes run the supervisor's local part, by
// watching their candidacy keys in etcd.
func waitMembers(t *testing.T, s *Supervisor[string, cartArgs], n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	prefix := s.prefix + "nodes/"
	resp, err := s.node.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	count := int(resp.Count)
	if count == n {
		return
	}
	for w := range s.node.cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1)) {
		for _, ev := range w.Events {
			switch {
			case ev.Type == clientv3.EventTypeDelete:
				count--
			case ev.IsCreate():
				count++
			}
		}
		if count == n {
			return
		}
	}
	t.Fatalf("%d nodes run the supervisor; want %d", count, n)
}

// A keyed child's local crash follows the ordinary restart rules on its
// node: it is restarted there, under the same ownership. A transient child
// that ends normally is forgotten cluster-wide.
func TestKeyedRestartTypes(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	a := c.node("a")
	sa := c.supervisor(t, a, func(s *SupervisorSpec[string, cartArgs]) { s.Restart = runtime.Transient })
	startChild(t, sa, "flaky", cartArgs{CrashOnce: true})
	es := c.story.waitFor(t, 5*time.Second, "flaky restarted", func(es []entry) bool { return starts(es)["flaky"] == 2 })
	var tokens []int64
	for _, e := range es {
		if e.what == "start" && e.item == "flaky" {
			tokens = append(tokens, e.token)
		}
	}
	if tokens[0] != tokens[1] {
		t.Errorf("the local restart changed the token from %d to %d", tokens[0], tokens[1])
	}
	if owner, ok, err := sa.Lookup(context.Background(), "flaky"); err != nil || !ok || owner.Token != tokens[0] {
		t.Errorf("Lookup(flaky) = %+v, %v, %v; want it still owned with token %d", owner, ok, err, tokens[0])
	}
	startChild(t, sa, "done", cartArgs{Finish: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sa.awaitGone(ctx, sa.specKey("done"), 1); err != nil {
		t.Fatalf("a transient child that ended normally is still known: %v", err)
	}
	if _, _, err := sa.Lookup(ctx, "done"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup(done) = %v; want ErrNotFound", err)
	}
}
