package observer

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/arborgo/arbor/internal/jsonreply"
	"github.com/arborgo/arbor/runtime"
)

// Tree is what the observer shows and what GET api/tree returns: the running
// applications, each with its supervision tree, and supervisors that belong
// to no application. Both lists are always present in the JSON, empty when
// there is nothing to show.
type Tree struct {
	Applications []runtime.ApplicationSnapshot `json:"applications"`
	Supervisors  []runtime.SupervisorSnapshot  `json:"supervisors"`
	// Cluster is the cluster the program is a node of, when the Source
	// shows one (WithCluster); nil and absent from the JSON otherwise.
	Cluster *Cluster `json:"cluster,omitempty"`
}

// Source yields the tree to show. The handler calls it once per JSON request
// (concurrent requests share one call), with a context that ends after the
// handler's Timeout. It must be safe for concurrent use with the program
// that runs the tree; the Snapshot methods of the runtime are.
type Source func(ctx context.Context) (Tree, error)

// Snapshotter is a supervisor whose live tree can be read:
// *runtime.Supervisor and *runtime.DynamicSupervisor.
type Snapshotter interface {
	Snapshot(ctx context.Context) (runtime.SupervisorSnapshot, error)
}

// Supervisors returns a Source that shows sups, in that order, each with the
// trees of the supervisors below it. When one of them has exited its error
// says so, with its exit reason when it has a Handle method, as the
// runtime's supervisors do.
func Supervisors(sups ...Snapshotter) Source {
	return func(ctx context.Context) (Tree, error) {
		t := Tree{Applications: []runtime.ApplicationSnapshot{}, Supervisors: make([]runtime.SupervisorSnapshot, 0, len(sups))}
		for _, s := range sups {
			snap, err := s.Snapshot(ctx)
			if err != nil {
				return Tree{}, exitedError(s, err)
			}
			t.Supervisors = append(t.Supervisors, snap)
		}
		return t, nil
	}
}

// exitedError explains a failed snapshot of s: for a supervisor that has
// exited (ErrNoProc), which one and why.
func exitedError(s Snapshotter, err error) error {
	if !errors.Is(err, runtime.ErrNoProc) {
		return err
	}
	h, ok := s.(interface{ Handle() runtime.Handle })
	if !ok {
		return err
	}
	handle := h.Handle()
	if handle.IsZero() || handle.Alive() {
		return err
	}
	why := "normal"
	if reason := handle.Reason(); reason != nil {
		why = reason.Error()
	}
	return supervisorExited{handle: handle.String(), why: why}
}

// supervisorExited says which supervisor has exited, and why; it matches
// runtime.ErrNoProc.
type supervisorExited struct{ handle, why string }

func (e supervisorExited) Error() string {
	return "arbor: supervisor " + e.handle + " has exited: " + e.why + " (noproc)"
}

func (e supervisorExited) Is(target error) bool { return target == runtime.ErrNoProc }

// Applications returns a Source that shows the running applications of
// apps, in start order. Once apps has stopped, the Source returns
// runtime.ErrNoProc.
func Applications(apps *runtime.Applications) Source {
	return func(ctx context.Context) (Tree, error) {
		snaps, err := apps.Snapshot(ctx)
		if err != nil {
			return Tree{}, err
		}
		if snaps == nil {
			snaps = []runtime.ApplicationSnapshot{}
		}
		return Tree{Applications: snaps, Supervisors: []runtime.SupervisorSnapshot{}}, nil
	}
}

// DefaultTimeout bounds one call of the Source when Handler.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// Handler serves the observer: the page at its root and the tree as JSON at
// api/tree, both relative to where it is mounted, so it works at the root of
// a server or under a prefix removed by http.StripPrefix:
//
//	mux.Handle("/debug/arbor/", http.StripPrefix("/debug/arbor", observer.New(src)))
//
// Routes, after the prefix:
//
//	GET /          the page (text/html), embedded in the binary, no external resources
//	GET /api/tree  the Tree as JSON (application/json); 503 with {"error": "..."} when
//	               the Source fails or takes longer than Timeout
//
// Both answer HEAD too; other methods get 405 and other paths 404.
//
// A Handler is safe for concurrent use. Its fields must not change, nor the
// Handler be copied, once it serves.
type Handler struct {
	// Source yields the tree; New sets it.
	Source Source
	// Timeout bounds one call of Source; zero means DefaultTimeout. A
	// supervisor answers a snapshot from its own loop, which is blocked while
	// a start function or a child's shutdown runs: the page then says the
	// tree is busy instead of waiting.
	Timeout time.Duration
	// Control, when set, lets the page restart, start and stop children
	// (POST api/control). It is off unless the program sets it: anyone who
	// can reach the handler can then stop the tree's children, so set it
	// only on a listener that only trusted people reach (see the package
	// documentation). Control requests are taken only when the request's
	// Host is a loopback name or address (localhost, 127.0.0.1, [::1]) or
	// one of ControlHosts, so that a page of another site that rebinds its
	// name to the program's address (DNS rebinding) cannot use it.
	Control bool
	// ControlHosts are the further Host names (without the port) under
	// which control requests are taken, for a private listener reached by
	// name.
	ControlHosts []string

	mu     sync.Mutex
	flight *flight            // the Source call under way, shared by concurrent requests
	procs  map[string]procRef // the processes of the latest tree, by handle
}

