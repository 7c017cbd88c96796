package extra_args

import "context"

type Job struct{}

func (*Job) Serve(ctx context.Context) error { return nil }

func NewJob(ctx context.Context, name string, id int, opts *Settings, tags map[string]string) (*Job, error) {
	return &Job{}, nil
}

type Settings struct{}
