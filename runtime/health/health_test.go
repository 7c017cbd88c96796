package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitLimit bounds every wait, so that a bug fails instead of hanging.
const waitLimit = 10 * time.Second

// crasher serves until told to return an error.
type crasher struct{ crash chan error }

func (c *crasher) Serve(ctx context.Context) error {
	select {
	case err := <-c.crash:
		return err
	case <-ctx.Done():
		return nil
	}
}

// events records ChildStarted events and lets a test wait for the n-th start
// of a child.
type events struct {
	mu      sync.Mutex
	starts  map[string]int
	changed chan struct{}
}

func newEvents() *events { return &events{starts: map[string]int{}, changed: make(chan struct{})} }

func (e *events) hook(ev runtime.Event) {
	if ev.Kind != runtime.ChildStarted {
		return
	}
	e.mu.Lock()
	e.starts[ev.Child.ID]++
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
}

func (e *events) waitStarts(t *testing.T, id string, n int) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		e.mu.Lock()
		got, changed := e.starts[id], e.changed
		e.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s started %d times, want %d", id, got, n)
		}
	}
}

// get fetches url and decodes its report.
func get(t *testing.T, url string) (int, health.Report) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q", url, ct)
	}
	var rep health.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("%s: %v: %s", url, err, raw)
	}
	return resp.StatusCode, rep
}

// expect fetches url and checks its status and report.
func expect(t *testing.T, url string, status int, want health.Report) {
	t.Helper()
	got, rep := get(t, url)
	if got != status {
		t.Errorf("%s: status %d, want %d; report %+v", url, got, status, rep)
	}
	if diff := cmp.Diff(want, rep, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: report (-want +got):\n%s", url, diff)
	}
}

// Over a real listener: not ready while starting; ready once the
// applications are watched; not ready while a supervisor restarts beyond
// the threshold, ready again when its window has passed; not ready as soon
// as a signal starts the stop, while still live; not live once everything
// has stopped.
func TestReadinessOverHTTP(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_000_000, 0))
	ev := newEvents()
	ctx := runtime.WithClock(runtime.WithEventHook(context.Background(), ev.hook), clk)
	conn := &crasher{crash: make(chan error)}
	db := runtime.ApplicationSpec{Name: "db", Start: func(ctx context.Context) (runtime.Service, error) {
		return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "db",
			Flags:    runtime.Flags{MaxRestarts: 3, MaxSeconds: 5},
			Children: []runtime.ChildSpec{{ID: "conn", Start: func(context.Context) (runtime.Service, error) { return conn, nil }}},
		})
	}}
	draining, drained := make(chan struct{}), make(chan struct{})
	web := runtime.ApplicationSpec{Name: "web", DependsOn: []string{"db"},
		Start: func(ctx context.Context) (runtime.Service, error) {
			return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "web", Children: []runtime.ChildSpec{
				{ID: "http", Start: func(context.Context) (runtime.Service, error) { return &crasher{crash: make(chan error)}, nil }},
			}})
		},
		// The drain: traffic stops coming while web's requests finish.
		PrepStop: func(context.Context) { close(draining); <-drained },
	}
	batch := runtime.ApplicationSpec{Name: "batch", StartType: runtime.StartTemporary, Start: func(context.Context) (runtime.Service, error) {
		return &crasher{crash: make(chan error)}, nil
	}}

	h := health.New()
	mux := http.NewServeMux()
	mux.Handle("/livez", h)
	mux.Handle("/readyz", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	live, ready := srv.URL+"/livez", srv.URL+"/readyz"
	shutdownOK := health.Check{Name: "shutdown", OK: true}

	expect(t, ready, http.StatusServiceUnavailable, health.Report{Status: "not ready", Checks: []health.Check{
		{Name: "started", Reason: "starting: no applications are watched yet (Watch is called once they have all started)"},
		shutdownOK,
	}})
	expect(t, live, http.StatusOK, health.Report{Status: "live"})

	apps, err := runtime.StartApplications(ctx, web, db, batch)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Watch(ctx, apps); err != nil {
		t.Fatal(err)
	}
	allReady := health.Report{Status: "ready", Checks: []health.Check{
		shutdownOK, {Name: "application db", OK: true}, {Name: "application web", OK: true}, {Name: "application batch", OK: true},
	}}
	expect(t, ready, http.StatusOK, allReady)
	expect(t, live, http.StatusOK, health.Report{Status: "live", Checks: []health.Check{{Name: "applications", OK: true}}})

	// One restart is within the threshold; a second within db's 5 s window
	// is beyond it (more than half of 3).
	conn.crash <- errors.New("connection reset")
	ev.waitStarts(t, "conn", 2)
	expect(t, ready, http.StatusOK, allReady)
	conn.crash <- errors.New("connection reset")
	ev.waitStarts(t, "conn", 3)
	expect(t, ready, http.StatusServiceUnavailable, health.Report{Status: "not ready", Checks: []health.Check{
		{Name: "supervisor db", Reason: "restarting beyond the threshold: 2 restarts in the last 5s, of 3 allowed (threshold 0.5 of them)"},
		shutdownOK, {Name: "application db", OK: true}, {Name: "application web", OK: true}, {Name: "application batch", OK: true},
	}})
	clk.Advance(6 * time.Second)
	expect(t, ready, http.StatusOK, allReady)

	// A temporary application may end; the program stays ready.
	if err := apps.Stop(ctx, "batch"); err != nil {
		t.Fatal(err)
	}
	expect(t, ready, http.StatusOK, health.Report{Status: "ready", Checks: []health.Check{
		shutdownOK, {Name: "application db", OK: true}, {Name: "application web", OK: true},
		{Name: "application batch", OK: true, Reason: "not running; it is temporary, which OTP lets end"},
	}})

	// SIGTERM: not ready at once, during web's drain, and still live.
	signals := make(chan os.Signal, 1)
	ran := make(chan error, 1)
	go func() { ran <- apps.Run(signals) }()
	signals <- syscall.SIGTERM
	<-draining
	expect(t, ready, http.StatusServiceUnavailable, health.Report{Status: "not ready", Checks: []health.Check{
		{Name: "shutdown", Reason: "shutdown has begun: the applications are stopping"},
	}})
	expect(t, live, http.StatusOK, health.Report{Status: "live", Checks: []health.Check{{Name: "applications", OK: true}}})
	close(drained)
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	expect(t, live, http.StatusServiceUnavailable, health.Report{Status: "not live", Checks: []health.Check{
		{Name: "applications", Reason: "every application has stopped"},
	}})
	code, rep := get(t, ready)
	if code != http.StatusServiceUnavailable || rep.Status != "not ready" {
		t.Errorf("readyz after the stop: %d %+v", code, rep)
	}
}

