package shop

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arborgo/arbor/cluster"
	"github.com/arborgo/arbor/cluster/internal/embedded"
	"github.com/arborgo/arbor/runtime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The generated code runs: NewNode joins the cluster with the spec's name,
// NewDeps makes the cluster supervisor on the node, the applications start
// (billing on node-a, the first of its priority list), StartChild places a
// cart with its typed arguments, which reach NewCart through etcd, Lookup
// finds it, TerminateChild ends it; and Run's counterpart, closing the node,
// leaves nothing running.
func TestShop(t *testing.T) {
	srv, err := embedded.Start(embedded.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = runtime.WithEventHook(ctx, nil)

	node, err := NewNode(ctx, cluster.Config{Endpoints: []string{srv.Endpoint()}, Node: "node-a", TTL: time.Second, Events: func(cluster.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	out := NewLog()
	deps, err := NewDeps(node, out)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := StartApplications(ctx, deps)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"api up", "billing started (normal) (token *)"} {
		if err := out.Wait(ctx, line); err != nil {
			t.Fatal(err)
		}
	}
	owner, err := deps.Carts.StartChild(ctx, "cart-1", "customer-7", []Item{{SKU: "apple", Quantity: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if owner.Node != "node-a" {
		t.Errorf("StartChild placed cart-1 on %q; want node-a, the only node", owner.Node)
	}
	if err := out.Wait(ctx, "cart cart-1 for customer-7: 1 items (token "+strconv.FormatInt(owner.Token, 10)+")"); err != nil {
		t.Fatal(err)
	}
	got, ok, err := deps.Carts.Lookup(ctx, "cart-1")
	if err != nil || !ok || got != owner {
		t.Errorf("Lookup(cart-1) = %v, %v, %v; want %v", got, ok, err, owner)
	}
	if _, err := deps.Carts.StartChild(ctx, "cart-1", "someone else", nil); !errors.Is(err, cluster.ErrAlreadyStarted) {
		t.Errorf("a second StartChild(cart-1) = %v; want already started", err)
	}
	if err := deps.Carts.TerminateChild(ctx, "cart-1"); err != nil {
		t.Fatal(err)
	}
	if err := out.Wait(ctx, "cart cart-1 stopped"); err != nil {
		t.Fatal(err)
	}
	if err := apps.StopAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := out.Wait(ctx, "billing stopped"); err != nil {
		t.Fatal(err)
	}
	if err := node.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
