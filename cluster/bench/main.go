// Command bench measures the cluster module against the same operations
// done directly with the etcd client (the floor), on one machine:
//
//   - claim latency: StartChild, sequentially, against one create-if-absent
//     transaction with a lease (p50 and p99 over -claims claims);
//   - claims per second with 16 concurrent callers, both ways;
//   - failover time at TTL 1 s: the owner of a distributed application is
//     cut off, until the application starts on the other node; the floor is
//     a key on a lease that a watcher re-claims once the lease has expired;
//   - memory per node with 10,000 keyed children (heap and stacks, after a
//     GC), against 10,000 children of a plain runtime dynamic supervisor,
//     each measured in a fresh process.
//
// etcd is a single embedded member (no fsync, ticks of 10 ms), run in a
// process of its own, as a real one would be. Run it from the cluster
// module: go run ./bench. The machine's load average is printed beside the
// figures: on a shared machine they are indications, not a final table.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/arborgo/arbor/cluster"
	"github.com/arborgo/arbor/cluster/internal/embedded"
	"github.com/arborgo/arbor/cluster/internal/proxy"
	"github.com/arborgo/arbor/runtime"
)

const serveEnv = "ARBOR_BENCH_ETCD"

func main() {
	if helper() {
		return
	}
	claims := flag.Int("claims", 1000, "sequential claims for the latency figures")
	concurrentClaims := flag.Int("concurrent-claims", 2000, "claims made by 16 callers for the throughput figures")
	failovers := flag.Int("failovers", 10, "failovers to time, each way")
	children := flag.Int("children", 10000, "keyed children for the memory figure")
	only := flag.String("only", "", "run only this measurement: latency, throughput, failover or memory")
	flag.StringVar(&memProfile, "memprofile", "", "write a heap profile with the keyed children running")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*only, *claims, *concurrentClaims, *failovers, *children); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// helper runs this process as one of the bench's helpers, etcd or a memory
// measurement, if the environment says so, and reports whether it did.
func helper() bool {
	if dir := os.Getenv(serveEnv); dir != "" {
		serveEtcd(dir)
		return true
	}
	if spec := os.Getenv(memoryEnv); spec != "" {
		var what, endpoint, profile string
		var count int
		fmt.Sscan(spec, &what, &endpoint, &count, &profile)
		memProfile = profile
		if err := memoryIn(what, endpoint, count); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return true
	}
	return false
}

// serveEtcd runs the member until stdin closes, printing its endpoint.
func serveEtcd(dir string) {
	srv, err := embedded.Start(embedded.Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(srv.Endpoint())
	buf := make([]byte, 1)
	_, _ = os.Stdin.Read(buf)
	srv.Close()
}

// startEtcd starts the member in a child process.
func startEtcd() (endpoint string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "arbor-cluster-bench")
	if err != nil {
		return "", nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), serveEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	var line [128]byte
	n, err := stdout.Read(line[:])
	if err != nil {
		cmd.Process.Kill()
		return "", nil, err
	}
	return strings.TrimSpace(string(line[:n])), func() {
		stdin.Close()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}, nil
}

func newClient(endpoint string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 2 * time.Second,
		DialKeepAliveTime: 300 * time.Millisecond, DialKeepAliveTimeout: 300 * time.Millisecond, Logger: zap.NewNop()})
}

type row struct {
	what, arbor, floor, ratio, target, met string
}

// memProfile is where -memprofile writes.
var memProfile string

