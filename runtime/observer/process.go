package observer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"time"

	"github.com/arborgo/arbor/internal/goroutines"
	"github.com/arborgo/arbor/internal/jsonreply"
	arbor "github.com/arborgo/arbor/runtime"
)

// Process is what GET api/process returns for one process of the tree:
// what OTP's observer shows on a double-click.
type Process struct {
	// Info is the runtime's description: queue, links, monitors, names.
	Info arbor.ProcessInfo `json:"info"`
	// Labels are the pprof labels its goroutine carries; empty for a
	// process that carries none (a top-level supervisor serves in the
	// goroutine that called Serve).
	Labels map[string]string `json:"labels,omitempty"`
	// Goroutines are the goroutines carrying its labels, with their
	// stacks: its own and those it started, which inherit them. For an
	// application, those of its top supervisor's loop.
	Goroutines []Goroutine `json:"goroutines"`
	// Actions are the control actions the page may offer for it (see
	// Handler.Control); empty when control is off.
	Actions []string `json:"actions,omitempty"`
	// Gone says why there is nothing else to show: the handle names no
	// process of the tree (it has exited, or never was).
	Gone string `json:"gone,omitempty"`
}

// Goroutine is a group of goroutines with the same stack and labels.
type Goroutine struct {
	Count  int               `json:"count"`
	Labels map[string]string `json:"labels,omitempty"`
	// Stack is where they are, innermost call first, as "func file:line".
	Stack []string `json:"stack"`
}

// System is what GET api/system returns: the Go runtime's numbers.
type System struct {
	Goroutines int `json:"goroutines"`
	// HeapBytes is the memory of heap objects, live or not yet swept;
	// HeapGoalBytes the heap size at which the next GC starts; TotalBytes
	// all the memory the Go runtime has mapped.
	HeapBytes     uint64 `json:"heap_bytes"`
	HeapGoalBytes uint64 `json:"heap_goal_bytes"`
	TotalBytes    uint64 `json:"total_bytes"`
	// GCCycles counts completed garbage collections; LastGC is when the
	// latest ended, LastPause how long it stopped the world, PauseTotal
	// all of them together.
	GCCycles   int64         `json:"gc_cycles"`
	LastGC     time.Time     `json:"last_gc,omitzero"`
	LastPause  time.Duration `json:"last_gc_pause_ns"`
	PauseTotal time.Duration `json:"gc_pause_total_ns"`
	GOMAXPROCS int           `json:"gomaxprocs"`
	CPUs       int           `json:"cpus"`
	GoVersion  string        `json:"go_version"`
	// Started is when the program started (when its packages were
	// initialized); Uptime how long ago that was.
	Started time.Time     `json:"started"`
	Uptime  time.Duration `json:"uptime_ns"`
	// Control says whether the page may restart and stop children
	// (Handler.Control).
	Control bool `json:"control"`
}

// started is when the program's packages were initialized: its start, for
// the uptime. It never changes.
var started = time.Now()

// system reads the Go runtime's numbers. It stops nothing: runtime/metrics
// and debug.ReadGCStats read under the runtime's own locks.
func (h *Handler) system() System {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/goal:bytes"},
		{Name: "/memory/classes/total:bytes"},
	}
	metrics.Read(samples)
	value := func(s metrics.Sample) uint64 {
		if s.Value.Kind() == metrics.KindUint64 {
			return s.Value.Uint64()
		}
		return 0
	}
	var gc debug.GCStats
	debug.ReadGCStats(&gc)
	s := System{
		Goroutines: runtime.NumGoroutine(), HeapBytes: value(samples[0]), HeapGoalBytes: value(samples[1]), TotalBytes: value(samples[2]),
		GCCycles: gc.NumGC, LastGC: gc.LastGC, PauseTotal: gc.PauseTotal,
		GOMAXPROCS: runtime.GOMAXPROCS(0), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		Started: started, Uptime: time.Since(started), Control: h.Control,
	}
	if len(gc.Pause) > 0 {
		s.LastPause = gc.Pause[0]
	}
	return s
}

// procRef is where a process sits in the latest tree.
type procRef struct {
	h       arbor.Handle
	kind    string               // "child", "supervisor" or "application"
	child   *arbor.ChildSnapshot // for a child
	dynamic bool                 // a child of a dynamic supervisor
}

