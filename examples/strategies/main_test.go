package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
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
