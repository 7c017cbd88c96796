package runtime

import (
	"context"
)

// UniqueRegistry maps unique keys to processes, each with a value of type
// V, as Elixir's Registry with keys: :unique. A key names at most one live
// process, a process may hold many keys, and a process's keys go away
// when it exits — including when the runtime gives up on it (see "Given up
// means dead" in the package documentation). A lookup never returns a
// process that has exited, even in the moment before its entries are
// cleaned up.
//
// Beyond naming processes (Name for ChildSpec.Name, race-free
// LookupOrStart), a unique registry stores a value with each entry,
// which only its owner updates (UpdateValue); counts and selects entries
// by predicate; dispatches to an entry; keeps registry-wide metadata;
// tells listeners of registrations; and splits into partitions, by key,
// so that a busy registry is not one lock (RegistryOptions.Partitions).
//
// Its zero value is an empty registry of one partition, with no name;
// NewUniqueRegistry sets options. A UniqueRegistry is safe for concurrent
// use and must not be copied after first use. No method blocks, except
// LookupOrStart, which waits for a start in progress; none runs user code
// while holding the registry's locks.
//
// Unlike Elixir's, a registry is not a process: it is a set of maps under
// locks that watch the processes they hold, so it needs no place in a tree.
type UniqueRegistry[K comparable, V any] struct {
	t regTable[K, V]
}

// Registry is a unique registry without values: what names processes, as
// spec registries do. NewRegistry makes one.
type Registry[K comparable] = UniqueRegistry[K, struct{}]

// NewRegistry returns an empty Registry of one partition.
func NewRegistry[K comparable]() *Registry[K] {
	return NewUniqueRegistry[K, struct{}](RegistryOptions{})
}

// NewUniqueRegistry returns an empty unique registry with opts. It panics
// if opts.Partitions is negative.
func NewUniqueRegistry[K comparable, V any](opts RegistryOptions) *UniqueRegistry[K, V] {
	r := new(UniqueRegistry[K, V])
	r.t.once.Do(func() { r.t.setup(kindUnique, opts) })
	return r
}

func (r *UniqueRegistry[K, V]) table() *regTable[K, V] {
	r.t.once.Do(func() { r.t.setup(kindUnique, RegistryOptions{}) })
	return &r.t
}

// Register registers h under key with the zero value; see RegisterValue.
func (r *UniqueRegistry[K, V]) Register(key K, h Handle) error {
	var zero V
	return r.RegisterValue(key, h, zero)
}

// RegisterValue registers h under key with value. It returns an
// *AlreadyStartedError (ErrAlreadyStarted) naming the holder when a live
// process holds key, h itself included (Elixir's {:error,
// {:already_registered, pid}}), and ErrNoProc when h is not running. A
// holder that has exited but is not yet cleaned up is replaced. Listeners
// are told of the registration.
func (r *UniqueRegistry[K, V]) RegisterValue(key K, h Handle, value V) error {
	if h.p == nil {
		return ErrNoProc
	}
	pt := r.table().keyPart(key)
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if err := pt.takeLocked(key); err != nil {
		return err
	}
	return pt.registerLocked(key, h.p, value)
}

// takeLocked makes key free to register: it returns an
// *AlreadyStartedError when a live process holds it or a start is in
// progress, and removes the entry of a holder that has exited.
func (pt *regPart[K, V]) takeLocked(key K) error {
	e := pt.uniqueLocked(key)
	switch {
	case e == nil:
		return nil
	case e.starting != nil:
		return &AlreadyStartedError{}
	case e.proc.handle().Alive():
		return &AlreadyStartedError{Handle: e.proc.handle()}
	}
	pt.removeLocked(e)
	return nil
}

// Unregister removes key, whoever holds it, and tells the listeners.
// Removing a key that is not registered, or that a LookupOrStart is
// starting, does nothing. (Elixir's unregister removes the calling
// process's key; arbor's names it by key, as a unique key has one holder.)
func (r *UniqueRegistry[K, V]) Unregister(key K) {
	t := r.table()
	pt := t.keyPart(key)
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if e := pt.uniqueLocked(key); e != nil && e.starting == nil {
		pt.removeLocked(e)
		t.notifyLocked(KeyUnregistered, Entry[K, V]{Key: key, Handle: e.proc.handle()})
	}
}

// Lookup returns the live process registered under key.
func (r *UniqueRegistry[K, V]) Lookup(key K) (Handle, bool) {
	e, ok := r.LookupEntry(key)
	return e.Handle, ok
}

