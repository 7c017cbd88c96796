package runtime

import (
	"slices"
	"strconv"
)

// RegistryEventKind says what a RegistryEvent reports.
type RegistryEventKind uint8

const (
	// KeyRegistered: a process registered under a key (Elixir's
	// {:register, registry, key, pid, value}).
	KeyRegistered RegistryEventKind = iota + 1
	// KeyUnregistered: a key was unregistered (Elixir's {:unregister,
	// registry, key, pid}). A process's exit is not an unregistration and
	// is not reported: a listener that needs to know monitors the process.
	KeyUnregistered
)

// String returns Elixir's name of the event: "register" or "unregister".
func (k RegistryEventKind) String() string {
	switch k {
	case KeyRegistered:
		return "register"
	case KeyUnregistered:
		return "unregister"
	}
	return "RegistryEventKind(" + strconv.Itoa(int(k)) + ")"
}

// RegistryEvent is what a registry tells its listeners. For KeyRegistered,
// the Entry is the new registration, with its value; for KeyUnregistered,
// it names the key and the process whose entries under it were removed,
// and Value is the zero V.
type RegistryEvent[K comparable, V any] struct {
	Kind RegistryEventKind
	Entry[K, V]
}

// Listener delivers a registry's events to a server's queue, as Elixir's
// :listeners are processes that receive them as messages. Make one with
// NewListener and pass it to the registry's Listen. The zero Listener
// listens to nothing.
type Listener[K comparable, V any] struct {
	proc    *process
	deliver func(RegistryEvent[K, V])
}

// NewListener returns a Listener that queues each event on srv, where
// handle runs with the server's state as a Cast handler does: after the
// handlers queued before it, and an error from it stops the server.
func NewListener[S any, K comparable, V any](srv *Server[S], handle func(state *S, ev RegistryEvent[K, V]) error) Listener[K, V] {
	if srv == nil {
		return Listener[K, V]{}
	}
	return Listener[K, V]{proc: srv.proc, deliver: func(ev RegistryEvent[K, V]) {
		srv.push(func(s *S) error { return handle(s, ev) })
	}}
}

// regListener is a listener of one registry; it watches its process, and
// leaves the registry when the process exits.
type regListener[K comparable, V any] struct {
	t       *regTable[K, V]
	deliver func(RegistryEvent[K, V])
}

func (l *regListener[K, V]) processExited(*process, error) { l.t.removeListener(l) }

// listen adds l to the listeners until stop is called or its process
// exits.
func (t *regTable[K, V]) listen(l Listener[K, V]) (stop func() bool) {
	if l.proc == nil {
		return func() bool { return false }
	}
	rl := &regListener[K, V]{t: t, deliver: l.deliver}
	t.listenMu.Lock()
	if !l.proc.watch(rl) {
		t.listenMu.Unlock()
		return func() bool { return false }
	}
	var ls []*regListener[K, V]
	if cur := t.listeners.Load(); cur != nil {
		ls = slices.Clone(*cur)
	}
	ls = append(ls, rl)
	t.listeners.Store(&ls)
	t.listenMu.Unlock()
	return func() bool {
		l.proc.unwatch(rl)
		return t.removeListener(rl)
	}
}

// removeListener removes l and reports whether it was listening.
func (t *regTable[K, V]) removeListener(l *regListener[K, V]) bool {
	t.listenMu.Lock()
	defer t.listenMu.Unlock()
	cur := t.listeners.Load()
	if cur == nil {
		return false
	}
	i := slices.Index(*cur, l)
	if i < 0 {
		return false
	}
	ls := slices.Delete(slices.Clone(*cur), i, i+1)
	t.listeners.Store(&ls)
	return true
}

// notifyLocked queues an event on every listener. The caller holds the
// lock of the partition that changed, so that the events of each
// partition, and so of each key, reach every listener in the order of the
// changes; a delivery only appends to a server's queue.
func (t *regTable[K, V]) notifyLocked(kind RegistryEventKind, e Entry[K, V]) {
	ls := t.listeners.Load()
	if ls == nil {
		return
	}
	for _, l := range *ls {
		l.deliver(RegistryEvent[K, V]{Kind: kind, Entry: e})
	}
}
