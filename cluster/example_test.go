package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/arborgo/arbor/cluster"
	"github.com/arborgo/arbor/cluster/internal/embedded"
	"github.com/arborgo/arbor/runtime"
)

// Cart is a keyed child: one shopping cart, running on one node of the
// cluster.
type Cart struct{ customer string }

func (c *Cart) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// CartArgs travel through etcd as JSON.
type CartArgs struct{ Customer string }

// A node joins the cluster, runs the local part of the cluster-wide
// supervisor "carts" in its tree, and starts a keyed child; Lookup says
// where it runs and with which fencing token, and the child reads the same
// token from its context.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	etcd, err := embedded.Start(embedded.Options{Dir: dir}) // a real program dials its etcd cluster
	if err != nil {
		panic(err)
	}
	defer etcd.Close()

	ctx := context.Background()
	node, err := cluster.NewNode(ctx, cluster.Config{
		Endpoints: []string{etcd.Endpoint()}, Cluster: "shop", Node: "node-a", TTL: time.Second,
		Events: func(cluster.Event) {},
	})
	if err != nil {
		panic(err)
	}
	defer node.Close(ctx)

	tokens := make(chan int64, 1)
	carts, err := cluster.NewSupervisor(node, cluster.SupervisorSpec[string, CartArgs]{
		Name: "carts",
		Start: func(ctx context.Context, key string, args CartArgs) (runtime.Service, error) {
			fence, _ := cluster.FenceFrom(ctx)
			tokens <- fence.Token()
			return &Cart{customer: args.Customer}, nil
		},
		Restart: runtime.Transient,
	})
	if err != nil {
		panic(err)
	}
	tree, err := runtime.StartSupervisor(runtime.WithEventHook(ctx, nil), runtime.SupervisorSpec{
		Name:     "shop",
		Children: []runtime.ChildSpec{{ID: "carts", Start: carts.Start, Type: runtime.TypeSupervisor}},
	})
	if err != nil {
		panic(err)
	}
	defer tree.Stop(ctx)

	owner, err := carts.StartChild(ctx, "cart-42", CartArgs{Customer: "c-7"})
	if err != nil {
		panic(err)
	}
	fmt.Println("started on", owner.Node)
	_, err = carts.StartChild(ctx, "cart-42", CartArgs{Customer: "c-7"})
	var already *cluster.AlreadyStartedError
	if errors.As(err, &already) {
		fmt.Println("already started on", already.Owner.Node, "with token", already.Owner.Token == owner.Token)
	}
	found, ok, _ := carts.Lookup(ctx, "cart-42")
	fmt.Println("lookup:", found.Node, ok, "same token as the child's:", found.Token == <-tokens)
	fmt.Println(carts.TerminateChild(ctx, "cart-42"))
	// Output:
	// started on node-a
	// already started on node-a with token true
	// lookup: node-a true same token as the child's: true
	// <nil>
}
