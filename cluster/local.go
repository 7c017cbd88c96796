package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
)

// localPart is a cluster supervisor's part on one node. The goroutine in
// Serve owns its state; the children's exits reach it as messages.
type localPart[K comparable, A any] struct {
	s   *Supervisor[K, A]
	dyn *runtime.DynamicSupervisor

	// Guarded by mu: what the loop shares with the children's exits (exits,
	// then a signal on wake) and with the API (the candidates, the keys
	// running here).
	mu          sync.Mutex
	exits       []*keyedRun
	wake        chan struct{} // capacity 1
	cands       map[string]int64
	candsRev    int64           // the mirror's revision when cands was taken
	runningView map[string]bool // the keys of running, for Local
	relisted    int             // listings after a broken watch, for tests

	// Owned by the loop.
	cache   cache
	running map[string]*keyedRun // by encoded key
	gen     *generation          // the lease the children run under
	candGen *generation
	dirty   map[string]bool
	full    bool
	since   map[string]time.Time // when a key was first seen without owner
	wakeAt  time.Time
	retryAt time.Time
	// ended holds, per key, the token of an ownership this node has ended
	// in etcd (released, moved, forgotten) that the mirror may still show:
	// it is not started again.
	ended map[string]int64
}

// keyedRun is one ownership of a keyed child on this node.
type keyedRun struct {
	key    string
	token  int64
	gen    *generation
	cancel context.CancelCauseFunc
	ctx    context.Context
	reason error // set before it is sent as an exit
	cause  error // why this node stopped it, if it did
}

// candidates returns the live nodes of the supervisor from the mirror, and
// the mirror's revision; nil before the first listing.
func (lp *localPart[K, A]) candidates() (map[string]int64, int64) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.cands, lp.candsRev
}

func (lp *localPart[K, A]) localKeys() []string {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	var out []string
	for k := range lp.runningView {
		out = append(out, k)
	}
	return out
}

func (lp *localPart[K, A]) poke() {
	select {
	case lp.wake <- struct{}{}:
	default:
	}
}

// Snapshot returns the node-local dynamic supervisor's tree.
func (lp *localPart[K, A]) Snapshot(ctx context.Context) (runtime.SupervisorSnapshot, error) {
	return lp.dyn.Snapshot(ctx)
}

// Serve runs the local part until ctx is cancelled.
func (lp *localPart[K, A]) Serve(ctx context.Context) error {
	s := lp.s
	defer func() {
		s.mu.Lock()
		s.local = nil
		s.mu.Unlock()
	}()
	dynDone := make(chan error, 1)
	go func() { dynDone <- lp.dyn.Serve(ctx) }()
	updates := make(chan update)
	fctx, stopFollow := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() { follow(fctx, s.node.cli, s.prefix, updates); close(followed) }()

	var timer clock.Timer
	scan := max(s.node.ttl, time.Second) // a full look now and then: a safety net
	lastScan := s.node.clock.Now()
	lp.full = true
	for {
		gen, changed := s.node.current()
		now := s.node.clock.Now()
		if now.Sub(lastScan) >= scan {
			lp.full, lastScan = true, now
		}
		lp.reconcile(ctx, gen)
		wake := lastScan.Add(scan)
		for _, t := range []time.Time{lp.wakeAt, lp.retryAt} {
			if !t.IsZero() && t.Before(wake) {
				wake = t
			}
		}
		if timer == nil {
			timer = s.node.clock.NewTimer(wake.Sub(now))
		} else {
			timer.Reset(wake.Sub(now))
		}
		select {
		case u := <-updates:
			lp.apply(u)
		case <-changed:
			lp.full = true
		case <-lp.wake:
			lp.takeExits(ctx)
		case <-timer.C():
			lp.full = true
		case <-ctx.Done():
			timer.Stop()
			stopFollow()
			<-followed
			lp.leave(ctx)
			<-dynDone
			return nil
		}
	}
}

// apply mirrors u and marks the keys it touched.
func (lp *localPart[K, A]) apply(u update) {
	if lp.dirty == nil {
		lp.dirty = map[string]bool{}
	}
	nodesChanged := u.reset
	for _, path := range lp.cache.apply(u) {
		switch rest := path[len(lp.s.prefix):]; {
		case strings.HasPrefix(rest, "spec/"):
			lp.dirty[rest[len("spec/"):]] = true
		case strings.HasPrefix(rest, "owner/"):
			lp.dirty[rest[len("owner/"):]] = true
		case strings.HasPrefix(rest, "nodes/"):
			nodesChanged = true
		}
	}
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.candsRev = lp.cache.rev
	lp.relisted = lp.cache.relist
	if !nodesChanged {
		return
	}
	lp.full = true
	// A new map each time: StartChild may be reading the old one.
	cands := map[string]int64{}
	for n := range lp.nodes() {
		cands[n] = lp.cache.kvs[lp.s.candKey(n)].Lease
	}
	lp.cands = cands
}

