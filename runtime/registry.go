package runtime

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Registry maps unique keys to processes, as Elixir's Registry with unique
// keys: a key names at most one live process, a process may hold many keys,
// and a process's keys go away when it exits. A lookup never returns a
// process that has exited, even in the moment before its entries are
// cleaned up. A Registry is safe for concurrent use; make one with
// NewRegistry.
//
// Unlike Elixir's, the registry is not a process: it is a map under a lock
// that watches the processes it holds, so it needs no place in a tree.
type Registry[K comparable] struct {
	mu      sync.Mutex
	entries map[K]*regEntry
	holders map[*process]*regHolder[K]
}

// regEntry is a key's holder, or a LookupOrStart in progress.
type regEntry struct {
	proc     *process
	starting chan struct{} // closed when the start in progress ends; nil otherwise
}

// regHolder watches one process for its registry and knows its keys.
type regHolder[K comparable] struct {
	r    *Registry[K]
	keys []K
}

// NewRegistry returns an empty registry.
func NewRegistry[K comparable]() *Registry[K] {
	return &Registry[K]{entries: make(map[K]*regEntry), holders: make(map[*process]*regHolder[K])}
}

// Register registers h under key. It returns an *AlreadyStartedError
// (ErrAlreadyStarted) naming the holder when a live process holds key, h
// itself included (Elixir's {:error, {:already_registered, pid}}), and
// ErrNoProc when h is not running. A holder that has exited but is not yet
// cleaned up is replaced.
func (r *Registry[K]) Register(key K, h Handle) error {
	if h.p == nil {
		return ErrNoProc
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[key]; ok {
		switch {
		case e.starting != nil:
			return &AlreadyStartedError{}
		case e.proc.handle().Alive():
			return &AlreadyStartedError{Handle: e.proc.handle()}
		}
		r.dropLocked(key, e.proc)
	}
	return r.putLocked(key, h.p)
}

// putLocked records p as key's holder, watching p if it is new to r.
func (r *Registry[K]) putLocked(key K, p *process) error {
	holder, ok := r.holders[p]
	if !ok {
		holder = &regHolder[K]{r: r}
		if !p.watch(holder) {
			return ErrNoProc
		}
		r.holders[p] = holder
	}
	holder.keys = append(holder.keys, key)
	r.entries[key] = &regEntry{proc: p}
	return nil
}

// dropLocked removes key from p's keys and from the entries.
func (r *Registry[K]) dropLocked(key K, p *process) {
	delete(r.entries, key)
	holder := r.holders[p]
	if holder == nil {
		return
	}
	if i := slices.Index(holder.keys, key); i >= 0 {
		holder.keys = slices.Delete(holder.keys, i, i+1)
	}
	if len(holder.keys) == 0 {
		delete(r.holders, p)
		p.unwatch(holder)
	}
}

// processExited removes every key of the exited process.
func (h *regHolder[K]) processExited(p *process, _ error) {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.holders[p] != h {
		return
	}
	delete(r.holders, p)
	for _, key := range h.keys {
		if e, ok := r.entries[key]; ok && e.proc == p {
			delete(r.entries, key)
		}
	}
}

// Unregister removes key, whoever holds it. Removing a key that is not
// registered does nothing.
func (r *Registry[K]) Unregister(key K) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[key]; ok && e.starting == nil {
		r.dropLocked(key, e.proc)
	}
}

// Lookup returns the live process registered under key.
func (r *Registry[K]) Lookup(key K) (Handle, bool) {
	r.mu.Lock()
	e, ok := r.entries[key]
	r.mu.Unlock()
	if !ok || e.proc == nil {
		return Handle{}, false
	}
	h := e.proc.handle()
	return h, h.Alive()
}

// Keys returns the keys that h holds, in registration order.
func (r *Registry[K]) Keys(h Handle) []K {
	r.mu.Lock()
	defer r.mu.Unlock()
	if holder := r.holders[h.p]; holder != nil && h.p != nil {
		return slices.Clone(holder.keys)
	}
	return nil
}

