// Command apps runs two applications, store and web (which depends on store),
// with the generated Run: store starts first, web second; Ctrl-C (SIGINT) or
// SIGTERM stops web, then store, each within its shutdown values. With -crash,
// web's http server fails until web's supervisor gives up, which stops both
// applications and makes the program exit with an error naming web.
//
//	go run ./examples/apps           # then Ctrl-C
//	go run ./examples/apps -crash
package main

//go:generate go run github.com/arborgo/arbor/cmd/arbor generate apps.arbor.yaml

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/arborgo/arbor/runtime"
)

func main() {
	crash := flag.Bool("crash", false, "make web's http server fail after the start, and on every restart")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *crash, nil); err != nil {
		fmt.Fprintln(os.Stderr, "apps:", err)
		os.Exit(1)
	}
}

// run runs the applications of apps.arbor.yaml until a signal or a failure,
// telling what happens on out. With nil signals it uses the generated Run,
// which listens for SIGINT and SIGTERM; a test passes its own channel.
func run(ctx context.Context, out io.Writer, crash bool, signals <-chan os.Signal) error {
	cfg := &config{out: out, crash: crash, started: make(chan struct{})}
	deps := NewDeps(cfg)
	apps := Applications(deps)
	last := apps[len(apps)-1].Name
	ctx = runtime.WithEventHook(ctx, func(e runtime.Event) {
		switch e.Kind {
		case runtime.ApplicationStarted:
			fmt.Fprintf(out, "application %s: started\n", e.Application)
			if e.Application == last {
				if !crash {
					fmt.Fprintln(out, "running; Ctrl-C (SIGINT) or SIGTERM stops")
				}
				close(cfg.started)
			}
		case runtime.ApplicationExited:
			if errors.Is(e.Reason, runtime.ErrStopped) {
				fmt.Fprintf(out, "application %s: stopped\n", e.Application)
			} else {
				fmt.Fprintf(out, "application %s: exited: %v\n", e.Application, e.Reason)
			}
		case runtime.ChildTerminated:
			fmt.Fprintf(out, "%s: %s crashed: %v\n", e.Supervisor, e.Child.ID, e.Reason)
		case runtime.ReachedMaxRestartIntensity:
			fmt.Fprintf(out, "%s: gave up after too many restarts\n", e.Supervisor)
		}
	})
	if signals == nil {
		return Run(ctx, deps)
	}
	return runtime.RunApplicationsWithSignals(ctx, signals, apps...)
}
