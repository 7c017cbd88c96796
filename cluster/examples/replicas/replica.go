package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/arborgo/arbor/cluster"
	"github.com/arborgo/arbor/runtime"
)

// The replica: one of three identical processes, whose tree is
// replicas.arbor.yaml, generated into replicas_arbor.go: each runs the
// distributed application "billing" and "shop", which holds the node's part
// of the cluster supervisor "carts". node-a starts nine carts once all three
// are up; each runs on exactly one node.

var nodes = []string{"node-a", "node-b", "node-c"}

// out serializes the replica's lines, so that the driver reads whole ones.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// replica runs one replica until SIGTERM (or a cancelled ctx).
func replica(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("replica", flag.ContinueOnError)
	name := fs.String("replica", "", "this replica's node name")
	endpoints := fs.String("etcd", "", "etcd endpoints, comma-separated")
	clusterName := fs.String("cluster", "replicas", "cluster name")
	ttl := fs.Duration("ttl", 0, "lease TTL; 0 is the spec's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out := &lineWriter{w: stdout}
	// The spec gives the cluster's name, its TTL and the nodes to wait
	// for; the program, where etcd is and which node this is (and here, a
	// cluster name per run and the TTL of the -ttl flag).
	node, err := NewNode(ctx, cluster.Config{
		Endpoints: strings.Split(*endpoints, ","), Cluster: *clusterName, Node: *name, TTL: *ttl,
		Events: func(e cluster.Event) {
			if e.Kind == cluster.LeaseLost {
				out.printf("%s: lease lost: %v", *name, e.Reason)
			}
		},
	})
	if err != nil {
		return err
	}
	defer node.Close(context.Background())
	out.printf("%s: up; all of %s are members", *name, strings.Join(nodes, ", "))

	deps, err := NewDeps(node, out, *name)
	if err != nil {
		return err
	}
	ctx = runtime.WithEventHook(ctx, nil)
	apps, err := StartApplications(ctx, deps)
	if err != nil {
		return err
	}
	if *name == "node-a" {
		if err := seed(ctx, deps.Carts); err != nil {
			apps.StopAll(context.Background())
			return err
		}
	}
	signals, stop := runtime.ShutdownSignals()
	defer stop()
	err = apps.Run(signals)
	out.printf("%s: stopped", *name)
	return err
}

// seed starts the nine carts once the three nodes run the carts supervisor,
// so that they spread over all three.
func seed(ctx context.Context, carts *CartsSupervisor) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := carts.Nodes(ctx)
		if err == nil && len(got) == len(nodes) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("carts: only %v after 30s", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := 1; i <= 9; i++ {
		key := fmt.Sprintf("cart-%d", i)
		_, err := carts.StartChild(ctx, key, fmt.Sprintf("customer-%d", i))
		if err != nil && !errors.Is(err, cluster.ErrAlreadyStarted) {
			return err
		}
	}
	return nil
}

// cart is a keyed child: one shopping cart, on one node of the cluster.
type cart struct {
	out  *lineWriter
	node string
	key  string
}

// newCart starts a cart; the customer came through etcd from the node that
// called StartChild.
func newCart(ctx context.Context, out *lineWriter, node, key, customer string) (*cart, error) {
	f, _ := cluster.FenceFrom(ctx)
	out.printf("%s: started %s for %s (token %d)", node, key, customer, f.Token())
	return &cart{out: out, node: node, key: key}, nil
}

func (c *cart) Serve(ctx context.Context) error {
	<-ctx.Done()
	c.out.printf("%s: stopped %s", c.node, c.key)
	return nil
}

// billing is the distributed application's one child, on one node at a
// time.
type billing struct {
	out  *lineWriter
	node string
}

func newBilling(ctx context.Context, out *lineWriter, node string) (*billing, error) {
	f, _ := cluster.FenceFrom(ctx)
	out.printf("%s: started billing (%s) (token %d)", node, cluster.StartTypeFrom(ctx), f.Token())
	return &billing{out: out, node: node}, nil
}

func (b *billing) Serve(ctx context.Context) error {
	<-ctx.Done()
	b.out.printf("%s: stopped billing", b.node)
	return nil
}