// flight is one call of the Source; done is closed once tree and err are set.
type flight struct {
	done chan struct{}
	tree Tree
	err  error
}

// New returns a Handler that shows the tree src yields.
func New(src Source) *Handler {
	return &Handler{Source: src}
}

//go:embed page.html
var page []byte

// pageCSP allows the page exactly its own inline style and script, and
// requests to its own origin: nothing else, in case an id or an exit reason
// ever got past the page's escaping.
var pageCSP = func() string {
	hash := func(open, close string) string {
		s := string(page)
		i := strings.Index(s, open)
		j := strings.Index(s, close)
		if i < 0 || j < i {
			panic("observer: page.html lacks " + open)
		}
		sum := sha256.Sum256([]byte(s[i+len(open) : j]))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; connect-src 'self'; img-src 'self' data:; " +
		"style-src " + hash("<style>", "</style>") + "; script-src " + hash("<script>", "</script>") +
		"; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
}()

// ServeHTTP serves the page and the JSON tree; see Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route := strings.TrimPrefix(r.URL.Path, "/")
	allow, methodOK := "GET, HEAD", r.Method == http.MethodGet || r.Method == http.MethodHead
	switch route {
	case "", "api/tree", "api/process", "api/system":
	case "api/control":
		allow, methodOK = "POST", r.Method == http.MethodPost
	default:
		http.NotFound(w, r)
		return
	}
	if !methodOK {
		w.Header().Set("Allow", allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch route {
	case "":
		h.servePage(w, r)
	case "api/tree":
		h.serveTree(w, r)
	case "api/process":
		h.serveProcess(w, r)
	case "api/system":
		h.serveSystem(w, r)
	case "api/control":
		h.serveControl(w, r)
	}
}

// timeout is Timeout, or DefaultTimeout when it is zero.
func (h *Handler) timeout() time.Duration {
	if h.Timeout <= 0 {
		return DefaultTimeout
	}
	return h.Timeout
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	// The page fetches api/tree relative to its own address, which must
	// therefore end in a slash: /debug/arbor redirects to /debug/arbor/.
	// The request URI is the one the client sent, before any StripPrefix.
	if p := requestPath(r); r.URL.Path == "" && p != "" && !strings.HasSuffix(p, "/") {
		target := path.Base(p) + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", pageCSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Length", fmt.Sprint(len(page)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(page)
}

// requestPath is the path the client asked for, before any prefix was
// stripped.
func requestPath(r *http.Request) string {
	if r.RequestURI == "" {
		return r.URL.Path
	}
	p, _, _ := strings.Cut(r.RequestURI, "?")
	if i := strings.Index(p, "://"); i >= 0 { // absolute-form request URI
		if j := strings.Index(p[i+3:], "/"); j >= 0 {
			return p[i+3+j:]
		}
		return "/"
	}
	return p
}

func (h *Handler) serveTree(w http.ResponseWriter, r *http.Request) {
	tree, err := h.snapshot(r.Context())
	if err != nil {
		if r.Context().Err() != nil {
			return // the client has gone
		}
		jsonreply.Write(w, r, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	jsonreply.Write(w, r, http.StatusOK, tree)
}

// snapshot calls the Source, or joins the call already under way, so that
// however many pages poll a busy supervisor, at most one snapshot request
// waits in its mailbox at a time. The call runs in the goroutine of the
// request that started it, bounded by Timeout, even if that request's client
// leaves; ctx bounds only the wait.
func (h *Handler) snapshot(ctx context.Context) (Tree, error) {
	h.mu.Lock()
	f := h.flight
	lead := f == nil
	if lead {
		f = &flight{done: make(chan struct{})}
		h.flight = f
	}
	h.mu.Unlock()
	if lead {
		timeout := h.timeout()
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		f.tree, f.err = h.call(callCtx)
		if errors.Is(f.err, context.DeadlineExceeded) && callCtx.Err() != nil {
			f.err = fmt.Errorf("no snapshot within %v: a supervisor is busy (a start function or a shutdown runs in its loop)", timeout)
		}
		cancel()
		var procs map[string]procRef
		if f.err == nil {
			procs = index(f.tree) // outside the lock: it walks the whole tree
		}
		h.mu.Lock()
		h.flight = nil
		if f.err == nil {
			h.procs = procs
		}
		h.mu.Unlock()
		close(f.done)
	}
	select {
	case <-f.done:
		return f.tree, f.err
	case <-ctx.Done():
		return Tree{}, ctx.Err()
	}
}

// call runs the Source, turning a panic into an error so that one bad
// Source cannot leave the flight open forever.
func (h *Handler) call(ctx context.Context) (tree Tree, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("observer: source panicked: %v", v)
		}
	}()
	if h.Source == nil {
		return Tree{}, errors.New("observer: no source")
	}
	tree, err = h.Source(ctx)
	if tree.Applications == nil {
		tree.Applications = []runtime.ApplicationSnapshot{}
	}
	if tree.Supervisors == nil {
		tree.Supervisors = []runtime.SupervisorSnapshot{}
	}
	return tree, err
}
