package deps

import (
	"context"
	"io"

	"github.com/arborgo/arbor/runtime"
)

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

type Config struct{}

type Quote struct{}

func NewWriter(ctx context.Context, w io.Writer) (*W, error)          { return &W{}, nil }
func NewConfig(ctx context.Context, c *Config, clock any) (*W, error) { return &W{}, nil }
func NewDeaf(ctx context.Context) (*W, error)                         { return &W{}, nil }
func NewListener(ctx context.Context) (*Listens, error)               { return &Listens{}, nil }
func NewWrong(ctx context.Context) (*Listens, error)                  { return &Listens{}, nil }
func PrepStop(ctx context.Context, name string)                       {}
func Stop(ctx context.Context, n int)                                 {}

type Listens struct{ W }

func (*Listens) PortsListener() runtime.Listener[int, string] { return runtime.Listener[int, string]{} }
func (*Listens) QuotesListener() runtime.Listener[string, int] {
	return runtime.Listener[string, int]{}
}
