package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/arborgo/arbor/cluster/internal/embedded"
	"github.com/arborgo/arbor/cluster/internal/proxy"
	"github.com/arborgo/arbor/runtime"
)

// shared is the etcd member most tests share, each under a cluster name of
// its own. Tests that compact the store, or need a history of their own,
// start a member of their own with startEtcd.
var shared *embedded.Server

func TestMain(m *testing.M) {
	baseline := goleak.IgnoreCurrent()
	dir, err := os.MkdirTemp("", "arbor-cluster-etcd")
	if err != nil {
		panic(err)
	}
	shared, err = embedded.Start(embedded.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	code := m.Run()
	shared.Close()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(baseline); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// startEtcd starts a member for one test.
func startEtcd(t *testing.T) *embedded.Server {
	t.Helper()
	srv, err := embedded.Start(embedded.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

var clusterSeq atomic.Int64

// testCluster is a set of nodes of one cluster, each reaching etcd through
// a proxy of its own that can cut it off.
type testCluster struct {
	t       *testing.T
	srv     *embedded.Server
	name    string
	story   *story
	mu      sync.Mutex
	members map[string]*testNode // the latest node of each name
	all     []*testNode          // every node made, for the cleanup
}

type testNode struct {
	*Node
	proxy  *proxy.Proxy
	client *clientv3.Client
	closed bool
}

func newTestCluster(t *testing.T, srv *embedded.Server) *testCluster {
	if srv == nil {
		srv = shared
	}
	c := &testCluster{t: t, srv: srv, name: fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), clusterSeq.Add(1)),
		story: &story{}, members: map[string]*testNode{}}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, n := range c.all {
			n.shutdown()
		}
	})
	return c
}

func (n *testNode) shutdown() {
	if !n.closed {
		n.closed = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Node.Close(ctx)
	}
	n.client.Close()
	n.proxy.Close()
}

// client returns an etcd client that reaches the member directly.
func (c *testCluster) client() *clientv3.Client {
	c.t.Helper()
	cli, err := newClient(c.srv.Endpoint())
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cli.Close() })
	return cli
}

func newClient(endpoint string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints: []string{endpoint}, DialTimeout: 2 * time.Second,
		DialKeepAliveTime: 300 * time.Millisecond, DialKeepAliveTimeout: 300 * time.Millisecond,
		Logger: zap.NewNop(),
	})
}

// node starts a node named name with TTL 1 s.
func (c *testCluster) node(name string, tweak ...func(*Config)) *testNode {
	c.t.Helper()
	p, err := proxy.New(c.srv.Endpoint())
	if err != nil {
		c.t.Fatal(err)
	}
	cli, err := newClient(p.Addr())
	if err != nil {
		c.t.Fatal(err)
	}
	cfg := Config{Client: cli, Cluster: c.name, Node: name, TTL: time.Second,
		Events: func(e Event) { c.story.event(e) }}
	for _, f := range tweak {
		f(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := NewNode(ctx, cfg)
	if err != nil {
		cli.Close()
		p.Close()
		c.t.Fatalf("node %s: %v", name, err)
	}
	tn := &testNode{Node: n, proxy: p, client: cli}
	c.mu.Lock()
	c.members[name] = tn
	c.all = append(c.all, tn)
	c.mu.Unlock()
	return tn
}

// crash makes the node vanish as a killed process does: nothing it sends
// reaches etcd any more, its work stops at once, its lease is left to
// expire.
func (n *testNode) crash() {
	n.proxy.Cut()
	n.closed = true
	if g := n.halt(); g != nil {
		g.cancel(fmt.Errorf("node %s crashed", n.name))
	}
}

// story records, on one monotonic clock, when work starts and stops on
// which node, and the nodes' reports.
type story struct {
	mu      sync.Mutex
	entries []entry
	changed chan struct{}
}

type entry struct {
	at    time.Time
	what  string // "start", "stop", or an event kind
	node  string
	item  string // application or key
	token int64
	st    StartType
	err   error
}

func (s *story) add(e entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.at = time.Now()
	s.entries = append(s.entries, e)
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

func (s *story) event(e Event) {
	item := e.Application
	if e.Key != "" {
		item = e.Key
	}
	s.add(entry{what: e.Kind.String(), node: e.Node, item: item, token: e.Token, st: e.StartType, err: e.Reason})
}

// waitFor waits until cond holds over the entries, or fails the test.
func (s *story) waitFor(t *testing.T, timeout time.Duration, what string, cond func([]entry) bool) []entry {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		entries := append([]entry(nil), s.entries...)
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		changed := s.changed
		s.mu.Unlock()
		if cond(entries) {
			return entries
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s; story:\n%s", timeout, what, dump(entries))
		}
	}
}

func (s *story) snapshot() []entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]entry(nil), s.entries...)
}

