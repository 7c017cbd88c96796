package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/arborgo/arbor/runtime"
)

// quotes is a pub/sub registry: topics are symbols, messages prices.
type quotes = runtime.DuplicateRegistry[string, runtime.Subscriber[float64]]

// subscriber starts a server that records the prices it is sent.
func subscriber(t *testing.T, ctx context.Context, name string) *runtime.Server[[]string] {
	t.Helper()
	srv, err := runtime.StartServer(ctx, name, runtime.ServerSpec[[]string]{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background(), nil) })
	return srv
}

func record(symbol string) func(*[]string, float64) error {
	return func(got *[]string, price float64) error {
		*got = append(*got, fmt.Sprint(symbol, " ", price))
		return nil
	}
}

// received returns what srv has handled so far: a call is queued after
// every message published before it.
func received(t *testing.T, srv *runtime.Server[[]string]) []string {
	t.Helper()
	got, err := runtime.Call(context.Background(), srv, func(got *[]string) ([]string, error) { return slices.Clone(*got), nil })
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Pub/sub through a duplicate registry, Elixir's registry dispatch
// pattern: a published message reaches the queue of every server
// subscribed to its topic, in publication order, once per subscription;
// an unsubscribed or exited server gets nothing and is not counted.
func TestPubSub(t *testing.T) {
	for _, k := range dupKinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := context.Background()
			r := runtime.NewDuplicateRegistry[string, runtime.Subscriber[float64]](k.opts)
			alice, bob, carol := subscriber(t, ctx, "alice"), subscriber(t, ctx, "bob"), subscriber(t, ctx, "carol")
			for _, s := range []struct {
				srv    *runtime.Server[[]string]
				symbol string
			}{{alice, "AAPL"}, {bob, "AAPL"}, {bob, "GOOG"}, {carol, "GOOG"}, {carol, "GOOG"}} {
				if err := runtime.Subscribe(r, s.symbol, s.srv, record(s.symbol)); err != nil {
					t.Fatal(err)
				}
			}
			if n := runtime.Publish(r, "AAPL", 189.5); n != 2 {
				t.Fatalf("AAPL reached %d, want 2", n)
			}
			if n := runtime.Publish(r, "GOOG", 140.25); n != 3 {
				t.Fatalf("GOOG reached %d, want 3 (carol twice)", n)
			}
			runtime.Publish(r, "AAPL", 190)
			if n := runtime.Publish(r, "MSFT", 1); n != 0 {
				t.Fatalf("MSFT reached %d", n)
			}
			for _, c := range []struct {
				srv  *runtime.Server[[]string]
				want []string
			}{
				{alice, []string{"AAPL 189.5", "AAPL 190"}},
				{bob, []string{"AAPL 189.5", "GOOG 140.25", "AAPL 190"}},
				{carol, []string{"GOOG 140.25", "GOOG 140.25"}},
			} {
				if got := received(t, c.srv); !slices.Equal(got, c.want) {
					t.Fatalf("%v received %q, want %q", c.srv, got, c.want)
				}
			}
			if got := r.Keys(bob.Handle()); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"AAPL", "GOOG"}) {
				t.Fatalf("bob's topics: %v", got)
			}
			// Unsubscribing is unregistering; exiting unsubscribes from all.
			r.Unregister("AAPL", alice.Handle())
			if err := bob.Stop(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if n := runtime.Publish(r, "AAPL", 191); n != 0 {
				t.Fatalf("AAPL reached %d after alice unsubscribed and bob stopped", n)
			}
			if n := runtime.Publish(r, "GOOG", 141); n != 2 {
				t.Fatalf("GOOG reached %d, want carol's 2", n)
			}
			if got := received(t, alice); len(got) != 2 {
				t.Fatalf("alice got %q after unsubscribing", got)
			}
			if r.Count() != 2 {
				t.Fatalf("Count = %d, want carol's 2", r.Count())
			}
		})
	}
}

// A subscriber's handler is a cast handler: an error stops the server,
// whose subscriptions go with it. A stopped server cannot subscribe.
func TestPubSubHandlerError(t *testing.T) {
	ctx := context.Background()
	var r quotes
	srv := subscriber(t, ctx, "fragile")
	bad := errors.New("bad price")
	runtime.Subscribe(&r, "AAPL", srv, func(*[]string, float64) error { return bad })
	runtime.Publish(&r, "AAPL", -1)
	waitDone(t, srv.Handle())
	if reason := srv.Handle().Reason(); !errors.Is(reason, bad) {
		t.Fatalf("server exited with %v", reason)
	}
	if r.Count() != 0 {
		t.Fatal("the stopped server is still subscribed")
	}
	if err := runtime.Subscribe(&r, "AAPL", srv, record("AAPL")); !errors.Is(err, runtime.ErrNoProc) {
		t.Fatalf("Subscribe of a stopped server = %v", err)
	}
	if err := runtime.Subscribe[[]string](&r, "AAPL", nil, record("AAPL")); !errors.Is(err, runtime.ErrNoProc) {
		t.Fatalf("Subscribe of nil = %v", err)
	}
	if (runtime.Subscriber[float64]{}).Deliver(1) {
		t.Fatal("the zero Subscriber delivered")
	}
}

// Dispatch lets a publisher choose: here, deliver only to the subscriptions
// a predicate picks, through the entries' Subscriber values.
func TestPubSubDispatch(t *testing.T) {
	ctx := context.Background()
	var r quotes
	a, b := subscriber(t, ctx, "a"), subscriber(t, ctx, "b")
	runtime.Subscribe(&r, "AAPL", a, record("AAPL"))
	runtime.Subscribe(&r, "AAPL", b, record("AAPL"))
	r.Dispatch("AAPL", func(e runtime.Entry[string, runtime.Subscriber[float64]]) {
		if e.Handle == b.Handle() {
			e.Value.Deliver(42)
		}
	})
	if got := received(t, b); !slices.Equal(got, []string{"AAPL 42"}) {
		t.Fatalf("b got %q", got)
	}
	if got := received(t, a); len(got) != 0 {
		t.Fatalf("a got %q", got)
	}
}
