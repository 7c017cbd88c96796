package args

import (
	"context"
	"encoding/json"
)

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

// Hidden has an unexported field.
type Hidden struct {
	Name  string
	price int
}

// Skipped leaves a field out of its JSON.
type Skipped struct {
	Name string
	Note string `json:"-"`
}

// Notify is a channel.
type Notify chan struct{}

// Payload is an interface.
type Payload interface{ Kind() string }

// Callback is a function.
type Callback func()

// Inner is deep inside, with a complex number.
type Inner struct{ Z complex128 }

// Raw encodes and decodes itself: it travels, whatever it holds.
type Raw struct{ data chan int }

func (r Raw) MarshalJSON() ([]byte, error) { return []byte("null"), nil }
func (r *Raw) UnmarshalJSON([]byte) error  { return nil }

var _ json.Marshaler = Raw{}

// Coord is a struct, which cannot be a key of a map in JSON.
type Coord struct{ X, Y int }

// Fine travels.
type Fine struct {
	Name  string
	Tags  []string
	Limit *int
}

func NewCart(ctx context.Context, key string, hidden Hidden, skipped Skipped, notify Notify, payload Payload) (*W, error) {
	return &W{}, nil
}

func NewOrder(ctx context.Context, key string, fn Callback, nested []map[string]*Inner, raw Raw, ok Fine, keyed map[Coord]int) (*W, error) {
	return &W{}, nil
}