func dump(entries []entry) string {
	out := ""
	var t0 time.Time
	for i, e := range entries {
		if i == 0 {
			t0 = e.at
		}
		out += fmt.Sprintf("  +%6dms %-14s %-8s %-10s token=%d %v %v\n", e.at.Sub(t0).Milliseconds(), e.what, e.node, e.item, e.token, e.st, e.err)
	}
	return out
}

// worker is a service that records its start and stop in the story. It
// runs until it is stopped, unless it has an exit to return at once (or
// finish is set: then it ends normally at once).
type worker struct {
	s      *story
	node   string
	item   string
	exit   error
	finish bool
}

func (w *worker) Serve(ctx context.Context) error {
	if w.exit == nil && !w.finish {
		<-ctx.Done()
	}
	w.s.add(entry{what: "stop", node: w.node, item: w.item})
	return w.exit
}

// appSpec is a distributed application whose tree is one worker that
// records where it runs.
func (c *testCluster) appSpec(n *testNode, name string, nodes [][]string) DistributedSpec {
	return DistributedSpec{
		App: runtime.ApplicationSpec{Name: name, Start: func(ctx context.Context) (runtime.Service, error) {
			st := StartTypeFrom(ctx)
			f, _ := FenceFrom(ctx)
			c.story.add(entry{what: "start", node: n.name, item: name, st: st, token: f.Token()})
			return &worker{s: c.story, node: n.name, item: name}, nil
		}},
		Nodes: nodes,
	}
}

// startApps runs applications on node n until the test ends.
func startApps(t *testing.T, n *testNode, apps ...runtime.ApplicationSpec) *runtime.Applications {
	t.Helper()
	ctx := runtime.WithEventHook(context.Background(), nil)
	a, err := runtime.StartApplications(ctx, apps...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.StopAll(context.Background()) })
	return a
}

// running returns, per item, the nodes where it has started and not yet
// stopped.
func running(entries []entry) map[string][]string {
	out := map[string][]string{}
	for _, e := range entries {
		switch e.what {
		case "start":
			out[e.item] = append(out[e.item], e.node)
		case "stop":
			nodes := out[e.item]
			for i, n := range nodes {
				if n == e.node {
					out[e.item] = append(nodes[:i:i], nodes[i+1:]...)
					break
				}
			}
		}
	}
	return out
}

// cartArgs are a test child's arguments.
type cartArgs struct {
	Customer string
	Crash    bool // fail at every start
	Crashing bool // crash as soon as it runs, every time
	// CrashOnce crashes the first run of the key only; Finish makes it end
	// normally as soon as it runs.
	CrashOnce, Finish bool
}

