package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/arborgo/arbor/clock"
)

// ApplicationSpec describes an OTP application: a named tree with
// dependencies and a start type.
type ApplicationSpec struct {
	Name string
	// StartType says what the application's tree exiting by itself does to
	// the others. The zero value is StartTemporary, OTP's default and the
	// spec language's.
	StartType StartType
	// DependsOn names applications that must be started first; they are
	// stopped after this one (OTP's applications key).
	DependsOn []string
	// Start starts the application's top supervisor (or any service); its
	// Serve is the application's life.
	Start StartFunc
	// PrepStop, optional, is called before the tree is stopped.
	PrepStop func(ctx context.Context)
	// Stop, optional, is called after the tree has stopped.
	Stop func(ctx context.Context)
}

// StartType is an application's start type (OTP's application:start/2
// Type): what its tree exiting by itself does to the other applications.
// The zero value is StartTemporary.
type StartType uint8

const (
	// StartTemporary: the exit is only reported (OTP's default).
	StartTemporary StartType = iota
	// StartTransient: an abnormal exit stops every application; a normal
	// one (nil) is only reported. A supervisor that gives up exits as
	// shutdown, which is abnormal here, as in OTP.
	StartTransient
	// StartPermanent: any exit stops every application.
	StartPermanent
)

// String returns OTP's name for t: temporary, transient or permanent.
func (t StartType) String() string {
	switch t {
	case StartTemporary:
		return "temporary"
	case StartTransient:
		return "transient"
	case StartPermanent:
		return "permanent"
	}
	return fmt.Sprintf("StartType(%d)", uint8(t))
}

// ApplicationError says which application failed and why: a failed start
// (OTP's {error, {App, Reason}} from ensure_all_started) or a permanent or
// transient application whose tree exited (OTP's application_terminated).
type ApplicationError struct {
	Application string
	Started     bool // false: it failed to start; true: it exited while running
	Reason      error
}

func (e *ApplicationError) Error() string {
	if e.Started {
		return fmt.Sprintf("arbor: application %q exited: %v", e.Application, e.Reason)
	}
	return fmt.Sprintf("arbor: application %q failed to start: %v", e.Application, e.Reason)
}

func (e *ApplicationError) Unwrap() error { return e.Reason }

// ErrStopForced is returned by RunApplications when a second signal made it
// stop waiting for the applications to finish stopping.
var ErrStopForced = errors.New("arbor: forced stop: a second signal arrived before the applications stopped")

// Applications is a running set of applications, OTP's application
// controller. One goroutine owns its state; its methods are safe for
// concurrent use.
type Applications struct {
	events *eventRunner // nil: reports are off; owned by whoever starts or stops
	clock  clock.Clock
	values context.Context
	reqs   chan appRequest
	snaps  chan chan []*runningApp
	exits  chan appExit
	done   chan struct{}
	err    error // set before done is closed
	// stopping is closed when stopping them all begins (see Stopping).
	stopping     chan struct{}
	stoppingOnce sync.Once

	// Owned by the controller goroutine.
	running []*runningApp // start order
}

type runningApp struct {
	spec ApplicationSpec
	proc *process
}

type appExit struct {
	app    *runningApp
	reason error
}

type appRequest struct {
	name  string // "" stops them all
	reply chan error
}

