// Package embedded starts a single etcd member inside the calling process:
// for the cluster module's tests, its example's default mode and its
// benchmarks. It is not meant for production: a real deployment runs an etcd
// cluster of its own and points its nodes at it.
package embedded

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Options tune the member. The zero Options give a member made for tests:
// ticks of 10 ms and an election timeout of 100 ms (so a lease TTL of 1 s is
// allowed: etcd's minimum TTL is 1.5 election timeouts), no fsync, and no log.
type Options struct {
	// Dir is the data directory; it must exist and be empty or hold this
	// member's data. Required.
	Dir string
	// Fsync makes the member sync its writes to disk, as production does.
	Fsync bool
	// TickMs and ElectionMs are etcd's heartbeat interval and election
	// timeout; 0 gives 10 and 100.
	TickMs, ElectionMs uint
}

// Server is a running single-member etcd.
type Server struct {
	etcd     *embed.Etcd
	endpoint string
}

// Start starts a member listening on loopback ports the system picks (a
// single member never dials its peer URL, so port 0 works for both), and
// waits until it is ready to serve.
func Start(opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("embedded: no data directory")
	}
	cfg := embed.NewConfig()
	cfg.Name = "arbor"
	cfg.Dir = opts.Dir
	cfg.TickMs, cfg.ElectionMs = 10, 100
	if opts.TickMs > 0 {
		cfg.TickMs = opts.TickMs
	}
	if opts.ElectionMs > 0 {
		cfg.ElectionMs = opts.ElectionMs
	}
	cfg.UnsafeNoFsync = !opts.Fsync
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	local := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls = []url.URL{local}
	cfg.AdvertiseClientUrls = []url.URL{local}
	cfg.ListenPeerUrls = []url.URL{local}
	cfg.AdvertisePeerUrls = []url.URL{local}
	cfg.InitialCluster = cfg.Name + "=" + local.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded: start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded: etcd failed: %w", err)
	case <-time.After(30 * time.Second):
		e.Server.Stop()
		e.Close()
		return nil, errors.New("embedded: etcd not ready after 30s")
	}
	return &Server{etcd: e, endpoint: e.Clients[0].Addr().String()}, nil
}

// Endpoint returns the member's client address, host:port.
func (s *Server) Endpoint() string { return s.endpoint }

// Close stops the member. Close the clients connected to it first: with
// client streams open, etcd waits for them before it gives up on them.
func (s *Server) Close() { s.etcd.Close() }