// Len returns how many keys are registered to live or not yet cleaned-up
// processes.
func (r *Registry[K]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.entries {
		if e.starting == nil {
			n++
		}
	}
	return n
}

// LookupOrStart returns the live process registered under key or, when there
// is none, calls start and registers the process it returns. Concurrent calls
// for the same key are race-free: exactly one runs start, and the others
// wait for its outcome (or for their ctx) and return the same process. An
// error from start is returned to the caller that ran it; a waiting caller
// then tries again.
//
// However start ends, the key is not left held: a panic or runtime.Goexit in
// start releases it (and goes on in the caller, whose goroutine start runs
// in), and a start that is still running when its caller's ctx ends releases
// it then, so that a waiting caller can try again. Such a late start, when it
// does return a process, registers it if the key is still free, and
// otherwise returns an *AlreadyStartedError naming the holder; the process
// it started is then the caller's to stop.
//
// start typically starts a child under a dynamic supervisor; that child must
// not also register key itself.
func (r *Registry[K]) LookupOrStart(ctx context.Context, key K, start func(ctx context.Context) (Handle, error)) (Handle, error) {
	for {
		r.mu.Lock()
		e, ok := r.entries[key]
		switch {
		case ok && e.starting != nil:
			wait := e.starting
			r.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return Handle{}, ctx.Err()
			}
		case ok && e.proc.handle().Alive():
			r.mu.Unlock()
			return e.proc.handle(), nil
		case ok:
			r.dropLocked(key, e.proc)
		}
		pending := &regEntry{starting: make(chan struct{})}
		r.entries[key] = pending
		r.mu.Unlock()
		return r.runStart(ctx, key, pending, start)
	}
}

// runStart runs a LookupOrStart's start while pending holds key, and
// registers what it started.
func (r *Registry[K]) runStart(ctx context.Context, key K, pending *regEntry, start func(ctx context.Context) (Handle, error)) (Handle, error) {
	stopRelease := context.AfterFunc(ctx, func() { r.release(key, pending) })
	returned := false
	defer func() {
		stopRelease()
		if !returned { // start panicked or called runtime.Goexit
			r.release(key, pending)
		}
	}()
	h, err := start(ctx)
	returned = true

	r.mu.Lock()
	defer r.mu.Unlock()
	held := r.entries[key] == pending
	if held {
		delete(r.entries, key)
		close(pending.starting)
	}
	switch {
	case err != nil:
		return Handle{}, err
	case h.p == nil:
		return Handle{}, ErrNoProc
	}
	if !held { // released when ctx ended: take the key only if it is free
		if e, ok := r.entries[key]; ok {
			if e.starting != nil {
				return Handle{}, &AlreadyStartedError{}
			}
			if e.proc.handle().Alive() {
				return Handle{}, &AlreadyStartedError{Handle: e.proc.handle()}
			}
			r.dropLocked(key, e.proc)
		}
	}
	if err := r.putLocked(key, h.p); err != nil {
		return Handle{}, err
	}
	return h, nil
}

// release frees key from a start in progress, if pending still holds it,
// and wakes the callers waiting for that start.
func (r *Registry[K]) release(key K, pending *regEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.entries[key] == pending {
		delete(r.entries, key)
		close(pending.starting)
	}
}

// Name returns the name under which a child spec registers its process
// here, as OTP's {via, Registry, Key}: see ChildSpec.Name.
func (r *Registry[K]) Name(key K) Name {
	return regName[K]{r: r, key: key}
}

// Name registers a child's process when it starts, for ChildSpec.Name. Make
// one with Registry.Name.
type Name interface {
	register(h Handle) error
	String() string
}

type regName[K comparable] struct {
	r   *Registry[K]
	key K
}

func (n regName[K]) register(h Handle) error { return n.r.Register(n.key, h) }
func (n regName[K]) String() string          { return fmt.Sprint(n.key) }
