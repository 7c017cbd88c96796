// Command bench runs the same supervision work on arbor's runtime, on
// suture v4 and, when Erlang is installed, on OTP (bench/otp), and prints
// a markdown table of the medians of several runs, the ratios of arbor to
// each peer measured in the same run, and issue 6's targets. See
// docs/benchmarks.md for what each figure measures and how.
//
// Run it from this directory:
//
//	go run . [-runs 5] [-only static,dynamic,registry] [-otp auto|off|/path/to/erl] [-gen=false]
//
// Every measurement runs in a fresh process of its own: this program
// started again with -worker, or a fresh Erlang VM. To profile one:
//
//	go run . -worker arbor:dynamic -cpuprofile cpu.out -memprofile mem.out
//	go tool pprof -top cpu.out
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// items are the work items, in the order they run and print.
var items = []string{"restart-few", "restart-window", "restart-siblings", "static", "dynamic", "call", "floor", "registry", "generate", "build"}

// driverItems are the items the driver measures itself, not in a worker.
var driverItems = []string{"generate", "build"}

// supervisionItem reports whether item is one of the supervision work
// items, which the floor table shows and OTP is measured for: every item
// but the registry's, the generator's and the builds'.
func supervisionItem(item string) bool {
	return item != "registry" && !slices.Contains(driverItems, item)
}

// itemPeers are the peers that do each item. "go" and "go-ctx" are the
// Go floor (bare goroutines), "otp-floor" the Erlang one.
var itemPeers = map[string][]string{
	"restart-few":      {"arbor", "arbor-nolabels", "arbor-otel", "suture", "otp", "go"},
	"restart-window":   {"arbor", "suture", "otp"},
	"restart-siblings": {"arbor", "suture", "otp"},
	"static":           {"arbor", "arbor-nolabels", "suture", "otp"},
	"dynamic":          {"arbor", "arbor-nolabels", "suture", "otp", "go", "go-ctx", "go-reply"},
	"call":             {"arbor", "otp", "go"},
	"floor":            {"otp"},
	"registry":         {"arbor", "arbor-1p", "go"},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.IntVar(&cfg.N, "n", 100_000, "children to start and stop, and to measure memory with")
	fs.IntVar(&cfg.Batches, "batches", 500, "restart latency, few in window: fresh supervisors")
	fs.IntVar(&cfg.PerBatch, "per-batch", 10, "restart latency, few in window: restarts measured under each")
	fs.IntVar(&cfg.Fill, "fill", 20_000, "restart latency, many in window: restarts made before measuring")
	fs.IntVar(&cfg.Samples, "samples", 2_000, "restart latency, many in window: restarts measured")
	fs.IntVar(&cfg.Calls, "calls", 100_000, "server calls")
	fs.IntVar(&cfg.RegGoroutines, "reg-goroutines", goruntime.GOMAXPROCS(0), "registry: goroutines at work at once")
	fs.IntVar(&cfg.RegOps, "reg-ops", 1_000_000, "registry: operations of each goroutine, per figure")
	fs.IntVar(&cfg.RegKeys, "reg-keys", 10_000, "registry: keys held while measuring")
	fs.IntVar(&cfg.RegPartitions, "reg-partitions", 0, "registry: partitions of the partitioned registry (0: GOMAXPROCS)")
	runs := fs.Int("runs", 5, "runs of each measurement; the table shows medians")
	only := fs.String("only", "", "comma-separated items to run (default all): "+strings.Join(items, ","))
	otp := fs.String("otp", "auto", "erl to run bench/otp with: auto (erl on PATH), off, or a path")
	gen := fs.Bool("gen", true, "time arbor generate and go build of generated code (builds ../cmd/arbor)")
	out := fs.String("o", "", "also write the report to `file`")
	worker := fs.String("worker", "", "run one measurement, `peer:item`, and print its figures (as the driver does in a fresh process)")
	cpuProfile := fs.String("cpuprofile", "", "with -worker: write a CPU profile to `file`")
	memProfile := fs.String("memprofile", "", "with -worker: write an allocation profile (every allocation) to `file`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *worker != "" {
		name, item, _ := strings.Cut(*worker, ":")
		stop, err := startProfiles(*cpuProfile, *memProfile)
		if err == nil {
			err = runWorker(name, item, cfg, stdout)
			if perr := stop(); err == nil {
				err = perr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "bench: %s: %v\n", *worker, err)
			return 1
		}
		return 0
	}

	selected := items
	if *only != "" {
		selected = strings.Split(*only, ",")
		for _, it := range selected {
			if !slices.Contains(items, it) {
				fmt.Fprintf(stderr, "bench: unknown item %q (items: %s)\n", it, strings.Join(items, ","))
				return 2
			}
		}
	}
	if !*gen {
		selected = slices.DeleteFunc(slices.Clone(selected), func(s string) bool { return slices.Contains(driverItems, s) })
	}

	d := &driver{cfg: cfg, runs: *runs, stderr: stderr, data: map[string][]results{}, notes: map[string]string{}}
	d.root, d.dir = moduleDirs()
	d.machine = describeMachine(*otp)
	d.machine.arbor = commit(d.root)
	tmp, err := os.MkdirTemp("", "arbor-bench-")
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	d.tmp = tmp
	if slices.ContainsFunc(selected, supervisionItem) {
		d.setUpOTP(*otp)
	}
	if slices.Contains(selected, "generate") {
		d.setUpGenerate()
	}
	if slices.Contains(selected, "build") {
		d.setUpBuild()
	}

	for r := range *runs {
		for _, item := range selected {
			switch item {
			case "generate":
				d.runGenerate(r)
				continue
			case "build":
				d.runBuild(r)
				continue
			}
			for _, p := range itemPeers[item] {
				d.measure(r, p, item)
			}
		}
	}
	d.machine.loadAfter = loadAverage()

	var report bytes.Buffer
	d.report(&report, selected)
	stdout.Write(report.Bytes())
	if *out != "" {
		if err := os.WriteFile(*out, report.Bytes(), 0o644); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	return 0
}

// driver runs the measurements and keeps their figures.
type driver struct {
	cfg     config
	runs    int
	stderr  io.Writer
	root    string // arbor's repository
	dir     string // this module
	tmp     string
	machine machine

	erl, otpDir string // empty when OTP is not measured
	arborBin    string // built cmd/arbor; empty when generate is skipped
	specs       map[int]string
	buildReady  bool // the modules of the build item are written and warm

	// data holds, by peer, the figures of each run.
	data  map[string][]results
	notes map[string]string // why a peer or item is missing
}

// put records a run's figures of a peer.
func (d *driver) put(run int, peer string, res results) {
	for len(d.data[peer]) <= run {
		d.data[peer] = append(d.data[peer], results{})
	}
	for k, v := range res {
		d.data[peer][run][k] = v
	}
}

// measure runs one item of one peer in a fresh process.
func (d *driver) measure(run int, peer, item string) {
	var cmd *exec.Cmd
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := d.cfg
	if strings.HasPrefix(peer, "otp") {
		if d.erl == "" {
			return
		}
		cmd = exec.CommandContext(ctx, d.erl, "-noshell", "-pa", d.otpDir, "-run", "arbor_bench", "main", item,
			strconv.Itoa(c.N), strconv.Itoa(c.Batches), strconv.Itoa(c.PerBatch),
			strconv.Itoa(c.Fill), strconv.Itoa(c.Samples), strconv.Itoa(c.Calls))
		if item == "floor" {
			peer = "otp-floor"
		}
	} else {
		self, err := os.Executable()
		if err != nil {
			d.notes[peer] = err.Error()
			return
		}
		cmd = exec.CommandContext(ctx, self, "-worker", peer+":"+item,
			"-n", strconv.Itoa(c.N), "-batches", strconv.Itoa(c.Batches), "-per-batch", strconv.Itoa(c.PerBatch),
			"-fill", strconv.Itoa(c.Fill), "-samples", strconv.Itoa(c.Samples), "-calls", strconv.Itoa(c.Calls),
			"-reg-goroutines", strconv.Itoa(c.RegGoroutines), "-reg-ops", strconv.Itoa(c.RegOps),
			"-reg-keys", strconv.Itoa(c.RegKeys), "-reg-partitions", strconv.Itoa(c.RegPartitions))
	}
	d.machine.sampleLoad()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	fmt.Fprintf(d.stderr, "run %d/%d: %-14s %-9s", run+1, d.runs, item, peer)
	t0 := time.Now()
	err := cmd.Run()
	fmt.Fprintf(d.stderr, " %6.2fs\n", time.Since(t0).Seconds())
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		fmt.Fprintf(d.stderr, "  failed: %v: %s\n", err, msg)
		d.notes[peer+":"+item] = fmt.Sprintf("failed: %v", err)
		return
	}
	res, err := parseResults(stdout.String())
	if err != nil {
		d.notes[peer+":"+item] = err.Error()
		return
	}
	d.put(run, peer, res)
}