// nodes yields the names of the nodes whose candidacy the mirror holds.
func (lp *localPart[K, A]) nodes() func(yield func(string) bool) {
	prefix := lp.s.prefix + "nodes/"
	return func(yield func(string) bool) {
		for k := range lp.cache.kvs {
			if strings.HasPrefix(k, prefix) && !yield(k[len(prefix):]) {
				return
			}
		}
	}
}

// reconcile brings this node's children in line with etcd, for the dirty
// keys or, after a membership change, for all.
func (lp *localPart[K, A]) reconcile(ctx context.Context, gen *generation) {
	s := lp.s
	now := s.node.clock.Now()
	if gen != lp.gen {
		lp.gen = gen
		for _, r := range lp.running {
			if r.gen != gen && r.cause == nil {
				lp.stop(r, context.Cause(r.gen.ctx))
			}
		}
	}
	if gen == nil || lp.cache.kvs == nil {
		return
	}
	if !lp.retryAt.IsZero() && now.Before(lp.retryAt) {
		return
	}
	lp.retryAt = time.Time{}
	if lp.candGen != gen {
		cctx, cancel := context.WithTimeout(ctx, s.node.ttl/3)
		_, err := s.node.cli.Put(cctx, s.candKey(s.node.name), "", clientv3.WithLease(gen.lease))
		cancel()
		if err != nil {
			lp.retryAt = now.Add(max(s.node.ttl/10, 50*time.Millisecond))
			return
		}
		lp.candGen = gen
	}
	var keys []string
	if lp.full {
		seen := map[string]bool{}
		for path := range lp.cache.kvs {
			rest := path[len(s.prefix):]
			for _, p := range []string{"spec/", "owner/"} {
				if strings.HasPrefix(rest, p) {
					seen[rest[len(p):]] = true
				}
			}
		}
		for k := range lp.running {
			seen[k] = true
		}
		for k := range seen {
			keys = append(keys, k)
		}
		lp.full = false
		clear(lp.dirty)
		lp.wakeAt = time.Time{}
	} else {
		for k := range lp.dirty {
			keys = append(keys, k)
		}
		clear(lp.dirty)
	}
	live := lp.liveNames()
	var claims []claim
	for _, k := range keys {
		if c, ok := lp.decide(ctx, gen, k, live, now); ok {
			claims = append(claims, c)
		}
	}
	lp.claimAll(ctx, gen, claims)
}

func (lp *localPart[K, A]) liveNames() []string {
	var out []string
	for n := range lp.cands {
		out = append(out, n)
	}
	return out
}

// claim is a key this node is about to claim.
type claim struct {
	key     string
	specRev int64
	rec     childRecord
	token   int64
}

