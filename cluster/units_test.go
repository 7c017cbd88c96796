package cluster

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
)

type textKey struct{ a, b string }

func (k textKey) MarshalText() ([]byte, error) { return []byte(k.a + ":" + k.b), nil }
func (k *textKey) UnmarshalText(b []byte) error {
	a, bb, ok := strings.Cut(string(b), ":")
	if !ok {
		return fmt.Errorf("bad key %q", b)
	}
	k.a, k.b = a, bb
	return nil
}

type tenant string

func roundTrip[K comparable](t *testing.T, k K) {
	t.Helper()
	enc, dec, err := keyCodec[K]()
	if err != nil {
		t.Fatalf("%T: %v", k, err)
	}
	got, err := dec(enc(k))
	if err != nil || got != k {
		t.Errorf("%T %v: encoded %q, decoded %v, %v", k, k, enc(k), got, err)
	}
}

func TestKeyCodec(t *testing.T) {
	roundTrip(t, "cart-1")
	roundTrip(t, tenant("acme"))
	roundTrip(t, int64(-42))
	roundTrip(t, uint16(7))
	roundTrip(t, true)
	roundTrip(t, textKey{"x", "y"})
	if _, _, err := keyCodec[struct{ A int }](); err == nil || !strings.Contains(err.Error(), "cannot be a cluster key") {
		t.Errorf("a struct key: %v; want refused", err)
	}
}

func TestCheckArgs(t *testing.T) {
	type ok struct {
		Name  string
		When  time.Time
		Tags  map[string][]int
		Inner *struct{ X float64 }
	}
	type hidden struct{ name string }
	type skipped struct {
		A int `json:"-"`
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[ok](), reflect.TypeFor[[]string](), reflect.TypeFor[struct{}]()} {
		if err := CheckArgs(typ); err != nil {
			t.Errorf("%v: %v", typ, err)
		}
	}
	for typ, want := range map[reflect.Type]string{
		reflect.TypeFor[chan int]():                "cannot leave the process",
		reflect.TypeFor[func()]():                  "cannot leave the process",
		reflect.TypeFor[complex128]():              "no complex numbers",
		reflect.TypeFor[any]():                     "interface",
		reflect.TypeFor[hidden]():                  "field name is unexported",
		reflect.TypeFor[skipped]():                 `tagged json:"-"`,
		reflect.TypeFor[map[struct{ A int }]int](): "map key",
		reflect.TypeFor[struct{ F []func() }]():    "F[]",
	} {
		err := CheckArgs(typ)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v; want an error saying %q", typ, err, want)
		}
	}
	if _, err := NewSupervisor(&Node{keys: newKeys("x")}, SupervisorSpec[string, hidden]{Name: "s",
		Start: func(context.Context, string, hidden) (runtime.Service, error) { return nil, nil }}); err == nil {
		t.Error("NewSupervisor accepted arguments with an unexported field")
	}
}

// Rendezvous hashing spreads keys over the nodes, and removing a node
// moves only the keys it ranked first.
func TestRendezvous(t *testing.T) {
	nodes := []string{"a", "b", "c"}
	count := map[string]int{}
	moved := 0
	for i := range 3000 {
		k := fmt.Sprint("key-", i)
		first := rendezvous(k, nodes)[0]
		count[first]++
		if after := rendezvous(k, []string{"a", "c"})[0]; first != "b" && after != first {
			moved++
		}
	}
	for _, n := range nodes {
		if count[n] < 800 || count[n] > 1200 {
			t.Errorf("node %s ranks first for %d of 3000 keys; want about 1000", n, count[n])
		}
	}
	if moved != 0 {
		t.Errorf("removing b moved %d keys it did not own", moved)
	}
}

