package registries

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arborgo/arbor/runtime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The generated registries have the spec's kinds, types, partitions,
// metadata and names; children register with their values; the listeners
// of quotes hear of every subscription, the ref and the one that takes a
// ref as well as the plain child.
func TestRegistriesOfEveryKind(t *testing.T) {
	ctx, cancel := context.WithCancel(runtime.WithEventHook(context.Background(), func(runtime.Event) {}))
	defer cancel()
	deps := NewDeps()
	sup, err := NewTopSupervisor(ctx, deps)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- sup.Serve(ctx) }()
	defer func() {
		cancel()
		<-served
	}()

	if deps.Conns.Partitions() != 4 || deps.Quotes.Partitions() != 2 || deps.Names.Partitions() != 1 {
		t.Errorf("partitions: conns %d, quotes %d, names %d; want 4, 2, 1", deps.Conns.Partitions(), deps.Quotes.Partitions(), deps.Names.Partitions())
	}
	for key, want := range map[string]any{"currency": "USD", "scale": 2, "live": true, "every": time.Second} {
		if got, ok := deps.Quotes.Meta(key); !ok || got != want {
			t.Errorf("meta %s = %v, %v; want %v", key, got, ok, want)
		}
	}
	if e, ok := deps.Ports.LookupEntry(8080); !ok || e.Value != "http" {
		t.Errorf("port 8080 = %+v, %v; want the child port with the value http", e, ok)
	}
	snap, err := sup.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range snap.Children {
		names = append(names, c.Names...)
	}
	if want := []string{"names/counter", `names/lookup "main"`, "ports/8080"}; !slices.Equal(names, want) {
		t.Errorf("the snapshot's names are %q; want %q", names, want)
	}

	pool, ok := runtime.DynamicSupervisorOf(childHandle(t, ctx, sup, "conns"))
	if !ok {
		t.Fatal("conns is not a dynamic supervisor")
	}
	conns := &ConnsSupervisor{DynamicSupervisor: pool, deps: deps}
	if _, err := conns.StartChild(ctx, "db"); err != nil {
		t.Fatal(err)
	}
	if e, ok := deps.Conns.LookupEntry("db"); !ok || e.Value.Addr != "db:5432" {
		t.Errorf("conn db = %+v, %v", e, ok)
	}

	sub, err := runtime.StartServer(ctx, "subscriber", runtime.ServerSpec[int]{})
	if err != nil {
		t.Fatal(err)
	}
	if err := runtime.Subscribe(deps.Quotes, "AAPL", sub, func(*int, Quote) error { return nil }); err != nil {
		t.Fatal(err)
	}
	deps.Quotes.Unregister("AAPL", sub.Handle())
	for _, id := range []string{"audit", "counter", "lookup"} {
		l, ok := runtime.ServiceOf[*listener](childHandle(t, ctx, sup, id))
		if !ok {
			t.Fatalf("%s is not a listener", id)
		}
		heard, err := l.Heard(ctx)
		if want := []string{"register AAPL", "unregister AAPL"}; err != nil || !slices.Equal(heard, want) {
			t.Errorf("%s heard %q, %v; want %q", id, heard, err, want)
		}
	}
}

func childHandle(t *testing.T, ctx context.Context, sup *TopSupervisor, id string) runtime.Handle {
	t.Helper()
	info, err := sup.WhichChild(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return info.Handle
}
