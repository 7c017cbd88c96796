package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The driver starts replicas by running its own executable: under go
	// test, this test binary, which then runs as a replica.
	if os.Getenv(replicaEnv) != "" {
		if err := replica(context.Background(), os.Args[1:], os.Stdout); err != nil {
			os.Stderr.WriteString("replica: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// The story: three replicas come up; billing runs on node-a and the carts
// spread over all three; node-a is killed; billing fails over to node-b
// (node-b and node-c are equals, both idle: the first by name), node-a's
// carts move to the two others, and the others' carts do not restart.
func TestStory(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, &out, "", time.Second); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	var story, echoed []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.HasPrefix(line, "  | ") {
			echoed = append(echoed, strings.TrimPrefix(line, "  | "))
		} else {
			story = append(story, line)
		}
	}
	got := strings.Join(story, "\n")
	got = regexp.MustCompile(`token \d+ → \d+`).ReplaceAllString(got, "token N → M")
	got = regexp.MustCompile(`\(\d+(\.\d+)?m?s to recover`).ReplaceAllString(got, "(T to recover")
	// Placement is rendezvous hashing of the keys over the live nodes, the
	// same in every run.
	want := `etcd: an embedded member, on loopback
started replicas node-a, node-b, node-c, each waiting for the other two
before:
  billing  on node-a (normal)
  cart-1   on node-c
  cart-2   on node-a
  cart-3   on node-b
  cart-4   on node-c
  cart-5   on node-b
  cart-6   on node-c
  cart-7   on node-b
  cart-8   on node-b
  cart-9   on node-a
killing node-a (SIGKILL): its lease ends within the TTL, then the others take over
after:
  billing  on node-b (failover from node-a)
  cart-1   on node-c
  cart-2   on node-b (moved from node-a; token N → M)
  cart-3   on node-b
  cart-4   on node-c
  cart-5   on node-b
  cart-6   on node-c
  cart-7   on node-b
  cart-8   on node-b
  cart-9   on node-c (moved from node-a; token N → M)
3 of 10 moved off node-a; the others did not restart (T to recover with a TTL of 1s)
stopping node-b and node-c (SIGTERM)
done`
	if got != want {
		t.Errorf("the story (-want +got):\n--- want\n%s\n--- got\n%s\n--- full output\n%s", want, got, out.String())
	}
	for _, line := range []string{
		"node-b: started billing (failover from node-a)",
		"node-b: stopped billing",
		"node-b: stopped",
		"node-c: stopped",
	} {
		if !containsPrefix(echoed, line) {
			t.Errorf("no replica printed %q\n%s", line, out.String())
		}
	}
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