// supervisor starts the cluster supervisor "carts" on n, in a tree of its
// own that lives until the test ends.
func (c *testCluster) supervisor(t *testing.T, n *testNode, tweak ...func(*SupervisorSpec[string, cartArgs])) *Supervisor[string, cartArgs] {
	t.Helper()
	spec := SupervisorSpec[string, cartArgs]{
		Name: "carts",
		Start: func(ctx context.Context, key string, args cartArgs) (runtime.Service, error) {
			f, ok := FenceFrom(ctx)
			if !ok {
				return nil, fmt.Errorf("no fence")
			}
			c.story.add(entry{what: "start", node: n.name, item: key, token: f.Token()})
			if args.Crash {
				return nil, fmt.Errorf("poison %s", key)
			}
			w := &worker{s: c.story, node: n.name, item: key}
			switch first := starts(c.story.snapshot())[key] == 1; {
			case args.Crashing, args.CrashOnce && first:
				w.exit = fmt.Errorf("%s crashed", key)
			case args.Finish:
				w.exit, w.finish = nil, true
			}
			return w, nil
		},
		MaxRestarts: 1, MaxSeconds: 5, MoveBackoff: 100 * time.Millisecond,
	}
	for _, f := range tweak {
		f(&spec)
	}
	sup, err := NewSupervisor(n.Node, spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx := runtime.WithEventHook(context.Background(), nil)
	top, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{
		{ID: "carts", Start: sup.Start, Type: runtime.TypeSupervisor},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { top.Stop(context.Background()) })
	return sup
}

// exactlyOnce reports whether every key runs on exactly one node of live.
func exactlyOnce(es []entry, keys []string, live ...string) bool {
	run := running(es)
	for _, k := range keys {
		nodes := run[k]
		if len(nodes) != 1 || !slicesContains(live, nodes[0]) {
			return false
		}
	}
	return true
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ownerAndStandby sets up nodes a and b, each running the application
// "billing" (a first, with takeover) and the supervisor "carts", and count
// children that a ranks first; it returns once all of them run on a. The
// items are the children's keys and "billing".
func (c *testCluster) ownerAndStandby(t *testing.T, count int) (a, b *testNode, sa *Supervisor[string, cartArgs], items []string) {
	t.Helper()
	prio := [][]string{{"a"}, {"b"}}
	a, b = c.node("a"), c.node("b")
	sa = c.supervisor(t, a)
	c.supervisor(t, b)
	// Takeover: b may come first; a takes the application back.
	startApps(t, a, a.Distributed(c.takeoverSpec(a, "billing", prio)))
	startApps(t, b, b.Distributed(c.takeoverSpec(b, "billing", prio)))
	waitMembers(t, sa, 2)
	items = keysRankedFirst("a", []string{"a", "b"}, count)
	c.startChildren(t, sa, items)
	items = append(items, "billing")
	c.story.waitFor(t, 5*time.Second, "all on a", func(es []entry) bool { return exactlyOnce(es, items, "a") })
	return a, b, sa, items
}

// threeNodes sets up nodes a, b and c running the supervisor "carts", and
// count children named prefix0, prefix1...; it returns once each runs on
// one node.
func (c *testCluster) threeNodes(t *testing.T, prefix string, count int) (nodes []*testNode, sa *Supervisor[string, cartArgs], keys []string, placed []entry) {
	t.Helper()
	for _, name := range []string{"a", "b", "c"} {
		n := c.node(name)
		nodes = append(nodes, n)
		s := c.supervisor(t, n)
		if sa == nil {
			sa = s
		}
	}
	waitMembers(t, sa, 3)
	for i := range count {
		keys = append(keys, fmt.Sprint(prefix, i))
	}
	c.startChildren(t, sa, keys)
	placed = c.story.waitFor(t, 5*time.Second, "all placed", func(es []entry) bool { return exactlyOnce(es, keys, "a", "b", "c") })
	return nodes, sa, keys, placed
}

// startChildren starts keys through s.
func (c *testCluster) startChildren(t *testing.T, s *Supervisor[string, cartArgs], keys []string) {
	t.Helper()
	for _, k := range keys {
		startChild(t, s, k, cartArgs{Customer: k})
	}
}

// startChild starts key through s. A node of a loaded machine can miss its
// renewals and lose its lease for a moment (TTL 1 s is short), in which
// case StartChild refuses with ErrUnavailable (or ErrNoNodes, when every
// node lost it): it is tried again, as a program would, once the nodes
// have new leases.
func startChild(t *testing.T, s *Supervisor[string, cartArgs], key string, args cartArgs) Owner {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, changed := s.node.current()
		owner, err := s.StartChild(context.Background(), key, args)
		if err == nil {
			return owner
		}
		if !(errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNoNodes)) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		select { // this node's new lease, or another node's
		case <-changed:
		case <-time.After(50 * time.Millisecond):
		}
	}
}
