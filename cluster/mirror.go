package cluster

import (
	"context"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// update is what follow sends: the whole prefix (after a listing) or the
// events of one watch response.
type update struct {
	reset  bool
	kvs    []*mvccpb.KeyValue
	events []*clientv3.Event
	rev    int64
}

// follow mirrors a prefix of etcd into out: it lists the prefix, sends the
// listing, then watches from the listing's revision + 1, so that no event
// falls between the two, and sends each response's events. When the watch
// ends for any reason but ctx (compaction, a lost leader, an error) it lists
// again and goes on from there. It returns when ctx ends.
func follow(ctx context.Context, cli *clientv3.Client, prefix string, out chan<- update) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := cli.Get(lctx, prefix, clientv3.WithPrefix())
		cancel()
		if err != nil {
			continue
		}
		select {
		case out <- update{reset: true, kvs: resp.Kvs, rev: resp.Header.Revision}:
		case <-ctx.Done():
			return
		}
		wctx, stop := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1),
			clientv3.WithPrevKV(), clientv3.WithProgressNotify())
		for w := range wch {
			if w.CompactRevision != 0 {
				break // compacted away: list again
			}
			if w.Canceled || w.Err() != nil {
				break
			}
			if len(w.Events) == 0 {
				continue
			}
			select {
			case out <- update{events: w.Events, rev: w.Header.Revision}:
			case <-ctx.Done():
			}
		}
		stop()
		for range wch { // drain, so the watcher's goroutine ends
		}
	}
}

// cache is a prefix's mirror, owned by one goroutine.
type cache struct {
	kvs    map[string]*mvccpb.KeyValue
	rev    int64
	relist int // listings after the first, for tests
}

// apply applies u and returns the keys whose value changed or went away.
func (c *cache) apply(u update) []string {
	if c.kvs == nil {
		c.kvs = map[string]*mvccpb.KeyValue{}
	}
	var changed []string
	if u.reset {
		if c.rev != 0 {
			c.relist++
		}
		fresh := make(map[string]*mvccpb.KeyValue, len(u.kvs))
		for _, kv := range u.kvs {
			k := string(kv.Key)
			fresh[k] = kv
			if old, ok := c.kvs[k]; !ok || old.ModRevision != kv.ModRevision {
				changed = append(changed, k)
			}
		}
		for k := range c.kvs {
			if _, ok := fresh[k]; !ok {
				changed = append(changed, k)
			}
		}
		c.kvs = fresh
		c.rev = u.rev
		return changed
	}
	for _, ev := range u.events {
		k := string(ev.Kv.Key)
		if ev.Type == clientv3.EventTypeDelete {
			delete(c.kvs, k)
		} else {
			c.kvs[k] = ev.Kv
		}
		changed = append(changed, k)
	}
	c.rev = max(c.rev, u.rev)
	return changed
}
