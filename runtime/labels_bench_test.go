package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
)

// BenchmarkRestartProfileLabels measures a restart with the children's
// profile labels (the default) and without (WithoutProfileLabels): the
// labels' cost is the difference of the two medians of one run.
//
//	go test -run '^$' -bench RestartProfileLabels -benchmem -count 5 ./runtime
func BenchmarkRestartProfileLabels(b *testing.B) {
	for _, labels := range []string{"on", "off"} {
		b.Run("labels="+labels, func(b *testing.B) {
			clk := clock.NewFake(time.Unix(0, 0))
			ctx := benchCtx(clk)
			if labels == "off" {
				ctx = runtime.WithoutProfileLabels(ctx)
			}
			serving := make(chan struct{}, 1)
			crash := make(chan struct{})
			sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
				Name:     "bench",
				Flags:    runtime.Flags{MaxRestarts: 1 << 30, MaxSeconds: 3600},
				Children: []runtime.ChildSpec{crasherSpec("c", serving, crash)},
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
			reportP50(b, samples)
		})
	}
}
