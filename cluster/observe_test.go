package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime/observer"
)

// Observe shows the live nodes, where the distributed application and each
// keyed child run and under which token, whichever node is asked; and,
// with etcd out of reach, says so in time.
func TestObserve(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	nodes, sa, keys, es := c.threeNodes(t, "obs-", 4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Observe and Lookup read etcd one after the other: on a loaded
	// machine a node can lose its lease between the two (TTL 1 s), and a
	// child move; they agree once placement is still.
	var mismatch string
	for deadline := time.Now().Add(5 * time.Second); ; {
		got, err := nodes[2].Observe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != c.name || got.Node != "c" || len(got.Members) != 3 || got.Members[0] != "a" || got.Revision == 0 {
			t.Errorf("Observe = %+v; want cluster %s seen from c, members a, b, c", got, c.name)
		}
		if len(got.Supervisors) != 1 || len(got.Supervisors[0].Children) != len(keys) || len(got.Supervisors[0].Nodes) != 3 {
			t.Fatalf("Observe's supervisors = %+v; want one, on three nodes, with %d children", got.Supervisors, len(keys))
		}
		mismatch = ""
		for _, ch := range got.Supervisors[0].Children {
			owner, ok, err := sa.Lookup(ctx, ch.Key)
			if err != nil || !ok {
				t.Fatalf("Lookup(%s): %v, %v", ch.Key, ok, err)
			}
			if ch.Node != owner.Node || ch.Token != owner.Token || ch.Token == 0 {
				mismatch = fmt.Sprintf("Observe shows %s on %q, token %d; Lookup says %+v (placed on %v)", ch.Key, ch.Node, ch.Token, owner, running(es)[ch.Key])
			}
		}
		if mismatch == "" || time.Now().After(deadline) {
			break
		}
	}
	if mismatch != "" {
		t.Error(mismatch)
	}
	// Through the observer's Source, from a node cut off from etcd: the
	// tree still shows, the cluster says why it cannot.
	nodes[0].proxy.Cut()
	src := observer.WithCluster(func(context.Context) (observer.Tree, error) { return observer.Tree{}, nil }, nodes[0].Observe)
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	tree, err := src(sctx)
	if err != nil || tree.Cluster == nil || tree.Cluster.Error == "" || tree.Cluster.Node != "a" {
		t.Errorf("the source with etcd cut off = %+v, %v; want the tree and a cluster that says why it cannot be read", tree.Cluster, err)
	}
}
