// Command replicas runs three replicas of one program on one machine, each
// a process of its own, against an embedded etcd that it starts (or a real
// etcd cluster, with -etcd). Each replica runs the distributed application
// "billing" (on node-a first; node-b and node-c are equals) and its part of
// the cluster-wide supervisor "carts", whose nine children spread over the
// three. Then it kills the replica running billing with SIGKILL, and shows
// billing and that replica's carts starting on the two others, once the
// dead one's lease has ended; then it stops the two with SIGTERM.
//
//	go run ./examples/replicas                    # from the cluster module
//	go run ./examples/replicas -etcd host:2379    # against a real etcd
//
// The lines starting with "|" are what the replicas print, as they happen;
// the rest is the story the driver reads from them. Each replica's tree is
// replicas.arbor.yaml, from which arbor generates replicas_arbor.go.
package main

//go:generate go run github.com/arborgo/arbor/cmd/arbor generate replicas.arbor.yaml

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/arborgo/arbor/cluster/internal/embedded"
)

// replicaEnv marks a process started as a replica.
const replicaEnv = "ARBOR_REPLICA"

func main() {
	if os.Getenv(replicaEnv) != "" {
		if err := replica(context.Background(), os.Args[1:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "replica:", err)
			os.Exit(1)
		}
		return
	}
	endpoints := flag.String("etcd", "", "etcd endpoints, comma-separated; empty starts an embedded etcd")
	ttl := flag.Duration("ttl", time.Second, "the nodes' lease TTL (etcd raises it to its minimum: 2s with default ticks)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *endpoints, *ttl); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

// run is the driver: it starts the replicas, tells what they do, kills one
// and tells what moved.
func run(ctx context.Context, out io.Writer, endpoints string, ttl time.Duration) error {
	if endpoints == "" {
		dir, err := os.MkdirTemp("", "arbor-replicas-etcd")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		srv, err := embedded.Start(embedded.Options{Dir: dir})
		if err != nil {
			return err
		}
		defer srv.Close()
		endpoints = srv.Endpoint()
		fmt.Fprintln(out, "etcd: an embedded member, on loopback")
	} else {
		fmt.Fprintln(out, "etcd:", endpoints)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	clusterName := "replicas-" + strconv.Itoa(os.Getpid())
	w := &watcher{out: out, changed: make(chan struct{}), where: map[string]placement{}}
	procs := map[string]*exec.Cmd{}
	var readers sync.WaitGroup
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}()
	for _, name := range nodes {
		cmd := exec.Command(self, "-replica", name, "-etcd", endpoints, "-cluster", clusterName, "-ttl", ttl.String())
		cmd.Env = append(os.Environ(), replicaEnv+"=1")
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		procs[name] = cmd
		readers.Add(1)
		go func() { defer readers.Done(); w.read(stdout) }()
	}
	w.printf("started replicas %s, each waiting for the other two\n", strings.Join(nodes, ", "))

	var carts []string
	for i := 1; i <= 9; i++ {
		carts = append(carts, fmt.Sprintf("cart-%d", i))
	}
	all := append([]string{"billing"}, carts...)
	before, err := w.await(ctx, 60*time.Second, func(p map[string]placement) bool {
		return placed(p, all, nodes)
	})
	if err != nil {
		return err
	}
	w.tell("before", all, before, nil)

	victim := before["billing"].node
	w.printf("killing %s (SIGKILL): its lease ends within the TTL, then the others take over\n", victim)
	killed := time.Now()
	if err := procs[victim].Process.Kill(); err != nil {
		return err
	}
	_ = procs[victim].Wait()
	delete(procs, victim)
	w.dead(victim)
	alive := slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return n == victim })
	after, err := w.await(ctx, 30*time.Second, func(p map[string]placement) bool { return placed(p, all, alive) })
	if err != nil {
		return err
	}
	took := time.Since(killed)
	w.tell("after", all, after, before)
	moved := 0
	for _, item := range all {
		if before[item].node == victim {
			moved++
		}
	}
	restarted := 0
	for _, item := range all {
		if before[item].node != victim && after[item].token != before[item].token {
			restarted++
		}
	}
	others := "the others did not restart"
	if restarted > 0 {
		others = fmt.Sprintf("%d others restarted too", restarted)
	}
	w.printf("%d of %d moved off %s; %s (%s to recover with a TTL of %v)\n",
		moved, len(all), victim, others, roundTo(took), ttl)

	w.printf("stopping %s (SIGTERM)\n", strings.Join(alive, " and "))
	for _, name := range alive {
		_ = procs[name].Process.Signal(syscall.SIGTERM)
	}
	for _, name := range alive {
		if err := procs[name].Wait(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		delete(procs, name)
	}
	readers.Wait()
	w.printf("done\n")
	return nil
}

func roundTo(d time.Duration) string {
	return (d / (100 * time.Millisecond) * (100 * time.Millisecond)).String()
}

// placement is where an item last started.
type placement struct {
	node  string
	token int64
	how   string // billing's start type
}

// watcher reads the replicas' lines, echoes them, and keeps where each
// item runs.
type watcher struct {
	out     io.Writer
	mu      sync.Mutex
	where   map[string]placement
	changed chan struct{}
}

// printf prints a line of the driver's own, between the replicas' lines.
func (w *watcher) printf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, format, args...)
}

func (w *watcher) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		w.mu.Lock()
		fmt.Fprintln(w.out, "  |", line)
		w.parse(line)
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
	}
}

// parse understands "<node>: started <item> ... (token N)" and
// "<node>: stopped <item>".
func (w *watcher) parse(line string) {
	node, rest, ok := strings.Cut(line, ": ")
	if !ok {
		return
	}
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return
	}
	item := fields[1]
	switch fields[0] {
	case "started":
		p := placement{node: node}
		if i := strings.LastIndex(rest, "(token "); i >= 0 {
			p.token, _ = strconv.ParseInt(strings.TrimSuffix(rest[i+len("(token "):], ")"), 10, 64)
		}
		if item == "billing" {
			if i, j := strings.Index(rest, "("), strings.Index(rest, ")"); i >= 0 && j > i {
				p.how = rest[i+1 : j]
			}
		}
		w.where[item] = p
	case "stopped":
		if w.where[item].node == node {
			delete(w.where, item)
		}
	}
}

// dead forgets what ran on a killed node: it could not say it stopped.
func (w *watcher) dead(node string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for item, p := range w.where {
		if p.node == node {
			delete(w.where, item)
		}
	}
}

func (w *watcher) await(ctx context.Context, timeout time.Duration, cond func(map[string]placement) bool) (map[string]placement, error) {
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		if cond(w.where) {
			snap := make(map[string]placement, len(w.where))
			for k, v := range w.where {
				snap[k] = v
			}
			w.mu.Unlock()
			return snap, nil
		}
		changed := w.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			return nil, errors.New("timed out waiting for the replicas")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func placed(p map[string]placement, items, on []string) bool {
	for _, it := range items {
		if !slices.Contains(on, p[it].node) {
			return false
		}
	}
	return true
}

// tell prints where each item runs, and for "after" what moved.
func (w *watcher) tell(title string, items []string, now, before map[string]placement) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, "%s:\n", title)
	for _, it := range items {
		p := now[it]
		note := ""
		switch {
		case it == "billing":
			note = " (" + p.how + ")"
		case before != nil && before[it].node != p.node:
			note = fmt.Sprintf(" (moved from %s; token %d → %d)", before[it].node, before[it].token, p.token)
		}
		fmt.Fprintf(w.out, "  %-8s on %s%s\n", it, p.node, note)
	}
}
