package deps

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
)

// Config is a dependency of a type of the package, given as a pointer.
type Config struct{ Name string }

type Logger struct {
	out io.Writer
	cfg *Config
}

func (*Logger) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewLogger(ctx context.Context, out io.Writer, cfg *Config) (*Logger, error) {
	fmt.Fprintf(out, "logger: config %s\n", cfg.Name)
	return &Logger{out, cfg}, nil
}

type Limiter struct{}

func (*Limiter) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewLimiter(ctx context.Context, logger *runtime.Ref[*Logger], limits map[string]int, every time.Duration, clk *clock.Fake) (*Limiter, error) {
	l, _ := logger.Get()
	fmt.Fprintf(l.out, "limiter: %d limits, every %s, clock at %s\n", len(limits), every, clk.Now().Format(time.DateOnly))
	return &Limiter{}, nil
}

type Worker struct{}

func (*Worker) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewWorker(ctx context.Context, out io.Writer, name string) (*Worker, error) {
	fmt.Fprintf(out, "worker %s: started as %s\n", name, runtime.Self(ctx))
	return &Worker{}, nil
}

func PrepStop(ctx context.Context, out io.Writer, app string) {
	fmt.Fprintf(out, "%s: prep_stop\n", app)
}

func Stop(ctx context.Context, cfg *Config) {
	cfg.Name = "stopped"
}