func TestPriorityChoose(t *testing.T) {
	p := priority{{"a"}, {"b", "c"}}
	load := map[string]int{"b": 2, "c": 1}
	for _, tc := range []struct {
		live []string
		want string
	}{
		{[]string{"a", "b", "c"}, "a"},
		{[]string{"b", "c"}, "c"}, // fewest applications in the group
		{[]string{"b"}, "b"},
		{[]string{"x"}, ""},
	} {
		live := map[string]bool{}
		for _, n := range tc.live {
			live[n] = true
		}
		if got := p.choose(live, func(n string) int { return load[n] }); got != tc.want {
			t.Errorf("live %v: chose %q; want %q", tc.live, got, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Node: "a"}, "no cluster name"},
		{Config{Cluster: "c"}, "no node name"},
		{Config{Cluster: "c/d", Node: "a"}, `cluster name "c/d" contains a slash`},
		{Config{Cluster: "c", Node: "a", TTL: 1500 * time.Millisecond}, "ttl 1.5s is not a whole number of seconds"},
		{Config{Cluster: "c", Node: "a", TTL: 3 * time.Second, StopMargin: 2 * time.Second}, "stop margin 2s must be"},
		{Config{Cluster: "c", Node: "a"}, "no etcd endpoints"},
	} {
		_, err := NewNode(ctx, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestDistributedSpecErrors(t *testing.T) {
	start := func(context.Context) (runtime.Service, error) { return nil, nil }
	for _, tc := range []struct {
		spec DistributedSpec
		want string
	}{
		{DistributedSpec{App: runtime.ApplicationSpec{Name: "x", Start: start}}, "no nodes"},
		{DistributedSpec{App: runtime.ApplicationSpec{Name: "x", Start: start}, Nodes: [][]string{{"a"}, {"b", "a"}}}, `node "a" listed twice`},
		{DistributedSpec{App: runtime.ApplicationSpec{Name: "x", Start: start}, Nodes: [][]string{{}}}, "empty group"},
		{DistributedSpec{App: runtime.ApplicationSpec{Name: "x"}, Nodes: [][]string{{"a"}}}, "no start function"},
		{DistributedSpec{App: runtime.ApplicationSpec{Name: "x", Start: start}, Nodes: [][]string{{"a"}}, FailoverDelay: -1}, "negative failover delay"},
	} {
		n := &Node{}
		_, err := runtime.StartApplications(runtime.WithEventHook(context.Background(), nil), n.Distributed(tc.spec))
		var appErr *runtime.ApplicationError
		if !errors.As(err, &appErr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want an application start error saying %q", tc.spec, err, tc.want)
		}
	}
}

// A node waits for its mandatory nodes, and gives up with the missing ones
// named after WaitTimeout.
func TestWaitFor(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	cli := c.client()
	_, err := NewNode(context.Background(), Config{Client: cli, Cluster: c.name, Node: "a", TTL: time.Second,
		WaitFor: []string{"a", "b", "c"}, WaitTimeout: 300 * time.Millisecond, Events: func(Event) {}})
	var missing *MissingNodesError
	if !errors.As(err, &missing) || strings.Join(missing.Missing, ",") != "b,c" {
		t.Fatalf("NewNode: %v; want b and c missing", err)
	}
	done := make(chan error, 1)
	go func() {
		n, err := NewNode(context.Background(), Config{Client: cli, Cluster: c.name, Node: "a", TTL: time.Second,
			WaitFor: []string{"b"}, Events: func(Event) {}})
		if err == nil {
			n.Close(context.Background())
		}
		done <- err
	}()
	c.node("b")
	if err := <-done; err != nil {
		t.Errorf("NewNode waiting for b: %v", err)
	}
}

// With a failover delay, the application starts elsewhere only that long
// after its node went down.
func TestFailoverDelay(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	prio := [][]string{{"a"}, {"b"}}
	spec := func(n *testNode) DistributedSpec {
		s := c.takeoverSpec(n, "billing", prio)
		s.FailoverDelay = time.Second
		return s
	}
	a, b := c.node("a"), c.node("b")
	startApps(t, a, a.Distributed(spec(a)))
	startApps(t, b, b.Distributed(spec(b)))
	c.story.waitFor(t, 5*time.Second, "billing on a", func(es []entry) bool { return exactlyOnce(es, []string{"billing"}, "a") })
	crashed := time.Now()
	a.crash()
	es := c.story.waitFor(t, 6*time.Second, "billing on b", func(es []entry) bool { return exactlyOnce(es, []string{"billing"}, "b") })
	last := es[len(es)-1]
	for _, e := range es {
		if e.what == "start" && e.node == "b" {
			last = e
		}
	}
	// The lease outlives the crash by at least TTL - TTL/3; the delay adds 1s.
	if took := last.at.Sub(crashed); took < time.Second+a.TTL()*2/3-50*time.Millisecond {
		t.Errorf("failover after %v; want the lease's expiry plus the 1s delay", took)
	}
	if last.st.Kind != Failover || last.st.From != "a" {
		t.Errorf("b started billing with %v; want failover from a", last.st)
	}
}

// A second process with a node name in use waits for the first one's
// lease, and says why when it gives up.
func TestNodeNameInUse(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	c.node("a")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := NewNode(ctx, Config{Client: c.client(), Cluster: c.name, Node: "a", TTL: time.Second, Events: func(Event) {}})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), `node name "a" is held by another live process`) {
		t.Errorf("NewNode with a name in use: %v", err)
	}
}

// A distributed application whose tree fails to start is released, and its
// standby exits with the reason, for the application controller.
func TestAppStartFails(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	a := c.node("a")
	boom := errors.New("no database")
	exited := make(chan error, 1)
	ctx := runtime.WithEventHook(context.Background(), func(e runtime.Event) {
		if e.Kind == runtime.ApplicationExited {
			exited <- e.Reason
		}
	})
	apps, err := runtime.StartApplications(ctx, a.Distributed(DistributedSpec{
		App:   runtime.ApplicationSpec{Name: "billing", Start: func(context.Context) (runtime.Service, error) { return nil, boom }},
		Nodes: [][]string{{"a"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer apps.StopAll(context.Background())
	if err := <-exited; !errors.Is(err, boom) {
		t.Errorf("the application exited with %v; want the start error", err)
	}
}
