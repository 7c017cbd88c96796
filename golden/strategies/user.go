package strategies

import "context"

type Child struct{ name string }

func (*Child) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func NewChild(ctx context.Context, name string) (*Child, error) { return &Child{name: name}, nil }
