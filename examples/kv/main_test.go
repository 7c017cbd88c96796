package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/arbortest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A bucket is started on the first look-up and found on the second; after
// it crashes it is not restarted (temporary), the registry no longer has its
// name, and the next look-up starts a new, empty bucket.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := `supervisor kv: started kv/buckets#1
supervisor kv: started kv/store#1
look up or start "shopping": started kv/buckets/#0
put milk=3 in "shopping"
get milk from "shopping": 3
look up or start "shopping": found kv/buckets/#0
crashing "shopping"
supervisor buckets: kv/buckets/#0 crashed: bucket corrupted (temporary: not restarted)
buckets running: 0
registry: no bucket named "shopping" any more
look up or start "shopping": started kv/buckets/#1
get milk from "shopping": not found
stopping
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("run printed (-want +got):\n%s", diff)
	}
}

// Concurrent look-ups of one name start one bucket.
func TestStoreBucketConcurrent(t *testing.T) {
	tree, _ := arbortest.Start(t, func(ctx context.Context) (*KvSupervisor, error) { return NewKvSupervisor(ctx, NewRegistries()) })
	store, ok := runtime.ServiceOf[*Store](tree.Child("store").Process)
	if !ok {
		t.Fatal("child store is not a *Store")
	}
	const callers = 20
	got := make(chan *Bucket, callers)
	for range callers {
		go func() {
			b, _, err := store.Bucket(tree.Ctx, "shared")
			if err != nil {
				t.Error(err)
			}
			got <- b
		}()
	}
	first := <-got
	for range callers - 1 {
		if b := <-got; b != first {
			t.Errorf("two buckets for one name: %v and %v", first.Handle(), b.Handle())
		}
	}
	if n, err := store.Running(tree.Ctx); err != nil || n != 1 {
		t.Errorf("Running = %d, %v; want 1", n, err)
	}
}

// Under the test kit: a bucket that crashes is temporary, so it is removed,
// not restarted, and the registry forgets its name; nothing else moves.
func TestCrashedBucketIsForgotten(t *testing.T) {
	reg := NewRegistries()
	tree, _ := arbortest.Start(t, func(ctx context.Context) (*KvSupervisor, error) { return NewKvSupervisor(ctx, reg) })
	store, _ := runtime.ServiceOf[*Store](tree.Child("store").Process)
	b, started, err := store.Bucket(tree.Ctx, "shopping")
	if err != nil || !started {
		t.Fatalf("Bucket: started %v, %v", started, err)
	}
	if h, ok := reg.Buckets.Lookup("shopping"); !ok || h != b.Handle() {
		t.Fatalf("the registry has %v, %v for shopping; want %v", h, ok, b.Handle())
	}
	tree.AssertTree(`
		buckets: running
			#0: running
		store: running
	`)
	tree.Crash("buckets/#0", errors.New("bucket corrupted"))
	tree.AssertTree(`
		buckets: running
		store: running
	`)
	if h, ok := reg.Buckets.Lookup("shopping"); ok {
		t.Errorf("the registry still names %v shopping", h)
	}
}

// With -observe, the observer serves the live tree while buckets come and go.
func TestObserve(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ticks := make(chan time.Time)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- observe(ctx, &out, ln, ticks) }()
	for range 5 { // the fifth send returns once the fourth tick, which crashes bucket-3, is done
		ticks <- time.Now()
	}
	base := "http://" + ln.Addr().String() + "/debug/arbor/"
	var tree struct {
		Supervisors []runtime.SupervisorSnapshot `json:"supervisors"`
	}
	resp, err := http.Get(base + "api/tree")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&tree)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Supervisors) != 1 || tree.Supervisors[0].Name != "kv" {
		t.Fatalf("tree = %+v", tree)
	}
	buckets := tree.Supervisors[0].Children[0].Supervisor
	if buckets == nil || len(buckets.Children) < 3 {
		t.Fatalf("buckets = %+v, want at least bucket-0..2 running", buckets)
	}
	page, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %s %s", page.Status, page.Header.Get("Content-Type"))
	}
	root := "http://" + ln.Addr().String()
	ready, err := http.Get(root + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	ready.Body.Close()
	if ready.StatusCode != http.StatusOK {
		t.Errorf("readyz: %s", ready.Status)
	}
	// The buckets' goroutines carry their labels in the goroutine profile.
	prof, err := http.Get(root + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(prof.Body)
	prof.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := `"arbor.supervisor":"kv/buckets"`; !strings.Contains(string(text), want) {
		t.Errorf("the goroutine profile lacks %s", want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
