package shop

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/arborgo/arbor/cluster"
)

// Log is the lines the shop's services write, for the test to wait on.
type Log struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

// NewLog returns an empty log.
func NewLog() *Log { return &Log{changed: make(chan struct{})} }

func (l *Log) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	close(l.changed)
	l.changed = make(chan struct{})
}

// Wait returns once a line is s, or ctx ends; a * at the end of s stands
// for any text.
func (l *Log) Wait(ctx context.Context, s string) error {
	prefix, any := strings.CutSuffix(s, "*)")
	for {
		l.mu.Lock()
		for _, line := range l.lines {
			if line == s || any && strings.HasPrefix(line, prefix) {
				l.mu.Unlock()
				return nil
			}
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			l.mu.Lock()
			defer l.mu.Unlock()
			return fmt.Errorf("no line %q in %q: %w", s, l.lines, ctx.Err())
		}
	}
}

// CartID names a cart: the key of the cluster supervisor carts.
type CartID string

// Item is a line of a cart; it travels through etcd with the cart's
// arguments.
type Item struct {
	SKU      string
	Quantity int
}

// Cart is a keyed child: one cart, on one node of the cluster.
type Cart struct {
	out *Log
	id  CartID
}

func NewCart(ctx context.Context, out *Log, id CartID, customer string, items []Item) (*Cart, error) {
	f, _ := cluster.FenceFrom(ctx)
	out.printf("cart %s for %s: %d items (token %d)", id, customer, len(items), f.Token())
	return &Cart{out: out, id: id}, nil
}

func (c *Cart) Serve(ctx context.Context) error {
	<-ctx.Done()
	c.out.printf("cart %s stopped", c.id)
	return nil
}

// API starts carts through the cluster supervisor it is given.
type API struct {
	Carts *CartsSupervisor
}

func NewAPI(ctx context.Context, carts *CartsSupervisor, out *Log) (*API, error) {
	out.printf("api up")
	return &API{Carts: carts}, nil
}

func (a *API) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Checkout is a node-local child that looks its cart up in the cluster.
type Checkout struct{}

func NewCheckout(ctx context.Context, carts *CartsSupervisor, cart CartID) (*Checkout, error) {
	if _, _, err := carts.Lookup(ctx, cart); err != nil {
		return nil, err
	}
	return &Checkout{}, nil
}

func (c *Checkout) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Ledger is billing's tree, on one node at a time.
type Ledger struct{ out *Log }

func NewLedger(ctx context.Context, out *Log) (*Ledger, error) {
	f, _ := cluster.FenceFrom(ctx)
	out.printf("billing started (%s) (token %d)", cluster.StartTypeFrom(ctx), f.Token())
	return &Ledger{out: out}, nil
}

func (l *Ledger) Serve(ctx context.Context) error {
	<-ctx.Done()
	l.out.printf("billing stopped")
	return nil
}

// Drain is the shop's prep_stop.
func Drain(ctx context.Context, carts *CartsSupervisor) {}

// Handoff gives billing's state to the node that takes it over.
func Handoff(ctx context.Context, out *Log) ([]byte, error) {
	out.printf("billing handed off")
	return []byte("ledger state"), nil
}