// ordered returns the applications in the order ensure_all_started starts
// them: each after its dependencies, depth-first in list order, each once.
func orderApplications(apps []ApplicationSpec) ([]ApplicationSpec, error) {
	byName := make(map[string]ApplicationSpec, len(apps))
	for _, a := range apps {
		if _, dup := byName[a.Name]; dup {
			return nil, &ApplicationError{Application: a.Name, Reason: errors.New("defined twice")}
		}
		byName[a.Name] = a
	}
	var order []ApplicationSpec
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			cycle := append(path[slices.Index(path, name):], name)
			return &ApplicationError{Application: name, Reason: fmt.Errorf("dependency cycle: %s", strings.Join(cycle, " -> "))}
		}
		a, ok := byName[name]
		if !ok {
			return &ApplicationError{Application: path[len(path)-1], Reason: fmt.Errorf("depends on unknown application %q", name)}
		}
		state[name] = 1
		for _, dep := range a.DependsOn {
			if err := visit(dep, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, a)
		return nil
	}
	for _, a := range apps {
		if err := visit(a.Name, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// StartApplications starts apps as OTP's ensure_all_started: dependencies
// first, depth-first in list order, each once. When one fails to start,
// those already started by this call are stopped, newest first, and the
// error is an *ApplicationError naming it. The applications run until
// Stop or StopAll, until ctx is cancelled (which stops them all, as a
// request), or until a permanent or transient one fails.
func StartApplications(ctx context.Context, apps ...ApplicationSpec) (*Applications, error) {
	order, err := orderApplications(apps)
	if err != nil {
		return nil, err
	}
	a := &Applications{
		events: newEventRunner(ctx),
		clock:  clockFrom(ctx),
		values: context.WithoutCancel(ctx),
		reqs:   make(chan appRequest),
		snaps:  make(chan chan []*runningApp),
		exits:  make(chan appExit, len(order)),
		done:   make(chan struct{}),

		stopping: make(chan struct{}),
	}
	for _, spec := range order {
		if err := a.start(ctx, spec); err != nil {
			a.stopAll()
			a.events.close()
			return nil, &ApplicationError{Application: spec.Name, Reason: err}
		}
	}
	go a.control(ctx)
	return a, nil
}

// start starts one application: its tree runs in a process of its own, the
// application master, whose goroutine runs the start function and then the
// tree. A start that is still running when ctx ends is given up as killed,
// and start returns ctx's error.
func (a *Applications) start(ctx context.Context, spec ApplicationSpec) error {
	if spec.Start == nil {
		return errors.New("no start function (missing_start)")
	}
	app := &runningApp{spec: spec, proc: newRoot(withApplication(a.values, spec.Name), nil, spec.Name)}
	started := make(chan error, 1)
	go a.master(app, started)
	select {
	case err := <-started:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		select {
		case err := <-started: // it returned just then
			if err != nil {
				return err
			}
		default:
			if app.proc.kill(a.clock.Now(), Infinity) {
				return ctx.Err()
			}
			if err := <-started; err != nil { // it failed just then
				return err
			}
		}
	}
	a.running = append(a.running, app)
	a.report(ApplicationStarted, spec.Name, nil)
	return nil
}

// master is the body of an application master's goroutine: the start
// function, whose outcome goes to started, then the tree's life, whose end
// goes to the controller. A panic in either is a *PanicError, and
// runtime.Goexit is ErrGoexit.
func (a *Applications) master(app *runningApp, started chan<- error) {
	p := app.proc
	setApplicationLabels(p, app.spec.Name)
	stage := stageStart
	reason := ErrGoexit
	defer func() {
		switch stage {
		case stageStart:
			p.startFailed(reason)
			started <- reason
		case stageServe:
			p.exit(reason)
			a.exits <- appExit{app: app, reason: reason}
		}
	}()
	svc, err := callStart(app.spec.Start, p)
	if err != nil {
		reason = err // the deferred function ends the start with it
		return
	}
	p.setService(svc)
	stage = stageServe
	started <- nil
	reason = classifyExit(serve(p, svc), p.cancelCause())
}

// control is the controller's loop.
func (a *Applications) control(ctx context.Context) {
	defer close(a.done)
	defer a.events.close()
	for {
		select {
		case <-ctx.Done():
			a.stopAll()
			return
		case reply := <-a.snaps:
			reply <- slices.Clone(a.running)
		case req := <-a.reqs:
			if req.name == "" {
				a.stopAll()
				req.reply <- nil
				return
			}
			req.reply <- a.stopOne(req.name)
			if len(a.running) == 0 {
				return
			}
		case ex := <-a.exits:
			if a.exitedByItself(ex) {
				return
			}
			if len(a.running) == 0 {
				return
			}
		}
	}
}

// exitedByItself handles an application whose tree exited on its own; it
// reports whether that stopped everything.
func (a *Applications) exitedByItself(ex appExit) bool {
	a.forget(ex.app)
	a.hook(ex.app.spec.Name, "PrepStop", ex.app.spec.PrepStop)
	a.hook(ex.app.spec.Name, "Stop", ex.app.spec.Stop)
	a.report(ApplicationExited, ex.app.spec.Name, ex.reason)
	switch t := ex.app.spec.StartType; {
	case t == StartTemporary, t == StartTransient && ex.reason == nil:
		return false
	}
	a.err = &ApplicationError{Application: ex.app.spec.Name, Started: true, Reason: ex.reason}
	a.stopAll()
	return true
}

func (a *Applications) forget(app *runningApp) {
	if i := slices.Index(a.running, app); i >= 0 {
		a.running = slices.Delete(a.running, i, i+1)
	}
}

// stopAll stops the running applications in reverse start order.
func (a *Applications) stopAll() {
	a.stoppingOnce.Do(func() { close(a.stopping) })
	for len(a.running) > 0 {
		a.stopApp(a.running[len(a.running)-1])
	}
}

func (a *Applications) stopOne(name string) error {
	for _, app := range a.running {
		if app.spec.Name == name {
			a.stopApp(app)
			return nil
		}
	}
	return ErrNotFound
}

// stopApp runs OTP's stop sequence: prep_stop, stop the tree and wait for
// it however long it takes, then stop.
func (a *Applications) stopApp(app *runningApp) {
	a.forget(app)
	a.hook(app.spec.Name, "PrepStop", app.spec.PrepStop)
	app.proc.cancel(ErrShutdown)
	<-app.proc.exitedChan()
	// Its exit message is in a.exits (buffered for every application); it
	// is ignored there because app is no longer running.
	a.drainExit(app)
	a.hook(app.spec.Name, "Stop", app.spec.Stop)
	a.report(ApplicationExited, app.spec.Name, ErrStopped)
}

// drainExit removes app's exit message, keeping any other.
func (a *Applications) drainExit(app *runningApp) {
	var others []appExit
	for {
		ex := <-a.exits
		if ex.app == app {
			break
		}
		others = append(others, ex)
	}
	for _, ex := range others {
		a.exits <- ex
	}
}

// ErrStopped is the reason reported for an application stopped on request
// (OTP's stopped).
var ErrStopped = errors.New("stopped")

// hook runs an application's PrepStop or Stop, in a goroutine of its own
// so that a panic or runtime.Goexit in it cannot end the controller, and
// waits for it to return, however long it takes, as OTP's application
// master does. A failed hook is logged through slog.Default, as OTP logs a
// crashing prep_stop, and the stop goes on.
func (a *Applications) hook(app, name string, f func(context.Context)) {
	if f == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		returned := false
		defer func() {
			v := recover()
			if v != nil || !returned {
				what := "called runtime.Goexit"
				if v != nil {
					what = fmt.Sprintf("panicked: %v", v)
				}
				slog.Default().Error("arbor: application "+name+" "+what, slog.String("application", app))
			}
			close(done)
		}()
		f(a.values)
		returned = true
	}()
	<-done
}

func (a *Applications) report(kind EventKind, app string, reason error) {
	if a.events != nil {
		a.events.report(Event{Kind: kind, Time: a.clock.Now(), Application: app, Reason: reason})
	}
}

// Stop stops one application, as OTP's application:stop: the others are
// untouched, whatever its start type. It returns ErrNotFound if it is not
// running, and ErrNoProc when the set has already stopped.
func (a *Applications) Stop(ctx context.Context, name string) error {
	return a.request(ctx, name)
}

// StopAll stops every application in reverse start order and waits for it.
func (a *Applications) StopAll(ctx context.Context) error {
	err := a.request(ctx, "")
	if err == ErrNoProc {
		return nil
	}
	return err
}

func (a *Applications) request(ctx context.Context, name string) error {
	req := appRequest{name: name, reply: make(chan error, 1)}
	select {
	case a.reqs <- req:
	case <-a.done:
		return ErrNoProc
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed once every application has stopped.
func (a *Applications) Done() <-chan struct{} { return a.done }

// Wait waits until every application has stopped and returns why: nil when
// they were stopped on request (or all ended by themselves), an
// *ApplicationError when a permanent or transient application's exit
// stopped them.
func (a *Applications) Wait() error {
	<-a.done
	return a.err
}

// RunApplications starts apps (StartApplications) and runs them until ctx is
// cancelled, SIGINT or SIGTERM arrives, or a permanent or transient
// application fails; then it stops them all in reverse start order, each
// with prep_stop, its tree's shutdown values, and stop. A second signal stops
// the waiting: RunApplications then returns ErrStopForced at once. It returns
// nil after a requested stop, and the *ApplicationError of a failure.
func RunApplications(ctx context.Context, apps ...ApplicationSpec) error {
	signals, stop := ShutdownSignals()
	defer stop()
	return RunApplicationsWithSignals(ctx, signals, apps...)
}

// RunApplicationsWithSignals is RunApplications with the signals read from
// signals instead of the process's SIGINT and SIGTERM.
func RunApplicationsWithSignals(ctx context.Context, signals <-chan os.Signal, apps ...ApplicationSpec) error {
	running, err := StartApplications(ctx, apps...)
	if err != nil {
		return err
	}
	return running.Run(signals)
}

// ShutdownSignals returns a channel that receives the process's SIGINT and
// SIGTERM, and the function that stops that.
func ShutdownSignals() (<-chan os.Signal, func()) {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	return signals, func() { signal.Stop(signals) }
}

// Run waits until the applications have all stopped, or until a signal
// arrives on signals; a signal stops them all gracefully, and a second one
// stops the waiting (ErrStopForced). It returns what Wait returns. Use it
// with StartApplications when the program needs the *Applications, for
// instance to mount the observer.
func (a *Applications) Run(signals <-chan os.Signal) error {
	select {
	case <-a.Done():
		return a.Wait()
	case <-signals:
	}
	stopped := make(chan error, 1)
	go func() { stopped <- a.StopAll(context.Background()) }()
	select {
	case <-stopped:
		return a.Wait()
	case <-signals:
		return ErrStopForced
	}
}