func run(only string, claims, concurrentClaims, failovers, children int) error {
	load := loadAverage()
	endpoint, stop, err := startEtcd()
	if err != nil {
		return err
	}
	defer stop()
	var rows []row

	want := func(name string) bool { return only == "" || only == name }
	if want("latency") {
		lat, err := claimLatency(endpoint, claims)
		if err != nil {
			return err
		}
		ratio := float64(lat.arbor[50]) / float64(lat.floor[50])
		rows = append(rows,
			row{"claim latency p50 (StartChild vs one create-if-absent txn)", us(lat.arbor[50]), us(lat.floor[50]),
				fmt.Sprintf("%.2f×", ratio), "≤ 1.5× one txn", yes(ratio <= 1.5)},
			row{"claim latency p99", us(lat.arbor[99]), us(lat.floor[99]),
				fmt.Sprintf("%.2f×", float64(lat.arbor[99])/float64(lat.floor[99])), "", ""})
	}
	if want("throughput") {
		thr, err := claimThroughput(endpoint, concurrentClaims)
		if err != nil {
			return err
		}
		rows = append(rows, row{"claims per second, 16 concurrent callers (a rate: higher is better)", fmt.Sprintf("%.0f/s", thr[0]), fmt.Sprintf("%.0f/s", thr[1]),
			fmt.Sprintf("%.2f×", thr[0]/thr[1]), "", ""})
	}
	if want("failover") {
		fo, err := failover(endpoint, failovers)
		if err != nil {
			return err
		}
		rows = append(rows, row{fmt.Sprintf("failover at TTL 1s: median (min–max of %d)", failovers),
			fmt.Sprintf("%s (%s–%s)", ms(fo.arbor[50]), ms(fo.arbor[0]), ms(fo.arbor[100])),
			fmt.Sprintf("%s (%s–%s)", ms(fo.floor[50]), ms(fo.floor[0]), ms(fo.floor[100])),
			fmt.Sprintf("%.2f×", float64(fo.arbor[50])/float64(fo.floor[50])), "≤ TTL + 0.5s = 1500ms median", yes(fo.arbor[50] <= 1500*time.Millisecond)})
	}
	if want("memory") {
		mem, err := memory(endpoint, children)
		if err != nil {
			return err
		}
		rows = append(rows, row{fmt.Sprintf("memory per keyed child, %d on one node", children),
			kb(mem[0]), kb(mem[1]), fmt.Sprintf("%.2f×", mem[0]/mem[1]), "", ""})
	}

	fmt.Printf("Machine: %s, %d cores; %s; etcd v3.7.3 embedded, one member, no fsync, ticks 10 ms, in its own process.\n",
		cpu(), goruntime.NumCPU(), goruntime.Version())
	fmt.Printf("Load average (1, 5, 15 min): %s before, %s after. %s UTC.\n\n", load, loadAverage(), time.Now().UTC().Format("2006-01-02 15:04"))
	fmt.Println("| work | arbor cluster | floor (etcd client alone) | arbor/floor | target | met |")
	fmt.Println("|---|--:|--:|--:|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.what, r.arbor, r.floor, r.ratio, r.target, r.met)
	}
	fmt.Println("\nThe memory floor is the same children under a plain runtime.DynamicSupervisor, without etcd.")
	return nil
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }
func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
func kb(b float64) string       { return fmt.Sprintf("%.1f KB", b/1024) }

// percentiles returns the p-th percentiles of ds, p in 0..100.
func percentiles(ds []time.Duration) map[int]time.Duration {
	slices.Sort(ds)
	out := map[int]time.Duration{}
	for _, p := range []int{0, 50, 99, 100} {
		i := p * (len(ds) - 1) / 100
		out[p] = ds[i]
	}
	return out
}

type pair struct{ arbor, floor map[int]time.Duration }

// node starts a node of cluster name, reaching etcd through a proxy that
// the caller may cut.
func node(endpoint, clusterName, name string) (*cluster.Node, *clientv3.Client, *proxy.Proxy, error) {
	p, err := proxy.New(endpoint)
	if err != nil {
		return nil, nil, nil, err
	}
	cli, err := newClient(p.Addr())
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := cluster.NewNode(ctx, cluster.Config{Client: cli, Cluster: clusterName, Node: name, TTL: time.Second,
		Events: func(cluster.Event) {}})
	return n, cli, p, err
}

type idle struct{}

func (idle) Serve(ctx context.Context) error { <-ctx.Done(); return nil }

