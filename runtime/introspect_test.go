package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/arborgo/arbor/internal/goroutines"
	"github.com/arborgo/arbor/runtime"
)

// goroutinesLabelled returns the groups of the goroutine profile that carry
// every label of want.
func goroutinesLabelled(t *testing.T, want map[string]string) []goroutines.Group {
	t.Helper()
	groups, err := goroutines.Profile()
	if err != nil {
		t.Fatal(err)
	}
	return goroutines.Matching(groups, want)
}

func stackHas(g goroutines.Group, fn string) bool {
	return slices.ContainsFunc(g.Stack, func(f goroutines.Frame) bool { return strings.Contains(f.Func, fn) })
}

// helper is a child that starts a goroutine of its own, which inherits its
// labels, and says which application it runs under.
type helper struct {
	app  chan string
	stop chan struct{}
	done chan struct{}
}

func (h *helper) Serve(ctx context.Context) error {
	go func() {
		defer close(h.done)
		<-h.stop
	}()
	<-ctx.Done()
	close(h.stop)
	<-h.done
	return nil
}

// Each child's goroutine carries pprof labels with its application,
// supervisor path, id and incarnation, beside the labels of the context
// the tree was started with; a restart changes the incarnation; a goroutine
// the child starts inherits them; a goroutine profile shows them all.
func TestProfileLabels(t *testing.T) {
	tr := newTree(t)
	ctx := pprof.WithLabels(tr.ctx, pprof.Labels("test", t.Name()))
	apps := make(chan string, 1)
	h := &helper{app: apps, stop: make(chan struct{}), done: make(chan struct{})}
	shop := runtime.ApplicationSpec{Name: "shop", Start: func(ctx context.Context) (runtime.Service, error) {
		return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "shop", Children: []runtime.ChildSpec{
			tr.child("cache"),
			{ID: "pool", Type: runtime.TypeSupervisor, Start: func(ctx context.Context) (runtime.Service, error) {
				return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "pool", Children: []runtime.ChildSpec{
					{ID: "conn", Start: func(ctx context.Context) (runtime.Service, error) {
						app, _ := runtime.ApplicationOf(ctx)
						apps <- app
						return h, nil
					}},
				}})
			}},
		}})
	}}
	running, err := runtime.StartApplications(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	defer running.StopAll(context.Background())
	if app := <-apps; app != "shop" {
		t.Errorf("ApplicationOf in a start function = %q, want shop", app)
	}
	if _, ok := runtime.ApplicationOf(tr.ctx); ok {
		t.Error("ApplicationOf outside any application found one")
	}

	cache := map[string]string{"test": t.Name(), runtime.LabelApplication: "shop", runtime.LabelSupervisor: "shop",
		runtime.LabelChild: "cache", runtime.LabelIncarnation: "1"}
	groups := goroutinesLabelled(t, cache)
	if goroutines.Count(groups) != 1 || !stackHas(groups[0], "(*worker).Serve") {
		t.Fatalf("goroutines labelled %v: %+v; want one, in worker.Serve", cache, groups)
	}
	conn := map[string]string{runtime.LabelApplication: "shop", runtime.LabelSupervisor: "shop/pool", runtime.LabelChild: "conn"}
	groups = goroutinesLabelled(t, conn)
	if goroutines.Count(groups) != 2 || !slices.ContainsFunc(groups, func(g goroutines.Group) bool { return stackHas(g, "(*helper).Serve.func1") }) {
		t.Fatalf("goroutines labelled %v: %+v; want conn's and its helper's", conn, groups)
	}
	// The application master's goroutine runs the top supervisor's loop,
	// with the application's label and no child's.
	var master []goroutines.Group
	for _, g := range goroutinesLabelled(t, map[string]string{"test": t.Name(), runtime.LabelApplication: "shop"}) {
		if _, child := g.Labels[runtime.LabelChild]; !child && stackHas(g, "(*core).loop") {
			master = append(master, g)
		}
	}
	if goroutines.Count(master) != 1 {
		t.Fatalf("goroutines of the application master in its loop: %+v; want one", master)
	}

	snap, err := running.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := snap[0].Tree.Children[0].Process
	if diff := cmp.Diff(map[string]string{runtime.LabelApplication: "shop", runtime.LabelSupervisor: "shop",
		runtime.LabelChild: "cache", runtime.LabelIncarnation: "1"}, first.ProfileLabels()); diff != "" {
		t.Errorf("ProfileLabels (-want +got):\n%s", diff)
	}
	tr.worker("cache").ctl <- func() error { return errCrash }
	waitDone(t, first)
	tr.events.waitFor(t, 0, "cache restarted", func(e runtime.Event) bool {
		return e.Kind == runtime.ChildStarted && e.Child.ID == "cache" && strings.HasSuffix(e.Child.Handle.String(), "#2")
	})
	cache[runtime.LabelIncarnation] = "2"
	if n := goroutines.Count(goroutinesLabelled(t, cache)); n != 1 {
		t.Errorf("%d goroutines of cache#2, want 1", n)
	}
}

