package deps

import (
	"bytes"
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newDeps(out *bytes.Buffer, cfg *Config) *Deps {
	fake := clock.NewFake(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	return NewDeps(out, cfg, map[string]int{"a": 1, "b": 2}, time.Second, fake)
}

// Each dependency given to NewDeps reaches the start functions and the
// callbacks that the spec passes it to.
func TestDepsReachTheTree(t *testing.T) {
	var out bytes.Buffer
	cfg := &Config{Name: "prod"}
	deps := newDeps(&out, cfg)
	ctx := runtime.WithEventHook(context.Background(), func(runtime.Event) {})
	apps, err := StartApplications(ctx, deps)
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := deps.Names.Lookup("limiter"); !ok || !h.Alive() {
		t.Errorf("limiter is not registered: %v, %v", h, ok)
	}
	signals := make(chan os.Signal, 1)
	signals <- syscall.SIGTERM
	if err := apps.Run(signals); err != nil {
		t.Fatal(err)
	}
	want := "logger: config prod\nlimiter: 2 limits, every 1s, clock at 2026-01-02\napp: prep_stop\n"
	if out.String() != want {
		t.Errorf("the tree printed %q; want %q", out.String(), want)
	}
	if cfg.Name != "stopped" {
		t.Errorf("stop did not get the config: %q", cfg.Name)
	}
}

// The template's children get the dependency and are named by their
// extra argument.
func TestTemplateGetsDepsAndNames(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(runtime.WithEventHook(context.Background(), func(runtime.Event) {}))
	defer cancel()
	pool, err := NewPoolSupervisor(ctx, newDeps(&out, &Config{}))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- pool.Serve(ctx) }()
	h, err := pool.StartChild(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "worker w1: started as "+h.String()+"\n"; got != want || !strings.HasPrefix(h.String(), "pool/w1#") {
		t.Errorf("the worker printed %q and is %s; want %q", got, h, want)
	}
	cancel()
	<-served
}