// index maps the handles of a tree's processes, and of its supervisors, to
// where they are.
func index(tree Tree) map[string]procRef {
	idx := map[string]procRef{}
	var walk func(s *arbor.SupervisorSnapshot)
	walk = func(s *arbor.SupervisorSnapshot) {
		if _, ok := idx[s.Handle]; !ok && !s.Process.IsZero() {
			idx[s.Handle] = procRef{h: s.Process, kind: "supervisor"}
		}
		for i := range s.Children {
			c := &s.Children[i]
			if c.Handle != "" && !c.Process.IsZero() {
				idx[c.Handle] = procRef{h: c.Process, kind: "child", child: c, dynamic: s.Dynamic}
			}
			if c.Supervisor != nil {
				walk(c.Supervisor)
			}
		}
	}
	for _, a := range tree.Applications {
		if !a.Process.IsZero() {
			idx[a.Handle] = procRef{h: a.Process, kind: "application"}
		}
		if a.Tree != nil {
			walk(a.Tree)
		}
	}
	for i := range tree.Supervisors {
		walk(&tree.Supervisors[i])
	}
	return idx
}

// lookup finds the process named handle in the latest tree, or in a fresh
// one when the latest does not have it.
func (h *Handler) lookup(ctx context.Context, handle string) (procRef, error) {
	h.mu.Lock()
	ref, ok := h.procs[handle]
	h.mu.Unlock()
	if ok {
		return ref, nil
	}
	if _, err := h.snapshot(ctx); err != nil {
		return procRef{}, err
	}
	h.mu.Lock()
	ref, ok = h.procs[handle]
	h.mu.Unlock()
	if !ok {
		return procRef{}, errNoSuchProcess
	}
	return ref, nil
}

var errNoSuchProcess = errors.New("no such process in the tree: it has exited, or never was")

// process describes the process ref.
func (h *Handler) process(ref procRef) (Process, error) {
	p := Process{Info: ref.h.Info(), Goroutines: []Goroutine{}}
	var want map[string]string
	switch ref.kind {
	case "child":
		want = ref.h.ProfileLabels()
	case "application":
		want = map[string]string{arbor.LabelApplication: ref.h.Path()} // an application's process is named after it
	}
	if len(want) > 0 {
		groups, err := goroutines.Profile()
		if err != nil {
			return Process{}, err
		}
		for _, g := range goroutines.Matching(groups, want) {
			if _, child := g.Labels[arbor.LabelChild]; ref.kind == "application" && child {
				continue // a child's, below the application
			}
			stack := make([]string, len(g.Stack))
			for i, f := range g.Stack {
				stack[i] = f.String()
			}
			p.Goroutines = append(p.Goroutines, Goroutine{Count: g.Count, Labels: g.Labels, Stack: stack})
		}
		p.Labels = want
	}
	if h.Control && ref.kind == "child" {
		p.Actions = actions(ref)
	}
	return p, nil
}

// actions are the control actions for a child.
func actions(ref procRef) []string {
	switch {
	case ref.dynamic:
		return []string{"stop"}
	case ref.child.State == arbor.StateRestarting:
		return []string{"stop"}
	case ref.child.State == arbor.StateRunning:
		return []string{"restart", "stop"}
	}
	return []string{"start"}
}

