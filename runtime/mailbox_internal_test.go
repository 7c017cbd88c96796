package runtime

import (
	"context"
	"errors"
	goruntime "runtime"
	"testing"
	"time"
)

type blockService struct{ exit chan error }

func (b blockService) Serve(ctx context.Context) error {
	select {
	case err := <-b.exit:
		return err
	case <-ctx.Done():
		return nil
	}
}

// queued returns how many messages wait in mb.
func (mb *mailbox) queued() int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.queue) - mb.head
}

// StartChild of an id whose process has exited, with the exit still in the
// mailbox behind the call, answers already_started as OTP does: the
// supervisor still holds a process for it.
func TestStartChildWithExitQueuedIsAlreadyStarted(t *testing.T) {
	exit := make(chan error, 1)
	ctx := WithEventHook(context.Background(), nil)
	sup, err := StartSupervisor(ctx, SupervisorSpec{Name: "s", Children: []ChildSpec{{ID: "c", Start: func(context.Context) (Service, error) {
		return blockService{exit: exit}, nil
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Stop(context.Background())
	s := sup.s
	old := s.byID["c"].proc.handle() // read before the loop runs anything else
	result := make(chan error, 1)
	// Block the loop in a call, and from inside it queue a StartChild of
	// "c" and then the exit of c: the call comes first in the mailbox.
	err = exec(ctx, &s.mbox, s.done, func() {
		go func() {
			_, err := sup.StartChild(context.Background(), ChildSpec{ID: "c", Start: func(context.Context) (Service, error) { return blockService{}, nil }})
			result <- err
		}()
		for s.mbox.queued() == 0 {
			goruntime.Gosched() // the StartChild call is on its way
		}
		exit <- errors.New("crash")
		<-old.Done() // its exit is in the mailbox now, behind the call
	})
	if err != nil {
		t.Fatal(err)
	}
	var ase *AlreadyStartedError
	if err := <-result; !errors.As(err, &ase) || ase.Handle != old {
		t.Fatalf("StartChild = %v, want already_started naming %v", err, old)
	}
}

// A context derived from a process and cancelled is not kept by the
// process: a service that makes one per request does not grow.
func TestDerivedContextsAreDropped(t *testing.T) {
	p := newRoot(context.Background(), nil, "p")
	defer p.cancel(ErrShutdown)
	for range 1000 {
		c, cancel := context.WithTimeout(p, time.Hour)
		cancel()
		_ = c
	}
	p.mu.Lock()
	n := len(p.ext.afterFns)
	p.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d cancelled derived contexts still kept by the process", n)
	}
}

// Calls to a supervisor that has exited are not queued: nothing would take
// them.
func TestMessagesToAnExitedSupervisorAreDropped(t *testing.T) {
	ctx := WithEventHook(context.Background(), nil)
	d, err := StartDynamicSupervisor(ctx, DynamicSupervisorSpec{Name: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := d.StartChild(ctx, ChildSpec{Start: func(context.Context) (Service, error) { return blockService{}, nil }}); err != ErrNoProc {
			t.Fatalf("StartChild = %v", err)
		}
		if _, err := d.CountChildren(ctx); err != ErrNoProc {
			t.Fatalf("CountChildren = %v", err)
		}
	}
	if n := d.d.mbox.queued(); n != 0 {
		t.Fatalf("%d messages queued in an exited supervisor's mailbox", n)
	}
}
