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

// The counter crashes on a bad increment, is restarted alone (the stash
// keeps running, rest_for_one), and the count goes on from 6.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := `supervisor: started sequence/stash#1
counter: took 0 from the stash
supervisor: started sequence/counter#1
add 1: count 1
add 2: count 3
add 3: count 6
add -1: a bad increment
counter: handed 6 to the stash
supervisor: sequence/counter#1 crashed: bad increment -1
counter: took 6 from the stash
supervisor: started sequence/counter#2
after the restart: count 6; the stash, started before the counter, still runs as sequence/stash#1
add 4: count 10
stopping
counter: handed 10 to the stash
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("run printed (-want +got):\n%s", diff)
	}
}

// The tree of sequence.arbor.yaml under the test kit: a crash of the counter
// restarts the counter alone, and restarts spread over time stay within
// max_restarts.
func TestCounterRestartsAlone(t *testing.T) {
	tree, _ := arbortest.Start(t, NewSequenceSupervisor)
	stash := tree.Child("stash").Handle

	tree.Crash("counter", errors.New("bad increment"))
	tree.WaitRestart("counter")
	tree.AssertTree(`
		stash: running
		counter: running, restarts 1, last exit "bad increment"
	`)
	if tree.Child("stash").Handle != stash {
		t.Error("rest_for_one restarted the stash, started before the counter")
	}

	// Three more crashes within 5 seconds exceed max_restarts 3 ...
	tree.AdvancePastWindow("") // ... unless the window has passed.
	for range 3 {
		tree.Panic("counter", "boom")
		tree.WaitRestart("counter")
	}
	tree.AssertTree(`
		stash: running
		counter: running, restarts 4, last exit "panic: boom"
	`)
}
