package runtime_test

import (
	"context"
	"fmt"

	"github.com/arborgo/arbor/runtime"
)

// A server owns its state; calls and casts are closures that run on it,
// one at a time, in its goroutine.
func ExampleCall() {
	ctx := context.Background()
	srv, err := runtime.StartServer(ctx, "greeter", runtime.ServerSpec[map[string]int]{
		Init: func(context.Context) (map[string]int, error) { return map[string]int{}, nil },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Stop(ctx, nil)

	srv.Cast(func(seen *map[string]int) error { (*seen)["ann"]++; return nil })
	greet := func(name string) (string, error) {
		return runtime.Call(ctx, srv, func(seen *map[string]int) (string, error) {
			(*seen)[name]++
			return fmt.Sprintf("hello %s, visit %d", name, (*seen)[name]), nil
		})
	}
	fmt.Println(greet("ann"))
	fmt.Println(greet("bob"))
	// Output:
	// hello ann, visit 2 <nil>
	// hello bob, visit 1 <nil>
}

// The stash pattern: under rest_for_one, a stash server keeps the value of
// a sequence server across the sequence's crashes. The sequence takes its
// value from the stash in its init and hands it back in its terminate, so
// a crash loses nothing; the stash, started first, is not restarted with it.
func ExampleServer_stash() {
	newStash := func(ctx context.Context, initial int) (*runtime.Server[int], error) {
		return runtime.NewServer(ctx, runtime.ServerSpec[int]{
			Init: func(context.Context) (int, error) { return initial, nil },
		})
	}
	newSequence := func(ctx context.Context, stash *runtime.Ref[*runtime.Server[int]]) (*runtime.Server[int], error) {
		return runtime.NewServer(ctx, runtime.ServerSpec[int]{
			Init: func(ctx context.Context) (int, error) {
				s, _ := stash.Get()
				return runtime.Call(ctx, s, func(n *int) (int, error) { return *n, nil })
			},
			Terminate: func(_ context.Context, n *int, _ error) {
				last := *n
				s, _ := stash.Get()
				s.Cast(func(stashed *int) error { *stashed = last; return nil })
			},
		})
	}
	next := func(ctx context.Context, seq *runtime.Server[int]) (int, error) {
		return runtime.Call(ctx, seq, func(n *int) (int, error) { *n++; return *n - 1, nil })
	}
	increment := func(seq *runtime.Server[int], delta int) {
		seq.Cast(func(n *int) error {
			if delta < 0 {
				return fmt.Errorf("bad increment %d", delta)
			}
			*n += delta
			return nil
		})
	}

	ctx := runtime.WithEventHook(context.Background(), func(e runtime.Event) {
		if e.Kind == runtime.ChildTerminated {
			fmt.Printf("%s %s: %v\n", e.Kind, e.Child.ID, e.Reason)
		}
	})
	stash := runtime.NewRef(runtime.Bind1(newStash, 100))
	sequence := runtime.NewRef(runtime.Bind1(newSequence, stash))
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
		Name:  "sequence",
		Flags: runtime.Flags{Strategy: runtime.RestForOne},
		Children: []runtime.ChildSpec{
			{ID: "stash", Start: stash.Start},
			{ID: "sequence", Start: sequence.Start},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sup.Stop(ctx)

	seq, _ := sequence.Get()
	fmt.Println(next(ctx, seq))
	fmt.Println(next(ctx, seq))
	increment(seq, 10)
	fmt.Println(next(ctx, seq))

	increment(seq, -1) // crashes the sequence
	<-seq.Handle().Done()
	sup.WhichChild(ctx, "sequence") // the supervisor has handled the crash
	seq, _ = sequence.Get()
	fmt.Println(next(ctx, seq))
	// Output:
	// 100 <nil>
	// 101 <nil>
	// 112 <nil>
	// child_terminated sequence: bad increment -1
	// 113 <nil>
}
