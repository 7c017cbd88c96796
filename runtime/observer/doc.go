// Package observer serves a live view of arbor supervision trees over HTTP,
// in the spirit of Erlang's :observer and of net/http/pprof: mount its
// handler on a debug mux and open it in a browser.
//
//	mux := http.NewServeMux()
//	mux.Handle("/debug/arbor/", http.StripPrefix("/debug/arbor", observer.New(observer.Applications(apps))))
//	go http.ListenAndServe("localhost:6060", mux)
//
// The handler serves two things, relative to where it is mounted:
//
//   - at its root, one self-contained HTML page, embedded in the binary
//     (no CDN, no build step, nothing fetched but the JSON below), that draws
//     the applications, supervisors and children with their type, state,
//     restart count and uptime, polls the tree twice a second, marks each
//     restart as it happens (a flash, a counter and a line in its event list)
//     and shows the spec and last exit reason of the child clicked;
//   - at api/tree, the Tree as JSON: the runtime's ApplicationSnapshot and
//     SupervisorSnapshot values, as they marshal.
//
// A Source says what to show: Applications for a *runtime.Applications,
// Supervisors for top-level *runtime.Supervisor and *runtime.DynamicSupervisor
// values, or any func(ctx) (Tree, error).
//
// Reading a snapshot costs each supervisor one message in its mailbox. The
// handler makes at most one Source call at a time, shared by every request
// that arrives while it runs, and bounds it with Handler.Timeout, so a page
// left open on a busy tree adds little to it. The observer only reads: it
// cannot stop, restart or start anything.
package observer