// LookupEntry returns the entry under key, with its value, if its process
// is alive (Elixir's lookup).
func (r *UniqueRegistry[K, V]) LookupEntry(key K) (Entry[K, V], bool) {
	pt := r.table().keyPart(key)
	pt.mu.RLock()
	e := pt.uniqueLocked(key)
	if e == nil || e.proc == nil {
		pt.mu.RUnlock()
		return Entry[K, V]{}, false
	}
	entry := e.entry()
	pt.mu.RUnlock()
	if !entry.Handle.Alive() {
		return Entry[K, V]{}, false
	}
	return entry, true
}

// UpdateValue updates the value of key, if the process of ctx (see Self)
// holds it: only a key's owner updates its value, as Elixir's
// update_value. It calls update with the current value, holding none of
// the registry's locks, stores what update returns, and returns the new
// and the old value. ok is false, and update is not called, when ctx's
// process does not hold key; it is false too, and the new value dropped,
// when the key was unregistered while update ran. Concurrent updates of one
// entry run one at a time. A panic in update goes on in the caller, and
// leaves the value as it was.
func (r *UniqueRegistry[K, V]) UpdateValue(ctx context.Context, key K, update func(old V) V) (newValue, oldValue V, ok bool) {
	p := Self(ctx).p
	if p == nil {
		return newValue, oldValue, false
	}
	pt := r.table().keyPart(key)
	pt.mu.RLock()
	e := pt.uniqueLocked(key)
	pt.mu.RUnlock()
	if e == nil || e.proc != p {
		return newValue, oldValue, false
	}
	e.update.Lock()
	defer e.update.Unlock()
	pt.mu.RLock()
	current := pt.uniqueLocked(key) == e
	oldValue = e.value
	pt.mu.RUnlock()
	if !current {
		return newValue, oldValue, false
	}
	newValue = update(oldValue)
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.uniqueLocked(key) != e {
		return newValue, oldValue, false
	}
	e.value = newValue
	return newValue, oldValue, true
}

// Keys returns the keys that h holds: in registration order in a registry
// of one partition, in no particular order otherwise.
func (r *UniqueRegistry[K, V]) Keys(h Handle) []K { return r.table().keys(h.p) }

// Count returns how many keys are registered to live or not yet
// cleaned-up processes (Elixir's count). It takes no lock.
func (r *UniqueRegistry[K, V]) Count() int { return r.table().count() }

// Len is Count, under the name it had before registries counted entries
// of many kinds.
func (r *UniqueRegistry[K, V]) Len() int { return r.Count() }

// CountMatch returns 1 if the live entry under key has a value that match
// accepts, and 0 otherwise (Elixir's count_match, with a Go predicate for
// a pattern). match runs with no lock held.
func (r *UniqueRegistry[K, V]) CountMatch(key K, match func(value V) bool) int {
	return len(r.Match(key, match))
}

// Match returns the live entry under key if match accepts its value
// (Elixir's match): none or one. match runs with no lock held.
func (r *UniqueRegistry[K, V]) Match(key K, match func(value V) bool) []Entry[K, V] {
	return r.table().appendEntries(nil, key, match)
}

// Select returns the live entries that match accepts, in no particular
// order (Elixir's select, with a Go predicate over key, process and value
// for a match spec). It copies one partition's entries at a time and runs
// match on the copy, with no lock held.
func (r *UniqueRegistry[K, V]) Select(match func(Entry[K, V]) bool) []Entry[K, V] {
	return r.table().selectEntries(match)
}

// CountSelect returns how many live entries match accepts (Elixir's
// count_select), as Select does.
func (r *UniqueRegistry[K, V]) CountSelect(match func(Entry[K, V]) bool) int {
	return len(r.Select(match))
}

// Dispatch calls f with the live entry under key, if there is one, in the
// caller's goroutine and with no lock held, and returns how many entries
// it called f with: 0 or 1 (Elixir's dispatch). A panic in f goes on in
// the caller.
func (r *UniqueRegistry[K, V]) Dispatch(key K, f func(Entry[K, V])) int {
	return r.table().dispatch(key, f)
}

// Meta returns the registry's metadata under key (Elixir's meta).
func (r *UniqueRegistry[K, V]) Meta(key string) (any, bool) { return r.table().getMeta(key) }

// PutMeta sets the registry's metadata under key (Elixir's put_meta).
func (r *UniqueRegistry[K, V]) PutMeta(key string, value any) { r.table().putMeta(key, value) }

// DeleteMeta removes the registry's metadata under key (Elixir's
// delete_meta).
func (r *UniqueRegistry[K, V]) DeleteMeta(key string) { r.table().deleteMeta(key) }

