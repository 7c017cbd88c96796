// Command sequence runs a counter and its stash under rest_for_one: a bad
// increment crashes the counter, its supervisor restarts it, and the count
// goes on from where it was, because the counter hands its count to the
// stash when it stops and takes it back when it starts.
//
//	go run ./examples/sequence
package main

//go:generate go run github.com/arborgo/arbor/cmd/arbor generate sequence.arbor.yaml

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/arborgo/arbor/runtime"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sequence:", err)
		os.Exit(1)
	}
}

// run starts the tree of sequence.arbor.yaml, tells the story on out, and
// stops the tree.
func run(ctx context.Context, out io.Writer) error {
	ctx = runtime.WithEventHook(ctx, func(e runtime.Event) {
		switch e.Kind {
		case runtime.ChildStarted:
			fmt.Fprintf(out, "supervisor: started %s\n", e.Child.Handle)
		case runtime.ChildTerminated:
			fmt.Fprintf(out, "supervisor: %s crashed: %v\n", e.Child.Handle, e.Reason)
		}
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	sup, err := NewSequenceSupervisor(ctx, NewDeps(out))
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- sup.Serve(ctx) }()
	defer func() {
		cancel()
		<-served
	}()

	counter, err := childOf[*Counter](ctx, sup, "counter")
	if err != nil {
		return err
	}
	for _, delta := range []int{1, 2, 3} {
		counter.Add(delta)
		n, err := counter.Value(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "add %d: count %d\n", delta, n)
	}

	fmt.Fprintln(out, "add -1: a bad increment")
	counter.Add(-1)
	<-counter.Handle().Done() // it crashed; the exit is in the supervisor's mailbox

	// Asking the supervisor queues behind that exit: by the time it answers,
	// it has restarted the counter.
	counter, err = childOf[*Counter](ctx, sup, "counter")
	if err != nil {
		return err
	}
	n, err := counter.Value(ctx)
	if err != nil {
		return err
	}
	stash, err := sup.WhichChild(ctx, "stash")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "after the restart: count %d; the stash, started before the counter, still runs as %s\n", n, stash.Handle)
	counter.Add(4)
	if n, err = counter.Value(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "add 4: count %d\n", n)

	fmt.Fprintln(out, "stopping")
	return sup.Stop(ctx)
}

// childOf returns what the child id of sup runs, as an S.
func childOf[S runtime.Service](ctx context.Context, sup *SequenceSupervisor, id string) (S, error) {
	var zero S
	info, err := sup.WhichChild(ctx, id)
	if err != nil {
		return zero, err
	}
	svc, ok := runtime.ServiceOf[S](info.Handle)
	if !ok {
		return zero, fmt.Errorf("child %q is not running", id)
	}
	return svc, nil
}
