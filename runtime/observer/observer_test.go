package observer_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/observer"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitLimit bounds every wait, so that a bug fails a test instead of hanging
// the suite.
const waitLimit = 10 * time.Second

// worker serves until it is stopped or told to crash.
type worker struct{ crash <-chan error }

func (w *worker) Serve(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-w.crash:
		return err
	}
}

// crashable returns a start function for workers that all take their crash
// from one channel, so that a send crashes whichever incarnation runs.
func crashable(crash <-chan error) runtime.StartFunc {
	return func(context.Context) (runtime.Service, error) { return &worker{crash: crash}, nil }
}

func idle() runtime.StartFunc { return crashable(nil) }

// dynamicChild is the spec of a child supervisor that is a dynamic one.
func dynamicChild(id string, max int) runtime.ChildSpec {
	return runtime.ChildSpec{ID: id, Type: runtime.TypeSupervisor, Start: func(ctx context.Context) (runtime.Service, error) {
		return runtime.NewDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: id, MaxChildren: max})
	}}
}

// testTree is a running tree for a test.
type testTree struct {
	sup     *runtime.Supervisor
	clk     *clock.Fake
	crashA  chan<- error       // crashes worker a
	started chan runtime.Event // ChildStarted reports, after the tree is up
}

// startTree starts, on a fake clock, a supervisor "top" with workers a
// (crashable through crashA) and b, and a dynamic supervisor "pool" with two
// children. The supervisor stops when the test ends.
func startTree(t *testing.T) *testTree {
	t.Helper()
	clk := clock.NewFake(time.Unix(1_000_000, 0))
	ctx := runtime.WithClock(context.Background(), clk)
	started := make(chan runtime.Event, 64)
	ctx = runtime.WithEventHook(ctx, func(e runtime.Event) {
		if e.Kind == runtime.ChildStarted {
			select {
			case started <- e:
			default:
			}
		}
	})
	crash := make(chan error)
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
		Name:  "top",
		Flags: runtime.Flags{Strategy: runtime.RestForOne, MaxRestarts: 10, MaxSeconds: 5},
		Children: []runtime.ChildSpec{
			{ID: "a", Start: crashable(crash), Shutdown: runtime.BrutalKill},
			{ID: "b", Start: idle(), Restart: runtime.Transient, Significant: false},
			dynamicChild("pool", 4),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sup.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	pool := poolOf(t, sup)
	for range 2 {
		if _, err := pool.StartChild(ctx, runtime.ChildSpec{ID: "conn", Start: idle(), Restart: runtime.Temporary}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(1500 * time.Millisecond)
	for len(started) > 0 {
		<-started
	}
	return &testTree{sup: sup, clk: clk, crashA: crash, started: started}
}

// awaitStart waits for the report that child id started.
func (tt *testTree) awaitStart(t *testing.T, id string) {
	t.Helper()
	timeout := time.NewTimer(waitLimit)
	defer timeout.Stop()
	for {
		select {
		case e := <-tt.started:
			if e.Child.ID == id {
				return
			}
		case <-timeout.C:
			t.Fatalf("%s did not start again", id)
		}
	}
}

func poolOf(t *testing.T, sup *runtime.Supervisor) *runtime.DynamicSupervisor {
	t.Helper()
	infos, err := sup.WhichChildren(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		if info.ID == "pool" {
			if pool, ok := runtime.ServiceOf[*runtime.DynamicSupervisor](info.Handle); ok {
				return pool
			}
		}
	}
	t.Fatal("no dynamic supervisor pool")
	return nil
}

// get serves one request to h and returns the response.
func get(t *testing.T, h http.Handler, method, target string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The JSON is the snapshot: decoding it gives back the runtime's values.
func TestTreeJSONIsTheSnapshot(t *testing.T) {
	sup := startTree(t).sup
	h := observer.New(observer.Supervisors(sup))

	resp := get(t, h, http.MethodGet, "/api/tree")
	raw := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	want, err := sup.Snapshot(context.Background()) // the fake clock stands still: same uptimes
	if err != nil {
		t.Fatal(err)
	}
	var got observer.Tree
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	notMarshalled := cmp.Options{ // handles to live processes, for Handle.Info
		cmpopts.IgnoreFields(runtime.SupervisorSnapshot{}, "Process"), cmpopts.IgnoreFields(runtime.ChildSnapshot{}, "Process"),
	}
	if diff := cmp.Diff(observer.Tree{Applications: []runtime.ApplicationSnapshot{}, Supervisors: []runtime.SupervisorSnapshot{want}}, got, notMarshalled); diff != "" {
		t.Fatalf("tree (-snapshot +JSON):\n%s", diff)
	}
	wantRaw, err := json.Marshal(observer.Tree{Applications: []runtime.ApplicationSnapshot{}, Supervisors: []runtime.SupervisorSnapshot{want}})
	if err != nil {
		t.Fatal(err)
	}
	if raw != string(wantRaw)+"\n" {
		t.Fatalf("JSON differs from the snapshot's own:\n got %s\nwant %s", raw, wantRaw)
	}
	// What the page reads, by name.
	for _, frag := range []string{`"applications":[]`, `"name":"top"`, `"strategy":"rest_for_one"`, `"id":"a"`,
		`"state":"running"`, `"restart":"transient"`, `"shutdown":"brutal_kill"`, `"dynamic":true`, `"max_children":4`,
		`"uptime_ns":1500000000`, `"restarts":0`, `"type":"supervisor"`} {
		if !strings.Contains(raw, frag) {
			t.Errorf("JSON lacks %s", frag)
		}
	}
}

// After a crash the JSON shows the restart, the new handle and the reason.
func TestTreeJSONShowsRestart(t *testing.T) {
	tt := startTree(t)
	h := observer.New(observer.Supervisors(tt.sup))
	before := decodeTree(t, h)
	tt.crashA <- errors.New("boom")
	tt.awaitStart(t, "a")
	after := decodeTree(t, h)
	a0, a1 := before.Supervisors[0].Children[0], after.Supervisors[0].Children[0]
	if a1.Restarts != 1 || a1.LastExit != "boom" || a1.Handle == a0.Handle || a1.State != runtime.StateRunning {
		t.Fatalf("after the crash a is %+v (before %+v)", a1, a0)
	}
}

func decodeTree(t *testing.T, h http.Handler) observer.Tree {
	t.Helper()
	resp := get(t, h, http.MethodGet, "/api/tree")
	raw := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	var tree observer.Tree
	if err := json.Unmarshal([]byte(raw), &tree); err != nil {
		t.Fatal(err)
	}
	return tree
}

// Applications show in start order with their trees.
func TestApplicationsJSON(t *testing.T) {
	ctx := runtime.WithEventHook(context.Background(), func(runtime.Event) {})
	app := func(name string, deps ...string) runtime.ApplicationSpec {
		return runtime.ApplicationSpec{Name: name, StartType: runtime.StartTransient, DependsOn: deps,
			Start: func(ctx context.Context) (runtime.Service, error) {
				return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: name, Children: []runtime.ChildSpec{{ID: name + "-worker", Start: idle()}}})
			}}
	}
	apps, err := runtime.StartApplications(ctx, app("web", "db"), app("db"))
	if err != nil {
		t.Fatal(err)
	}
	h := observer.New(observer.Applications(apps))
	tree := decodeTree(t, h)
	if len(tree.Applications) != 2 || tree.Applications[0].Name != "db" || tree.Applications[1].Name != "web" ||
		tree.Applications[1].DependsOn[0] != "db" || tree.Applications[1].StartType != "transient" ||
		tree.Applications[1].Tree == nil || tree.Applications[1].Tree.Children[0].ID != "web-worker" ||
		len(tree.Supervisors) != 0 {
		t.Fatalf("tree = %+v", tree)
	}
	if err := apps.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp := get(t, h, http.MethodGet, "/api/tree")
	if raw := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(raw, `"error":"arbor: no such process (noproc)"`) {
		t.Fatalf("after StopAll: %d %s", resp.StatusCode, raw)
	}
}

// A Source that fails answers 503 with its error as JSON, which the page
// shows; a supervisor that has exited says so and why.
func TestSourceErrors(t *testing.T) {
	h := observer.New(func(context.Context) (observer.Tree, error) { return observer.Tree{}, errors.New("tree unavailable") })
	resp := get(t, h, http.MethodGet, "/api/tree")
	if raw := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || raw != `{"error":"tree unavailable"}`+"\n" ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}

	sup, err := runtime.StartSupervisor(runtime.WithEventHook(context.Background(), func(runtime.Event) {}),
		runtime.SupervisorSpec{Name: "gone", Children: []runtime.ChildSpec{{ID: "w", Start: idle()}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp = get(t, observer.New(observer.Supervisors(sup)), http.MethodGet, "/api/tree")
	if raw := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || raw != `{"error":"arbor: supervisor gone#1 has exited: normal (noproc)"}`+"\n" {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}

	panicky := observer.New(func(context.Context) (observer.Tree, error) { panic("oops") })
	resp = get(t, panicky, http.MethodGet, "/api/tree")
	if raw := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(raw, "source panicked: oops") {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	// The panic did not leave the handler stuck.
	resp = get(t, panicky, http.MethodGet, "/api/tree")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second request: %d", resp.StatusCode)
	}
}

// A Source that takes longer than Timeout answers 503 saying the tree is
// busy; the clock here is synctest's, so the test does not wait.
func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := observer.New(func(ctx context.Context) (observer.Tree, error) {
			<-ctx.Done()
			return observer.Tree{}, ctx.Err()
		})
		start := time.Now()
		resp := get(t, h, http.MethodGet, "/api/tree")
		raw := body(t, resp)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(raw, "no snapshot within 2s: a supervisor is busy") {
			t.Fatalf("%d %s", resp.StatusCode, raw)
		}
		if waited := time.Since(start); waited != observer.DefaultTimeout {
			t.Fatalf("waited %v", waited)
		}
		h.Timeout = 100 * time.Millisecond
		start = time.Now()
		get(t, h, http.MethodGet, "/api/tree")
		if waited := time.Since(start); waited != 100*time.Millisecond {
			t.Fatalf("waited %v with Timeout 100ms", waited)
		}
	})
}

// Requests that arrive while a snapshot is under way share it, so that many
// open pages cost a busy supervisor one request in its mailbox, not many.
func TestConcurrentRequestsShareOneSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int32
		want := observer.Tree{Supervisors: []runtime.SupervisorSnapshot{{Name: "top", Strategy: "one_for_one"}}}
		h := observer.New(func(ctx context.Context) (observer.Tree, error) {
			calls.Add(1)
			<-release
			return want, nil
		})
		var wg sync.WaitGroup
		bodies := make([]string, 5)
		for i := range bodies {
			wg.Go(func() { bodies[i] = body(t, get(t, h, http.MethodGet, "/api/tree")) })
			synctest.Wait() // each request is waiting before the next starts
		}
		if n := calls.Load(); n != 1 {
			t.Fatalf("%d calls of the source for 5 concurrent requests", n)
		}
		close(release)
		wg.Wait()
		for _, b := range bodies {
			if b != bodies[0] || !strings.Contains(b, `"name":"top"`) {
				t.Fatalf("bodies differ: %q", bodies)
			}
		}
		// The next request makes a new snapshot.
		get(t, h, http.MethodGet, "/api/tree")
		if n := calls.Load(); n != 2 {
			t.Fatalf("%d calls after a later request", n)
		}
	})
}

