package runtime

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// lingerSet lists the goroutines that outlive their process: the runtime
// gave up on the process (kill), so it is dead, but Go cannot stop the
// goroutine, which runs on until Serve returns. It is the one leak that Go
// imposes on a supervision tree, so introspection shows it. One set serves
// every process below a root; it is safe for concurrent use.
type lingerSet struct {
	mu sync.Mutex
	m  map[*process]lingering
}

type lingering struct {
	gaveUp   time.Time
	shutdown ShutdownSpec
}

func (s *lingerSet) add(p *process, gaveUp time.Time, shutdown ShutdownSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[*process]lingering)
	}
	s.m[p] = lingering{gaveUp: gaveUp, shutdown: shutdown}
}

func (s *lingerSet) remove(p *process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, p)
}

// under lists the lingering goroutines of processes whose path starts with
// prefix + "/", oldest first, with how long each has outlived its shutdown
// at now.
func (s *lingerSet) under(prefix string, now time.Time) []LingeringGoroutine {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []LingeringGoroutine
	for p, l := range s.m {
		path := p.path()
		if !strings.HasPrefix(path, prefix+"/") {
			continue
		}
		out = append(out, LingeringGoroutine{
			ID:       p.id(),
			Path:     path,
			Handle:   p.handle().String(),
			Shutdown: l.shutdown.String(),
			GaveUpAt: l.gaveUp,
			Outlived: max(now.Sub(l.gaveUp), 0),
		})
	}
	sortLingering(out)
	return out
}

// lingeringSet returns the set of the root p, making it on first use.
func (p *process) lingeringSet() *lingerSet {
	p.mu.Lock()
	defer p.mu.Unlock()
	ext := p.extLocked()
	if ext.lingering == nil {
		ext.lingering = &lingerSet{}
	}
	return ext.lingering
}

// LingeringGoroutine is the goroutine of a process that its supervisor gave
// up on, when it outlived its shutdown (or at once, for brutal_kill), and
// that has not returned yet. The process is dead: its names are free, its
// monitors and links have fired with ErrKilled, and a new incarnation may
// run. But its goroutine still runs, and may still act (write to a
// connection, call a server) until its Serve returns: a service must honour
// its context for this list to stay empty.
type LingeringGoroutine struct {
	// ID is the child's id (empty for a child of a dynamic supervisor
	// that has none).
	ID string `json:"id"`
	// Path is where the process was in the tree: "app/sup/child".
	Path string `json:"path"`
	// Handle names the dead incarnation.
	Handle string `json:"handle"`
	// Shutdown is the child's shutdown value when it was given up on.
	Shutdown string `json:"shutdown"`
	// GaveUpAt is when its supervisor gave up on it, by that supervisor's
	// clock; Outlived is how long ago that was, at the snapshot.
	GaveUpAt time.Time     `json:"gave_up_at"`
	Outlived time.Duration `json:"outlived_ns"`
}

// sortLingering orders ls oldest first, then by handle.
func sortLingering(ls []LingeringGoroutine) {
	slices.SortFunc(ls, func(a, b LingeringGoroutine) int {
		if c := a.GaveUpAt.Compare(b.GaveUpAt); c != 0 {
			return c
		}
		return strings.Compare(a.Handle, b.Handle)
	})
}
