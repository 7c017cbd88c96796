package runtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/arborgo/arbor/runtime"
)

// A server monitors processes and gets their Downs in its own goroutine,
// queued like casts: OTP's handle_info for 'DOWN'.
func TestServerMonitor(t *testing.T) {
	ctx, _ := srvEnv(t)
	type downs struct{ got []runtime.Down }
	srv := srvStart(t, ctx, runtime.ServerSpec[downs]{})
	watched := spawn(t, context.Background(), "watched")
	dead := spawn(t, context.Background(), "dead")
	dead.exit(t, nil)
	record := func(s *downs, d runtime.Down) error { s.got = append(s.got, d); return nil }
	if _, err := runtime.Call(ctx, srv, func(*downs) (bool, error) {
		srv.Monitor(watched.h, record)
		srv.Monitor(dead.h, record)
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	watched.exit(t, errCrash)
	got, err := srvGet(ctx, srv)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.got) != 2 || got.got[0].Handle != dead.h || !errors.Is(got.got[0].Reason, runtime.ErrNoProc) ||
		got.got[1].Handle != watched.h || got.got[1].Reason != errCrash {
		t.Fatalf("downs = %+v", got.got)
	}
}

// Demonitor from a handler discards a Down that is queued but not yet run.
func TestServerDemonitorFlushes(t *testing.T) {
	ctx, _ := srvEnv(t)
	type state struct{ downs int }
	srv := srvStart(t, ctx, runtime.ServerSpec[state]{})
	p := spawn(t, context.Background(), "p")
	var demonitor func() bool
	block := make(chan struct{})
	if _, err := runtime.Call(ctx, srv, func(*state) (bool, error) {
		demonitor = srv.Monitor(p.h, func(s *state, _ runtime.Down) error { s.downs++; return nil })
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	// A handler is running while p exits, so p's Down is queued behind it;
	// that handler demonitors.
	queued := make(chan bool, 1)
	srv.Cast(func(*state) error { <-block; queued <- demonitor(); return nil })
	p.exit(t, errCrash)
	close(block)
	if <-queued {
		t.Fatal("demonitor reported no Down queued, but the process had exited")
	}
	got, _ := srvGet(ctx, srv)
	if got.downs != 0 {
		t.Fatalf("a flushed Down ran: %d", got.downs)
	}
}
