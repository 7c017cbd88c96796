package arity

import (
	"context"
	"time"
)

type Ticker struct{ every time.Duration }

func (*Ticker) Serve(ctx context.Context) error { return nil }

func NewTicker(ctx context.Context, every time.Duration) (*Ticker, error) { return &Ticker{every}, nil }

type Job struct{}

func (*Job) Serve(ctx context.Context) error { return nil }

func NewJob(ctx context.Context, id int, name string) (*Job, error) { return &Job{}, nil }
