package runtime_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/arborgo/arbor/runtime"
)

// flaky is a service that crashes on its first run and then serves until
// it is stopped.
type flaky struct {
	run     int
	serving chan int
}

func newFlaky(_ context.Context, run int, serving chan int) (*flaky, error) {
	return &flaky{run: run, serving: serving}, nil
}

func (f *flaky) Serve(ctx context.Context) error {
	if f.run == 1 {
		return errors.New("first run fails")
	}
	f.serving <- f.run
	<-ctx.Done()
	return nil
}

// A supervisor restarts a crashed child; reports go to an event hook.
func Example() {
	ctx := runtime.WithEventHook(context.Background(), func(e runtime.Event) {
		if e.Reason != nil {
			fmt.Printf("%s %s: %v\n", e.Kind, e.Child.ID, e.Reason)
		} else {
			fmt.Printf("%s %s\n", e.Kind, e.Child.ID)
		}
	})
	serving := make(chan int)
	run := 0
	start := func(ctx context.Context) (runtime.Service, error) {
		run++
		return newFlaky(ctx, run, serving)
	}
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
		Name:     "example",
		Flags:    runtime.Flags{Strategy: runtime.OneForOne, MaxRestarts: 3, MaxSeconds: 5},
		Children: []runtime.ChildSpec{{ID: "worker", Start: start}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("serving, run", <-serving)
	if err := sup.Stop(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// progress worker
	// child_terminated worker: first run fails
	// progress worker
	// serving, run 2
}

type counter struct{ n int }

func (c *counter) Serve(ctx context.Context) error { <-ctx.Done(); return nil }

func newCounter(_ context.Context, start int) (*counter, error) { return &counter{n: start}, nil }

type reader struct{ source *runtime.Ref[*counter] }

func (r *reader) Serve(ctx context.Context) error { <-ctx.Done(); return nil }

func newReader(_ context.Context, source *runtime.Ref[*counter]) (*reader, error) {
	return &reader{source: source}, nil
}

// Bind checks a constructor's shape and arguments at compile time; a Ref
// hands a sibling a typed handle that follows the child across restarts.
func ExampleNewRef() {
	count := runtime.NewRef(runtime.Bind1(newCounter, 41))
	var readerRef = runtime.NewRef(runtime.Bind1(newReader, count))
	sup, err := runtime.StartSupervisor(context.Background(), runtime.SupervisorSpec{
		Name:  "refs",
		Flags: runtime.Flags{Strategy: runtime.RestForOne},
		Children: []runtime.ChildSpec{
			{ID: "count", Start: count.Start},
			{ID: "reader", Start: readerRef.Start},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sup.Stop(context.Background())
	r, _ := readerRef.Get()
	c, running := r.source.Get()
	fmt.Println(c.n+1, running)
	// Output: 42 true
}

// A dynamic supervisor starts children on demand, up to MaxChildren; they
// are named by their handles.
func ExampleDynamicSupervisor() {
	ctx := runtime.WithEventHook(context.Background(), func(runtime.Event) {})
	pool, err := runtime.StartDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "pool", MaxChildren: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Stop(context.Background())
	for i := range 3 {
		_, err := pool.StartChild(ctx, runtime.ChildSpec{Start: runtime.Bind1(newCounter, i).Start})
		fmt.Println("start", i, err)
	}
	n, _ := pool.CountChildren(ctx)
	fmt.Printf("%+v\n", n)
	// Output:
	// start 0 <nil>
	// start 1 <nil>
	// start 2 arbor: the supervisor already has its maximum number of children (max_children)
	// {Specs:2 Active:2 Supervisors:0 Workers:2}
}
