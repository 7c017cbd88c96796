package runtime

import (
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// regTable is what UniqueRegistry and DuplicateRegistry are made of: the
// entries, split into partitions, each a map under its own lock; the
// registry's metadata; and its listeners.
//
// Locking: a partition's lock is taken before any process's lock (watch,
// unwatch, Alive) and before a server's queue lock (listener and pub/sub
// deliveries), never after them, and no user code ever runs under it.
// tellWatchers calls a holder's processExited holding no lock.
type regTable[K comparable, V any] struct {
	once  sync.Once
	kind  regKind
	name  string
	seed  maphash.Seed
	parts []*regPart[K, V]

	metaMu sync.RWMutex
	meta   map[string]any

	listenMu  sync.Mutex                           // serializes changes to listeners
	listeners atomic.Pointer[[]*regListener[K, V]] // copied on change; read without a lock
}

// regKind is how a registry holds keys and chooses an entry's partition.
type regKind uint8

const (
	kindUnique        regKind = iota // a key names one process; partitioned by key
	kindDuplicateProc                // many entries per key; partitioned by process
	kindDuplicateKey                 // many entries per key; partitioned by key
)

// regPart is one partition.
type regPart[K comparable, V any] struct {
	t  *regTable[K, V]
	mu sync.RWMutex
	// one holds a unique registry's entries, a key's entry possibly a
	// start in progress; many a duplicate registry's. The other is nil.
	one  map[K]*regEntry[K, V]
	many map[K][]*regEntry[K, V]
	// holders has, for each process with entries here, the watcher that
	// knows them.
	holders map[*process]*regHolder[K, V]
	n       atomic.Int64 // entries, not counting starts in progress
}

// regEntry is one registration, or, in a unique registry, a LookupOrStart
// in progress (proc nil, starting set).
type regEntry[K comparable, V any] struct {
	key      K
	proc     *process
	value    V             // written under the partition's lock
	starting chan struct{} // closed when the start in progress ends
	at       int           // its index in its key's slice, in a duplicate registry
	update   sync.Mutex    // serializes UpdateValue on this entry
}

func (e *regEntry[K, V]) entry() Entry[K, V] {
	return Entry[K, V]{Key: e.key, Handle: e.proc.handle(), Value: e.value}
}

// regHolder watches one process for one partition and lists its entries
// there, in registration order.
type regHolder[K comparable, V any] struct {
	part    *regPart[K, V]
	entries []*regEntry[K, V]
	first   [1]*regEntry[K, V] // entries' first array: most processes hold one name
}

// Entry is one registration: a key, the process registered under it, and
// the value it registered with.
type Entry[K comparable, V any] struct {
	Key    K
	Handle Handle
	Value  V
}

// RegistryOptions configures a registry made by NewUniqueRegistry or
// NewDuplicateRegistry: Elixir's Registry.start_link options. The zero
// value is a registry of one partition with no name and no metadata.
type RegistryOptions struct {
	// Name labels the registry for people: a supervisor's snapshot lists
	// a child's names as "name/key" (the key alone when Name is empty).
	Name string
	// Partitions splits the registry into that many partitions, each with
	// its own lock, so that changes and lookups on different partitions do
	// not wait for each other: a unique registry by the hash of the key, a
	// duplicate one by the process (or by the key, with PartitionByKey).
	// Zero means one; a good value for a busy registry is
	// runtime.GOMAXPROCS(0). A negative value panics.
	Partitions int
	// PartitionByKey, for a duplicate registry, chooses an entry's
	// partition by its key instead of by its process (Elixir's
	// {:duplicate, :key}): a lookup, Dispatch or Publish of a key then
	// visits one partition instead of all, which suits many keys with few
	// entries each. A unique registry always partitions by key.
	PartitionByKey bool
	// Meta is the registry's initial metadata (Elixir's :meta), copied.
	Meta map[string]any
}

// setup makes the partitions; it runs once, from a constructor or on the
// first use of a zero registry.
func (t *regTable[K, V]) setup(kind regKind, opts RegistryOptions) {
	n := opts.Partitions
	if n < 0 {
		panic(fmt.Sprintf("runtime: registry %q: Partitions is %d; want 0 (one partition) or more", opts.Name, n))
	}
	n = max(n, 1)
	if kind == kindDuplicateProc && opts.PartitionByKey {
		kind = kindDuplicateKey
	}
	t.kind, t.name, t.seed = kind, opts.Name, maphash.MakeSeed()
	t.parts = make([]*regPart[K, V], n)
	for i := range t.parts {
		pt := &regPart[K, V]{t: t, holders: make(map[*process]*regHolder[K, V])}
		if kind == kindUnique {
			pt.one = make(map[K]*regEntry[K, V])
		} else {
			pt.many = make(map[K][]*regEntry[K, V])
		}
		t.parts[i] = pt
	}
	if len(opts.Meta) > 0 {
		t.meta = maps.Clone(opts.Meta)
	}
}

// keyIndex returns the index of key's partition.
func (t *regTable[K, V]) keyIndex(key K) int {
	if len(t.parts) == 1 {
		return 0
	}
	return int(maphash.Comparable(t.seed, key) % uint64(len(t.parts)))
}

// procIndex returns the index of the partition of p's entries in a
// registry partitioned by process.
func (t *regTable[K, V]) procIndex(p *process) int {
	if len(t.parts) == 1 {
		return 0
	}
	return int(maphash.Comparable(t.seed, p) % uint64(len(t.parts)))
}

// keyPart returns the partition of key.
func (t *regTable[K, V]) keyPart(key K) *regPart[K, V] { return t.parts[t.keyIndex(key)] }

// partFor returns the partition where an entry of p under key goes.
func (t *regTable[K, V]) partFor(key K, p *process) *regPart[K, V] {
	if t.kind == kindDuplicateProc {
		return t.parts[t.procIndex(p)]
	}
	return t.keyPart(key)
}

// keyParts returns the partitions that may hold entries under key.
func (t *regTable[K, V]) keyParts(key K) []*regPart[K, V] {
	if t.kind == kindDuplicateProc {
		return t.parts
	}
	i := t.keyIndex(key)
	return t.parts[i : i+1]
}

// procParts returns the partitions that may hold entries of p.
func (t *regTable[K, V]) procParts(p *process) []*regPart[K, V] {
	if t.kind != kindDuplicateProc {
		return t.parts
	}
	i := t.procIndex(p)
	return t.parts[i : i+1]
}

// registerLocked records an entry of p under key and tells the listeners.
func (pt *regPart[K, V]) registerLocked(key K, p *process, value V) error {
	e, err := pt.addLocked(key, p, value)
	if err != nil {
		return err
	}
	pt.t.notifyLocked(KeyRegistered, e.entry())
	return nil
}

// addLocked records an entry of p under key, watching p from this
// partition if p is new here. It returns ErrNoProc when p has exited.
func (pt *regPart[K, V]) addLocked(key K, p *process, value V) (*regEntry[K, V], error) {
	h := pt.holders[p]
	if h == nil {
		h = &regHolder[K, V]{part: pt}
		h.entries = h.first[:0]
		if !p.watch(h) {
			return nil, ErrNoProc
		}
		pt.holders[p] = h
	}
	e := &regEntry[K, V]{key: key, proc: p, value: value}
	pt.linkLocked(e)
	h.entries = append(h.entries, e)
	pt.n.Add(1)
	return e, nil
}

// linkLocked adds e to its key's entries; in a unique registry, the key
// is free.
func (pt *regPart[K, V]) linkLocked(e *regEntry[K, V]) {
	if pt.one != nil {
		pt.one[e.key] = e
		return
	}
	es := pt.many[e.key]
	e.at = len(es)
	pt.many[e.key] = append(es, e)
}

// unlinkLocked removes e from its key's entries, moving the last one into
// its place: the entries of a key have no order.
func (pt *regPart[K, V]) unlinkLocked(e *regEntry[K, V]) {
	if pt.one != nil {
		delete(pt.one, e.key)
		return
	}
	es := pt.many[e.key]
	last := len(es) - 1
	if e.at != last {
		es[e.at] = es[last]
		es[e.at].at = e.at
	}
	es[last] = nil
	if last == 0 {
		delete(pt.many, e.key)
	} else {
		pt.many[e.key] = es[:last]
	}
}

// removeLocked removes the registration e (not a start in progress), and
// stops watching its process from here if it was the process's last.
func (pt *regPart[K, V]) removeLocked(e *regEntry[K, V]) {
	pt.unlinkLocked(e)
	pt.n.Add(-1)
	h := pt.holders[e.proc]
	if h == nil {
		return
	}
	if i := slices.Index(h.entries, e); i >= 0 {
		h.entries = slices.Delete(h.entries, i, i+1)
	}
	pt.dropIfEmptyLocked(e.proc, h)
}

// dropIfEmptyLocked forgets h, the holder of p, when p has no entries left
// here.
func (pt *regPart[K, V]) dropIfEmptyLocked(p *process, h *regHolder[K, V]) {
	if len(h.entries) == 0 {
		delete(pt.holders, p)
		p.unwatch(h)
	}
}

// uniqueLocked returns key's entry in a unique registry, or nil.
func (pt *regPart[K, V]) uniqueLocked(key K) *regEntry[K, V] { return pt.one[key] }

// processExited removes every entry of the exited process from the
// holder's partition. As in Elixir, listeners are not told: a process's
// exit is not an unregistration.
func (h *regHolder[K, V]) processExited(p *process, _ error) {
	pt := h.part
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.holders[p] != h {
		return
	}
	delete(pt.holders, p)
	for _, e := range h.entries {
		pt.unlinkLocked(e)
	}
	pt.n.Add(-int64(len(h.entries)))
	h.entries = nil
}

// appendNames appends the names the holder's process has in a unique
// registry, for snapshots. The keys are spelled after the lock is
// released: a key's String method is user code.
func (h *regHolder[K, V]) appendNames(names []string) []string {
	pt := h.part
	if pt.t.kind != kindUnique {
		return names
	}
	pt.mu.RLock()
	keys := make([]K, len(h.entries))
	for i, e := range h.entries {
		keys[i] = e.key
	}
	pt.mu.RUnlock()
	for _, key := range keys {
		names = append(names, pt.t.nameOf(key))
	}
	return names
}

// nameOf spells key as a name for people: "registry/key".
func (t *regTable[K, V]) nameOf(key K) string {
	if t.name == "" {
		return fmt.Sprint(key)
	}
	return t.name + "/" + fmt.Sprint(key)
}

// namesHolder is a watcher that knows names of its process.
type namesHolder interface {
	appendNames(names []string) []string
}

// registeredNames lists the names p holds in unique registries, as
// "registry/key", for snapshots: in the order p first registered in each
// registry's partition, then in registration order.
func (p *process) registeredNames() []string {
	p.mu.Lock()
	var ws []watcher
	if p.ext != nil {
		ws = slices.Clone(p.ext.watchers)
	}
	p.mu.Unlock()
	var names []string
	for _, w := range ws {
		if n, ok := w.(namesHolder); ok {
			names = n.appendNames(names)
		}
	}
	return names
}

// register adds an entry of p under key: the whole of a duplicate
// registry's Register.
func (t *regTable[K, V]) register(key K, p *process, value V) error {
	if p == nil {
		return ErrNoProc
	}
	pt := t.partFor(key, p)
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return pt.registerLocked(key, p, value)
}

// unregister removes every entry of p under key, and tells the listeners
// when there was one.
func (t *regTable[K, V]) unregister(key K, p *process) {
	if p == nil {
		return
	}
	pt := t.partFor(key, p)
	pt.mu.Lock()
	defer pt.mu.Unlock()
	h := pt.holders[p]
	if h == nil {
		return
	}
	removed := 0
	h.entries = slices.DeleteFunc(h.entries, func(e *regEntry[K, V]) bool {
		if e.key != key {
			return false
		}
		pt.unlinkLocked(e)
		removed++
		return true
	})
	if removed == 0 {
		return
	}
	pt.n.Add(-int64(removed))
	pt.dropIfEmptyLocked(p, h)
	t.notifyLocked(KeyUnregistered, Entry[K, V]{Key: key, Handle: p.handle()})
}

// appendEntries appends the entries under key whose processes are alive,
// and (with match) whose values match. match runs with no lock held.
func (t *regTable[K, V]) appendEntries(dst []Entry[K, V], key K, match func(V) bool) []Entry[K, V] {
	start := len(dst)
	for _, pt := range t.keyParts(key) {
		pt.mu.RLock()
		if e := pt.one[key]; e != nil && e.proc != nil {
			dst = append(dst, e.entry())
		}
		for _, e := range pt.many[key] {
			dst = append(dst, e.entry())
		}
		pt.mu.RUnlock()
	}
	if match == nil {
		return keepLive(dst, start, nil)
	}
	return keepLive(dst, start, func(e Entry[K, V]) bool { return match(e.Value) })
}

// keepLive drops from dst[start:] the entries whose process has exited or
// that keep (if not nil) rejects.
func keepLive[K comparable, V any](dst []Entry[K, V], start int, keep func(Entry[K, V]) bool) []Entry[K, V] {
	out := dst[:start]
	for _, e := range dst[start:] {
		if e.Handle.Alive() && (keep == nil || keep(e)) {
			out = append(out, e)
		}
	}
	return out
}

// dispatch calls f with every live entry under key, holding no lock, and
// returns how many there were.
func (t *regTable[K, V]) dispatch(key K, f func(Entry[K, V])) int {
	var buf [8]Entry[K, V]
	entries := t.appendEntries(buf[:0], key, nil)
	for _, e := range entries {
		f(e)
	}
	return len(entries)
}

// each calls f on every live entry under key in a duplicate registry,
// holding the partition's read lock: f must be the runtime's own code,
// which never blocks and never calls back into the registry (a delivery to
// a server's queue).
func (t *regTable[K, V]) each(key K, f func(*regEntry[K, V])) {
	for _, pt := range t.keyParts(key) {
		pt.mu.RLock()
		for _, e := range pt.many[key] {
			if e.proc.handle().Alive() {
				f(e)
			}
		}
		pt.mu.RUnlock()
	}
}

// keys returns the keys p holds, one per entry.
func (t *regTable[K, V]) keys(p *process) []K {
	if p == nil {
		return nil
	}
	var keys []K
	for _, pt := range t.procParts(p) {
		pt.mu.RLock()
		if h := pt.holders[p]; h != nil {
			for _, e := range h.entries {
				keys = append(keys, e.key)
			}
		}
		pt.mu.RUnlock()
	}
	return keys
}

// values returns the values of p's entries under key.
func (t *regTable[K, V]) values(key K, p *process) []V {
	if p == nil {
		return nil
	}
	var values []V
	pt := t.partFor(key, p)
	pt.mu.RLock()
	defer pt.mu.RUnlock()
	if h := pt.holders[p]; h != nil {
		for _, e := range h.entries {
			if e.key == key {
				values = append(values, e.value)
			}
		}
	}
	return values
}

// count returns how many entries the registry holds.
func (t *regTable[K, V]) count() int {
	var n int64
	for _, pt := range t.parts {
		n += pt.n.Load()
	}
	return int(n)
}

// selectEntries returns the live entries that match accepts, copying one
// partition's entries at a time and running match with no lock held.
func (t *regTable[K, V]) selectEntries(match func(Entry[K, V]) bool) []Entry[K, V] {
	var out, batch []Entry[K, V]
	for _, pt := range t.parts {
		batch = batch[:0]
		pt.mu.RLock()
		for _, e := range pt.one {
			if e.proc != nil {
				batch = append(batch, e.entry())
			}
		}
		for _, es := range pt.many {
			for _, e := range es {
				batch = append(batch, e.entry())
			}
		}
		pt.mu.RUnlock()
		out = append(out, keepLive(batch, 0, match)...)
	}
	return out
}

// getMeta, putMeta and deleteMeta are the registry's metadata.
func (t *regTable[K, V]) getMeta(key string) (any, bool) {
	t.metaMu.RLock()
	defer t.metaMu.RUnlock()
	v, ok := t.meta[key]
	return v, ok
}

func (t *regTable[K, V]) putMeta(key string, value any) {
	t.metaMu.Lock()
	defer t.metaMu.Unlock()
	if t.meta == nil {
		t.meta = make(map[string]any)
	}
	t.meta[key] = value
}

func (t *regTable[K, V]) deleteMeta(key string) {
	t.metaMu.Lock()
	defer t.metaMu.Unlock()
	delete(t.meta, key)
}

// String returns the registry's name for people.
func (t *regTable[K, V]) String() string {
	var b strings.Builder
	if t.kind == kindUnique {
		b.WriteString("unique")
	} else {
		b.WriteString("duplicate")
	}
	b.WriteString(" registry")
	if t.name != "" {
		fmt.Fprintf(&b, " %q", t.name)
	}
	return b.String()
}