func (h *Handler) serveProcess(w http.ResponseWriter, r *http.Request) {
	handle := r.URL.Query().Get("handle")
	if handle == "" {
		jsonreply.Write(w, r, http.StatusBadRequest, map[string]string{"error": "api/process needs ?handle=, a process's handle such as store/cache#2"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout())
	defer cancel()
	ref, err := h.lookup(ctx, handle)
	if errors.Is(err, errNoSuchProcess) {
		// A process may exit between two looks at the tree: that is an
		// answer, not an error.
		jsonreply.Write(w, r, http.StatusOK, Process{
			Info:       arbor.ProcessInfo{Handle: handle, Links: []string{}, MonitoredBy: []arbor.MonitorInfo{}, RegisteredNames: []string{}},
			Goroutines: []Goroutine{}, Gone: errNoSuchProcess.Error(),
		})
		return
	}
	if err != nil {
		jsonreply.Write(w, r, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	p, err := h.process(ref)
	if err != nil {
		jsonreply.Write(w, r, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	jsonreply.Write(w, r, http.StatusOK, p)
}

func (h *Handler) serveSystem(w http.ResponseWriter, r *http.Request) {
	jsonreply.Write(w, r, http.StatusOK, h.system())
}

// ControlRequest is the body of POST api/control.
type ControlRequest struct {
	// Action is "restart" (a running child of a static supervisor: stop it
	// as its shutdown says, then start it again, OTP's terminate_child and
	// restart_child), "start" (a stopped one: restart_child) or "stop"
	// (terminate_child; for a child of a dynamic supervisor, by its handle).
	Action string `json:"action"`
	// Supervisor is the handle of the child's supervisor.
	Supervisor string `json:"supervisor"`
	// ID is the child's id, for a child of a static supervisor.
	ID string `json:"id,omitempty"`
	// Handle is the child's running incarnation, for a child of a dynamic
	// supervisor.
	Handle string `json:"handle,omitempty"`
}

// ControlTimeout bounds one control action: stopping a child waits for its
// shutdown.
const ControlTimeout = time.Minute

func (h *Handler) serveControl(w http.ResponseWriter, r *http.Request) {
	if !h.Control {
		jsonreply.Write(w, r, http.StatusForbidden, map[string]string{"error": "control is off: the program has not set observer.Handler.Control"})
		return
	}
	if err := controlHost(r, h.ControlHosts); err != nil {
		jsonreply.Write(w, r, http.StatusForbidden, map[string]string{"error": err.Error()})
		return
	}
	if err := sameOrigin(r); err != nil {
		jsonreply.Write(w, r, http.StatusForbidden, map[string]string{"error": err.Error()})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		jsonreply.Write(w, r, http.StatusUnsupportedMediaType, map[string]string{"error": "api/control takes application/json"})
		return
	}
	var req ControlRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		jsonreply.Write(w, r, http.StatusBadRequest, map[string]string{"error": "bad request: " + err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), ControlTimeout)
	defer cancel()
	result, err := h.control(ctx, req)
	if err != nil {
		status := http.StatusConflict
		var bad badRequest
		if errors.As(err, &bad) {
			status = http.StatusBadRequest
		}
		jsonreply.Write(w, r, status, map[string]string{"error": err.Error()})
		return
	}
	jsonreply.Write(w, r, http.StatusOK, map[string]string{"result": result})
}

type badRequest string

func (b badRequest) Error() string { return string(b) }

// control runs one action and says what came of it.
func (h *Handler) control(ctx context.Context, req ControlRequest) (string, error) {
	ref, err := h.lookup(ctx, req.Supervisor)
	if err != nil {
		return "", badRequest(fmt.Sprintf("no supervisor %q in the tree", req.Supervisor))
	}
	if d, ok := arbor.DynamicSupervisorOf(ref.h); ok {
		if req.Action != "stop" {
			return "", badRequest(fmt.Sprintf("a dynamic supervisor's child can only be stopped from here, not %q", req.Action))
		}
		child, err := h.lookup(ctx, req.Handle)
		if err != nil {
			return "", badRequest(fmt.Sprintf("no child %q in the tree", req.Handle))
		}
		if err := d.TerminateChild(ctx, child.h); err != nil {
			return "", err
		}
		return "stopped " + req.Handle, nil
	}
	sup, ok := arbor.SupervisorOf(ref.h)
	if !ok {
		return "", badRequest(fmt.Sprintf("%q is not a supervisor", req.Supervisor))
	}
	switch req.Action {
	case "stop":
		if err := sup.TerminateChild(ctx, req.ID); err != nil {
			return "", err
		}
		return "stopped " + req.ID, nil
	case "restart", "start":
		if req.Action == "restart" {
			if err := sup.TerminateChild(ctx, req.ID); err != nil {
				return "", err
			}
		}
		nh, err := sup.RestartChild(ctx, req.ID)
		if err != nil {
			return "", err
		}
		return "started " + nh.String(), nil
	}
	return "", badRequest(fmt.Sprintf("unknown action %q: restart, start or stop", req.Action))
}

// controlHost refuses a control request whose Host is neither a loopback
// name or address nor one of allowed: behind a rebound name, a page of
// another site is "same origin" to the browser, but its Host gives it away.
func controlHost(r *http.Request, allowed []string) error {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || slices.Contains(allowed, host) {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("a control request must come to a loopback address or to one of Handler.ControlHosts (Host %q)", r.Host)
}

// sameOrigin refuses a request that a page of another origin sent: only
// the observer's own page may control the tree.
func sameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return fmt.Errorf("a control request must come from the observer's own page (Sec-Fetch-Site: %s)", site)
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return fmt.Errorf("a control request must come from the observer's own page (Origin %q, Host %q)", origin, r.Host)
		}
	}
	return nil
}