// A client that gives up does not cancel the snapshot the others share.
func TestLeavingClientDoesNotCancelSharedSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		h := observer.New(func(ctx context.Context) (observer.Tree, error) {
			select {
			case <-release:
				return observer.Tree{}, nil
			case <-ctx.Done():
				return observer.Tree{}, ctx.Err()
			}
		})
		leaving, leave := context.WithCancel(context.Background())
		first := make(chan int, 1)
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/tree", nil).WithContext(leaving))
			first <- rec.Code
		}()
		synctest.Wait()
		second := make(chan *http.Response, 1)
		go func() { second <- get(t, h, http.MethodGet, "/api/tree") }()
		synctest.Wait()
		leave()
		synctest.Wait()
		close(release)
		if resp := <-second; resp.StatusCode != http.StatusOK {
			t.Fatalf("the remaining client got %d: %s", resp.StatusCode, body(t, resp))
		}
		<-first
	})
}

// The page is one self-contained document: its own inline style and script,
// allowed by hash in its Content-Security-Policy, and nothing fetched from
// elsewhere.
func TestPage(t *testing.T) {
	h := observer.New(observer.Supervisors())
	resp := get(t, h, http.MethodGet, "/")
	page := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, tag := range []string{"style", "script"} {
		open, end := "<"+tag+">", "</"+tag+">"
		if strings.Count(page, open) != 1 || strings.Count(page, end) != 1 {
			t.Fatalf("the page must have exactly one inline <%s>", tag)
		}
		inner := page[strings.Index(page, open)+len(open) : strings.Index(page, end)]
		sum := sha256.Sum256([]byte(inner))
		if want := tag + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	for _, m := range regexp.MustCompile(`(?i)\b(?:src|href|action)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "data:") {
			t.Errorf("the page refers to an outside resource: %s", m[0])
		}
	}
	// The SVG namespace is a name that createElementNS needs, not an address.
	named := strings.ReplaceAll(page, "'http://www.w3.org/2000/svg'", "SVGNS")
	for _, outside := range []string{"http://", "https://", "url(", "@import", "import(", "new WebSocket", "EventSource"} {
		if strings.Contains(named, outside) {
			t.Errorf("the page contains %q", outside)
		}
	}
	// One fetch, in api(path), and every path given to api is one of the
	// handler's, relative to the page.
	if fetches := regexp.MustCompile(`fetch\(([^,)]*)`).FindAllStringSubmatch(page, -1); len(fetches) != 1 || fetches[0][1] != "path" {
		t.Errorf("the page fetches %q; it must fetch only through api(path)", fetches)
	}
	calls := regexp.MustCompile(`\bapi\('([^']*)'`).FindAllStringSubmatch(page, -1)
	if len(calls) == 0 {
		t.Error("the page calls api() with no literal path")
	}
	for _, c := range calls {
		switch strings.TrimSuffix(c[1], "?handle=") {
		case "api/tree", "api/process", "api/system", "api/control":
		default:
			t.Errorf("the page asks for %q, which is not a route of the handler relative to the page", c[1])
		}
	}
	if strings.Contains(page, "innerHTML") {
		t.Error("the page uses innerHTML; ids and exit reasons must go through textContent")
	}
}

// The page and its JSON routes: GET and HEAD, but POST for api/control,
// which is refused unless the program opts in.
func TestRoutes(t *testing.T) {
	h := observer.New(func(context.Context) (observer.Tree, error) { return observer.Tree{}, nil })
	for _, tc := range []struct {
		method, target string
		status         int
		allow          string
		empty          bool
	}{
		{"GET", "/", 200, "", false},
		{"HEAD", "/", 200, "", true},
		{"GET", "/api/tree", 200, "", false},
		{"HEAD", "/api/tree", 200, "", true},
		{"GET", "/?interval=1000", 200, "", false},
		{"GET", "/api/tree?x=1", 200, "", false},
		{"POST", "/", 405, "GET, HEAD", false},
		{"PUT", "/api/tree", 405, "GET, HEAD", false},
		{"DELETE", "/api/tree", 405, "GET, HEAD", false},
		{"GET", "/api", 404, "", false},
		{"GET", "/api/", 404, "", false},
		{"GET", "/api/tree/", 404, "", false},
		{"GET", "/index.html", 404, "", false},
		{"GET", "/favicon.ico", 404, "", false},
		{"POST", "/nope", 404, "", false},
		{"GET", "/api/system", 200, "", false},
		{"HEAD", "/api/system", 200, "", true},
		{"POST", "/api/system", 405, "GET, HEAD", false},
		{"GET", "/api/process?handle=x%231", 200, "", false},
		{"GET", "/api/control", 405, "POST", false},
		{"POST", "/api/control", 403, "", false},
	} {
		resp := get(t, h, tc.method, tc.target)
		b := body(t, resp)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.target, resp.StatusCode, tc.status)
		}
		if got := resp.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.target, got, tc.allow)
		}
		if tc.empty && b != "" {
			t.Errorf("%s %s: body %q", tc.method, tc.target, b)
		}
		if tc.status == 200 && resp.Header.Get("Content-Length") == "" {
			t.Errorf("%s %s: no Content-Length", tc.method, tc.target)
		}
	}
	if got := get(t, h, "GET", "/api/tree"); body(t, got) != `{"applications":[],"supervisors":[]}`+"\n" {
		t.Errorf("an empty tree is not two empty lists")
	}
}

