package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The bench runs etcd and its memory measurements in processes of its
	// own, started from its executable: under go test, this test binary.
	if helper() {
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// The bench runs end to end on small counts, so that it does not rot
// between the times someone measures with it. Its figures are not checked:
// speed is measured by running it, never in a test.
func TestSmallRun(t *testing.T) {
	if err := run("", 20, 40, 1, 100); err != nil {
		t.Fatal(err)
	}
}
