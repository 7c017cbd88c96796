package main

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/arborgo/arbor/runtime/arbortest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// B crashes under each strategy; each supervisor stops and restarts what
// OTP's strategy says, in OTP's order.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := `each supervisor starts A, B, C in that order; then B crashes
one_for_one:  B crashed → restarted: B
one_for_all:  B crashed → stopped: C, A → restarted: A, B, C
rest_for_one: B crashed → stopped: C → restarted: B, C
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("run printed (-want +got):\n%s", diff)
	}
}

// Each supervisor of strategies.arbor.yaml under the test kit: B crashes,
// and the tree shows what the strategy restarted.
func TestStrategiesUnderTheKit(t *testing.T) {
	boom := errors.New("boom")
	t.Run("one_for_one", func(t *testing.T) {
		tree, _ := arbortest.Start(t, NewOneForOneSupervisor)
		tree.Crash("B", boom)
		tree.WaitRestart("B")
		tree.AssertTree(`
			A: running
			B: running, restarts 1, last exit "boom"
			C: running
		`)
	})
	t.Run("one_for_all", func(t *testing.T) {
		tree, _ := arbortest.Start(t, NewOneForAllSupervisor)
		tree.Crash("B", boom)
		tree.WaitRestart("B")
		tree.AssertTree(`
			A: running, restarts 1, last exit "shutdown"
			B: running, restarts 1, last exit "boom"
			C: running, restarts 1, last exit "shutdown"
		`)
	})
	t.Run("rest_for_one", func(t *testing.T) {
		tree, _ := arbortest.Start(t, NewRestForOneSupervisor)
		tree.Crash("B", boom)
		tree.WaitRestart("B")
		tree.AssertTree(`
			A: running
			B: running, restarts 1, last exit "boom"
			C: running, restarts 1, last exit "shutdown"
		`)
	})
}
