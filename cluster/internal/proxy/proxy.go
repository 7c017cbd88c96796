// Package proxy is a TCP proxy on loopback that can cut the network between
// its clients and its target without closing a connection: the failure that
// matters to a lease holder, which keeps its process and its sockets but
// reaches nobody. The cluster module's tests put one in front of each node.
package proxy

import (
	"net"
	"sync"
)

// Proxy forwards every connection made to Addr to its target. Cut makes it
// swallow every byte both ways, for the connections already open and for
// new ones, while keeping them open; Heal closes those that saw a cut (their
// streams lost bytes, so the client must reconnect, as after a real outage)
// and forwards again. A Proxy is safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[*link]struct{}
	wg    sync.WaitGroup
}

type link struct {
	client, server net.Conn
	sawCut         bool
}

// New listens on a loopback port of the system's choosing and forwards to
// target (host:port).
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address clients dial: host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut starts dropping all traffic.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for l := range p.conns {
		l.sawCut = true
	}
}

// Heal stops dropping traffic; connections that lived through a cut are
// closed.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	for l := range p.conns {
		if l.sawCut {
			l.client.Close()
			l.server.Close()
		}
	}
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for l := range p.conns {
		l.client.Close()
		l.server.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		l := &link{client: c, server: s}
		p.mu.Lock()
		l.sawCut = p.cut
		p.conns[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(l, c, s)
		go p.pipe(l, s, c)
	}
}

// pipe copies from src to dst, dropping what it reads during a cut.
func (p *Proxy) pipe(l *link, src, dst net.Conn) {
	defer p.wg.Done()
	defer func() {
		src.Close()
		dst.Close()
		p.mu.Lock()
		delete(p.conns, l)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			cut := p.cut
			if cut {
				l.sawCut = true
			}
			p.mu.Unlock()
			if !cut {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}
