package observer_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/observer"
)

// browserLimit bounds the whole browser test.
const browserLimit = 40 * time.Second

// startShop runs two applications as a user's program would: "store", whose
// supervisor has a crashable "cache", an "api" and a dynamic "sessions" pool
// of three, and "web", which depends on it.
// One session is permanent and crashable through crashSession; startShop
// returns its handle.
func startShop(t *testing.T, crashCache, crashSession <-chan error) (*runtime.Applications, string) {
	t.Helper()
	ctx := runtime.WithEventHook(context.Background(), func(runtime.Event) {})
	var storeSup *runtime.Supervisor
	store := runtime.ApplicationSpec{Name: "store", StartType: runtime.StartPermanent,
		Start: func(ctx context.Context) (runtime.Service, error) {
			var err error
			storeSup, err = runtime.NewSupervisor(ctx, runtime.SupervisorSpec{
				Name:  "store",
				Flags: runtime.Flags{Strategy: runtime.OneForOne, MaxRestarts: 5, MaxSeconds: 10},
				Children: []runtime.ChildSpec{
					{ID: "cache", Start: crashable(crashCache)},
					{ID: "api", Start: idle(), Shutdown: runtime.Timeout(2 * time.Second)},
					dynamicChild("sessions", 100),
				},
			})
			return storeSup, err
		}}
	web := runtime.ApplicationSpec{Name: "web", StartType: runtime.StartTransient, DependsOn: []string{"store"},
		Start: func(ctx context.Context) (runtime.Service, error) {
			return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{
				Name:  "web",
				Flags: runtime.Flags{Strategy: runtime.RestForOne, AutoShutdown: runtime.AnySignificant},
				Children: []runtime.ChildSpec{
					{ID: "listener", Start: idle()},
					{ID: "metrics", Start: idle(), Restart: runtime.Transient, Significant: true, Shutdown: runtime.BrutalKill},
				},
			})
		}}
	apps, err := runtime.StartApplications(ctx, web, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := apps.StopAll(context.Background()); err != nil {
			t.Error(err)
		}
	})
	infos, err := storeSup.WhichChildren(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sessions *runtime.DynamicSupervisor
	for _, info := range infos {
		if info.ID == "sessions" {
			sessions, _ = runtime.ServiceOf[*runtime.DynamicSupervisor](info.Handle)
		}
	}
	if sessions == nil {
		t.Fatalf("store has no dynamic supervisor sessions: %+v", infos)
	}
	var crashableSession string
	for _, spec := range []runtime.ChildSpec{
		{ID: "session", Start: idle(), Restart: runtime.Temporary},
		{ID: "session", Start: crashable(crashSession), Restart: runtime.Permanent},
		{ID: "session", Start: idle(), Restart: runtime.Temporary},
	} {
		h, err := sessions.StartChild(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		if spec.Restart == runtime.Permanent {
			crashableSession = h.String()
		}
	}
	return apps, crashableSession
}

// The page, in a real browser, draws the tree, marks a crash's restart as
// it happens and shows the crashed child's spec and exit reason on click.
func TestBrowserShowsRestart(t *testing.T) {
	chromium := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserLimit)
	defer cancel()

	crash, crashSession := make(chan error), make(chan error)
	apps, session := startShop(t, crash, crashSession)
	mux := http.NewServeMux()
	mux.Handle("/debug/arbor/", http.StripPrefix("/debug/arbor", observer.New(observer.Applications(apps))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := startBrowser(t, ctx, chromium, 1200, 600)
	b.navigate(ctx, srv.URL+"/debug/arbor/")

	cache := `document.querySelector('.node.child[data-id="cache"]')`
	b.waitFor(ctx, "the tree", `document.documentElement.dataset.polls >= 1 && `+cache+` && `+cache+`.dataset.state === 'running'`)
	for _, text := range []string{"store", "web", "cache", "api", "sessions", "session", "listener", "metrics",
		"one_for_one", "rest_for_one", "dynamic supervisor", "depends on store", "significant", "running", "↻ 0"} {
		b.waitFor(ctx, fmt.Sprintf("%q", text), fmt.Sprintf(`document.getElementById('tree').innerText.includes(%q)`, text))
	}
	var sessionRows int
	if err := b.eval(ctx, `document.querySelectorAll('.node.child[data-id="session"]').length`, &sessionRows); err != nil || sessionRows != 3 {
		t.Fatalf("%d session rows (%v), want 3", sessionRows, err)
	}

	// Select the child first, as a user watching it would, then crash it.
	b.click(ctx, `.node.child[data-id="cache"] > .row`)
	b.waitFor(ctx, "the details of cache", `document.getElementById('details').innerText.includes('permanent') &&
		document.getElementById('details').innerText.includes('has not exited')`)
	var handleBefore string
	if err := b.eval(ctx, cache+`.dataset.handle`, &handleBefore); err != nil {
		t.Fatal(err)
	}
	crash <- errors.New("cache lost its connection")

	b.waitFor(ctx, "the restart counted on the row", cache+`.dataset.restarts === '1' && `+cache+`.querySelector('.restarts').textContent === '↻ 1'`)
	b.waitFor(ctx, "the restart highlighted", cache+`.querySelector('.restarts').classList.contains('hot') && `+cache+`.querySelector('.row').classList.contains('flash')`)
	b.waitFor(ctx, "the restart in the event list", `[...document.querySelectorAll('#log li[data-tag="restart"]')].some(li =>
		li.innerText.includes('store/cache restarted after cache lost its connection'))`)
	b.waitFor(ctx, "the restart total", `document.getElementById('restart-total').textContent === '1'`)
	b.waitFor(ctx, "the exit reason in the details", `document.getElementById('details').innerText.includes('cache lost its connection')`)
	var handleAfter string
	if err := b.eval(ctx, cache+`.dataset.handle`, &handleAfter); err != nil {
		t.Fatal(err)
	}
	if handleAfter == handleBefore || !strings.HasPrefix(handleAfter, "store/cache#") {
		t.Errorf("handle %q after the restart, %q before", handleAfter, handleBefore)
	}
	var details string
	if err := b.eval(ctx, `document.getElementById('details').innerText`, &details); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"store/cache", "worker", "permanent", "5s", "significant\tfalse", "restarts\t1", "cache lost its connection"} {
		if !strings.Contains(details, want) {
			t.Errorf("details lack %q:\n%s", want, details)
		}
	}

	// A child of a dynamic supervisor gets a new handle at each restart; the
	// page still shows one child, restarted, not one removed and one new, and
	// its details follow it.
	b.click(ctx, fmt.Sprintf(`.node.child[data-handle=%q] > .row`, session))
	b.waitFor(ctx, "the details of the session", fmt.Sprintf(`document.getElementById('details').innerText.includes(%q)`, session))
	crashSession <- errors.New("session expired")
	sessionRestarted := `[...document.querySelectorAll('#log li[data-tag="restart"]')].some(li =>
		li.innerText.includes('store/sessions/session restarted after session expired'))`
	b.waitFor(ctx, "the session's restart", sessionRestarted+` &&
		document.querySelectorAll('.node.child[data-id="session"]').length === 3 &&
		document.querySelectorAll('.node.child[data-id="session"][data-restarts="1"] > .row.flash').length === 1`)
	var otherEvents []string
	if err := b.eval(ctx, `[...document.querySelectorAll('#log li:not([data-tag="restart"])')].map(li => li.innerText)`, &otherEvents); err != nil {
		t.Fatal(err)
	}
	if len(otherEvents) > 0 {
		t.Errorf("the log shows more than the two restarts: %q", otherEvents)
	}
	b.waitFor(ctx, "both restarts in the total", `document.getElementById('restart-total').textContent === '2'`)
	b.waitFor(ctx, "the session's exit reason in the details", `document.getElementById('details').innerText.includes('session expired') &&
		document.querySelector('.row.selected') && document.querySelector('.row.selected').parentNode.dataset.restarts === '1'`)

	png := b.screenshot(ctx)
	dir := os.Getenv("ARBOR_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "observer-restart.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the page after the restart: %s (%d bytes)", shot, len(png))

	if problems := b.pageProblems(); len(problems) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(problems, "\n"))
	}
}
