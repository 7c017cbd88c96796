package arbortest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	arbor "github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/arbortest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// idle runs until its context is cancelled.
type idle struct{}

func (idle) Serve(ctx context.Context) error { <-ctx.Done(); return nil }

func idleChild(id string) arbor.ChildSpec {
	return arbor.ChildSpec{ID: id, Start: func(context.Context) (arbor.Service, error) { return idle{}, nil }}
}

// A crash with an error and one with a panic are restarted, and the tree
// says so; the events were recorded.
func TestCrashAndPanic(t *testing.T) {
	tree, sup := arbortest.StartSpec(t, arbor.SupervisorSpec{Name: "top", Flags: arbor.Flags{Strategy: arbor.RestForOne},
		Children: []arbor.ChildSpec{idleChild("a"), idleChild("b"), idleChild("c")}})
	old := tree.Crash("b", errors.New("lost its connection"))
	if old.String() != "top/b#1" || old.Alive() {
		t.Errorf("Crash returned %v (alive %v)", old, old.Alive())
	}
	if h := tree.WaitRestart("b"); h.String() != "top/b#2" {
		t.Errorf("WaitRestart = %v, want top/b#2", h)
	}
	tree.AssertTree(`
		a: running
		b: running, restarts 1, last exit "lost its connection"
		c: running, restarts 1, last exit "shutdown"
	`)
	tree.Panic("a", "boom")
	tree.WaitRestart("a")
	tree.WaitRestart("b")
	var pe *arbor.PanicError
	for _, e := range tree.Events() {
		if e.Kind == arbor.ChildTerminated && e.Child.ID == "a" && !errors.As(e.Reason, &pe) {
			t.Errorf("a's exit reason %v is not a *PanicError", e.Reason)
		}
	}
	if pe == nil || pe.Value != "boom" {
		t.Errorf("no panic boom among the events: %v", pe)
	}
	if c := tree.Child("a"); c.Restarts != 1 || c.LastExit != "panic: boom" || len(c.Exits) != 1 {
		t.Errorf("a = %+v", c)
	}
	if snap, err := sup.Snapshot(tree.Ctx); err != nil || snap.Name != "top" {
		t.Errorf("the supervisor's own snapshot: %+v, %v", snap, err)
	}
}

// Restarts beyond the intensity make the supervisor give up, unless the
// clock moves past the window first.
func TestIntensityWindow(t *testing.T) {
	tree, _ := arbortest.StartSpec(t, arbor.SupervisorSpec{Name: "top", Flags: arbor.Flags{MaxRestarts: 1, MaxSeconds: 5},
		Children: []arbor.ChildSpec{idleChild("w")}})
	tree.Crash("w", errors.New("one"))
	tree.WaitRestart("w")
	if s := tree.Supervisor(""); s.RecentRestarts != 1 {
		t.Errorf("recent restarts %d, want 1", s.RecentRestarts)
	}
	tree.AdvancePastWindow("")
	if s := tree.Supervisor(""); s.RecentRestarts != 0 {
		t.Errorf("recent restarts %d after the window, want 0", s.RecentRestarts)
	}
	tree.Crash("w", errors.New("two"))
	tree.WaitRestart("w")
	tree.AssertTree(`w: running, restarts 2, last exit "two"`)
}

// fakeT stands in for a test whose failures the test checks: Fatalf ends
// the goroutine as testing's does, and Cleanup functions run on demand.
type fakeT struct {
	*testing.T
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// run runs fn as a test body on f, returning once it ends or fails.
func (f *fakeT) run(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

func (f *fakeT) cleanup() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func (f *fakeT) failures() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errs, "\n")
}

// WaitRestart fails, saying why, when the supervisor gives up instead.
func TestWaitRestartGivenUp(t *testing.T) {
	ft := &fakeT{T: t}
	ft.run(func() {
		tree, _ := arbortest.StartSpec(ft, arbor.SupervisorSpec{Name: "top", Flags: arbor.Flags{MaxRestarts: 0, MaxSeconds: 5},
			Children: []arbor.ChildSpec{idleChild("w")}})
		tree.Crash("w", errors.New("fatal"))
		tree.WaitRestart("w")
		t.Error("WaitRestart returned")
	})
	ft.cleanup()
	if got := ft.failures(); !strings.Contains(got, "supervisor top gave up: its restart intensity was exceeded (child w)") {
		t.Errorf("failures: %s", got)
	}
}

// leaky starts a goroutine that outlives it until released.
type leaky struct{ release chan struct{} }

func (l leaky) Serve(ctx context.Context) error {
	go func() { <-l.release }()
	<-ctx.Done()
	return nil
}

// The leak check names a goroutine that a child left behind, with its
// labels and stack.
func TestLeakCheck(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ft := &fakeT{T: t}
	ft.run(func() {
		arbortest.StartSpec(ft, arbor.SupervisorSpec{Name: "top", Children: []arbor.ChildSpec{
			{ID: "leaky", Start: func(context.Context) (arbor.Service, error) { return leaky{release: release}, nil }},
		}})
	})
	ft.cleanup()
	got := ft.failures()
	for _, want := range []string{
		"the tree left goroutines running after it stopped",
		"1 goroutine(s) with labels {arbor.child=leaky, arbor.incarnation=1, arbor.supervisor=top}",
		"leaky.Serve.func1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the failure lacks %q:\n%s", want, got)
		}
	}
}

