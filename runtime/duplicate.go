package runtime

// DuplicateRegistry maps keys to any number of processes, each entry with
// a value of type V, as Elixir's Registry with keys: :duplicate: many live
// processes register under one key, a process that registers again under
// a key it holds adds another entry, and a lookup returns every entry. It
// is the local pub/sub of Elixir: processes register under a topic and a
// publisher dispatches to them (Subscribe and Publish do that for servers).
// A process's entries go away when it exits — including when the runtime
// gives up on it (see "Given up means dead" in the package documentation);
// lookups never return an entry of a process that has exited.
//
// It splits into partitions (RegistryOptions.Partitions): by process, as
// Elixir's default, so that registrations and exits touch one partition and
// lookups visit all; or by key (RegistryOptions.PartitionByKey), so that a
// lookup visits one.
//
// Its zero value is an empty registry of one partition, with no name;
// NewDuplicateRegistry sets options. A DuplicateRegistry is safe for
// concurrent use and must not be copied after first use. No method blocks
// or runs user code while holding the registry's locks. A duplicate
// registry names no child: a name is unique (Elixir raises for a {:via,
// Registry, ...} name in a duplicate registry; here there is no Name
// method).
type DuplicateRegistry[K comparable, V any] struct {
	t regTable[K, V]
}

// NewDuplicateRegistry returns an empty duplicate registry with opts. It
// panics if opts.Partitions is negative.
func NewDuplicateRegistry[K comparable, V any](opts RegistryOptions) *DuplicateRegistry[K, V] {
	r := new(DuplicateRegistry[K, V])
	r.t.once.Do(func() { r.t.setup(kindDuplicateProc, opts) })
	return r
}

func (r *DuplicateRegistry[K, V]) table() *regTable[K, V] {
	r.t.once.Do(func() { r.t.setup(kindDuplicateProc, RegistryOptions{}) })
	return &r.t
}

// Register adds an entry of h under key with the zero value; see
// RegisterValue.
func (r *DuplicateRegistry[K, V]) Register(key K, h Handle) error {
	var zero V
	return r.RegisterValue(key, h, zero)
}

// RegisterValue adds an entry of h under key with value, even if h already
// has entries under key (Elixir's register on a duplicate registry), and
// tells the listeners. It returns ErrNoProc when h is not running.
func (r *DuplicateRegistry[K, V]) RegisterValue(key K, h Handle, value V) error {
	return r.table().register(key, h.p, value)
}

// Unregister removes every entry of h under key (Elixir's unregister, for
// the process h), and tells the listeners once if there was any.
func (r *DuplicateRegistry[K, V]) Unregister(key K, h Handle) { r.table().unregister(key, h.p) }

// Lookup returns the entries under key whose processes are alive, in no
// particular order (Elixir's lookup).
func (r *DuplicateRegistry[K, V]) Lookup(key K) []Entry[K, V] {
	return r.table().appendEntries(nil, key, nil)
}

// Values returns the values of h's entries under key (Elixir's values).
func (r *DuplicateRegistry[K, V]) Values(key K, h Handle) []V { return r.table().values(key, h.p) }

// Keys returns the keys of h's entries, a key once per entry (Elixir's
// keys): in registration order in a registry partitioned by process or of
// one partition, in no particular order otherwise.
func (r *DuplicateRegistry[K, V]) Keys(h Handle) []K { return r.table().keys(h.p) }

// Count returns how many entries are registered to live or not yet
// cleaned-up processes (Elixir's count). It takes no lock.
func (r *DuplicateRegistry[K, V]) Count() int { return r.table().count() }

// CountMatch returns how many live entries under key have a value that
// match accepts (Elixir's count_match, with a Go predicate for a
// pattern). match runs with no lock held, on a copy of the entries.
func (r *DuplicateRegistry[K, V]) CountMatch(key K, match func(value V) bool) int {
	return len(r.Match(key, match))
}

// Match returns the live entries under key whose values match accepts
// (Elixir's match). match runs with no lock held, on a copy of the entries.
func (r *DuplicateRegistry[K, V]) Match(key K, match func(value V) bool) []Entry[K, V] {
	return r.table().appendEntries(nil, key, match)
}

// Select returns the live entries that match accepts, in no particular
// order (Elixir's select, with a Go predicate over key, process and value
// for a match spec). It copies one partition's entries at a time and runs
// match on the copy, with no lock held.
func (r *DuplicateRegistry[K, V]) Select(match func(Entry[K, V]) bool) []Entry[K, V] {
	return r.table().selectEntries(match)
}

// CountSelect returns how many live entries match accepts (Elixir's
// count_select), as Select does.
func (r *DuplicateRegistry[K, V]) CountSelect(match func(Entry[K, V]) bool) int {
	return len(r.Select(match))
}

// Dispatch calls f with every live entry under key, in the caller's
// goroutine and in no particular order, and returns how many entries it
// called f with (Elixir's dispatch). The entries are copied first, so no
// lock is held while f runs: f may register, unregister and look up. A
// panic in f goes on in the caller, and the remaining entries are skipped.
func (r *DuplicateRegistry[K, V]) Dispatch(key K, f func(Entry[K, V])) int {
	return r.table().dispatch(key, f)
}

// Meta returns the registry's metadata under key (Elixir's meta).
func (r *DuplicateRegistry[K, V]) Meta(key string) (any, bool) { return r.table().getMeta(key) }

// PutMeta sets the registry's metadata under key (Elixir's put_meta).
func (r *DuplicateRegistry[K, V]) PutMeta(key string, value any) { r.table().putMeta(key, value) }

// DeleteMeta removes the registry's metadata under key (Elixir's
// delete_meta).
func (r *DuplicateRegistry[K, V]) DeleteMeta(key string) { r.table().deleteMeta(key) }

// Listen makes l a listener of the registry, as UniqueRegistry.Listen
// does: every registration and unregistration made after Listen returns
// reaches l's server, those of one partition in the order they happen (so
// those of one key and process always; those of one key when the registry
// has one partition or is partitioned by key); a process's exit is not
// reported.
func (r *DuplicateRegistry[K, V]) Listen(l Listener[K, V]) (stop func() bool) {
	return r.table().listen(l)
}

// Partitions returns how many partitions the registry has.
func (r *DuplicateRegistry[K, V]) Partitions() int { return len(r.table().parts) }

// String describes the registry for people, with its name.
func (r *DuplicateRegistry[K, V]) String() string { return r.table().String() }