// decide looks at one key: it stops a child that lost its ownership or its
// desired state, starts one this node owns, and says whether this node
// should claim an unowned one now.
func (lp *localPart[K, A]) decide(ctx context.Context, gen *generation, k string, live []string, now time.Time) (claim, bool) {
	s := lp.s
	me := s.node.name
	specKV := lp.cache.kvs[s.specKey(k)]
	ownerKV := lp.cache.kvs[s.ownerKey(k)]
	if r := lp.running[k]; r != nil {
		switch {
		case r.cause != nil:
		case lp.cache.rev < r.token:
			// The mirror has not seen this ownership's creation yet.
		case specKV == nil:
			lp.stop(r, fmt.Errorf("%w: terminated", ErrReleased))
		case ownerKV == nil || ownerKV.CreateRevision != r.token:
			lp.stop(r, fmt.Errorf("%w: its ownership ended in etcd", ErrReleased))
		}
		return claim{}, false
	}
	if t, ok := lp.ended[k]; ok && lp.cache.rev >= t && (ownerKV == nil || ownerKV.CreateRevision != t) {
		delete(lp.ended, k) // the mirror has seen that ownership end
	}
	if ownerKV != nil {
		delete(lp.since, k)
		if lp.ended[k] == ownerKV.CreateRevision {
			return claim{}, false
		}
		mine := string(ownerKV.Value) == me && ownerKV.Lease == int64(gen.lease)
		switch {
		case mine && specKV == nil:
			lp.release(ctx, k, ownerKV.CreateRevision)
		case mine:
			var rec childRecord
			if json.Unmarshal(specKV.Value, &rec) == nil && rec.Failed == "" {
				lp.start(ctx, gen, k, ownerKV.CreateRevision, rec, specKV.ModRevision)
			}
		}
		return claim{}, false
	}
	if specKV == nil {
		delete(lp.since, k)
		return claim{}, false
	}
	var rec childRecord
	if json.Unmarshal(specKV.Value, &rec) != nil || rec.Failed != "" {
		return claim{}, false
	}
	// NotBefore is wall-clock time: it was written by another node.
	if wall := time.Now(); !rec.NotBefore.IsZero() && wall.Before(rec.NotBefore) {
		lp.wakeAtLatest(now.Add(rec.NotBefore.Sub(wall)))
		return claim{}, false
	}
	pool := live
	if len(rec.Tried) > 0 {
		var untried []string
		for _, n := range live {
			if !slices.Contains(rec.Tried, n) {
				untried = append(untried, n)
			}
		}
		if len(untried) > 0 {
			pool = untried
		}
	}
	ranked := rendezvous(k, pool)
	pos := -1
	for i, n := range ranked {
		if n == me {
			pos = i
		}
	}
	if pos < 0 {
		return claim{}, false
	}
	if pos > 0 {
		// A node ranked higher should claim it; if it has not after pos
		// TTLs (alive in etcd but not working), this one does.
		first, ok := lp.since[k]
		if !ok {
			first = now
			lp.since[k] = now
		}
		at := first.Add(time.Duration(pos) * s.node.ttl)
		if now.Before(at) {
			lp.wakeAtLatest(at)
			return claim{}, false
		}
	}
	return claim{key: k, specRev: specKV.ModRevision, rec: rec}, true
}

func (lp *localPart[K, A]) wakeAtLatest(t time.Time) {
	if lp.wakeAt.IsZero() || t.Before(lp.wakeAt) {
		lp.wakeAt = t
	}
}

// claimAll claims keys with create-if-absent transactions, several at a
// time, and starts the children of those it won.
func (lp *localPart[K, A]) claimAll(ctx context.Context, gen *generation, claims []claim) {
	if len(claims) == 0 {
		return
	}
	s := lp.s
	const parallel = 16
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	failed := atomic.Bool{}
	for i := range claims {
		c := &claims[i]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			cctx, cancel := context.WithTimeout(ctx, s.node.ttl/3)
			defer cancel()
			resp, err := s.node.cli.Txn(cctx).
				If(clientv3.Compare(clientv3.CreateRevision(s.ownerKey(c.key)), "=", 0),
					clientv3.Compare(clientv3.ModRevision(s.specKey(c.key)), "=", c.specRev)).
				Then(clientv3.OpPut(s.ownerKey(c.key), s.node.name, clientv3.WithLease(gen.lease))).
				Commit()
			switch {
			case err != nil:
				failed.Store(true)
			case resp.Succeeded:
				c.token = resp.Header.Revision
			}
		}()
	}
	wg.Wait()
	if failed.Load() {
		lp.retryAt = s.node.clock.Now().Add(max(s.node.ttl/10, 50*time.Millisecond))
		lp.full = true
	}
	for _, c := range claims {
		if c.token != 0 {
			delete(lp.since, c.key)
			lp.start(ctx, gen, c.key, c.token, c.rec, c.specRev)
		}
	}
}

// keyedService runs one keyed child's own supervisor and reports its exit.
type keyedService struct {
	sup *runtime.Supervisor
	run *keyedRun
	lp  interface{ exited(*keyedRun) }
}

func (k *keyedService) Serve(ctx context.Context) error {
	err := k.sup.Serve(ctx)
	k.run.reason = err
	k.lp.exited(k.run)
	return err
}

// Snapshot shows the child's own supervisor.
func (k *keyedService) Snapshot(ctx context.Context) (runtime.SupervisorSnapshot, error) {
	return k.sup.Snapshot(ctx)
}

func (lp *localPart[K, A]) exited(r *keyedRun) {
	lp.mu.Lock()
	lp.exits = append(lp.exits, r)
	lp.mu.Unlock()
	lp.poke()
}

