package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/arborgo/arbor/runtime"
)

// Conn is a connection to a node. It runs until the node drops it or its
// supervisor stops it.
type Conn struct {
	node   string
	handle runtime.Handle
	drops  chan error
}

// NewConn is the start function of the template of supervisor "conns"; the
// generated ConnsSupervisor.StartChild passes node. A real one would dial
// here: a start function is the child's init.
func NewConn(ctx context.Context, node string) (*Conn, error) {
	fmt.Fprintf(output(ctx), "conn: dialing %s\n", node)
	return &Conn{node: node, handle: runtime.Self(ctx), drops: make(chan error, 1)}, nil
}

// Serve holds the connection open.
func (c *Conn) Serve(ctx context.Context) error {
	select {
	case err := <-c.drops:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Handle returns the connection's process.
func (c *Conn) Handle() runtime.Handle { return c.handle }

// Drop makes the connection fail with reason, as a node going away would.
func (c *Conn) Drop(reason error) {
	select {
	case c.drops <- reason:
	default:
	}
}

// ConnRegistry looks up or opens the connection to a node. It is a server
// whose state maps node names to connections; one goroutine owns the map, so
// concurrent callers asking for the same node get the same connection. It
// monitors each connection it opens and removes it on Down.
type ConnRegistry struct {
	srv   *runtime.Server[map[string]*Conn]
	conns *runtime.Ref[*ConnsSupervisor]
	out   io.Writer
}

// NewConnRegistry is the start function of child "registry". conns follows
// the connections' supervisor across its restarts ({ref: conns}).
func NewConnRegistry(ctx context.Context, conns *runtime.Ref[*ConnsSupervisor]) (*ConnRegistry, error) {
	r := &ConnRegistry{conns: conns, out: output(ctx)}
	srv, err := runtime.NewServer(ctx, runtime.ServerSpec[map[string]*Conn]{
		Init: func(context.Context) (map[string]*Conn, error) { return map[string]*Conn{}, nil },
	})
	if err != nil {
		return nil, err
	}
	r.srv = srv
	return r, nil
}

// Serve runs the registry's server loop.
func (r *ConnRegistry) Serve(ctx context.Context) error { return r.srv.Serve(ctx) }

// LookupOrStart returns the live connection to node, opening one under the
// connections' supervisor when there is none.
func (r *ConnRegistry) LookupOrStart(ctx context.Context, node string) (*Conn, error) {
	return runtime.Call(ctx, r.srv, func(conns *map[string]*Conn) (*Conn, error) {
		if c, ok := (*conns)[node]; ok {
			if c.handle.Alive() {
				return c, nil
			}
			// It has exited and its Down is on its way; do not wait for it.
			reason := c.handle.Reason()
			r.down(*conns, runtime.Down{Handle: c.handle, Reason: reason})
		}
		sup, ok := r.conns.Get()
		if !ok {
			return nil, errors.New("the connections' supervisor is not running")
		}
		h, err := sup.StartChild(ctx, node)
		if err != nil {
			return nil, err
		}
		c, ok := runtime.ServiceOf[*Conn](h)
		if !ok {
			return nil, fmt.Errorf("%v is not a connection", h)
		}
		(*conns)[node] = c
		go r.watch(h.Monitor())
		return c, nil
	})
}

// watch hands the Down of a monitored connection to the server. A server has
// no mailbox for other messages (OTP's handle_info), so a goroutine per
// monitor waits for the Down and casts it in. It ends when the registry
// stops, dropping the monitor.
func (r *ConnRegistry) watch(m *runtime.Monitor) {
	select {
	case d := <-m.C:
		r.srv.Cast(func(conns *map[string]*Conn) error {
			r.down(*conns, d)
			return nil
		})
	case <-r.srv.Handle().Done():
		m.Demonitor()
	}
}

// down removes the connection that d is about, once: a Down may find it
// already removed by a look-up that saw it gone.
func (r *ConnRegistry) down(conns map[string]*Conn, d runtime.Down) {
	for node, c := range conns {
		if c.handle == d.Handle {
			delete(conns, node)
			fmt.Fprintf(r.out, "registry: Down %s (%s): %v; removed %s\n", d.Handle, node, d.Reason, node)
			return
		}
	}
}

// The start functions print to the writer that run was given; they find it
// in their context, which carries the values of the context the tree was
// started with.
type outputKey struct{}

func withOutput(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, outputKey{}, w)
}

func output(ctx context.Context) io.Writer {
	if w, ok := ctx.Value(outputKey{}).(io.Writer); ok {
		return w
	}
	return io.Discard
}
