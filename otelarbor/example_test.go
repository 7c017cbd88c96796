package otelarbor_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/arborgo/arbor/otelarbor"
	"github.com/arborgo/arbor/runtime"
)

// crashOnce returns an error the first time it serves.
type crashOnce struct{ crashed *bool }

func (c crashOnce) Serve(ctx context.Context) error {
	if !*c.crashed {
		*c.crashed = true
		return errors.New("lost its connection")
	}
	<-ctx.Done()
	return nil
}

// Exporting to Prometheus: the OpenTelemetry Prometheus exporter is a
// reader of the SDK's MeterProvider, and promhttp serves what it gathers
// at /metrics.
func Example_prometheus() {
	registry := prometheus.NewRegistry() // a program would use prometheus.DefaultRegisterer
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		panic(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer mp.Shutdown(context.Background())
	m, err := otelarbor.New(mp)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux) // a program would ListenAndServe on its metrics port
	defer srv.Close()

	// Every supervisor below this context is measured.
	ctx := runtime.WithMetrics(context.Background(), m)
	crashed := false
	events := make(chan runtime.Event, 10)
	ctx = runtime.WithEventHook(ctx, func(e runtime.Event) { events <- e })
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{Name: "shop", Children: []runtime.ChildSpec{
		{ID: "cache", Start: func(context.Context) (runtime.Service, error) { return crashOnce{&crashed}, nil }},
	}})
	if err != nil {
		panic(err)
	}
	defer sup.Stop(ctx)
	for e := range events { // the first start, the crash, the restart
		if e.Kind == runtime.ChildStarted && e.Child.Handle.String() == "shop/cache#2" {
			break
		}
	}

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		line := lines.Text()
		for _, name := range []string{"arbor_child_restarts_total{", "arbor_supervisor_children{", "arbor_supervisor_intensity"} {
			if strings.HasPrefix(line, name) {
				fmt.Println(line)
			}
		}
	}
	// Output:
	// arbor_child_restarts_total{arbor_child="cache",arbor_exit_kind="error",arbor_supervisor="shop"} 1
	// arbor_supervisor_children{arbor_child_state="restarting",arbor_supervisor="shop"} 0
	// arbor_supervisor_children{arbor_child_state="running",arbor_supervisor="shop"} 1
	// arbor_supervisor_children{arbor_child_state="stopped",arbor_supervisor="shop"} 0
	// arbor_supervisor_intensity_allowed{arbor_supervisor="shop"} 3
	// arbor_supervisor_intensity_used{arbor_supervisor="shop"} 1
}