// Info shows a process's queue, links, monitors, names and trap_exit.
func TestInfo(t *testing.T) {
	tr := newTree(t)
	reg := runtime.NewRegistry[string]()
	var srv *runtime.Server[int]
	sup := tr.start(runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{
		{ID: "srv", Name: reg.Name("counter"), Start: func(ctx context.Context) (runtime.Service, error) {
			s, err := runtime.NewServer(ctx, runtime.ServerSpec[int]{})
			srv = s
			return s, err
		}},
	}})
	h := handleOf(t, sup, "srv")

	// A spawned process links to the server, traps exits and monitors it
	// through a server of its own.
	linked := make(chan runtime.Handle, 1)
	watcher, err := runtime.StartServer(tr.ctx, "watcher", runtime.ServerSpec[int]{Init: func(ctx context.Context) (int, error) {
		if err := runtime.Link(ctx, h); err != nil {
			return 0, err
		}
		if _, err := runtime.TrapExits(ctx); err != nil {
			return 0, err
		}
		linked <- runtime.Self(ctx)
		return 0, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	watcherHandle := <-linked
	defer func() {
		watcher.Stop(context.Background(), nil)
	}()
	watcher.Monitor(h, func(*int, runtime.Down) error { return nil })
	m := h.Monitor()
	defer m.Demonitor()

	// The server is busy in a call's handler, with three casts waiting.
	entered, release := make(chan struct{}), make(chan struct{})
	call := srvAsync(func() (int, error) {
		return runtime.Call(context.Background(), srv, func(n *int) (int, error) { close(entered); <-release; return *n, nil })
	})
	<-entered
	for range 3 {
		srv.Cast(func(*int) error { return nil })
	}

	got := h.Info()
	slices.SortFunc(got.MonitoredBy, func(a, b runtime.MonitorInfo) int { return strings.Compare(a.Kind, b.Kind) })
	want := runtime.ProcessInfo{
		Handle: "top/srv#1", Alive: true, Queue: "server", MessageQueueLen: 3,
		Links: []string{watcherHandle.String()},
		MonitoredBy: []runtime.MonitorInfo{
			{Kind: "call"}, {Kind: "monitor"}, {Kind: "server", By: watcherHandle.String()},
		},
		RegisteredNames: []string{"counter"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Info of the server (-want +got):\n%s", diff)
	}
	if w := watcherHandle.Info(); !w.TrapExits || !slices.Equal(w.Links, []string{"top/srv#1"}) || w.Queue != "server" {
		t.Errorf("Info of the watcher = %+v; want trap_exit and the link", w)
	}
	if s := sup.Handle().Info(); s.Queue != "mailbox" || s.MessageQueueLen != 0 || !s.Alive {
		t.Errorf("Info of the supervisor = %+v", s)
	}
	close(release)
	srvWait(t, call)

	if z := (runtime.Handle{}).Info(); z.Handle != "undefined" || z.Alive || z.Links == nil {
		t.Errorf("Info of the zero Handle = %+v", z)
	}
}

// The restart history keeps the latest HistoryLength exits of a child's
// own, oldest first, with when, why and how long each incarnation ran.
func TestRestartHistory(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "top", Flags: flags(runtime.OneForOne, 100, 5), Children: []runtime.ChildSpec{tr.child("w")}})
	start := tr.clk.Now()
	const crashes = runtime.HistoryLength + 2
	for i := 1; i <= crashes; i++ {
		tr.clk.Advance(time.Second)
		tr.exitWith(sup, "w", fmt.Errorf("crash %d", i))
		ids(t, sup) // queued behind the exit: the restart is done
	}
	if err := sup.TerminateChild(tr.ctx, "w"); err != nil { // a stop is not in the history
		t.Fatal(err)
	}
	snap, err := sup.Snapshot(tr.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []runtime.ExitRecord
	for i := crashes - runtime.HistoryLength + 1; i <= crashes; i++ {
		want = append(want, runtime.ExitRecord{Handle: fmt.Sprintf("top/w#%d", i), At: start.Add(time.Duration(i) * time.Second),
			Reason: fmt.Sprintf("crash %d", i), Uptime: time.Second})
	}
	if diff := cmp.Diff(want, snap.Children[0].Exits); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if snap.Children[0].LastExit != "shutdown" {
		t.Errorf("last exit %q, want shutdown", snap.Children[0].LastExit)
	}
}

// recordingMetrics is a Metrics that records each call as a line.
type recordingMetrics struct {
	mu    sync.Mutex
	lines []string
	sups  map[string]runtime.StatsReader
}

func (m *recordingMetrics) add(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lines = append(m.lines, fmt.Sprintf(format, args...))
}

func (m *recordingMetrics) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.lines
	m.lines = nil
	return l
}

func reasonText(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

func (m *recordingMetrics) SupervisorStarted(s runtime.StatsReader) {
	m.mu.Lock()
	if m.sups == nil {
		m.sups = map[string]runtime.StatsReader{}
	}
	m.sups[s.Name()] = s
	m.mu.Unlock()
	m.add("supervisor started %s", s.Handle().Path())
}
func (m *recordingMetrics) SupervisorExited(s runtime.StatsReader, reason error) {
	m.add("supervisor exited %s: %v", s.Handle().Path(), errors.Is(reason, runtime.ErrReachedMaxRestartIntensity))
}
func (m *recordingMetrics) ChildStarted(sup, child string, took time.Duration, err error) {
	m.add("started %s/%s in %v: %s", sup, child, took, reasonText(err))
}
func (m *recordingMetrics) ChildStopped(sup, child string, took time.Duration, reason error) {
	m.add("stopped %s/%s in %v: %s", sup, child, took, reasonText(reason))
}
func (m *recordingMetrics) ChildRestarted(sup, child string, reason error) {
	m.add("restart %s/%s after %s", sup, child, reasonText(reason))
}
func (m *recordingMetrics) IntensityReached(sup, child string) {
	m.add("gave up %s/%s", sup, child)
}
func (m *recordingMetrics) ServerStarted(s runtime.Queued) {
	m.add("server started %s", s.Handle().Path())
}
func (m *recordingMetrics) ServerExited(s runtime.Queued) {
	m.add("server exited %s", s.Handle().Path())
}
func (m *recordingMetrics) CallReturned(s runtime.Queued, took time.Duration, err error) {
	m.add("call %s in %v: %s", s.Handle().Path(), took, reasonText(err))
}

// A Metrics set with WithMetrics hears of every start, stop, restart,
// escalation and call, in order, with durations on the tree's clock; Stats
// reads children by state and the intensity used.
func TestMetricsHook(t *testing.T) {
	tr := newTree(t)
	m := &recordingMetrics{}
	tr.ctx = runtime.WithMetrics(tr.ctx, m)
	var srv *runtime.Server[int]
	slowStart := tr.child("w")
	inner := slowStart.Start
	slowStart.Start = func(ctx context.Context) (runtime.Service, error) {
		tr.clk.Advance(time.Millisecond) // the start takes a millisecond of the tree's time
		return inner(ctx)
	}
	sup := tr.start(runtime.SupervisorSpec{Name: "top", Flags: flags(runtime.OneForOne, 2, 5), Children: []runtime.ChildSpec{
		{ID: "srv", Start: func(ctx context.Context) (runtime.Service, error) {
			s, err := runtime.NewServer(ctx, runtime.ServerSpec[int]{})
			srv = s
			return s, err
		}},
		slowStart,
	}})
	if _, err := srvGet(tr.ctx, srv); err != nil {
		t.Fatal(err)
	}
	st, err := sup.Stats(tr.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (runtime.SupervisorStats{Running: 2, MaxRestarts: 2, MaxSeconds: 5}); st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
	tr.exitWith(sup, "w", errCrash)
	tr.exitWith(sup, "w", errCrash)
	if st, _ = sup.Stats(tr.ctx); st.RecentRestarts != 2 || st.Running != 2 {
		t.Errorf("Stats after two restarts = %+v", st)
	}
	tr.exitWith(sup, "w", errCrash)
	if err := sup.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("Wait = %v", err)
	}
	want := []string{
		"supervisor started top",
		"server started top/srv",
		"started top/srv in 0s: nil",
		"started top/w in 1ms: nil",
		"call top/srv in 0s: nil",
		"restart top/w after crash",
		"started top/w in 1ms: nil",
		"restart top/w after crash",
		"started top/w in 1ms: nil",
		"gave up top/w",
		"server exited top/srv",
		"stopped top/srv in 0s: shutdown",
		"supervisor exited top: true",
	}
	if diff := cmp.Diff(want, m.take()); diff != "" {
		t.Errorf("measurements (-want +got):\n%s", diff)
	}
}

// Stopping is closed as soon as stopping all the applications begins,
// before the first PrepStop.
func TestApplicationsStopping(t *testing.T) {
	tr := newTree(t)
	var running *runtime.Applications
	closedAtPrepStop := make(chan bool, 1)
	app := tr.app("db", runtime.StartPermanent)
	app.PrepStop = func(context.Context) {
		select {
		case <-running.Stopping():
			closedAtPrepStop <- true
		default:
			closedAtPrepStop <- false
		}
	}
	var err error
	running, err = runtime.StartApplications(tr.ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-running.Stopping():
		t.Fatal("Stopping is closed while the applications run")
	default:
	}
	if err := running.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !<-closedAtPrepStop {
		t.Error("Stopping was not closed when PrepStop ran")
	}
}

// Under WithoutProfileLabels a child's goroutine carries no arbor label.
func TestWithoutProfileLabels(t *testing.T) {
	tr := newTree(t)
	tr.ctx = runtime.WithoutProfileLabels(pprof.WithLabels(tr.ctx, pprof.Labels("test", t.Name())))
	sup := tr.start(runtime.SupervisorSpec{Name: "quiet", Children: []runtime.ChildSpec{tr.child("w")}})
	if l := handleOf(t, sup, "w").ProfileLabels(); l != nil {
		t.Errorf("ProfileLabels = %v, want none", l)
	}
	if g := goroutinesLabelled(t, map[string]string{runtime.LabelSupervisor: "quiet"}); len(g) != 0 {
		t.Errorf("goroutines labelled with supervisor quiet: %+v", g)
	}
}

// SupervisorOf and DynamicSupervisorOf give a supervisor's API from its
// process's handle, at the top of a tree and below it.
func TestSupervisorOf(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{
		tr.child("w"),
		{ID: "pool", Type: runtime.TypeSupervisor, Start: func(ctx context.Context) (runtime.Service, error) {
			return runtime.NewDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "pool"})
		}},
	}})
	if got, ok := runtime.SupervisorOf(sup.Handle()); !ok || got != sup {
		t.Errorf("SupervisorOf(top) = %v, %v", got, ok)
	}
	pool, ok := runtime.DynamicSupervisorOf(handleOf(t, sup, "pool"))
	if !ok || pool.Name() != "pool" {
		t.Fatalf("DynamicSupervisorOf(pool) = %v, %v", pool, ok)
	}
	if _, ok := runtime.SupervisorOf(handleOf(t, sup, "w")); ok {
		t.Error("SupervisorOf a worker found one")
	}
	if _, ok := runtime.DynamicSupervisorOf(sup.Handle()); ok {
		t.Error("DynamicSupervisorOf a static supervisor found one")
	}
}
