package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/arbortest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A signal stops web, then store: each with its prep_stop, its tree, and its
// stop. Run returns nil.
func TestSignalStopsInReverse(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		signals := make(chan os.Signal, 1)
		signals <- sig // read once both applications have started
		var out bytes.Buffer
		if err := run(context.Background(), &out, false, signals); err != nil {
			t.Fatalf("%v: run: %v", sig, err)
		}
		want := `application store: started
application web: started
running; Ctrl-C (SIGINT) or SIGTERM stops
web: prep_stop: refusing new requests
web/http: stopped serving
web: stop
application web: stopped
store/db: closed
store: stop
application store: stopped
`
		if diff := cmp.Diff(want, out.String()); diff != "" {
			t.Errorf("%v: run printed (-want +got):\n%s", sig, diff)
		}
	}
}

// With -crash, web's supervisor gives up; web is permanent, so both stop,
// web first, and run returns an error naming web.
func TestCrashStopsBothInReverse(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), &out, true, make(chan os.Signal))
	var appErr *runtime.ApplicationError
	if !errors.As(err, &appErr) || appErr.Application != "web" || !appErr.Started {
		t.Fatalf("run returned %v; want the *ApplicationError of web exiting", err)
	}
	if !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) || !strings.Contains(err.Error(), `application "web" exited`) {
		t.Errorf("run returned %q; want it to say web's supervisor gave up", err)
	}
	crash := "web: http crashed: lost its listener on :8080\n"
	want := `application store: started
application web: started
` + strings.Repeat(crash, 4) + `web: gave up after too many restarts
web: prep_stop: refusing new requests
web: stop
application web: exited: ` + appErr.Reason.Error() + `
store/db: closed
store: stop
application store: stopped
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("run printed (-want +got):\n%s", diff)
	}
}

// Under the test kit: web's http server crashes and web's supervisor
// restarts it; store is untouched. Four crashes within web's window make
// its supervisor give up, and web, permanent, stops both applications.
func TestHTTPRestartsThenGivesUp(t *testing.T) {
	tree, apps := arbortest.StartApplications(t, Applications())
	tree.Crash("web/http", errListener)
	tree.WaitRestart("web/http")
	tree.AssertTree(`
		store: running
			db: running
		web: running
			http: running, restarts 1, last exit "lost its listener on :8080"
	`)
	for range 2 {
		tree.Crash("web/http", errListener)
		tree.WaitRestart("web/http")
	}
	tree.Crash("web/http", errListener)
	tree.WaitEvent(0, "store stopped", func(e runtime.Event) bool {
		return e.Kind == runtime.ApplicationExited && e.Application == "store"
	})
	if err := apps.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Errorf("Wait = %v; want web's supervisor giving up", err)
	}
}
