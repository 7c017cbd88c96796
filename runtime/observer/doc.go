// Package observer serves a live view of arbor supervision trees over HTTP,
// in the spirit of Erlang's :observer and of net/http/pprof: mount its
// handler on a debug mux and open it in a browser.
//
//	mux := http.NewServeMux()
//	mux.Handle("/debug/arbor/", http.StripPrefix("/debug/arbor", observer.New(observer.Applications(apps))))
//	go http.ListenAndServe("localhost:6060", mux)
//
// The handler serves, relative to where it is mounted:
//
//   - at its root, one self-contained HTML page, embedded in the binary
//     (no CDN, no build step, nothing fetched but the JSON below), that draws
//     the applications, supervisors and children with their type, state,
//     restart count and uptime, as an indented list or as a graph, polls the
//     tree twice a second, marks each restart as it happens (a flash, a
//     counter and a line in its event list), shows for the node clicked its
//     spec, its restart history and its process — message queue, links,
//     monitors, registered names, goroutine stack — and has a panel of the
//     Go runtime's numbers (goroutines, heap, GC, uptime);
//   - at api/tree, the Tree as JSON: the runtime's ApplicationSnapshot and
//     SupervisorSnapshot values, as they marshal;
//   - at api/process?handle=H, a Process: runtime.Handle.Info of the
//     process, and the stacks of the goroutines that carry its profile
//     labels;
//   - at api/system, a System: the Go runtime's numbers;
//   - at api/control (POST), restart, start or stop of a child, only when
//     Handler.Control is set.
//
// A Source says what to show: Applications for a *runtime.Applications,
// Supervisors for top-level *runtime.Supervisor and *runtime.DynamicSupervisor
// values, or any func(ctx) (Tree, error).
//
// Reading a snapshot costs each supervisor one message in its mailbox. The
// handler makes at most one Source call at a time, shared by every request
// that arrives while it runs, and bounds it with Handler.Timeout, so a page
// left open on a busy tree adds little to it. A process's stacks come from
// the goroutine profile, which walks every goroutine: the page reads it
// only while a node is selected, every two seconds.
//
// # Clusters
//
// A program that is a node of a cluster (the module
// github.com/arborgo/arbor/cluster, on etcd) shows it beside its tree with
// WithCluster and the node's Observe method, a ClusterSource:
//
//	observer.New(observer.WithCluster(observer.Applications(apps), node.Observe))
//
// The page then has a Cluster panel: the live nodes, and which node runs
// each distributed application and each keyed child of a cluster
// supervisor, under which fencing token, with the moves and failures of the
// children, as etcd has them; this node's name stands out. This package
// defines what is shown and imports nothing of etcd: the cluster module
// fills it. When etcd cannot be read, the tree is shown all the same and
// the panel says why.
//
// # Control
//
// By default the observer only reads: it cannot stop, restart or start
// anything. A program that sets Handler.Control lets the page restart and
// stop children, through the runtime's TerminateChild and RestartChild.
// The handler has no authentication: anyone who can reach it could then
// stop every child of the program, so never set Control on a listener that
// others can reach. Even then, it refuses control requests sent by a page
// of another origin and any body but JSON.
package observer
