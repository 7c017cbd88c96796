package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/arborgo/arbor/runtime"
)

// Quote is a price of a stock.
type Quote struct {
	Symbol string
	Price  float64
}

func (q Quote) String() string { return fmt.Sprintf("%s %.2f", q.Symbol, q.Price) }

// Quotes is the pub/sub registry: topics are stock symbols, messages
// quotes, and each entry is a watcher's subscription.
type Quotes = runtime.DuplicateRegistry[string, runtime.Subscriber[Quote]]

// Watcher is a server that keeps the quotes of the symbols it subscribed
// to, in the order they arrived.
type Watcher struct {
	name string
	srv  *runtime.Server[[]Quote]
}

// NewWatcher is the start function of the template of supervisor
// "watchers": it starts the watcher's server and subscribes it to each
// symbol, once per time the symbol is listed.
func NewWatcher(ctx context.Context, quotes *Quotes, name string, symbols []string) (*Watcher, error) {
	srv, err := runtime.NewServer(ctx, runtime.ServerSpec[[]Quote]{})
	if err != nil {
		return nil, err
	}
	for _, symbol := range symbols {
		err := runtime.Subscribe(quotes, symbol, srv, func(seen *[]Quote, q Quote) error {
			*seen = append(*seen, q)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return &Watcher{name: name, srv: srv}, nil
}

// Serve runs the watcher's server.
func (w *Watcher) Serve(ctx context.Context) error { return w.srv.Serve(ctx) }

// Handle returns the watcher's process.
func (w *Watcher) Handle() runtime.Handle { return w.srv.Handle() }

// Seen returns the quotes the watcher has received so far. The call is
// queued after every quote published before it.
func (w *Watcher) Seen(ctx context.Context) ([]Quote, error) {
	return runtime.Call(ctx, w.srv, func(seen *[]Quote) ([]Quote, error) { return slices.Clone(*seen), nil })
}

// Crash makes the watcher crash with reason, as a bug in it would.
func (w *Watcher) Crash(reason error) {
	w.srv.Cast(func(*[]Quote) error { return reason })
}

// Record is one line of the audit: a subscription, an unsubscription, or
// the exit of a subscriber.
type Record struct {
	What   string // "register", "unregister" or "down"
	Symbol string // for register and unregister
	Handle runtime.Handle
	Reason error // for down
}

// auditState is the audit's server state.
type auditState struct {
	records   []Record
	monitored map[runtime.Handle]bool
}

// Audit is a server that records what a registry's listener is told, and
// monitors every subscriber, as Elixir's documentation advises listeners
// to: a subscriber's exit removes its entries without an unregistration.
type Audit struct {
	srv *runtime.Server[auditState]
}

// NewAudit is the start function of child "audit".
func NewAudit(ctx context.Context) (*Audit, error) {
	srv, err := runtime.NewServer(ctx, runtime.ServerSpec[auditState]{
		Init: func(context.Context) (auditState, error) {
			return auditState{monitored: map[runtime.Handle]bool{}}, nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &Audit{srv: srv}, nil
}

// Serve runs the audit's server.
func (a *Audit) Serve(ctx context.Context) error { return a.srv.Serve(ctx) }

// Watch makes the audit a listener of quotes.
func (a *Audit) Watch(quotes *Quotes) {
	quotes.Listen(runtime.NewListener(a.srv, func(s *auditState, ev runtime.RegistryEvent[string, runtime.Subscriber[Quote]]) error {
		s.records = append(s.records, Record{What: ev.Kind.String(), Symbol: ev.Key, Handle: ev.Handle})
		if ev.Kind == runtime.KeyRegistered && !s.monitored[ev.Handle] {
			s.monitored[ev.Handle] = true
			a.srv.Monitor(ev.Handle, func(s *auditState, d runtime.Down) error {
				s.records = append(s.records, Record{What: "down", Handle: d.Handle, Reason: d.Reason})
				return nil
			})
		}
		return nil
	}))
}

// Records returns what the audit has recorded so far.
func (a *Audit) Records(ctx context.Context) ([]Record, error) {
	return runtime.Call(ctx, a.srv, func(s *auditState) ([]Record, error) { return slices.Clone(s.records), nil })
}
