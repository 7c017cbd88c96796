package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/health"
	"github.com/arborgo/arbor/runtime/observer"
)

// observe runs the tree of kv.arbor.yaml with its observer served on ln
// under /debug/arbor/, pprof under /debug/pprof/ (every bucket's goroutine
// carries its labels) and the health checks at /livez and /readyz, and
// keeps it busy until ctx ends: at each tick a
// bucket of five names is looked up or started and written to, and every
// fourth tick one of them crashes, so that the page shows buckets appearing
// and crashed ones going (they are temporary) and coming back on the next
// look-up.
func observe(ctx context.Context, out io.Writer, ln net.Listener, ticks <-chan time.Time) error {
	ctx = runtime.WithEventHook(ctx, func(e runtime.Event) {
		if e.Kind == runtime.ChildTerminated {
			fmt.Fprintf(out, "supervisor %s: %s crashed: %v\n", e.Supervisor, e.Child.Handle, e.Reason)
		}
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sup, err := NewKvSupervisor(ctx, NewRegistries())
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- sup.Serve(ctx) }()
	defer func() {
		cancel()
		<-served
	}()
	info, err := sup.WhichChild(ctx, "store")
	if err != nil {
		return err
	}
	store, ok := runtime.ServiceOf[*Store](info.Handle)
	if !ok {
		return errors.New("child store is not a *Store")
	}

	checks := health.New()
	checks.WatchSupervisors(sup)
	mux := http.NewServeMux()
	mux.Handle("/debug/arbor/", http.StripPrefix("/debug/arbor", observer.New(observer.Supervisors(sup))))
	mux.Handle("/livez", checks)
	mux.Handle("/readyz", checks)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	serving := make(chan error, 1)
	go func() { serving <- server.Serve(ln) }()
	defer func() {
		server.Close()
		<-serving
	}()
	fmt.Fprintf(out, "observer: http://%s/debug/arbor/ (Ctrl-C stops)\n", ln.Addr())
	fmt.Fprintf(out, "pprof: http://%s/debug/pprof/, health: http://%s/readyz\n", ln.Addr(), ln.Addr())

	for tick := 0; ; tick++ {
		select {
		case <-ctx.Done():
			return nil
		case <-ticks:
		}
		name := fmt.Sprintf("bucket-%d", tick%5)
		b, _, err := store.Bucket(ctx, name)
		if err != nil {
			return err
		}
		if err := b.Put(ctx, "tick", fmt.Sprint(tick)); err != nil && !errors.Is(err, runtime.ErrExited) {
			return err
		}
		if tick%4 == 3 {
			b.Crash(fmt.Errorf("crash at tick %d", tick))
		}
	}
}
