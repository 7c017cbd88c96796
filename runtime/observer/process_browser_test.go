package observer_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/observer"
)

// holder keeps a server busy in a handler until released, so that its
// queue fills and its stack shows where it waits.
type holder struct {
	entered chan struct{}
	release chan struct{}
}

func (h *holder) hold(*int) error {
	close(h.entered)
	<-h.release
	return nil
}

// shopWithServer runs an application "shop" whose supervisor has a server
// "counter" (registered as "counter", linked to and monitored by a spawned
// "watcher"), a crashable "cache" and a dynamic "pool" of three
// connections; and an application "web", which depends on it, with a
// "listener" and a supervisor of two "handlers".
func shopWithServer(t *testing.T, crash <-chan error) (*runtime.Applications, *runtime.Server[int], *runtime.DynamicSupervisor) {
	t.Helper()
	ctx := runtime.WithEventHook(context.Background(), func(runtime.Event) {})
	reg := runtime.NewRegistry[string]()
	var counter *runtime.Server[int]
	var pool *runtime.DynamicSupervisor
	shop := runtime.ApplicationSpec{Name: "shop", Start: func(ctx context.Context) (runtime.Service, error) {
		return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "shop", Flags: runtime.Flags{MaxRestarts: 10, MaxSeconds: 60},
			Children: []runtime.ChildSpec{
				{ID: "counter", Name: reg.Name("counter"), Start: func(ctx context.Context) (runtime.Service, error) {
					s, err := runtime.NewServer(ctx, runtime.ServerSpec[int]{})
					counter = s
					return s, err
				}},
				{ID: "cache", Start: crashable(crash)},
				{ID: "pool", Type: runtime.TypeSupervisor, Start: func(ctx context.Context) (runtime.Service, error) {
					d, err := runtime.NewDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "pool"})
					pool = d
					return d, err
				}},
			}})
	}}
	web := runtime.ApplicationSpec{Name: "web", DependsOn: []string{"shop"}, Start: func(ctx context.Context) (runtime.Service, error) {
		return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "web", Flags: runtime.Flags{Strategy: runtime.RestForOne},
			Children: []runtime.ChildSpec{
				{ID: "listener", Start: idle()},
				{ID: "handlers", Type: runtime.TypeSupervisor, Start: func(ctx context.Context) (runtime.Service, error) {
					return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "handlers", Flags: runtime.Flags{Strategy: runtime.OneForAll},
						Children: []runtime.ChildSpec{{ID: "orders", Start: idle()}, {ID: "payments", Start: idle()}}})
				}},
			}})
	}}
	apps, err := runtime.StartApplications(ctx, shop, web)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := apps.StopAll(context.Background()); err != nil {
			t.Error(err)
		}
	})
	watcher, err := runtime.StartServer(ctx, "watcher", runtime.ServerSpec[int]{Init: func(ctx context.Context) (int, error) {
		return 0, runtime.Link(ctx, counter.Handle())
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { watcher.Stop(context.Background(), nil) })
	watcher.Monitor(counter.Handle(), func(*int, runtime.Down) error { return nil })
	for _, id := range []string{"conn-a", "conn-b", "conn-c"} {
		if _, err := pool.StartChild(ctx, runtime.ChildSpec{ID: id, Start: idle()}); err != nil {
			t.Fatal(err)
		}
	}
	return apps, counter, pool
}

// Selecting a process shows what OTP's observer shows on a double-click:
// its queue, links, monitors, registered names, goroutine stack and
// restart history; the system panel shows the Go runtime; the graph draws
// the same tree; with Control on, the page restarts and stops children.
func TestBrowserShowsProcess(t *testing.T) {
	chromium := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserLimit)
	defer cancel()

	crash := make(chan error)
	apps, counter, _ := shopWithServer(t, crash)
	h := observer.New(observer.Applications(apps))
	h.Control = true
	mux := http.NewServeMux()
	mux.Handle("/debug/arbor/", http.StripPrefix("/debug/arbor", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Two crashes of cache make its restart history; the counter is held in
	// a handler with two more waiting.
	b := startBrowser(t, ctx, chromium, 1440, 1100)
	b.navigate(ctx, srv.URL+"/debug/arbor/?interval=200")
	cacheRow := `document.querySelector('.node.child[data-id="cache"]')`
	b.waitFor(ctx, "the tree", `document.documentElement.dataset.polls >= 1 && `+cacheRow)
	for i := 1; i <= 2; i++ {
		crash <- fmt.Errorf("lost connection %d", i)
		b.waitFor(ctx, fmt.Sprintf("restart %d of cache", i), cacheRow+fmt.Sprintf(`.dataset.restarts === '%d'`, i))
	}
	hold := &holder{entered: make(chan struct{}), release: make(chan struct{})}
	counter.Cast(hold.hold)
	<-hold.entered
	counter.Cast(func(*int) error { return nil })
	counter.Cast(func(*int) error { return nil })

	// The system panel.
	b.waitFor(ctx, "the system panel", `document.documentElement.dataset.systemPolls >= 1 &&
		document.getElementById('system').innerText.includes('goroutines') && document.getElementById('system').innerText.includes('GC cycles') &&
		document.getElementById('system').innerText.includes('heap') && document.getElementById('system').innerText.includes('uptime')`)

	// The counter: its queue, links, monitors, name and the stack where it
	// waits.
	b.click(ctx, `.node.child[data-id="counter"] > .row`)
	details := `document.getElementById('details').innerText`
	b.waitFor(ctx, "the counter's process", details+`.includes('server queue: 2 handlers waiting') &&
		`+details+`.includes('watcher#1') && `+details+`.includes('server by watcher#1') &&
		`+details+`.includes('registered names\tcounter') && [...document.querySelectorAll('#details pre[data-section="stack"]')].some(p => p.innerText.includes('(*holder).hold'))`)
	if err := b.eval(ctx, `document.querySelector('#details h3').scrollIntoView({block: 'start'})`, nil); err != nil {
		t.Fatal(err)
	}
	shot(t, b, ctx, "observer-process.png")
	close(hold.release)
	b.waitFor(ctx, "the counter's queue emptied", details+`.includes('server queue: 0 handlers waiting')`)

	// The supervisor's mailbox.
	b.click(ctx, `.node.sup > .row.sup-row`)
	b.waitFor(ctx, "the supervisor's mailbox", details+`.includes('mailbox: 0 messages waiting')`)

	// cache: its restart history, newest first.
	b.click(ctx, `.node.child[data-id="cache"] > .row`)
	b.waitFor(ctx, "cache's restart history", `(() => { const t = document.querySelector('#details table[data-section="history"]');
		return t && t.rows.length === 2 && t.rows[0].innerText.includes('shop/cache#2') && t.rows[0].innerText.includes('lost connection 2') &&
			t.rows[1].innerText.includes('shop/cache#1') && t.rows[1].innerText.includes('lost connection 1'); })()`)

	// Control: restart cache from the page.
	var before string
	if err := b.eval(ctx, cacheRow+`.dataset.handle`, &before); err != nil {
		t.Fatal(err)
	}
	b.waitFor(ctx, "the restart button", `document.querySelector('#details button[data-action="restart"]')`)
	b.click(ctx, `#details button[data-action="restart"]`)
	b.waitFor(ctx, "cache restarted from the page", cacheRow+`.dataset.handle === 'shop/cache#4' && `+details+`.includes('started shop/cache#4')`)
	if before != "shop/cache#3" {
		t.Errorf("cache was %s before the restart", before)
	}

	// Stop one of the pool's connections from the page: it is gone.
	b.click(ctx, `.node.child[data-id="conn-b"] > .row`)
	b.waitFor(ctx, "the stop button", `document.querySelector('#details button[data-action="stop"]') && !document.querySelector('#details button[data-action="restart"]')`)
	b.click(ctx, `#details button[data-action="stop"]`)
	b.waitFor(ctx, "conn-b stopped", `!document.querySelector('.node.child[data-id="conn-b"]') && `+details+`.includes('No longer in the tree')`)

	// The graph: the same tree, top-down; a click selects.
	b.click(ctx, `#view-graph`)
	node := func(key string) string {
		return fmt.Sprintf(`document.querySelector('#graph-view .g-node[data-key=%q]')`, key)
	}
	b.waitFor(ctx, "the graph", `document.documentElement.dataset.view === 'graph' && document.getElementById('tree').hidden && `+
		node("app:shop")+` && `+node("app:shop>")+` && `+node("app:shop>/counter")+` && `+node("app:shop>/cache")+`.classList.contains('running') && `+
		node("app:web>/handlers/payments")+` && document.querySelectorAll('#graph-view .g-node').length === 13 && `+
		`document.querySelectorAll('#graph-view .g-edge').length === 11`)
	b.click(ctx, `#graph-view .g-node[data-key="app:shop>/counter"]`)
	b.waitFor(ctx, "the counter selected in the graph", node("app:shop>/counter")+`.classList.contains('selected') && `+details+`.includes('shop/counter#1')`)
	shot(t, b, ctx, "observer-graph.png")

	if problems := b.pageProblems(); len(problems) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(problems, "\n"))
	}
}

// shot keeps a screenshot of the page in $ARBOR_ARTIFACTS.
func shot(t *testing.T, b *browser, ctx context.Context, name string) {
	t.Helper()
	png := b.screenshot(ctx)
	dir := os.Getenv("ARBOR_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