// Under a prefix, the page and its JSON are found relative to each other,
// whichever way the prefix is stripped and whether or not the address ends
// in a slash.
func TestMountedUnderPrefix(t *testing.T) {
	h := observer.New(observer.Supervisors(startTree(t).sup))
	mux := http.NewServeMux()
	mux.Handle("/debug/arbor/", http.StripPrefix("/debug/arbor", h))
	mux.Handle("/other/", http.StripPrefix("/other/", h))
	exact := http.StripPrefix("/exact", h)
	mux.Handle("/exact", exact)
	mux.Handle("/exact/", exact)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct{ path, finalPath string }{
		{"/debug/arbor/", "/debug/arbor/"},
		{"/debug/arbor", "/debug/arbor/"}, // the mux redirects
		{"/other/", "/other/"},
		{"/exact", "/exact/"}, // the handler redirects, relative to where it is
		{"/exact?interval=250", "/exact/"},
	} {
		resp, err := srv.Client().Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		page := body(t, resp)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Request.URL.Path != tc.finalPath || !strings.Contains(page, "<title>arbor observer</title>") {
			t.Errorf("GET %s: %d at %s", tc.path, resp.StatusCode, resp.Request.URL)
			continue
		}
		// What the page's fetch('api/tree') asks for.
		api := resp.Request.URL.ResolveReference(&url.URL{Path: "api/tree"})
		jr, err := srv.Client().Get(api.String())
		if err != nil {
			t.Fatal(err)
		}
		raw := body(t, jr)
		jr.Body.Close()
		if jr.StatusCode != 200 || !strings.Contains(raw, `"name":"top"`) {
			t.Errorf("GET %s from the page at %s: %d %s", api, tc.path, jr.StatusCode, raw)
		}
	}
}
