package observer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/observer"
)

// do sends a request to h and decodes the JSON answer into out.
func do(t *testing.T, h http.Handler, req *http.Request, out any) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
	}
	return resp
}

// api/process describes a child, a supervisor and an application; a handle
// that is not in the tree is an answer too.
func TestProcessJSON(t *testing.T) {
	crash := make(chan error)
	apps, counter, _ := shopWithServer(t, crash)
	h := observer.New(observer.Applications(apps))
	get := func(handle string) observer.Process {
		t.Helper()
		var p observer.Process
		resp := do(t, h, httptest.NewRequest("GET", "/api/process?handle="+url.QueryEscape(handle), nil), &p)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("api/process?handle=%s: %s", handle, resp.Status)
		}
		return p
	}

	p := get(counter.Handle().String())
	if p.Info.Queue != "server" || !slices.Equal(p.Info.Links, []string{"watcher#1"}) || !slices.Equal(p.Info.RegisteredNames, []string{"names/counter"}) {
		t.Errorf("counter = %+v", p.Info)
	}
	if p.Labels[runtime.LabelChild] != "counter" || len(p.Goroutines) != 1 || !slices.ContainsFunc(p.Goroutines[0].Stack, func(f string) bool {
		return strings.Contains(f, "(*Server[...]).loop")
	}) {
		t.Errorf("counter's goroutines = %+v, labels %v", p.Goroutines, p.Labels)
	}
	if len(p.Actions) != 0 {
		t.Errorf("actions %v with control off", p.Actions)
	}

	app := get("shop#1")
	if app.Info.Queue != "mailbox" || app.Labels[runtime.LabelApplication] != "shop" || len(app.Goroutines) == 0 {
		t.Errorf("the application = %+v", app)
	}
	for _, g := range app.Goroutines {
		if _, child := g.Labels[runtime.LabelChild]; child {
			t.Errorf("the application lists a child's goroutine: %+v", g)
		}
	}

	gone := get("shop/nothing#9")
	if gone.Gone == "" || gone.Info.Alive {
		t.Errorf("a handle not in the tree = %+v", gone)
	}
	var e map[string]string
	if resp := do(t, h, httptest.NewRequest("GET", "/api/process", nil), &e); resp.StatusCode != http.StatusBadRequest || e["error"] == "" {
		t.Errorf("api/process without a handle: %s %v", resp.Status, e)
	}
}

// api/system reads the Go runtime.
func TestSystemJSON(t *testing.T) {
	h := observer.New(observer.Supervisors())
	var s observer.System
	if resp := do(t, h, httptest.NewRequest("GET", "/api/system", nil), &s); resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status)
	}
	if s.Goroutines < 1 || s.HeapBytes == 0 || s.TotalBytes < s.HeapBytes || s.GOMAXPROCS < 1 || s.CPUs < 1 ||
		!strings.HasPrefix(s.GoVersion, "go") || s.Uptime <= 0 || s.Control {
		t.Errorf("system = %+v", s)
	}
}

func controlRequest(body string, header map[string]string) *http.Request {
	req := httptest.NewRequest("POST", "/api/control", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

// Control is refused unless the program opts in, and then from another
// origin; with it, children restart and stop as OTP's terminate_child and
// restart_child do.
func TestControl(t *testing.T) {
	crash := make(chan error)
	apps, _, pool := shopWithServer(t, crash)
	h := observer.New(observer.Applications(apps))
	restart := `{"action":"restart","supervisor":"shop#1","id":"cache"}`
	var e map[string]string
	if resp := do(t, h, controlRequest(restart, nil), &e); resp.StatusCode != http.StatusForbidden || !strings.Contains(e["error"], "Control") {
		t.Errorf("control off: %s %v", resp.Status, e)
	}

	h.Control = true
	// A page of another site whose name is rebound to the program's
	// address is same-origin to the browser: its Host gives it away.
	rebound := controlRequest(restart, map[string]string{"Origin": "http://rebind.attacker.example:6060", "Sec-Fetch-Site": "same-origin"})
	rebound.Host = "rebind.attacker.example:6060"
	if resp := do(t, h, rebound, &e); resp.StatusCode != http.StatusForbidden || !strings.Contains(e["error"], "loopback") {
		t.Errorf("control through a rebound name: %s %v", resp.Status, e)
	}
	h.ControlHosts = []string{"example.com"} // the name the test requests use
	for _, tc := range []struct {
		header map[string]string
		status int
	}{
		{map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
	} {
		if resp := do(t, h, controlRequest(restart, tc.header), nil); resp.StatusCode != tc.status {
			t.Errorf("%v: %s, want %d", tc.header, resp.Status, tc.status)
		}
	}
	var ok map[string]string
	if resp := do(t, h, controlRequest(restart, map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}), &ok); resp.StatusCode != http.StatusOK || ok["result"] != "started shop/cache#2" {
		t.Errorf("restart: %s %v", resp.Status, ok)
	}
	if resp := do(t, h, controlRequest(`{"action":"stop","supervisor":"shop#1","id":"cache"}`, nil), &ok); resp.StatusCode != http.StatusOK || ok["result"] != "stopped cache" {
		t.Errorf("stop: %s %v", resp.Status, ok)
	}
	if resp := do(t, h, controlRequest(`{"action":"start","supervisor":"shop#1","id":"cache"}`, nil), &ok); resp.StatusCode != http.StatusOK || ok["result"] != "started shop/cache#3" {
		t.Errorf("start: %s %v", resp.Status, ok)
	}
	if resp := do(t, h, controlRequest(`{"action":"stop","supervisor":"shop#1","id":"nope"}`, nil), &e); resp.StatusCode != http.StatusConflict || e["error"] != runtime.ErrNotFound.Error() {
		t.Errorf("stop of an unknown child: %s %v", resp.Status, e)
	}
	if resp := do(t, h, controlRequest(`{"action":"explode","supervisor":"shop#1","id":"cache"}`, nil), &e); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown action: %s %v", resp.Status, e)
	}
	infos, err := pool.WhichChildren(context.Background())
	if err != nil || len(infos) != 3 {
		t.Fatalf("pool: %v, %v", infos, err)
	}
	conn := infos[0].Handle.String()
	stop := `{"action":"stop","supervisor":"shop/pool#1","handle":"` + conn + `"}`
	if resp := do(t, h, controlRequest(`{"action":"restart","supervisor":"shop/pool#1","handle":"`+conn+`"}`, nil), &e); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("restart of a dynamic child: %s %v", resp.Status, e)
	}
	if resp := do(t, h, controlRequest(stop, nil), &ok); resp.StatusCode != http.StatusOK || ok["result"] != "stopped "+conn {
		t.Errorf("stop of %s: %s %v", conn, resp.Status, ok)
	}
	if n, _ := pool.CountChildren(context.Background()); n.Specs != 2 {
		t.Errorf("the pool has %d children after the stop, want 2", n.Specs)
	}
}
