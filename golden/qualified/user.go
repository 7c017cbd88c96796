package qualified

import "context"

type local struct{}

func (*local) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// svc has the name of the imported packages.
func svc(ctx context.Context) (*local, error) { return &local{}, nil }
