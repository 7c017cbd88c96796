// Package cluster runs arbor's work across the replicas of a program, on
// etcd: distributed applications (OTP's), which run on exactly one node of
// a priority list and move when it dies, and a cluster-wide dynamic
// supervisor and registry for keyed children, each of which runs on exactly
// one live node and starts elsewhere when its node dies.
//
// It is a module of its own (github.com/arborgo/arbor/cluster), so that
// programs that do not cluster pull in nothing of etcd.
//
// A spec declares all of it: a cluster section, distributed on an
// application, dynamic: cluster on a supervisor; arbor generate writes the
// calls of this package, typed (NewNode, a Deps that holds the node and the
// cluster supervisors, a StartChild per cluster supervisor that takes the
// key and the extra arguments), and imports this package only for a spec
// that has a cluster section. docs/spec.md and docs/generated-code.md show
// how.
//
// # Node
//
// NewNode joins a cluster: one etcd client, one lease, and arbor's own
// renewal loop. The lease's local deadline is the send time of the last
// renewal that succeeded plus the TTL; etcd cannot expire the lease before
// it. Distributed work is told to stop StopMargin before that deadline when
// renewals fail, so an owner cut off from etcd has stopped before another
// node can take over; the node never relies on the etcd client's session
// signal, which has been measured to come up to 0.7 s after a successor won.
// Membership is the set of live node leases (Members). Config.WaitFor is
// OTP's sync_nodes_mandatory. Close releases everything the node holds.
//
// # Distributed applications
//
// Node.Distributed wraps a runtime.ApplicationSpec for
// runtime.StartApplications on every node. The application runs on the
// first live group of DistributedSpec.Nodes, in a group on the node running
// the fewest distributed applications; after its node's lease ends it
// starts on the next one, after FailoverDelay; with Takeover, a node of
// higher priority that comes up takes it back: the old owner stops its tree
// and releases the application with the Handoff payload, and only then does
// the new owner start it. StartTypeFrom tells the start function why it
// runs: normal, failover from a node, takeover from a node.
//
// # Keyed children
//
// NewSupervisor makes a cluster-wide dynamic supervisor; its Start is the
// start function of its local part, a child of the program's tree on every
// node. StartChild(key, args) records the child's desired state and its
// owner (chosen by rendezvous hashing over the live nodes that run the
// supervisor) in one etcd transaction; an existing key answers
// *AlreadyStartedError with its owner. Lookup returns the owner and the
// fencing token; TerminateChild ends a child cluster-wide and waits until
// it has stopped. The desired state is durable and the ownership hangs on
// the owner's lease, so when a node dies its children start on the others.
// On its node, a child runs under a supervisor of its own with the spec's
// restart type and intensity; a child that exhausts it is released, moved
// to another node after a backoff, and marked failed after MaxMoves.
//
// # Fencing
//
// Every ownership has a token: the etcd revision at which it was created,
// larger for every new owner of the same key. FenceFrom gives it to the
// application's tree or the keyed child; Fence.Guard makes an etcd write
// conditional on the ownership, and an external store can refuse tokens
// smaller than the largest it has seen. That is the guarantee against a
// paused or cut-off owner; the local deadline makes such an owner rare.
//
// # Observer
//
// Node.Observe is an observer.ClusterSource: with observer.WithCluster, the
// observer's page shows which node runs each distributed application and
// keyed child, under which fencing token.
//
// # Consistency over availability
//
// A node that cannot reach etcd stops its distributed work at its local
// deadline and does not start any: StartChild, TerminateChild and Lookup
// return errors matching ErrUnavailable. Ordinary (non-distributed)
// applications and supervisors keep running. docs/cluster.md has the table
// of guarantees and the bounds.
package cluster
