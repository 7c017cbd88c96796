// Command strategies shows what each restart strategy restarts: three
// supervisors run the same children A, B and C, B crashes under each, and it
// prints which children each one stops and restarts.
//
//	go run ./examples/strategies
package main

//go:generate go run github.com/arborgo/arbor/cmd/arbor generate strategies.arbor.yaml

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/arborgo/arbor/runtime"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "strategies:", err)
		os.Exit(1)
	}
}

// run crashes B under each supervisor of strategies.arbor.yaml in turn and
// prints what happened.
func run(ctx context.Context, out io.Writer) error {
	fmt.Fprintln(out, "each supervisor starts A, B, C in that order; then B crashes")
	for _, specOf := range []func(*Deps) runtime.SupervisorSpec{
		OneForOneSupervisorSpec,
		OneForAllSupervisorSpec,
		RestForOneSupervisorSpec,
	} {
		rec := &recorder{}
		spec := specOf(NewDeps(rec))
		if err := crashB(ctx, out, spec, rec); err != nil {
			return fmt.Errorf("%s: %w", spec.Name, err)
		}
	}
	return nil
}

// crashB starts a supervisor from spec, whose workers write to rec, crashes
// its child B, and prints which children were stopped and restarted because
// of it.
func crashB(ctx context.Context, out io.Writer, spec runtime.SupervisorSpec, rec *recorder) error {
	ctx = runtime.WithEventHook(ctx, func(e runtime.Event) {
		if e.Kind == runtime.ChildStarted {
			rec.add(&rec.started, e.Child.ID)
		}
	})
	sup, err := runtime.StartSupervisor(ctx, spec)
	if err != nil {
		return err
	}
	defer sup.Stop(ctx)

	b, err := sup.WhichChild(ctx, "B")
	if err != nil {
		return err
	}
	worker, ok := runtime.ServiceOf[*Worker](b.Handle)
	if !ok {
		return errors.New("B is not a *Worker")
	}
	rec.reset() // forget the first starts
	worker.Crash(errors.New("boom"))
	<-b.Handle.Done()
	// This call queues behind B's exit in the supervisor's mailbox: when it
	// returns, the supervisor has stopped and restarted what its strategy
	// says, and each stopped child has recorded it.
	if _, err := sup.WhichChildren(ctx); err != nil {
		return err
	}

	line := fmt.Sprintf("%-13s B crashed", spec.Name+":")
	stopped, started := rec.lists()
	if len(stopped) > 0 {
		line += " → stopped: " + strings.Join(stopped, ", ")
	}
	line += " → restarted: " + strings.Join(started, ", ")
	fmt.Fprintln(out, line)
	return nil
}

// A recorder keeps, in order, the children that stopped and started. The
// supervisor's event hook and the workers write to it.
type recorder struct {
	mu               sync.Mutex
	stopped, started []string
}

func (r *recorder) add(list *[]string, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*list = append(*list, name)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped, r.started = nil, nil
}

func (r *recorder) lists() (stopped, started []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped, r.started
}