// start starts the child of key k under ownership token.
func (lp *localPart[K, A]) start(ctx context.Context, gen *generation, k string, token int64, rec childRecord, specRev int64) {
	s := lp.s
	key, err := s.decKey(k)
	var args A
	if err == nil {
		err = json.Unmarshal(rec.Args, &args)
	}
	r := &keyedRun{key: k, token: token, gen: gen}
	if err != nil {
		lp.giveUp(ctx, r, fmt.Errorf("cannot decode its key or arguments: %w", err), specRev, rec)
		return
	}
	f := &Fence{key: s.ownerKey(k), token: token}
	flags := runtime.Flags{MaxRestarts: s.spec.MaxRestarts, MaxSeconds: s.spec.MaxSeconds}
	significant := s.spec.Restart != runtime.Permanent
	if significant {
		flags.AutoShutdown = runtime.AnySignificant
	}
	// The child's own supervisor runs in a context of its own, below the
	// local dynamic supervisor's child process: it carries the fence, and
	// is cancelled by that process, by the end of the lease, or by r.cancel.
	childStart := func(pctx context.Context) (runtime.Service, error) {
		r.ctx, r.cancel = gen.bind(withFence(pctx, f))
		f.done = r.ctx.Done()
		sup, err := runtime.NewSupervisor(r.ctx, runtime.SupervisorSpec{
			Name:  s.spec.Name + "[" + k + "]",
			Flags: flags,
			Children: []runtime.ChildSpec{{
				ID: k, Restart: s.spec.Restart, Shutdown: s.spec.Shutdown, Type: s.spec.Type, Backoff: s.spec.Backoff, Significant: significant,
				Start: func(cctx context.Context) (runtime.Service, error) { return s.spec.Start(cctx, key, args) },
			}},
		})
		if err != nil {
			r.cancel(err)
			return nil, err
		}
		return &keyedService{sup: sup, run: r, lp: lp}, nil
	}
	_, err = lp.dyn.StartChild(ctx, runtime.ChildSpec{ID: k, Start: childStart, Restart: runtime.Temporary,
		Type: runtime.TypeSupervisor, Shutdown: runtime.Infinity})
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		lp.giveUp(ctx, r, fmt.Errorf("failed to start: %w", err), specRev, rec)
		return
	}
	gen.work.Add(1)
	lp.running[k] = r
	lp.mu.Lock()
	if lp.runningView == nil {
		lp.runningView = map[string]bool{}
	}
	lp.runningView[k] = true
	lp.mu.Unlock()
	s.node.report(Event{Kind: ChildStarted, Supervisor: s.spec.Name, Key: k, Token: token})
}

// stop asks the child of r to stop, for cause; its exit arrives later.
func (lp *localPart[K, A]) stop(r *keyedRun, cause error) {
	r.cause = cause
	r.cancel(cause)
}

// takeExits handles the children that exited.
func (lp *localPart[K, A]) takeExits(ctx context.Context) {
	lp.mu.Lock()
	exits := lp.exits
	lp.exits = nil
	lp.mu.Unlock()
	for _, r := range exits {
		lp.handleExit(ctx, r)
	}
}

func (lp *localPart[K, A]) handleExit(ctx context.Context, r *keyedRun) {
	s := lp.s
	if lp.running[r.key] == r {
		delete(lp.running, r.key)
		lp.mu.Lock()
		delete(lp.runningView, r.key)
		lp.mu.Unlock()
	}
	r.gen.work.Done()
	if r.cause == nil && r.ctx.Err() != nil {
		r.cause = context.Cause(r.ctx) // the lease ended before the loop saw it
	}
	r.cancel(nil)
	lp.dirty[r.key] = true
	reason := r.cause
	if reason == nil {
		reason = r.reason
	}
	s.node.report(Event{Kind: ChildStopped, Supervisor: s.spec.Name, Key: r.key, Token: r.token, Reason: reason})
	switch {
	case r.cause != nil && errors.Is(r.cause, ErrReleased):
		// Terminated or no longer ours: give the ownership back if it is
		// still there.
		lp.release(ctx, r.key, r.token)
	case r.cause != nil:
		// The lease ended or the node is closing: nothing to write.
	case errors.Is(r.reason, runtime.ErrAutoShutdown):
		// A transient or temporary child ended for good: forget it.
		lp.forget(ctx, r)
	default:
		specKV := lp.cache.kvs[s.specKey(r.key)]
		if specKV == nil {
			lp.release(ctx, r.key, r.token)
			return
		}
		var rec childRecord
		_ = json.Unmarshal(specKV.Value, &rec)
		lp.giveUp(ctx, r, r.reason, specKV.ModRevision, rec)
	}
}

