package runtime_test

import (
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
			ctx := benchCtx(clock.NewFake(time.Unix(0, 0)))
			if labels == "off" {
				ctx = runtime.WithoutProfileLabels(ctx)
			}
			measureRestarts(b, ctx, 0, nil)
		})
	}
}
