package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/arborgo/arbor/runtime/observer"
)

// Observe returns what the observer shows of the cluster: its live nodes,
// and which node runs each distributed application and each keyed child,
// under which fencing token, read from etcd in one request, at one
// revision. It is an observer.ClusterSource:
//
//	observer.New(observer.WithCluster(observer.Applications(apps), node.Observe))
//
// It shows the whole cluster, whoever started what, not this node's part
// alone. When etcd does not answer before ctx ends, it returns an error
// matching ErrUnavailable, and a Cluster with the cluster's and the node's
// names. It costs one range read of the cluster's keys (two per keyed
// child), so a page left open on a cluster of many children reads them
// all at each of its polls.
func (n *Node) Observe(ctx context.Context) (observer.Cluster, error) {
	c := observer.Cluster{Name: n.cluster, Node: n.name}
	var resp *clientv3.GetResponse
	err := n.retryRead(ctx, func() (err error) {
		resp, err = n.cli.Get(ctx, n.keys.prefix, clientv3.WithPrefix())
		return err
	})
	if err != nil {
		return c, unavailable("read the cluster", err)
	}
	c.Revision = resp.Header.Revision
	apps := map[string]*observer.ClusterApplication{}
	sups := map[string]*observer.ClusterSupervisor{}
	children := map[[2]string]*observer.ClusterChild{}
	app := func(name string) *observer.ClusterApplication {
		if apps[name] == nil {
			apps[name] = &observer.ClusterApplication{Name: name, Standby: []string{}}
		}
		return apps[name]
	}
	sup := func(name string) *observer.ClusterSupervisor {
		if sups[name] == nil {
			sups[name] = &observer.ClusterSupervisor{Name: name, Nodes: []string{}, Children: []observer.ClusterChild{}}
		}
		return sups[name]
	}
	child := func(s, key string) *observer.ClusterChild {
		k := [2]string{s, key}
		if children[k] == nil {
			sup(s)
			children[k] = &observer.ClusterChild{Key: key}
		}
		return children[k]
	}
	for _, kv := range resp.Kvs {
		// A key of a child may hold slashes: it is the rest.
		parts := strings.SplitN(strings.TrimPrefix(string(kv.Key), n.keys.prefix), "/", 4)
		switch {
		case len(parts) == 2 && parts[0] == "nodes":
			c.Members = append(c.Members, parts[1])
		case len(parts) == 3 && parts[0] == "apps" && parts[2] == "owner":
			a := app(parts[1])
			a.Node, a.Token = string(kv.Value), kv.CreateRevision
		case len(parts) == 3 && parts[0] == "apps" && parts[2] == "last":
			app(parts[1]).Last = string(kv.Value)
		case len(parts) == 4 && parts[0] == "apps" && parts[2] == "nodes":
			a := app(parts[1])
			a.Standby = append(a.Standby, parts[3])
		case len(parts) == 4 && parts[0] == "sup" && parts[2] == "nodes":
			s := sup(parts[1])
			s.Nodes = append(s.Nodes, parts[3])
		case len(parts) == 4 && parts[0] == "sup" && parts[2] == "owner":
			ch := child(parts[1], parts[3])
			ch.Node, ch.Token = string(kv.Value), kv.CreateRevision
		case len(parts) == 4 && parts[0] == "sup" && parts[2] == "spec":
			var rec childRecord
			ch := child(parts[1], parts[3])
			if json.Unmarshal(kv.Value, &rec) == nil {
				ch.Moves, ch.Failed = rec.Moves, rec.Failed
			}
		}
	}
	slices.Sort(c.Members)
	for _, a := range apps {
		slices.Sort(a.Standby)
		c.Applications = append(c.Applications, *a)
	}
	slices.SortFunc(c.Applications, func(a, b observer.ClusterApplication) int { return cmp.Compare(a.Name, b.Name) })
	for k, ch := range children {
		s := sups[k[0]]
		s.Children = append(s.Children, *ch)
	}
	for _, s := range sups {
		slices.Sort(s.Nodes)
		slices.SortFunc(s.Children, func(a, b observer.ClusterChild) int { return cmp.Compare(a.Key, b.Key) })
		c.Supervisors = append(c.Supervisors, *s)
	}
	slices.SortFunc(c.Supervisors, func(a, b observer.ClusterSupervisor) int { return cmp.Compare(a.Name, b.Name) })
	return c, nil
}
