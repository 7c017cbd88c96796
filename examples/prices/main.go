// Command prices publishes stock quotes to the watchers subscribed to each
// symbol, through a duplicate-key registry: Elixir's Registry pub/sub.
// Several watchers share a symbol, one subscribes twice, one crashes and
// its subscriptions go with it, one unsubscribes; an audit listens to the
// registry and monitors the subscribers.
//
//	go run ./examples/prices
package main

//go:generate go run github.com/arborgo/arbor/cmd/arbor generate prices.arbor.yaml

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/arborgo/arbor/runtime"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "prices:", err)
		os.Exit(1)
	}
}

// run starts the tree of prices.arbor.yaml, tells the story on out, and
// stops the tree.
func run(ctx context.Context, out io.Writer) error {
	// The watcher that crashes is reported by the audit; the supervisor's
	// report of it would only repeat that.
	ctx = runtime.WithEventHook(ctx, func(runtime.Event) {})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The duplicate registry, made here: the spec cannot declare one yet.
	// By process, as Elixir's default: a subscription or an exit touches
	// one partition, a publish visits all.
	quotes := runtime.NewDuplicateRegistry[string, runtime.Subscriber[Quote]](runtime.RegistryOptions{
		Name: "quotes", Partitions: 4, Meta: map[string]any{"currency": "USD"},
	})

	sup, err := NewMarketSupervisor(ctx)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- sup.Serve(ctx) }()
	defer func() {
		cancel()
		<-served
	}()
	audit, err := child[*Audit](ctx, sup, "audit")
	if err != nil {
		return err
	}
	audit.Watch(quotes)
	pool, err := child[*WatchersSupervisor](ctx, sup, "watchers")
	if err != nil {
		return err
	}

	// Three watchers; carol lists GOOG twice, so she holds two entries
	// under it, as a process that registers twice in Elixir's duplicate
	// registry does.
	names := map[runtime.Handle]string{}
	watchers := map[string]*Watcher{}
	for _, w := range []struct {
		name    string
		symbols []string
	}{{"alice", []string{"AAPL"}}, {"bob", []string{"AAPL", "GOOG"}}, {"carol", []string{"GOOG", "GOOG"}}} {
		h, err := pool.StartChild(ctx, quotes, w.name, w.symbols)
		if err != nil {
			return err
		}
		watchers[w.name], _ = runtime.ServiceOf[*Watcher](h)
		names[h] = w.name
		fmt.Fprintf(out, "%s subscribed to %s\n", w.name, strings.Join(w.symbols, ", "))
	}
	currency, _ := quotes.Meta("currency")
	subscribers := func() string {
		return fmt.Sprintf("AAPL %d, GOOG %d", len(quotes.Lookup("AAPL")), len(quotes.Lookup("GOOG")))
	}
	fmt.Fprintf(out, "subscriptions: %s (prices in %s)\n", subscribers(), currency)

	publish := func(q Quote) {
		fmt.Fprintf(out, "publish %v: reached %d subscriptions\n", q, runtime.Publish(quotes, q.Symbol, q))
	}
	publish(Quote{"AAPL", 189.5})
	publish(Quote{"GOOG", 140.25})
	for _, name := range []string{"alice", "bob", "carol"} {
		seen, err := watchers[name].Seen(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s saw %v\n", name, seen)
	}

	// The audit has handled every subscription, and so monitors every
	// watcher, before bob crashes.
	if _, err := audit.Records(ctx); err != nil {
		return err
	}
	bob := watchers["bob"]
	bob.Crash(errors.New("bad tick"))
	<-bob.Handle().Done() // by now the registry has dropped his entries
	fmt.Fprintf(out, "bob crashed; subscriptions: %s\n", subscribers())

	alice := watchers["alice"]
	quotes.Unregister("AAPL", alice.Handle())
	fmt.Fprintln(out, "alice unsubscribed from AAPL")
	publish(Quote{"AAPL", 190})
	fmt.Fprintf(out, "carol's symbols: %v; %d subscriptions left\n", quotes.Keys(watchers["carol"].Handle()), quotes.Count())

	records, err := audit.Records(ctx)
	if err != nil {
		return err
	}
	for _, r := range records {
		switch r.What {
		case "down":
			fmt.Fprintf(out, "audit: %s %s: %v\n", r.What, names[r.Handle], r.Reason)
		default:
			fmt.Fprintf(out, "audit: %s %s %s\n", r.What, r.Symbol, names[r.Handle])
		}
	}
	fmt.Fprintln(out, "stopping")
	return sup.Stop(ctx)
}

// child returns the service of the running child id of sup, as an S.
func child[S runtime.Service](ctx context.Context, sup *MarketSupervisor, id string) (S, error) {
	var zero S
	info, err := sup.WhichChild(ctx, id)
	if err != nil {
		return zero, err
	}
	s, ok := runtime.ServiceOf[S](info.Handle)
	if !ok {
		return zero, fmt.Errorf("child %s is not a %T", id, zero)
	}
	return s, nil
}
