package args

import (
	"context"
	"time"
)

type svc struct{}

func (*svc) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewNumbers(ctx context.Context, a, b, c int, d, e int64, f, g float64, h float64) (*svc, error) {
	return &svc{}, nil
}

func NewStrings(ctx context.Context, a, b, c, d, e, f string) (*svc, error) {
	return &svc{}, nil
}

func NewOthers(ctx context.Context, a, b bool, c *int, d, e, f, g time.Duration, h time.Duration) (*svc, error) {
	return &svc{}, nil
}