// giveUp releases a child that exhausted its intensity (or failed to
// start) here: it counts a move and sets a backoff, or marks it failed
// after MaxMoves, in one transaction with the release of the ownership.
func (lp *localPart[K, A]) giveUp(ctx context.Context, r *keyedRun, reason error, specRev int64, rec childRecord) {
	s := lp.s
	rec.Moves++
	rec.Tried = append(rec.Tried, s.node.name)
	if len(rec.Tried) > max(s.spec.MaxMoves, 1) {
		rec.Tried = rec.Tried[len(rec.Tried)-max(s.spec.MaxMoves, 1):]
	}
	kind := ChildReleased
	if rec.Moves > s.spec.MaxMoves {
		kind = ChildFailed
		rec.Failed = fmt.Sprintf("gave up after %d moves; last on node %q: %v", rec.Moves-1, s.node.name, reason)
		rec.NotBefore = time.Time{}
	} else {
		backoff := s.spec.MoveBackoff << (rec.Moves - 1)
		if backoff > MaxMoveBackoff || backoff <= 0 {
			backoff = MaxMoveBackoff
		}
		rec.NotBefore = time.Now().Add(backoff)
	}
	val, _ := json.Marshal(rec)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.node.ttl/3)
	defer cancel()
	_, err := s.node.cli.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(s.ownerKey(r.key)), "=", r.token),
			clientv3.Compare(clientv3.ModRevision(s.specKey(r.key)), "=", specRev)).
		Then(clientv3.OpPut(s.specKey(r.key), string(val)), clientv3.OpDelete(s.ownerKey(r.key))).
		Commit()
	if err != nil {
		lp.full = true
		return
	}
	lp.ended[r.key] = r.token
	s.node.report(Event{Kind: kind, Supervisor: s.spec.Name, Key: r.key, Token: r.token, Reason: reason})
}

// forget deletes a finished child's desired state and ownership.
func (lp *localPart[K, A]) forget(ctx context.Context, r *keyedRun) {
	s := lp.s
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.node.ttl/3)
	defer cancel()
	_, err := s.node.cli.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(s.ownerKey(r.key)), "=", r.token)).
		Then(clientv3.OpDelete(s.ownerKey(r.key)), clientv3.OpDelete(s.specKey(r.key))).
		Commit()
	if err != nil {
		lp.full = true
		return
	}
	lp.ended[r.key] = r.token
}

// release deletes the ownership of k if it is still token's; when etcd
// does not answer, the next full look tries again.
func (lp *localPart[K, A]) release(ctx context.Context, k string, token int64) {
	if lp.releaseOwner(ctx, k, token) != nil {
		lp.full = true
		return
	}
	lp.ended[k] = token
}

// releaseOwner deletes the ownership of k if it is still token's.
func (lp *localPart[K, A]) releaseOwner(ctx context.Context, k string, token int64) error {
	s := lp.s
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.node.ttl/3)
	defer cancel()
	_, err := s.node.cli.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(s.ownerKey(k)), "=", token)).
		Then(clientv3.OpDelete(s.ownerKey(k))).
		Commit()
	return err
}

// leave stops every child here and releases them, so that other nodes
// start them at once, after withdrawing this node's candidacy.
func (lp *localPart[K, A]) leave(ctx context.Context) {
	s := lp.s
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.node.ttl/3)
	_, _ = s.node.cli.Delete(cctx, s.candKey(s.node.name))
	cancel()
	for _, r := range lp.running {
		if r.cause == nil {
			lp.stop(r, runtime.ErrShutdown)
		}
	}
	owned := make([]*keyedRun, 0, len(lp.running))
	for _, r := range lp.running {
		owned = append(owned, r)
	}
	for first := true; len(lp.running) > 0; first = false {
		if !first {
			<-lp.wake
		}
		lp.mu.Lock()
		exits := lp.exits
		lp.exits = nil
		lp.mu.Unlock()
		for _, r := range exits {
			if lp.running[r.key] == r {
				delete(lp.running, r.key)
				r.gen.work.Done()
				s.node.report(Event{Kind: ChildStopped, Supervisor: s.spec.Name, Key: r.key, Token: r.token, Reason: r.cause})
			}
		}
	}
	lp.mu.Lock()
	clear(lp.runningView)
	lp.mu.Unlock()
	const parallel = 16
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, r := range owned {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_ = lp.releaseOwner(ctx, r.key, r.token)
		}()
	}
	wg.Wait()
}