// stubborn ignores its context until released.
type stubborn struct{ release chan struct{} }

func (s stubborn) Serve(ctx context.Context) error { <-s.release; return nil }

// A child that ignores its context keeps the tree from stopping: the
// failure shows its goroutine.
func TestStopStuck(t *testing.T) {
	release := make(chan struct{})
	ft := &fakeT{T: t}
	ft.run(func() {
		arbortest.StartSpec(ft, arbor.SupervisorSpec{Name: "top", Children: []arbor.ChildSpec{
			{ID: "deaf", Start: func(context.Context) (arbor.Service, error) { return stubborn{release: release}, nil }},
		}}, arbortest.WithTimeout(100*time.Millisecond))
	})
	ft.cleanup()
	close(release)
	got := ft.failures()
	if !strings.Contains(got, "the tree did not stop within 100ms") || !strings.Contains(got, "arbor.child=deaf") {
		t.Errorf("failures:\n%s", got)
	}
}

// transient exits normally when told to.
type transient struct{ quit chan struct{} }

func (tr transient) Serve(ctx context.Context) error {
	select {
	case <-tr.quit:
	case <-ctx.Done():
	}
	return nil
}

// WaitState sees a state that no event announces: a transient child that
// exits normally is stopped, not restarted.
func TestWaitState(t *testing.T) {
	quit := make(chan struct{})
	tree, _ := arbortest.StartSpec(t, arbor.SupervisorSpec{Name: "top", Children: []arbor.ChildSpec{
		{ID: "job", Restart: arbor.Transient, Start: func(context.Context) (arbor.Service, error) { return transient{quit: quit}, nil }},
	}})
	close(quit)
	c := tree.WaitState("job", arbor.StateStopped)
	if c.LastExit != "normal" {
		t.Errorf("job = %+v", c)
	}
}

// Applications are named by their names; a dynamic supervisor's children
// by their handles; WithContext's values reach the start functions, and
// WithEventHook sees the events.
func TestApplicationsAndDynamic(t *testing.T) {
	type key struct{}
	var sessions *arbor.DynamicSupervisor
	seen := make(chan string, 1)
	var events sync.Map
	web := arbor.ApplicationSpec{Name: "web", Start: func(ctx context.Context) (arbor.Service, error) {
		return arbor.NewSupervisor(ctx, arbor.SupervisorSpec{Name: "web", Children: []arbor.ChildSpec{
			{ID: "http", Start: func(ctx context.Context) (arbor.Service, error) {
				seen <- ctx.Value(key{}).(string)
				return idle{}, nil
			}},
			{ID: "sessions", Type: arbor.TypeSupervisor, Start: func(ctx context.Context) (arbor.Service, error) {
				d, err := arbor.NewDynamicSupervisor(ctx, arbor.DynamicSupervisorSpec{Name: "sessions"})
				sessions = d
				return d, err
			}},
		}})
	}}
	tree, _ := arbortest.StartApplications(t, []arbor.ApplicationSpec{web},
		arbortest.WithContext(context.WithValue(context.Background(), key{}, "value")),
		arbortest.WithEventHook(func(e arbor.Event) { events.Store(e.Kind, true) }))
	if v := <-seen; v != "value" {
		t.Errorf("the start function saw %q", v)
	}
	for range 2 {
		if _, err := sessions.StartChild(tree.Ctx, arbor.ChildSpec{ID: "session", Restart: arbor.Permanent,
			Start: func(context.Context) (arbor.Service, error) { return idle{}, nil }}); err != nil {
			t.Fatal(err)
		}
	}
	tree.AssertTree(`
		web: running
			http: running
			sessions: running
				session: running
				session: running
	`)
	tree.Crash("web/sessions/session#1", errors.New("expired"))
	if h := tree.WaitRestart("web/sessions/session#1"); h.String() != "web/sessions/session#2" {
		t.Errorf("the session restarted as %v", h)
	}
	if c := tree.Child("web/sessions/session#2"); c.Restarts != 1 || c.LastExit != "expired" {
		t.Errorf("the restarted session = %+v", c)
	}
	if _, ok := events.Load(arbor.ApplicationStarted); !ok {
		t.Error("WithEventHook saw no ApplicationStarted")
	}
}

// The package's documentation shows the sequence example's test as it is.
func TestDocShowsTheSequenceTest(t *testing.T) {
	doc, err := os.ReadFile("arbortest.go")
	if err != nil {
		t.Fatal(err)
	}
	test, err := os.ReadFile("../../examples/sequence/main_test.go")
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "func TestCounterRestartsAlone", "\n}"
	src := string(test)
	i := strings.Index(src, start)
	if i < 0 {
		t.Fatalf("examples/sequence/main_test.go has no %s", start)
	}
	body := src[i : i+strings.Index(src[i:], end)+len(end)]
	var shown []string
	for _, line := range strings.Split(body, "\n") {
		shown = append(shown, strings.TrimRight("//\t"+line, "\t"))
	}
	if lines := strings.Count(body, "\n") + 1; lines >= 30 {
		t.Errorf("the test has %d lines; the doc promises under 30", lines)
	}
	if !strings.Contains(string(doc), strings.Join(shown, "\n")) {
		t.Errorf("the package documentation does not show this test as it is:\n%s", strings.Join(shown, "\n"))
	}
}
