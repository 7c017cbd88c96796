package observer_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/observer"
)

// shopCluster is what a cluster.Node's Observe yields for a cluster of
// three nodes seen from node-b: billing on node-a, two carts, one of them
// moved once and one failed.
func shopCluster(context.Context) (observer.Cluster, error) {
	return observer.Cluster{
		Name: "shop", Node: "node-b", Revision: 42, Members: []string{"node-a", "node-b", "node-c"},
		Applications: []observer.ClusterApplication{{Name: "billing", Node: "node-a", Token: 12, Standby: []string{"node-a", "node-b", "node-c"}, Last: "node-a"}},
		Supervisors: []observer.ClusterSupervisor{{Name: "carts", Nodes: []string{"node-a", "node-b", "node-c"}, Children: []observer.ClusterChild{
			{Key: "cart-1", Node: "node-b", Token: 23, Moves: 1},
			{Key: "cart-2", Node: "node-c", Token: 17},
			{Key: "cart-<3>", Failed: "exhausted its restart intensity on node-a, node-b"},
		}}},
	}, nil
}

// emptyTree is a Source with nothing running.
func emptyTree(context.Context) (observer.Tree, error) { return observer.Tree{}, nil }

// The cluster travels in the tree's JSON; without a cluster, the JSON has
// no cluster key at all.
func TestClusterJSON(t *testing.T) {
	resp := get(t, observer.New(observer.WithCluster(emptyTree, shopCluster)), http.MethodGet, "/api/tree")
	var got observer.Tree
	if err := json.Unmarshal([]byte(body(t, resp)), &got); err != nil {
		t.Fatal(err)
	}
	want, _ := shopCluster(context.Background())
	if got.Cluster == nil || got.Cluster.Name != want.Name || len(got.Cluster.Supervisors[0].Children) != 3 || got.Cluster.Applications[0].Token != 12 {
		t.Errorf("the tree's cluster = %+v; want %+v", got.Cluster, want)
	}
	if raw := body(t, get(t, observer.New(emptyTree), http.MethodGet, "/api/tree")); strings.Contains(raw, "cluster") {
		t.Errorf("a tree without a cluster: %s", raw)
	}
}

// A cluster that cannot be read (etcd out of reach) does not hide the
// tree: the cluster says why, and a ClusterSource that does not answer is
// given half of the time left, so that the tree is still shown in time.
func TestClusterUnavailable(t *testing.T) {
	failing := func(context.Context) (observer.Cluster, error) {
		return observer.Cluster{Name: "shop", Node: "node-b"}, errors.New("cluster: etcd unavailable: read the cluster: context deadline exceeded")
	}
	stuck := func(ctx context.Context) (observer.Cluster, error) {
		<-ctx.Done()
		return observer.Cluster{Name: "shop", Node: "node-b"}, ctx.Err()
	}
	for name, cl := range map[string]observer.ClusterSource{"failing": failing, "stuck": stuck} {
		h := observer.New(observer.WithCluster(emptyTree, cl))
		h.Timeout = 200 * time.Millisecond
		resp := get(t, h, http.MethodGet, "/api/tree")
		raw := body(t, resp)
		var got observer.Tree
		if err := json.Unmarshal([]byte(raw), &got); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, raw)
		}
		if c := got.Cluster; c == nil || c.Error == "" || c.Name != "shop" || c.Node != "node-b" || c.Members == nil || c.Supervisors == nil {
			t.Errorf("%s: the cluster is %+v; want its names, empty lists and why it cannot be read", name, c)
		}
	}
}

// The page shows the cluster: the node it runs on, the live nodes, which
// node runs the distributed application and each keyed child, with their
// tokens, moves and failures; the key of a child is text, never markup.
func TestBrowserShowsCluster(t *testing.T) {
	chromium := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserLimit)
	defer cancel()
	sup, err := runtime.StartSupervisor(runtime.WithEventHook(context.Background(), func(runtime.Event) {}),
		runtime.SupervisorSpec{Name: "shop", Children: []runtime.ChildSpec{{ID: "carts", Start: idle()}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Stop(context.Background())
	srv := httptest.NewServer(observer.New(observer.WithCluster(observer.Supervisors(sup), shopCluster)))
	defer srv.Close()

	b := startBrowser(t, ctx, chromium, 1200, 700)
	b.navigate(ctx, srv.URL+"/")
	cluster := `document.getElementById('cluster')`
	b.waitFor(ctx, "the cluster pane", `document.documentElement.dataset.polls >= 1 && !document.getElementById('cluster-pane').hidden`)
	for _, text := range []string{"this node: node-b; live: node-a, node-b, node-c", "billing\tnode-a\t12", "cart-1\tnode-b\t23\tmoved 1×",
		"cart-2\tnode-c\t17", "cart-<3>\t—\t\tfailed: exhausted its restart intensity", "cluster supervisor carts on node-a, node-b, node-c"} {
		b.waitFor(ctx, text, cluster+`.innerText.toLowerCase().includes(`+jsString(strings.ToLower(text))+`)`)
	}
	var here []string
	if err := b.eval(ctx, `[...document.querySelectorAll('#cluster .here')].map((e) => e.textContent)`, &here); err != nil {
		t.Fatal(err)
	}
	if len(here) != 5 || here[0] != "node-b" {
		t.Errorf("this node stands out %d times (%v); want five: itself, among the live nodes, billing's standbys and carts' nodes, and as cart-1's owner", len(here), here)
	}
	var cells int
	if err := b.eval(ctx, `document.querySelectorAll('#cluster td b, #cluster td i, #cluster script').length`, &cells); err != nil || cells != 0 {
		t.Errorf("the cluster's text made %d elements (%v)", cells, err)
	}
	shot(t, b, ctx, "observer-cluster.png")
	if problems := b.pageProblems(); len(problems) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(problems, "\n"))
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
