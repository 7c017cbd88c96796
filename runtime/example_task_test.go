package runtime_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/arborgo/arbor/runtime"
)

// A dynamic supervisor runs tasks, Elixir's Task.Supervisor: the caller
// awaits each one's result or failure. A transient task is restarted after
// a crash, and Await returns the result of the run that succeeds.
func ExampleStartTask() {
	ctx := runtime.WithEventHook(context.Background(), func(runtime.Event) {})
	tasks, err := runtime.StartDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "tasks"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tasks.Stop(ctx)

	answer, _ := runtime.StartTask(ctx, tasks, runtime.TaskOptions{}, func(ctx context.Context) (int, error) {
		return 6 * 7, nil
	})
	fmt.Println(answer.Await(ctx))

	failing, _ := runtime.StartTask(ctx, tasks, runtime.TaskOptions{}, func(ctx context.Context) (int, error) {
		return 0, errors.New("no route to host")
	})
	_, err = failing.Await(ctx)
	fmt.Println(errors.Is(err, runtime.ErrExited), errors.Unwrap(err))

	attempt := 0
	flaky, _ := runtime.StartTask(ctx, tasks, runtime.TaskOptions{Transient: true}, func(ctx context.Context) (string, error) {
		attempt++
		if attempt < 3 {
			return "", fmt.Errorf("attempt %d failed", attempt)
		}
		return fmt.Sprintf("succeeded at attempt %d", attempt), nil
	})
	fmt.Println(flaky.Await(ctx))
	// Output:
	// 42 <nil>
	// true no route to host
	// succeeded at attempt 3 <nil>
}

// Await with a timeout gives up waiting, not the task: the task keeps
// running and can be awaited again.
func ExampleTask_AwaitTimeout() {
	ctx := context.Background()
	tasks, err := runtime.StartDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "tasks"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tasks.Stop(ctx)

	proceed := make(chan struct{})
	slow, _ := runtime.StartTask(ctx, tasks, runtime.TaskOptions{}, func(ctx context.Context) (string, error) {
		select {
		case <-proceed:
			return "finished", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	_, err = slow.AwaitTimeout(ctx, 0)
	fmt.Println(err, slow.Handle().Alive())
	close(proceed)
	fmt.Println(slow.AwaitTimeout(ctx, runtime.InfiniteTimeout))
	// Output:
	// arbor: no answer in time (timeout) true
	// finished <nil>
}