// parseResults reads "key value" lines.
func parseResults(s string) (results, error) {
	res := results{}
	for line := range strings.Lines(s) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, fmt.Errorf("bad figure %q: %v", line, err)
		}
		res[k] = f
	}
	return res, nil
}

// startProfiles starts the profiles asked for and returns what writes
// them.
func startProfiles(cpu, mem string) (stop func() error, err error) {
	var cpuFile *os.File
	if cpu != "" {
		if cpuFile, err = os.Create(cpu); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			return nil, err
		}
	}
	if mem != "" {
		goruntime.MemProfileRate = 1
	}
	return func() error {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			if err := cpuFile.Close(); err != nil {
				return err
			}
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err != nil {
				return err
			}
			defer f.Close()
			return pprof.Lookup("allocs").WriteTo(f, 0)
		}
		return nil
	}, nil
}

// setUpOTP compiles bench/otp when Erlang is there.
func (d *driver) setUpOTP(otp string) {
	if otp == "off" {
		d.notes["otp"] = "not measured (-otp off)"
		return
	}
	erl := otp
	if otp == "auto" {
		p, err := exec.LookPath("erl")
		if err != nil {
			d.notes["otp"] = "not measured: erl is not on PATH (apt-get install erlang-nox)"
			return
		}
		erl = p
	}
	erlc := "erlc"
	if otp != "auto" {
		erlc = strings.TrimSuffix(erl, "erl") + "erlc"
	}
	dir := d.tmp + "/otp"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		d.notes["otp"] = err.Error()
		return
	}
	args := []string{"-o", dir, d.dir + "/otp/arbor_bench.erl", d.dir + "/otp/arbor_bench_counter.erl"}
	if out, err := exec.Command(erlc, args...).CombinedOutput(); err != nil {
		d.notes["otp"] = fmt.Sprintf("not measured: erlc: %v: %s", err, out)
		fmt.Fprintln(d.stderr, "bench:", d.notes["otp"])
		return
	}
	d.erl, d.otpDir = erl, dir
}
