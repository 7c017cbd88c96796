package runtime_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/arborgo/arbor/runtime"
)

// Pub/sub through a duplicate registry: servers subscribe to topics, and
// a message published on a topic is queued on each subscriber, whose
// handler runs on its state.
func ExampleSubscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prices := runtime.NewDuplicateRegistry[string, runtime.Subscriber[float64]](runtime.RegistryOptions{Name: "prices"})

	// Each watcher keeps the last price of every symbol it watches.
	watcher := func(name string, symbols ...string) *runtime.Server[map[string]float64] {
		srv, _ := runtime.StartServer(ctx, name, runtime.ServerSpec[map[string]float64]{
			Init: func(context.Context) (map[string]float64, error) { return map[string]float64{}, nil },
		})
		for _, symbol := range symbols {
			runtime.Subscribe(prices, symbol, srv, func(last *map[string]float64, price float64) error {
				(*last)[symbol] = price
				return nil
			})
		}
		return srv
	}
	alice, bob := watcher("alice", "AAPL"), watcher("bob", "AAPL", "GOOG")

	fmt.Println("AAPL reached", runtime.Publish(prices, "AAPL", 189.5))
	fmt.Println("GOOG reached", runtime.Publish(prices, "GOOG", 140.25))
	for _, w := range []*runtime.Server[map[string]float64]{alice, bob} {
		last, _ := runtime.Call(ctx, w, func(last *map[string]float64) (map[string]float64, error) { return *last, nil })
		fmt.Println(w.Handle(), last)
	}
	// Output:
	// AAPL reached 2
	// GOOG reached 1
	// alice#1 map[AAPL:189.5]
	// bob#1 map[AAPL:189.5 GOOG:140.25]
}

// A duplicate registry holds many entries under one key, each with its
// value; Dispatch calls a function with each of them, in the caller.
func ExampleDuplicateRegistry_Dispatch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var shards runtime.DuplicateRegistry[string, int] // the zero value is ready to use
	for i := range 3 {
		h := runtime.Spawn(ctx, fmt.Sprint("shard", i), idle{})
		shards.RegisterValue("shards", h, 10*(i+1))
	}
	total := 0
	n := shards.Dispatch("shards", func(e runtime.Entry[string, int]) { total += e.Value })
	fmt.Println(n, "shards hold", total, "rows")
	fmt.Println(shards.CountMatch("shards", func(rows int) bool { return rows > 10 }), "hold more than 10")
	// Output:
	// 3 shards hold 60 rows
	// 2 hold more than 10
}

// A process publishes data about itself in its entry's value, which only
// it can update; others read it with the entry.
func ExampleUniqueRegistry_UpdateValue() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conns := runtime.NewUniqueRegistry[string, string](runtime.RegistryOptions{Name: "conns", Partitions: 4})
	done := make(chan struct{})
	runtime.Spawn(ctx, "conn", serviceFunc(func(ctx context.Context) error {
		conns.RegisterValue("node-a", runtime.Self(ctx), "connecting")
		conns.UpdateValue(ctx, "node-a", func(string) string { return "up" })
		close(done)
		<-ctx.Done()
		return nil
	}))
	<-done
	e, _ := conns.LookupEntry("node-a")
	fmt.Println(e.Key, e.Handle, e.Value)
	_, _, ok := conns.UpdateValue(ctx, "node-a", func(string) string { return "down" })
	fmt.Println("updated by another:", ok)
	// Output:
	// node-a conn#1 up
	// updated by another: false
}

// Listeners are told of registrations and unregistrations, in their
// server's queue.
func ExampleUniqueRegistry_Listen() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	names := runtime.NewRegistry[string]()
	audit, _ := runtime.StartServer(ctx, "audit", runtime.ServerSpec[[]string]{})
	names.Listen(runtime.NewListener(audit, func(log *[]string, ev runtime.RegistryEvent[string, struct{}]) error {
		*log = append(*log, fmt.Sprint(ev.Kind, " ", ev.Key, " ", ev.Handle))
		return nil
	}))
	h := runtime.Spawn(ctx, "worker", idle{})
	names.Register("w", h)
	names.Unregister("w")
	log, _ := runtime.Call(ctx, audit, func(log *[]string) ([]string, error) { return slices.Clone(*log), nil })
	fmt.Println(log)
	// Output: [register w worker#1 unregister w worker#1]
}
