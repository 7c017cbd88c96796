package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
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
