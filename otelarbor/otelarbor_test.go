package otelarbor_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/arborgo/arbor/otelarbor"
	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/arbortest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// idle runs until it is stopped.
type idle struct{}

func (idle) Serve(ctx context.Context) error { <-ctx.Done(); return nil }

// collect reads every data point of the scope: a counter's or a gauge's
// value, and a histogram's count (as name.count), by name and attributes.
func collect(t *testing.T, reader sdkmetric.Reader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelarbor.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, mt := range sm.Metrics {
			switch data := mt.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range data.DataPoints {
					out[mt.Name+"{"+dp.Attributes.Encoded(attribute.DefaultEncoder())+"}"] = dp.Value
				}
			case metricdata.Gauge[int64]:
				for _, dp := range data.DataPoints {
					out[mt.Name+"{"+dp.Attributes.Encoded(attribute.DefaultEncoder())+"}"] = dp.Value
				}
			case metricdata.Histogram[float64]:
				for _, dp := range data.DataPoints {
					out[mt.Name+".count{"+dp.Attributes.Encoded(attribute.DefaultEncoder())+"}"] = int64(dp.Count)
				}
			default:
				t.Errorf("%s: unexpected data %T", mt.Name, mt.Data)
			}
		}
	}
	return out
}

// Crashes, calls and a blocked server, read back with the SDK's manual
// reader by exact counts; then the supervisor gives up.
func TestInstruments(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	m, err := otelarbor.New(mp)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	var srv *runtime.Server[int]
	tree, sup := arbortest.StartSpec(t, runtime.SupervisorSpec{Name: "shop", Flags: runtime.Flags{MaxRestarts: 3, MaxSeconds: 5},
		Children: []runtime.ChildSpec{
			{ID: "cache", Start: func(context.Context) (runtime.Service, error) { return idle{}, nil }},
			{ID: "srv", Start: func(ctx context.Context) (runtime.Service, error) {
				s, err := runtime.NewServer(ctx, runtime.ServerSpec[int]{})
				srv = s
				return s, err
			}},
		}}, arbortest.WithContext(runtime.WithMetrics(context.Background(), m)))

	for range 3 {
		if _, err := runtime.Call(tree.Ctx, srv, func(n *int) (int, error) { return *n, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := runtime.Call(tree.Ctx, srv, func(n *int) (int, error) { return 0, errors.New("no") }); err == nil {
		t.Fatal("the failing call did not fail")
	}
	for range 2 {
		tree.Crash("cache", errors.New("lost"))
		tree.WaitRestart("cache")
	}
	tree.Panic("cache", "boom")
	tree.WaitRestart("cache")
	entered, release := make(chan struct{}), make(chan struct{})
	srv.Cast(func(*int) error { close(entered); <-release; return nil })
	<-entered
	srv.Cast(func(*int) error { return nil })
	srv.Cast(func(*int) error { return nil })

	want := map[string]int64{
		"arbor.child.restarts{arbor.child=cache,arbor.exit.kind=error,arbor.supervisor=shop}":              2,
		"arbor.child.restarts{arbor.child=cache,arbor.exit.kind=panic,arbor.supervisor=shop}":              1,
		"arbor.child.start.duration.count{arbor.child=cache,arbor.start.outcome=ok,arbor.supervisor=shop}": 4,
		"arbor.child.start.duration.count{arbor.child=srv,arbor.start.outcome=ok,arbor.supervisor=shop}":   1,
		"arbor.server.call.duration.count{arbor.call.outcome=ok,arbor.server=shop/srv}":                    3,
		"arbor.server.call.duration.count{arbor.call.outcome=error,arbor.server=shop/srv}":                 1,
		"arbor.server.queue.length{arbor.server=shop/srv}":                                                 2,
		"arbor.supervisor.children{arbor.child.state=running,arbor.supervisor=shop}":                       2,
		"arbor.supervisor.children{arbor.child.state=restarting,arbor.supervisor=shop}":                    0,
		"arbor.supervisor.children{arbor.child.state=stopped,arbor.supervisor=shop}":                       0,
		"arbor.supervisor.intensity.used{arbor.supervisor=shop}":                                           3,
		"arbor.supervisor.intensity.allowed{arbor.supervisor=shop}":                                        3,
		"arbor.supervisor.mailbox.length{arbor.supervisor=shop}":                                           0,
	}
	if diff := cmp.Diff(want, collect(t, reader)); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}

	// A fourth crash within the window: the supervisor gives up, stopping
	// the server; its gauges are gone, its counters stay.
	close(release)
	tree.Crash("cache", errors.New("lost"))
	if err := sup.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("Wait = %v", err)
	}
	for k := range want {
		if k[:len("arbor.supervisor.")] == "arbor.supervisor." || k[:len("arbor.server.queue")] == "arbor.server.queue" {
			delete(want, k)
		}
	}
	want["arbor.supervisor.escalations{arbor.child=cache,arbor.supervisor=shop}"] = 1
	want["arbor.child.stop.duration.count{arbor.child=srv,arbor.exit.kind=shutdown,arbor.supervisor=shop}"] = 1
	if diff := cmp.Diff(want, collect(t, reader)); diff != "" {
		t.Errorf("metrics after the escalation (-want +got):\n%s", diff)
	}
}

// Exit kinds, as arbor.exit.kind spells them.
func TestExitKind(t *testing.T) {
	for _, c := range []struct {
		reason error
		want   string
	}{
		{nil, "normal"},
		{runtime.ErrShutdown, "shutdown"},
		{runtime.Shutdown(errors.New("bye")), "shutdown"},
		{runtime.ErrKilled, "killed"},
		{&runtime.PanicError{Value: "boom"}, "panic"},
		{runtime.ErrGoexit, "goexit"},
		{fmt.Errorf("wrapped: %w", errors.New("io")), "error"},
		{fmt.Errorf("wrapped: %w", &runtime.PanicError{Value: 1}), "panic"},
		{errors.Join(errors.New("a"), &runtime.PanicError{Value: 2}), "panic"},
	} {
		if got := otelarbor.ExitKind(c.reason); got != c.want {
			t.Errorf("ExitKind(%v) = %q, want %q", c.reason, got, c.want)
		}
	}
}
