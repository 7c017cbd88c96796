// Command kv runs named buckets under a dynamic supervisor, found through a
// registry: it creates a bucket, uses it, crashes it, shows that the registry
// forgot it, and creates a new one.
//
//	go run ./examples/kv
//
// With -observe, it serves the tree's observer, pprof and health checks,
// and keeps the tree busy until Ctrl-C instead:
//
//	go run ./examples/kv -observe localhost:8080
//	# open http://localhost:8080/debug/arbor/
//	# go tool pprof -tags http://localhost:8080/debug/pprof/goroutine
//	# curl http://localhost:8080/readyz
package main

//go:generate go run github.com/arborgo/arbor/cmd/arbor generate kv.arbor.yaml

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/arborgo/arbor/runtime"
)

func main() {
	addr := flag.String("observe", "", "instead of the story, serve the observer on `address` (such as localhost:8080) and keep the tree busy until Ctrl-C")
	flag.Parse()
	var err error
	if *addr == "" {
		err = run(context.Background(), os.Stdout)
	} else {
		err = observeUntilSignal(*addr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kv:", err)
		os.Exit(1)
	}
}

// observeUntilSignal runs observe on addr until SIGINT or SIGTERM.
func observeUntilSignal(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ticker := time.NewTicker(700 * time.Millisecond)
	defer ticker.Stop()
	return observe(ctx, os.Stdout, ln, ticker.C)
}

// run starts the tree of kv.arbor.yaml, tells the story on out, and stops
// the tree.
func run(ctx context.Context, out io.Writer) error {
	ctx = runtime.WithEventHook(ctx, func(e runtime.Event) {
		switch e.Kind {
		case runtime.ChildStarted:
			if !e.External { // the tree's own starts, not the buckets started through the API
				fmt.Fprintf(out, "supervisor %s: started %s\n", e.Supervisor, e.Child.Handle)
			}
		case runtime.ChildTerminated:
			fmt.Fprintf(out, "supervisor %s: %s crashed: %v (temporary: not restarted)\n", e.Supervisor, e.Child.Handle, e.Reason)
		}
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	reg := NewRegistries()
	sup, err := NewKvSupervisor(ctx, reg)
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

	bucket, err := lookUp(ctx, out, store, "shopping")
	if err != nil {
		return err
	}
	if err := bucket.Put(ctx, "milk", "3"); err != nil {
		return err
	}
	fmt.Fprintln(out, `put milk=3 in "shopping"`)
	if err := get(ctx, out, bucket, "milk"); err != nil {
		return err
	}
	if _, err := lookUp(ctx, out, store, "shopping"); err != nil {
		return err
	}

	fmt.Fprintln(out, `crashing "shopping"`)
	bucket.Crash(errors.New("bucket corrupted"))
	<-bucket.Handle().Done()
	// Asking the supervisor queues behind the bucket's exit.
	n, err := store.Running(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "buckets running: %d\n", n)
	if h, ok := reg.Buckets.Lookup("shopping"); ok {
		fmt.Fprintf(out, `registry: "shopping" is still %s`+"\n", h)
	} else {
		fmt.Fprintln(out, `registry: no bucket named "shopping" any more`)
	}

	if bucket, err = lookUp(ctx, out, store, "shopping"); err != nil {
		return err
	}
	if err := get(ctx, out, bucket, "milk"); err != nil {
		return err
	}

	fmt.Fprintln(out, "stopping")
	return sup.Stop(ctx)
}

// lookUp finds or starts the bucket called name, and says which.
func lookUp(ctx context.Context, out io.Writer, store *Store, name string) (*Bucket, error) {
	b, started, err := store.Bucket(ctx, name)
	if err != nil {
		return nil, err
	}
	if started {
		fmt.Fprintf(out, "look up or start %q: started %s\n", name, b.Handle())
	} else {
		fmt.Fprintf(out, "look up or start %q: found %s\n", name, b.Handle())
	}
	return b, nil
}

// get prints the value of key in bucket b.
func get(ctx context.Context, out io.Writer, b *Bucket, key string) error {
	v, ok, err := b.Get(ctx, key)
	if err != nil {
		return err
	}
	if ok {
		fmt.Fprintf(out, "get %s from %q: %s\n", key, b.name, v)
	} else {
		fmt.Fprintf(out, "get %s from %q: not found\n", key, b.name)
	}
	return nil
}
