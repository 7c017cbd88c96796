package named_templates

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/arborgo/arbor/runtime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type starter interface {
	Serve(ctx context.Context) error
	WhichChildren(ctx context.Context) ([]runtime.ChildInfo, error)
}

// serve serves sup until the test ends.
func serve(t *testing.T, ctx context.Context, sup starter) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- sup.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
}

// Each template's StartChild gives its child the id its pattern makes, which
// is in the handle and in WhichChildren.
func TestTemplatesNameTheirChildren(t *testing.T) {
	ctx := runtime.WithEventHook(context.Background(), func(runtime.Event) {})
	check := func(sup starter, h runtime.Handle, err error, want string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(strings.SplitN(h.String(), "#", 2)[0], "/"+want) {
			t.Errorf("handle %s; want the id %q in it", h, want)
		}
		infos, err := sup.WhichChildren(ctx)
		if err != nil || len(infos) != 1 || infos[0].ID != want {
			t.Errorf("WhichChildren = %+v, %v; want one child %q", infos, err, want)
		}
	}
	buckets, err := NewBucketsSupervisor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ctx, buckets)
	h, err := buckets.StartChild(ctx, "shopping")
	check(buckets, h, err, "shopping")

	conns, err := NewConnsSupervisor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ctx, conns)
	h, err = conns.StartChild(ctx, "db", 5432)
	check(conns, h, err, "db:5432")

	prices, err := NewPricesSupervisor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ctx, prices)
	h, err = prices.StartChild(ctx, "AAPL")
	check(prices, h, err, "$AAPL (100%)")

	workers, err := NewWorkersSupervisor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ctx, workers)
	h, err = workers.StartChild(ctx)
	check(workers, h, err, "worker")
}