// carts starts the supervisor's local part on n.
func carts(n *cluster.Node) (*cluster.Supervisor[string, struct{}], func(), error) {
	sup, err := cluster.NewSupervisor(n, cluster.SupervisorSpec[string, struct{}]{
		Name:  "carts",
		Start: func(ctx context.Context, key string, _ struct{}) (runtime.Service, error) { return idle{}, nil },
	})
	if err != nil {
		return nil, nil, err
	}
	top, err := runtime.StartSupervisor(runtime.WithEventHook(context.Background(), nil), runtime.SupervisorSpec{
		Name: "top", Children: []runtime.ChildSpec{{ID: "carts", Start: sup.Start, Type: runtime.TypeSupervisor}}})
	if err != nil {
		return nil, nil, err
	}
	for {
		got, err := sup.Nodes(context.Background())
		if err == nil && len(got) == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return sup, func() { top.Stop(context.Background()) }, nil
}

// startChild starts key, trying again for a while when the node has lost
// its lease for a moment (TTL 1 s is short on a loaded machine), as a
// program would.
func startChild(ctx context.Context, sup *cluster.Supervisor[string, struct{}], key string) (cluster.Owner, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		owner, err := sup.StartChild(ctx, key, struct{}{})
		if err == nil || !(errors.Is(err, cluster.ErrUnavailable) || errors.Is(err, cluster.ErrNoNodes)) || time.Now().After(deadline) {
			return owner, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func claimLatency(endpoint string, count int) (pair, error) {
	n, cli, p, err := node(endpoint, "latency", "a")
	if err != nil {
		return pair{}, err
	}
	defer func() { n.Close(context.Background()); cli.Close(); p.Close() }()
	sup, stop, err := carts(n)
	if err != nil {
		return pair{}, err
	}
	defer stop()
	floorCli, err := newClient(endpoint)
	if err != nil {
		return pair{}, err
	}
	defer floorCli.Close()
	ctx := context.Background()
	lease, err := floorCli.Grant(ctx, 30)
	if err != nil {
		return pair{}, err
	}
	// Warm both paths, then alternate them so that load shifts hit both.
	var a, f []time.Duration
	for i := -50; i < count; i++ {
		t0 := time.Now()
		if _, err := startChild(ctx, sup, fmt.Sprintf("k%d", i)); err != nil {
			return pair{}, err
		}
		d := time.Since(t0)
		key := fmt.Sprintf("/floor/latency/k%d", i)
		t0 = time.Now()
		resp, err := floorCli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, "a", clientv3.WithLease(lease.ID))).Commit()
		if err != nil || !resp.Succeeded {
			return pair{}, fmt.Errorf("floor claim: %v", err)
		}
		if i >= 0 {
			a = append(a, d)
			f = append(f, time.Since(t0))
		}
	}
	return pair{percentiles(a), percentiles(f)}, nil
}

func claimThroughput(endpoint string, count int) ([2]float64, error) {
	n, cli, p, err := node(endpoint, "throughput", "a")
	if err != nil {
		return [2]float64{}, err
	}
	defer func() { n.Close(context.Background()); cli.Close(); p.Close() }()
	sup, stop, err := carts(n)
	if err != nil {
		return [2]float64{}, err
	}
	defer stop()
	floorCli, err := newClient(endpoint)
	if err != nil {
		return [2]float64{}, err
	}
	defer floorCli.Close()
	ctx := context.Background()
	lease, err := floorCli.Grant(ctx, 60)
	if err != nil {
		return [2]float64{}, err
	}
	rate := func(claim func(i int) error) (float64, error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		var firstErr atomic.Value
		t0 := time.Now()
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)); i <= count; i = int(next.Add(1)) {
					if err := claim(i); err != nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err, _ := firstErr.Load().(error); err != nil {
			return 0, err
		}
		return float64(count) / time.Since(t0).Seconds(), nil
	}
	ra, err := rate(func(i int) error {
		_, err := startChild(ctx, sup, fmt.Sprintf("t%d", i))
		return err
	})
	if err != nil {
		return [2]float64{}, err
	}
	rf, err := rate(func(i int) error {
		key := fmt.Sprintf("/floor/throughput/t%d", i)
		_, err := floorCli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, "a", clientv3.WithLease(lease.ID))).Commit()
		return err
	})
	return [2]float64{ra, rf}, err
}

// failover times, runs times each way, how long after a node is cut off
// its work starts on another.
func failover(endpoint string, runs int) (pair, error) {
	var a, f []time.Duration
	for i := range runs {
		d, err := failoverArbor(endpoint, fmt.Sprintf("failover-%d", i))
		if err != nil {
			return pair{}, err
		}
		a = append(a, d)
		d, err = failoverFloor(endpoint, fmt.Sprintf("/floor/failover-%d", i))
		if err != nil {
			return pair{}, err
		}
		f = append(f, d)
	}
	return pair{percentiles(a), percentiles(f)}, nil
}

func failoverArbor(endpoint, clusterName string) (time.Duration, error) {
	started := make(chan string, 64)
	spec := func(n *cluster.Node) runtime.ApplicationSpec {
		return n.Distributed(cluster.DistributedSpec{
			App: runtime.ApplicationSpec{Name: "billing", Start: func(ctx context.Context) (runtime.Service, error) {
				select {
				case started <- n.Name():
				default: // never block a start; a run starts the application a few times at most
				}
				return idle{}, nil
			}},
			Nodes: [][]string{{"a"}, {"b"}}, Takeover: true,
		})
	}
	var stops []func()
	defer func() {
		for _, s := range slices.Backward(stops) {
			s()
		}
	}()
	nodes := map[string]*proxy.Proxy{}
	for _, name := range []string{"a", "b"} {
		n, cli, p, err := node(endpoint, clusterName, name)
		if err != nil {
			return 0, err
		}
		nodes[name] = p
		stops = append(stops, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n.Close(ctx)
			cli.Close()
			p.Close()
		})
		apps, err := runtime.StartApplications(runtime.WithEventHook(context.Background(), nil), spec(n))
		if err != nil {
			return 0, err
		}
		stops = append(stops, func() { apps.StopAll(context.Background()) })
	}
	for who := ""; who != "a"; {
		who = <-started
	}
	time.Sleep(time.Duration(time.Now().UnixNano()%333) * time.Millisecond) // a random phase of the renewals
	cut := time.Now()
	nodes["a"].Cut()
	for who := ""; who != "b"; {
		who = <-started
	}
	took := time.Since(cut)
	nodes["a"].Heal()
	return took, nil
}

