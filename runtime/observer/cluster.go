package observer

import (
	"context"
	"time"
)

// Cluster is what the observer shows of the cluster a program is a node of
// (the module github.com/arborgo/arbor/cluster, on etcd): the live nodes,
// and which node runs each distributed application and each keyed child of
// a cluster supervisor, under which fencing token. The cluster module makes
// it (its Node's Observe method is a ClusterSource), so that this package,
// and every program that does not cluster, needs nothing of etcd.
//
// It is a view of etcd at one revision, not of this node alone: a child
// shows the node that owns it, wherever that is.
type Cluster struct {
	// Name is the cluster's name; Node is this program's node.
	Name string `json:"name"`
	Node string `json:"node"`
	// Revision is the etcd revision the view was read at.
	Revision int64 `json:"revision,omitempty"`
	// Members are the live nodes, sorted: those whose lease etcd holds.
	Members []string `json:"members"`
	// Applications are the distributed applications, sorted by name.
	Applications []ClusterApplication `json:"applications"`
	// Supervisors are the cluster supervisors, sorted by name.
	Supervisors []ClusterSupervisor `json:"supervisors"`
	// Error says why the cluster could not be read, when it could not (etcd
	// unreachable); the rest is then empty but for Name and Node.
	Error string `json:"error,omitempty"`
}

// ClusterApplication is a distributed application as etcd knows it.
type ClusterApplication struct {
	Name string `json:"name"`
	// Node runs it, under fencing token Token; both are zero while no node
	// does (its node died and the next has not started it yet).
	Node  string `json:"node,omitempty"`
	Token int64  `json:"token,omitempty"`
	// Standby lists the nodes that run its standby, ready to start it,
	// sorted; Last is the node it last ran on.
	Standby []string `json:"standby"`
	Last    string   `json:"last,omitempty"`
}

// ClusterSupervisor is a cluster supervisor as etcd knows it.
type ClusterSupervisor struct {
	Name string `json:"name"`
	// Nodes run its local part: the nodes its children may be placed on.
	Nodes []string `json:"nodes"`
	// Children are its keyed children, sorted by their encoded key.
	Children []ClusterChild `json:"children"`
}

// ClusterChild is one keyed child of a cluster supervisor.
type ClusterChild struct {
	// Key is the child's key, encoded as it is in etcd.
	Key string `json:"key"`
	// Node owns it, under fencing token Token; both are zero while it is
	// between nodes.
	Node  string `json:"node,omitempty"`
	Token int64  `json:"token,omitempty"`
	// Moves counts how often it was moved after exhausting its restart
	// intensity; Failed, when set, says why it was given up.
	Moves  int    `json:"moves,omitempty"`
	Failed string `json:"failed,omitempty"`
}

// ClusterSource yields the cluster to show. The handler calls it with the
// Source's context, after the Source; it must be safe for concurrent use.
type ClusterSource func(ctx context.Context) (Cluster, error)

// WithCluster returns a Source that shows the tree src yields and, beside
// it, the cluster that cluster yields (node.Observe, for a cluster.Node):
//
//	observer.New(observer.WithCluster(observer.Applications(apps), deps.Node.Observe))
//
// When cluster fails, the tree is shown all the same, with a Cluster whose
// Error says why: a node cut off from etcd keeps its own tree running, and
// the observer keeps showing it.
func WithCluster(src Source, cluster ClusterSource) Source {
	return func(ctx context.Context) (Tree, error) {
		t, err := src(ctx)
		if err != nil {
			return t, err
		}
		// Half of the time left at most, so that a cluster that does not
		// answer (etcd unreachable) leaves time to show the tree.
		budget := clusterTimeout
		if deadline, ok := ctx.Deadline(); ok {
			budget = time.Until(deadline) / 2
		}
		cctx, cancel := context.WithTimeout(ctx, budget)
		c, err := cluster(cctx)
		cancel()
		if err != nil {
			c = Cluster{Name: c.Name, Node: c.Node, Error: err.Error()}
		}
		if c.Members == nil {
			c.Members = []string{}
		}
		if c.Applications == nil {
			c.Applications = []ClusterApplication{}
		}
		if c.Supervisors == nil {
			c.Supervisors = []ClusterSupervisor{}
		}
		t.Cluster = &c
		return t, nil
	}
}

// clusterTimeout bounds a ClusterSource called without a deadline.
const clusterTimeout = time.Second