// Listen makes l a listener of the registry until stop is called or l's
// server exits: l is told of every registration and unregistration made
// after Listen returns, those of one partition (and so of one key) in the
// order they happen. A process's
// exit unregisters without telling listeners, as in Elixir: a listener
// that must know monitors the registered process (Server.Monitor). stop
// reports whether l was still listening. A Listener whose server has
// exited, or the zero Listener, listens to nothing.
//
// Elixir names its listeners when the registry starts; arbor's registries
// are made before the processes that listen, so those join with Listen,
// from their start function.
func (r *UniqueRegistry[K, V]) Listen(l Listener[K, V]) (stop func() bool) {
	return r.table().listen(l)
}

// Partitions returns how many partitions the registry has.
func (r *UniqueRegistry[K, V]) Partitions() int { return len(r.table().parts) }

// String describes the registry for people, with its name.
func (r *UniqueRegistry[K, V]) String() string { return r.table().String() }

// LookupOrStart returns the live process registered under key or, when there
// is none, calls start and registers the process it returns, with the zero
// value. Concurrent calls for the same key are race-free: exactly one runs
// start, and the others wait for its outcome (or for their ctx) and return
// the same process. An error from start is returned to the caller that ran
// it; a waiting caller then tries again.
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
func (r *UniqueRegistry[K, V]) LookupOrStart(ctx context.Context, key K, start func(ctx context.Context) (Handle, error)) (Handle, error) {
	pt := r.table().keyPart(key)
	for {
		pt.mu.Lock()
		e := pt.uniqueLocked(key)
		switch {
		case e != nil && e.starting != nil:
			wait := e.starting
			pt.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return Handle{}, ctx.Err()
			}
		case e != nil && e.proc.handle().Alive():
			pt.mu.Unlock()
			return e.proc.handle(), nil
		case e != nil:
			pt.removeLocked(e)
		}
		pending := &regEntry[K, V]{key: key, starting: make(chan struct{})}
		pt.linkLocked(pending)
		pt.mu.Unlock()
		return pt.runStart(ctx, pending, start)
	}
}

// runStart runs a LookupOrStart's start while pending holds its key, and
// registers what it started.
func (pt *regPart[K, V]) runStart(ctx context.Context, pending *regEntry[K, V], start func(ctx context.Context) (Handle, error)) (Handle, error) {
	stopRelease := context.AfterFunc(ctx, func() { pt.release(pending) })
	returned := false
	defer func() {
		stopRelease()
		if !returned { // start panicked or called runtime.Goexit
			pt.release(pending)
		}
	}()
	h, err := start(ctx)
	returned = true

	pt.mu.Lock()
	defer pt.mu.Unlock()
	held := pt.releaseLocked(pending)
	switch {
	case err != nil:
		return Handle{}, err
	case h.p == nil:
		return Handle{}, ErrNoProc
	}
	if !held { // released when ctx ended: take the key only if it is free
		if err := pt.takeLocked(pending.key); err != nil {
			return Handle{}, err
		}
	}
	if err := pt.registerLocked(pending.key, h.p, pending.value); err != nil {
		return Handle{}, err
	}
	return h, nil
}

// release frees the key of a start in progress, if pending still holds it,
// and wakes the callers waiting for that start.
func (pt *regPart[K, V]) release(pending *regEntry[K, V]) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	pt.releaseLocked(pending)
}

// releaseLocked is release with the lock held; it reports whether pending
// held its key.
func (pt *regPart[K, V]) releaseLocked(pending *regEntry[K, V]) bool {
	if pt.uniqueLocked(pending.key) != pending {
		return false
	}
	pt.unlinkLocked(pending)
	close(pending.starting)
	return true
}

// Name returns the name under which a child spec registers its process
// here, with the zero value, as OTP's {via, Registry, Key}: see
// ChildSpec.Name.
func (r *UniqueRegistry[K, V]) Name(key K) Name {
	var zero V
	return r.NameValue(key, zero)
}

// NameValue is Name with a value for the entry, as Elixir's {:via,
// Registry, {registry, key, value}}.
func (r *UniqueRegistry[K, V]) NameValue(key K, value V) Name {
	return regName[K, V]{r: r, key: key, value: value}
}

// Name registers a child's process when it starts, for ChildSpec.Name. Make
// one with UniqueRegistry.Name or NameValue. Its String is the name as
// snapshots show it: "registry/key", or the key alone when the registry
// has no name.
type Name interface {
	register(h Handle) error
	String() string
}

type regName[K comparable, V any] struct {
	r     *UniqueRegistry[K, V]
	key   K
	value V
}

func (n regName[K, V]) register(h Handle) error { return n.r.RegisterValue(n.key, h, n.value) }
func (n regName[K, V]) String() string          { return n.r.table().nameOf(n.key) }