func failoverFloor(endpoint, key string) (time.Duration, error) {
	p, err := proxy.New(endpoint)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	holder, err := newClient(p.Addr())
	if err != nil {
		return 0, err
	}
	defer holder.Close()
	other, err := newClient(endpoint)
	if err != nil {
		return 0, err
	}
	defer other.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lease, err := holder.Grant(ctx, 1)
	if err != nil {
		return 0, err
	}
	keep, err := holder.KeepAlive(ctx, lease.ID)
	if err != nil {
		return 0, err
	}
	go func() {
		for range keep {
		}
	}()
	if _, err := holder.Put(ctx, key, "a", clientv3.WithLease(lease.ID)); err != nil {
		return 0, err
	}
	mine, err := other.Grant(ctx, 5)
	if err != nil {
		return 0, err
	}
	get, err := other.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	w := other.Watch(ctx, key, clientv3.WithRev(get.Header.Revision+1))
	time.Sleep(time.Duration(time.Now().UnixNano()%333) * time.Millisecond)
	cut := time.Now()
	p.Cut()
	for resp := range w {
		for _, ev := range resp.Events {
			if ev.Type != clientv3.EventTypeDelete {
				continue
			}
			r, err := other.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, "b", clientv3.WithLease(mine.ID))).Commit()
			if err != nil || !r.Succeeded {
				return 0, fmt.Errorf("floor re-claim: %v", err)
			}
			took := time.Since(cut)
			_, _ = other.Revoke(ctx, mine.ID)
			return took, nil
		}
	}
	return 0, ctx.Err()
}

// memory returns the heap and stacks per child of count keyed children on
// one node, and of count children of a plain dynamic supervisor, each
// measured in a fresh process of its own (memoryIn), so that neither
// inherits the other's freed stacks and heap.
func memory(endpoint string, count int) ([2]float64, error) {
	var out [2]float64
	for i, what := range []string{"cluster", "plain"} {
		self, err := os.Executable()
		if err != nil {
			return out, err
		}
		profile := ""
		if what == "cluster" {
			profile = memProfile
		}
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d %s", memoryEnv, what, endpoint, count, profile))
		cmd.Stderr = os.Stderr
		b, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("memory of %s: %w", what, err)
		}
		if _, err := fmt.Sscan(string(b), &out[i]); err != nil {
			return out, fmt.Errorf("memory of %s: %q: %w", what, b, err)
		}
	}
	return out, nil
}

// memoryEnv makes the process measure one memory figure: "cluster
// <endpoint> <count> [<heap profile>]" or "plain <endpoint> <count>".
const memoryEnv = "ARBOR_BENCH_MEMORY"

// memoryIn prints the bytes per child of count children, keyed ones on a
// cluster node or plain ones.
func memoryIn(what, endpoint string, count int) error {
	ctx := context.Background()
	var n *cluster.Node
	if what == "cluster" {
		node, cli, p, err := node(endpoint, "memory", "a")
		if err != nil {
			return err
		}
		defer func() { node.Close(ctx); cli.Close(); p.Close() }()
		n = node
	}
	before := inUse()
	if what == "plain" {
		d, err := runtime.StartDynamicSupervisor(runtime.WithEventHook(ctx, nil), runtime.DynamicSupervisorSpec{Name: "plain"})
		if err != nil {
			return err
		}
		defer d.Stop(ctx)
		for range count {
			if _, err := d.StartChild(ctx, runtime.ChildSpec{Start: func(context.Context) (runtime.Service, error) { return idle{}, nil }}); err != nil {
				return err
			}
		}
		fmt.Println((inUse() - before) / float64(count))
		return nil
	}
	sup, stop, err := carts(n)
	if err != nil {
		return err
	}
	defer stop()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= count; i = int(next.Add(1)) {
				if _, err := startChild(ctx, sup, fmt.Sprintf("m%d", i)); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	for len(sup.Local()) < count {
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Println((inUse() - before) / float64(count))
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.WriteHeapProfile(f)
	}
	return nil
}

func inUse() float64 {
	goruntime.GC()
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return float64(m.HeapInuse + m.StackInuse)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpu() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
