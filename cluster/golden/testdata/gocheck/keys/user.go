package keys

import (
	"context"
	"fmt"
)

type W struct{}

func (*W) Serve(ctx context.Context) error { return nil }

// Pair is a struct, with no text form.
type Pair struct{ A, B string }

func NewPair(ctx context.Context, p Pair) (*W, error) { return &W{}, nil }

// Half encodes itself as text, but cannot decode itself.
type Half struct{ N int }

func (h Half) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%d", h.N), nil }

func NewHalf(ctx context.Context, h Half) (*W, error) { return &W{}, nil }

// Celsius is a float.
type Celsius float64

func NewTemp(ctx context.Context, c Celsius) (*W, error) { return &W{}, nil }

func NewNamed(ctx context.Context, s fmt.Stringer) (*W, error) { return &W{}, nil }

// NewByID takes an int where the key is a string.
func NewByID(ctx context.Context, id int) (*W, error) { return &W{}, nil }

// NewCart forgot the key.
func NewCart(ctx context.Context, customer string) (*W, error) { return &W{}, nil }