// busy is a child whose start blocks until released, after its first.
type busy struct {
	crasher
	starts  int
	entered chan struct{}
	release chan struct{}
}

func (b *busy) start(context.Context) (runtime.Service, error) {
	b.starts++
	if b.starts > 1 {
		close(b.entered)
		<-b.release
	}
	return &b.crasher, nil
}

// Supervisors outside applications: ready; not ready while a supervisor is
// too busy to answer; not ready after Drain; not live once stopped. Other
// paths and methods are refused.
func TestSupervisorsAndDrain(t *testing.T) {
	b := &busy{crasher: crasher{crash: make(chan error)}, entered: make(chan struct{}), release: make(chan struct{})}
	ctx := runtime.WithEventHook(context.Background(), nil)
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{{ID: "w", Start: b.start}}})
	if err != nil {
		t.Fatal(err)
	}
	h := health.New()
	h.Timeout = 50 * time.Millisecond
	h.WatchSupervisors(sup)
	srv := httptest.NewServer(http.StripPrefix("/debug", h))
	defer srv.Close()
	ready := srv.URL + "/debug/readyz"

	expect(t, ready, http.StatusOK, health.Report{Status: "ready", Checks: []health.Check{{Name: "shutdown", OK: true}}})

	b.crash <- errors.New("crash") // its restart's start blocks the supervisor's loop
	<-b.entered
	expect(t, ready, http.StatusServiceUnavailable, health.Report{Status: "not ready", Checks: []health.Check{
		{Name: "supervisor top", Reason: "no snapshot within 50ms: a supervisor is busy (a start function or a shutdown runs in its loop)"},
		{Name: "shutdown", OK: true},
	}})
	close(b.release)

	h.Drain()
	h.Drain()
	code, rep := get(t, ready)
	if code != http.StatusServiceUnavailable || rep.Checks[0] != (health.Check{Name: "shutdown", Reason: "draining: the program has begun to stop"}) {
		t.Errorf("readyz after Drain: %d %+v", code, rep)
	}
	expect(t, srv.URL+"/debug/healthz", http.StatusOK, health.Report{Status: "live", Checks: []health.Check{{Name: "supervisor top", OK: true}}})
	if err := sup.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	expect(t, srv.URL+"/debug/livez", http.StatusServiceUnavailable, health.Report{Status: "not live", Checks: []health.Check{
		{Name: "supervisor top", Reason: "the supervisor has exited"},
	}})

	resp, err := http.Post(ready, "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST readyz: %s, Allow %q", resp.Status, resp.Header.Get("Allow"))
	}
	resp, err = http.Get(srv.URL + "/debug/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET other: %s", resp.Status)
	}
	resp, err = http.Head(ready)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("HEAD readyz: %s", resp.Status)
	}
}

// A busy supervisor below the watched one makes the program not ready too:
// its tree did not answer, so it cannot say it is well.
func TestBusySubtreeIsNotReady(t *testing.T) {
	b := &busy{crasher: crasher{crash: make(chan error)}, entered: make(chan struct{}), release: make(chan struct{})}
	ctx := runtime.WithEventHook(context.Background(), nil)
	sub := runtime.ChildSpec{ID: "sub", Type: runtime.TypeSupervisor, Start: func(ctx context.Context) (runtime.Service, error) {
		return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "sub", Children: []runtime.ChildSpec{{ID: "w", Start: b.start}}})
	}}
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{Name: "top", Children: []runtime.ChildSpec{sub}})
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Stop(context.Background())
	h := health.New()
	h.Timeout = 50 * time.Millisecond
	h.WatchSupervisors(sup)
	srv := httptest.NewServer(h)
	defer srv.Close()
	expect(t, srv.URL+"/readyz", http.StatusOK, health.Report{Status: "ready", Checks: []health.Check{{Name: "shutdown", OK: true}}})
	b.crash <- errors.New("crash") // sub's restart of w blocks sub's loop
	<-b.entered
	defer close(b.release)
	code, rep := get(t, srv.URL+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(rep.Checks), "top/sub") {
		t.Fatalf("readyz with a busy subtree: %d %+v", code, rep)
	}
}
