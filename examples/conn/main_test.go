package main

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/arbortest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Concurrent callers share one connection; a connection that dies is removed
// on its Down and the next look-up opens a new one; the other node's
// connection is untouched.
func TestRun(t *testing.T) {
	for _, callers := range []int{1, 10, 100} {
		var out bytes.Buffer
		if err := run(context.Background(), &out, callers); err != nil {
			t.Fatalf("run: %v", err)
		}
		want := `conn: dialing node-a
` + strconv.Itoa(callers) + ` callers asked for node-a at once: 1 connection, conn/conns/#0
conn: dialing node-b
node-b: conn/conns/#1
node-a drops the connection
registry: Down conn/conns/#0 (node-a): connection reset by peer; removed node-a
conn: dialing node-a
node-a again: conn/conns/#2, a new connection
node-b again: conn/conns/#1, the same connection
stopping
`
		if diff := cmp.Diff(want, out.String()); diff != "" {
			t.Errorf("%d callers: run printed (-want +got):\n%s", callers, diff)
		}
	}
}

// lines is a writer that hands each write to a channel.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

// The Down alone, with no look-up after it, removes the connection. The
// tree runs under the test kit, which crashes the connection.
func TestDownRemovesConnection(t *testing.T) {
	out := make(lines, 100)
	tree, _ := arbortest.Start(t, NewConnSupervisor, arbortest.WithContext(withOutput(context.Background(), out)))
	registry, _ := runtime.ServiceOf[*ConnRegistry](tree.Child("registry").Process)
	if _, err := registry.LookupOrStart(tree.Ctx, "node-a"); err != nil {
		t.Fatal(err)
	}
	tree.AssertTree(`
		conns: running
			#0: running
		registry: running
	`)
	tree.Crash("conns/#0", errors.New("gone"))
	for line := range out {
		if strings.HasPrefix(line, "registry: Down") {
			if !strings.Contains(line, "(node-a): gone;") {
				t.Errorf("Down line %q does not name node-a and its reason", line)
			}
			break
		}
	}
	n, err := runtime.Call(tree.Ctx, registry.srv, func(conns *map[string]*Conn) (int, error) { return len(*conns), nil })
	if err != nil || n != 0 {
		t.Errorf("the registry holds %d connections (%v) after the Down; want 0", n, err)
	}
	tree.AssertTree(`
		conns: running
		registry: running
	`)
}
