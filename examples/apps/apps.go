package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// HTTP stands for web's server.
type HTTP struct{ cfg *config }

// NewHTTP is the start function of web's child "http".
func NewHTTP(ctx context.Context, cfg *config) (*HTTP, error) {
	return &HTTP{cfg: cfg}, nil
}

// errListener is why http fails with -crash.
var errListener = errors.New("lost its listener on :8080")

// Serve serves until web stops it. With -crash it fails once both
// applications have started, and again on every restart.
func (h *HTTP) Serve(ctx context.Context) error {
	if h.cfg.crash {
		select {
		case <-h.cfg.started:
			return errListener
		case <-ctx.Done():
			return nil
		}
	}
	<-ctx.Done()
	fmt.Fprintln(h.cfg.out, "web/http: stopped serving")
	return nil
}

// DB stands for store's database.
type DB struct{ cfg *config }

// NewDB is the start function of store's child "db".
func NewDB(ctx context.Context, cfg *config) (*DB, error) {
	return &DB{cfg: cfg}, nil
}

// Serve holds the database open until store stops it.
func (d *DB) Serve(ctx context.Context) error {
	<-ctx.Done()
	fmt.Fprintln(d.cfg.out, "store/db: closed")
	return nil
}

// WebPrepStop is web's prep_stop: it runs before web's tree is stopped.
func WebPrepStop(ctx context.Context, cfg *config) {
	fmt.Fprintln(cfg.out, "web: prep_stop: refusing new requests")
}

// WebStop is web's stop: it runs after web's tree has stopped.
func WebStop(ctx context.Context, cfg *config) {
	fmt.Fprintln(cfg.out, "web: stop")
}

// StoreStop is store's stop: it runs after store's tree has stopped.
func StoreStop(ctx context.Context, cfg *config) {
	fmt.Fprintln(cfg.out, "store: stop")
}

// config is what run gives the services and hooks: a dependency of the
// spec, which the generated code passes to each that takes it.
type config struct {
	out     io.Writer
	crash   bool
	started chan struct{} // closed once every application has started
}
