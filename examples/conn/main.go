// Command conn looks up or opens connections to named nodes through a custom
// registry that monitors them: many callers asking for one node at once share
// one connection; when a connection dies, the registry gets its Down and
// forgets it, and the next look-up opens a new one.
//
//	go run ./examples/conn
package main

//go:generate go run github.com/arborgo/arbor/cmd/arbor generate conn.arbor.yaml

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/arborgo/arbor/runtime"
)

func main() {
	if err := run(context.Background(), os.Stdout, 10); err != nil {
		fmt.Fprintln(os.Stderr, "conn:", err)
		os.Exit(1)
	}
}

// run starts the tree of conn.arbor.yaml, tells the story on out with
// callers concurrent callers, and stops the tree.
func run(ctx context.Context, out io.Writer, callers int) error {
	// The registry tells of the connection that dies; the supervisor's own
	// report of it would only repeat that, from another goroutine.
	ctx = runtime.WithEventHook(ctx, func(runtime.Event) {})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	sup, err := NewConnSupervisor(ctx, NewDeps(out))
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- sup.Serve(ctx) }()
	defer func() {
		cancel()
		<-served
	}()
	info, err := sup.WhichChild(ctx, "registry")
	if err != nil {
		return err
	}
	registry, ok := runtime.ServiceOf[*ConnRegistry](info.Handle)
	if !ok {
		return errors.New("child registry is not a *ConnRegistry")
	}

	// Many callers at once, one connection.
	got := make([]*Conn, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { got[i], errs[i] = registry.LookupOrStart(ctx, "node-a") })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	distinct := map[*Conn]bool{}
	for _, c := range got {
		distinct[c] = true
	}
	fmt.Fprintf(out, "%d callers asked for node-a at once: %d connection, %s\n", callers, len(distinct), got[0].Handle())

	b, err := registry.LookupOrStart(ctx, "node-b")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "node-b: %s\n", b.Handle())

	a := got[0]
	fmt.Fprintln(out, "node-a drops the connection")
	a.Drop(errors.New("connection reset by peer"))
	<-a.Handle().Done()

	if a, err = registry.LookupOrStart(ctx, "node-a"); err != nil {
		return err
	}
	fmt.Fprintf(out, "node-a again: %s, a new connection\n", a.Handle())
	if b2, err := registry.LookupOrStart(ctx, "node-b"); err != nil {
		return err
	} else if b2 == b {
		fmt.Fprintf(out, "node-b again: %s, the same connection\n", b2.Handle())
	}

	fmt.Fprintln(out, "stopping")
	return sup.Stop(ctx)
}
