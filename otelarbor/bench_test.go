package otelarbor_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/otelarbor"
	"github.com/arborgo/arbor/runtime"
)

// What measuring costs on the restart path, the hot path it touches most:
//
//	cd otelarbor && go test -run '^$' -bench Restart -count 5
//
// "none" runs without WithMetrics (the runtime's nil check only), "sdk"
// with otelarbor recording into the OpenTelemetry SDK (a manual reader,
// never collected: the recording is what a restart pays). Compare the two
// medians of one run; the machine's load moves both.

var errCrash = errors.New("crash")

// crasher serves until told to crash, and says when it serves.
type crasher struct {
	serving chan<- struct{}
	crash   <-chan struct{}
}

func (c crasher) Serve(ctx context.Context) error {
	c.serving <- struct{}{}
	select {
	case <-c.crash:
		return errCrash
	case <-ctx.Done():
		return nil
	}
}

func BenchmarkRestart(b *testing.B) {
	for _, mode := range []string{"none", "sdk"} {
		b.Run(mode, func(b *testing.B) {
			clk := clock.NewFake(time.Unix(0, 0))
			ctx := runtime.WithClock(runtime.WithEventHook(context.Background(), nil), clk)
			if mode == "sdk" {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				defer mp.Shutdown(context.Background())
				m, err := otelarbor.New(mp)
				if err != nil {
					b.Fatal(err)
				}
				defer m.Close()
				ctx = runtime.WithMetrics(ctx, m)
			}
			serving := make(chan struct{}, 1)
			crash := make(chan struct{})
			sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
				Name:  "bench",
				Flags: runtime.Flags{MaxRestarts: 1 << 30, MaxSeconds: 3600},
				Children: []runtime.ChildSpec{{ID: "c", Start: func(context.Context) (runtime.Service, error) {
					return crasher{serving: serving, crash: crash}, nil
				}}},
			})
			if err != nil {
				b.Fatal(err)
			}
			defer sup.Stop(context.Background())
			<-serving
			samples := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				crash <- struct{}{}
				<-serving
				samples = append(samples, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(samples)
			b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
		})
	}
}
