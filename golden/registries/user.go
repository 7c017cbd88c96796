package registries

import (
	"context"
	"fmt"
	"slices"

	"github.com/arborgo/arbor/runtime"
)

// Quote is the message of the pub/sub registry quotes.
type Quote struct {
	Symbol string
	Price  float64
}

// ConnInfo is the value of registry conns.
type ConnInfo struct{ Addr string }

// listener is a server that records what the registry quotes tells it.
type listener struct {
	srv *runtime.Server[[]string]
}

func newListener(ctx context.Context, name string) (*listener, error) {
	srv, err := runtime.NewServer(ctx, runtime.ServerSpec[[]string]{})
	if err != nil {
		return nil, err
	}
	return &listener{srv}, nil
}

func (l *listener) Serve(ctx context.Context) error { return l.srv.Serve(ctx) }

// QuotesListener makes the listener one of registry quotes.
func (l *listener) QuotesListener() runtime.Listener[string, runtime.Subscriber[Quote]] {
	return runtime.NewListener(l.srv, func(heard *[]string, ev runtime.RegistryEvent[string, runtime.Subscriber[Quote]]) error {
		*heard = append(*heard, fmt.Sprintf("%s %s", ev.Kind, ev.Key))
		return nil
	})
}

// Heard returns what the listener has been told.
func (l *listener) Heard(ctx context.Context) ([]string, error) {
	return runtime.Call(ctx, l.srv, func(heard *[]string) ([]string, error) { return slices.Clone(*heard), nil })
}

type Quotes = runtime.DuplicateRegistry[string, runtime.Subscriber[Quote]]

func NewAudit(ctx context.Context, quotes *Quotes) (*listener, error) {
	return newListener(ctx, "audit")
}

func NewCounter(ctx context.Context, names *runtime.Registry[string]) (*listener, error) {
	return newListener(ctx, "counter")
}

func NewLookup(ctx context.Context, conns *runtime.UniqueRegistry[string, *ConnInfo], counter *runtime.Ref[*listener]) (*listener, error) {
	return newListener(ctx, "lookup")
}

type svc struct{}

func (*svc) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewPort(ctx context.Context, ports *runtime.UniqueRegistry[int, string], topics *runtime.DuplicateRegistry[string, int]) (*svc, error) {
	return &svc{}, nil
}

func NewConn(ctx context.Context, conns *runtime.UniqueRegistry[string, *ConnInfo], host string) (*svc, error) {
	if err := conns.RegisterValue(host, runtime.Self(ctx), &ConnInfo{Addr: host + ":5432"}); err != nil {
		return nil, err
	}
	return &svc{}, nil
}
