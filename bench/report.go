package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// unit formats a figure: durations are kept in ns, memory in bytes.
type unit int

const (
	micro unit = iota // ns shown as µs
	milli             // ns shown as ms
	kilo              // bytes shown as KB (1,000 bytes)
)

func (u unit) format(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	switch u {
	case micro:
		return fmt.Sprintf("%.2f µs", v/1e3)
	case milli:
		if v < 10e6 {
			return fmt.Sprintf("%.1f ms", v/1e6)
		}
		return fmt.Sprintf("%.0f ms", v/1e6)
	default:
		return fmt.Sprintf("%.2f KB", v/1e3)
	}
}

// median returns the median of the runs' figures of peer under key, NaN
// when there are none.
func (d *driver) median(peer, key string) float64 {
	var vs []float64
	for _, res := range d.data[peer] {
		if v, ok := res[key]; ok {
			vs = append(vs, v)
		}
	}
	return medianOf(vs)
}

// ratio returns the median over the runs of a's figure divided by b's in
// the same run, NaN when no run has both.
func (d *driver) ratio(peerA, keyA, peerB, keyB string) float64 {
	var vs []float64
	for run := range min(len(d.data[peerA]), len(d.data[peerB])) {
		a, okA := d.data[peerA][run][keyA]
		b, okB := d.data[peerB][run][keyB]
		if okA && okB && b != 0 {
			vs = append(vs, a/b)
		}
	}
	return medianOf(vs)
}

func medianOf(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

func formatRatio(r float64) string {
	if math.IsNaN(r) {
		return "—"
	}
	if r < 0.1 {
		return fmt.Sprintf("%.3f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// verdict says whether a target is met; nil when it cannot be told.
func verdict(ok bool, known bool) string {
	switch {
	case !known:
		return "n/a"
	case ok:
		return "yes"
	}
	return "**no**"
}

// row is one work item of the table.
type row struct {
	item, work, key string
	unit            unit
	// peer is whose figure the arbor column shows: "arbor" (default
	// settings), "arbor-nolabels" or "arbor-otel".
	peer string
	// floor and floorKey name the Go floor's figure for the same work,
	// measured in the same run; empty when there is none.
	floor, floorKey string
	target          string
	// check returns the verdict and, optionally, a figure that goes with
	// the target.
	check func(d *driver) (met, detail string)
}

// Today's ratios to suture, from the quiet run of issue 6's table
// (docs/benchmarks.md, commit 511d887): the rows that issue 16 asks to be
// no worse.
const (
	todayWindowSuture     = 0.66
	todayStaticSuture     = 0.71
	todayStopStatic       = 0.39
	todayStopStaticWarm   = 0.46
	todayStopDynamic      = 0.27
	todayStopDynamicWarm  = 0.19
	siblingsFlatTolerance = 1.3
)

func rows(cfg config) []row {
	n, fill := thousands(cfg.N), thousands(cfg.Fill)
	// floorAtMost checks arbor's (or arbor-nolabels') figure against the
	// floor's (or a peer's), and against OTP's too when otpLimit > 0.
	floorAtMost := func(peer, floor, floorKey string, limit, otpLimit float64, key string) func(d *driver) (string, string) {
		return func(d *driver) (string, string) {
			r := d.ratio(peer, key, floor, floorKey)
			ok, known := r <= limit, !math.IsNaN(r)
			if otpLimit > 0 {
				o := d.ratio(peer, key, "otp", key)
				ok = ok && (math.IsNaN(o) || o <= otpLimit)
			}
			return verdict(ok, known), ""
		}
	}
	// ratioAtMost checks arbor's figure of key against peer's.
	ratioAtMost := func(peer string, limit float64, key string) func(d *driver) (string, string) {
		return floorAtMost("arbor", peer, key, limit, 0, key)
	}
	var out []row
	for _, labels := range []struct {
		peer, suffix string
	}{{"arbor", ""}, {"arbor-nolabels", ", profile labels off"}} {
		p, sfx := labels.peer, labels.suffix
		out = append(out,
			row{"restart-few", "restart latency p50, few restarts in window" + sfx, keyRestartFew, micro, p, "go", keyRestartFew,
				"≤ 1.25× the floor (a bare respawn loop)", floorAtMost(p, "go", keyRestartFew, 1.25, 0, keyRestartFew)},
			row{"static", "start " + n + " static children, per child" + sfx, keyStartStatic, micro, p, "go", keyStartDynamic,
				fmt.Sprintf("no worse than today: ≤ %.2f× suture", todayStaticSuture), floorAtMost(p, "suture", keyStartStatic, todayStaticSuture, 0, keyStartStatic)},
			row{"static", "… the same, again in the same process (warm)" + sfx, keyStartStatic + warm, micro, p, "go", keyStartDynamic + warm,
				"≤ 1.1× the floor (a bare spawn)", floorAtMost(p, "go", keyStartDynamic+warm, 1.1, 0, keyStartStatic+warm)},
			row{"dynamic", n + " dynamic starts, per child" + sfx, keyStartDynamic, micro, p, "go-reply", keyStartDynamic,
				"≤ 1.3× the floor (a spawn through a goroutine that replies), ≤ 0.6× OTP", floorAtMost(p, "go-reply", keyStartDynamic, 1.3, 0.6, keyStartDynamic)},
			row{"dynamic", "… the same, again in the same process (warm)" + sfx, keyStartDynamic + warm, micro, p, "go-reply", keyStartDynamic + warm,
				"≤ 1.3× the floor, ≤ 0.6× OTP", floorAtMost(p, "go-reply", keyStartDynamic+warm, 1.3, 0.6, keyStartDynamic+warm)},
			row{"dynamic", "memory per idle child (heap + stacks)" + sfx, keyMemIdle, kilo, p, "go-ctx", keyMemIdle,
				"≤ 1.0× the floor (a goroutine with a cancellable context of its own)", floorAtMost(p, "go-ctx", keyMemIdle, 1.0, 0, keyMemIdle)},
		)
	}
	out = append(out,
		row{"restart-few", "restart latency p50, few restarts in window, OpenTelemetry metrics on (otelarbor into the SDK)", keyRestartFew, micro, "arbor-otel", "go", keyRestartFew,
			"— (what metrics cost: the ratio to arbor without them)", func(d *driver) (string, string) {
				r := d.ratio("arbor-otel", keyRestartFew, "arbor", keyRestartFew)
				if math.IsNaN(r) {
					return "n/a", ""
				}
				return "n/a", "is " + formatRatio(r) + " arbor's"
			}},
		row{"restart-window", "restart latency p50, " + fill + " restarts in window (a setting no OTP system uses: it shows that arbor's bookkeeping costs O(1) where OTP's list grows)",
			keyRestartWindow, micro, "arbor", "", "", fmt.Sprintf("no worse than today: ≤ %.2f× suture", todayWindowSuture),
			ratioAtMost("suture", todayWindowSuture, keyRestartWindow)},
	)
	for _, count := range siblingCounts(cfg) {
		key := fmt.Sprintf("%s_%d", keySiblings, count)
		first := fmt.Sprintf("%s_%d", keySiblings, 10)
		out = append(out, row{"restart-siblings", fmt.Sprintf("restart latency p50 beside %s siblings", thousands(count)), key, micro, "arbor", "go", keyRestartFew,
			fmt.Sprintf("flat: ≤ %.1f× the 10-sibling figure", siblingsFlatTolerance), func(d *driver) (string, string) {
				r := d.ratio("arbor", key, "arbor", first)
				return verdict(r <= siblingsFlatTolerance, !math.IsNaN(r)), "is " + formatRatio(r)
			}})
	}
	out = append(out,
		row{"static", "stop " + n + " static children", keyStopStatic, milli, "arbor", "go", keyStopDynamic,
			fmt.Sprintf("no worse than today: ≤ %.2f× suture", todayStopStatic), ratioAtMost("suture", todayStopStatic, keyStopStatic)},
		row{"static", "… the same, again in the same process (warm)", keyStopStatic + warm, milli, "arbor", "go", keyStopDynamic + warm,
			fmt.Sprintf("no worse than today: ≤ %.2f× suture", todayStopStaticWarm), ratioAtMost("suture", todayStopStaticWarm, keyStopStatic+warm)},
		row{"dynamic", "stop " + n + " dynamic children", keyStopDynamic, milli, "arbor", "go-ctx", keyStopDynamic,
			fmt.Sprintf("no worse than today: ≤ %.2f× suture", todayStopDynamic), ratioAtMost("suture", todayStopDynamic, keyStopDynamic)},
		row{"dynamic", "… the same, again in the same process (warm)", keyStopDynamic + warm, milli, "arbor", "go-ctx", keyStopDynamic + warm,
			fmt.Sprintf("no worse than today: ≤ %.2f× suture", todayStopDynamicWarm), ratioAtMost("suture", todayStopDynamicWarm, keyStopDynamic+warm)},
		row{"call", "server call round trip", keyCall, micro, "arbor", "go", keyCall, "≤ 1.5× the floor (channel ping-pong)",
			floorAtMost("arbor", "go", keyCall, 1.5, 0, keyCall)},
		row{"generate", "arbor generate, 1,000-child spec, whole process", keyGenerate + "_1000", milli, "arbor", "", "", "≤ 100 ms",
			func(d *driver) (string, string) {
				v := d.median("arbor", keyGenerate+"_1000")
				return verdict(v <= 100e6, !math.IsNaN(v)), ""
			}},
		row{"generate", "arbor generate, 10,000-child spec, whole process", keyGenerate + "_10000", milli, "arbor", "", "", "≤ 1 s, linear (≤ 10× the 1,000)",
			func(d *driver) (string, string) {
				v := d.median("arbor", keyGenerate+"_10000")
				r := d.ratio("arbor", keyGenerate+"_10000", "arbor", keyGenerate+"_1000")
				return verdict(v <= 1e9 && r <= 10, !math.IsNaN(v) && !math.IsNaN(r)), "is " + formatRatio(r)
			}},
		row{"generate", "… the same, without checking the spec against the Go code (--typecheck=false)", keyGenerate + "_10000" + noCheck, milli, "arbor", "", "", "—",
			func(d *driver) (string, string) { return "n/a", "" }},
	)
	return out
}

// buildTable prints the build item's figures: each shape's go build beside
// its hand-written floor.
func (d *driver) buildTable(w io.Writer) {
	fmt.Fprintln(w, "\nWhole `go build` of the code arbor generates, each beside a hand-written program of the same size")
	fmt.Fprintln(w, "that calls the runtime directly (the floor): the runtime compiled beforehand, the main package afresh.")
	fmt.Fprintln(w, "Time is wall time, then (in brackets) the CPU time of the go command and the compiler; memory is the")
	fmt.Fprintln(w, "compiler's largest resident set.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| go build of | generated | hand-written floor | generated/floor | memory, generated | memory, floor | target | met |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|---|---|")
	for _, s := range buildShapes {
		gen, floor := s.key()+"_generated", s.key()+"_floor"
		wall := func(k string) string {
			return fmt.Sprintf("%s (%s)", seconds(d.median("arbor", k+buildWall)), seconds(d.median("arbor", k+buildCPU)))
		}
		rss := d.median("arbor", gen+buildRSS)
		ok, known := rss < 1e9, !math.IsNaN(rss)
		target := "memory < 1 GB"
		if s.kind == "workers" && s.n == 10_000 {
			small := buildShape{kind: "workers", n: 1_000}.key() + "_generated" + buildWall
			linear := d.ratio("arbor", gen+buildWall, "arbor", small)
			toFloor := d.ratio("arbor", gen+buildWall, "arbor", floor+buildWall)
			target = fmt.Sprintf("≤ 10× the 1,000 (is %s), ≤ 1.5× the floor, memory < 1 GB", formatRatio(linear))
			ok = ok && linear <= 10 && toFloor <= 1.5
			known = known && !math.IsNaN(linear) && !math.IsNaN(toFloor)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n", s.work, wall(gen), wall(floor),
			formatRatio(d.ratio("arbor", gen+buildWall, "arbor", floor+buildWall)),
			formatRatio(d.ratio("arbor", gen+buildCPU, "arbor", floor+buildCPU)),
			megabytes(rss), megabytes(d.median("arbor", floor+buildRSS)), target, verdict(ok, known))
	}
}

func seconds(ns float64) string {
	if math.IsNaN(ns) {
		return "—"
	}
	return fmt.Sprintf("%.2f s", ns/1e9)
}

func megabytes(b float64) string {
	if math.IsNaN(b) {
		return "—"
	}
	return fmt.Sprintf("%.0f MB", b/1e6)
}

func (d *driver) report(w io.Writer, selected []string) {
	m := d.machine
	fmt.Fprintf(w, "Machine: %s, %d cores, %s", m.cpu, m.cores, m.kernel)
	fmt.Fprintf(w, "; %s; arbor %s; suture v4.0.6", m.goVersion, m.arbor)
	if d.erl != "" && m.otp != "" {
		fmt.Fprintf(w, "; %s", m.otp)
	}
	fmt.Fprintf(w, ".  \nLoad average (1, 5, 15 min): %s before, %s after; the 1-minute load peaked at %.2f as a measurement started.  \n",
		m.loadBefore, m.loadAfter, m.loadMax)
	fmt.Fprintf(w, "%s, %d runs, each measurement in a fresh process; medians, and ratios of figures measured in the same run.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), d.runs)

	if slices.ContainsFunc(selected, func(s string) bool { return s != "registry" }) {
		d.mainTable(w, selected)
	}

	if slices.Contains(selected, "build") {
		d.buildTable(w)
	}

	if slices.ContainsFunc(selected, supervisionItem) {
		fmt.Fprintln(w, "\nThe floor, no supervisor at all, in the same runs:")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| floor | Go, goroutines sharing one context | Go, goroutines with a context each | Erlang, bare processes |")
		fmt.Fprintln(w, "|---|--:|--:|--:|")
		fmt.Fprintf(w, "| restart latency p50: a loop that starts a new goroutine when one returns | %s | — | — |\n",
			micro.format(d.median("go", keyRestartFew)))
		fmt.Fprintf(w, "| spawn %s, per child | %s | %s | %s |\n", thousands(d.cfg.N),
			micro.format(d.median("go", keyStartDynamic)), micro.format(d.median("go-ctx", keyStartDynamic)), micro.format(d.median("otp-floor", keySpawn)))
		fmt.Fprintf(w, "| … again in the same process (warm) | %s | %s | %s |\n",
			micro.format(d.median("go", keyStartDynamic+warm)), micro.format(d.median("go-ctx", keyStartDynamic+warm)), micro.format(d.median("otp-floor", keySpawn+warm)))
		fmt.Fprintf(w, "| spawn %s through a goroutine that replies, per child | — | %s | — |\n", thousands(d.cfg.N),
			micro.format(d.median("go-reply", keyStartDynamic)))
		fmt.Fprintf(w, "| … again in the same process (warm) | — | %s | — |\n",
			micro.format(d.median("go-reply", keyStartDynamic+warm)))
		fmt.Fprintf(w, "| memory per idle child | %s | %s | %s |\n",
			kilo.format(d.median("go", keyMemIdle)), kilo.format(d.median("go-ctx", keyMemIdle)), kilo.format(d.median("otp-floor", keyMem)))
		fmt.Fprintf(w, "| stop %s | %s | %s | — |\n", thousands(d.cfg.N),
			milli.format(d.median("go", keyStopDynamic)), milli.format(d.median("go-ctx", keyStopDynamic)))
		fmt.Fprintf(w, "| message round trip | %s (channels) | — | %s |\n",
			micro.format(d.median("go", keyCall)), micro.format(d.median("otp-floor", keyRoundTrip)))
	}
	if slices.Contains(selected, "registry") {
		d.registryReport(w)
	}
	if slices.Contains(selected, "generate") {
		fmt.Fprintf(w, "\nThe generator's floor, a whole `arbor version` process: %s.\n", milli.format(d.median("arbor", keyGenerate+"_0")))
	}

	fmt.Fprintln(w, "\nEvery figure: median (min–max) over the runs.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| peer | figure | median | min–max |")
	fmt.Fprintln(w, "|---|---|--:|--:|")
	for _, peer := range []string{"arbor", "arbor-nolabels", "arbor-otel", "arbor-1p", "suture", "otp", "go", "go-ctx", "go-reply", "otp-floor"} {
		keys := map[string]bool{}
		for _, res := range d.data[peer] {
			for k := range res {
				keys[k] = true
			}
		}
		for _, k := range slices.Sorted(mapKeys(keys)) {
			var vs []float64
			for _, res := range d.data[peer] {
				if v, ok := res[k]; ok {
					vs = append(vs, v)
				}
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s–%s |\n", peer, k, plain(medianOf(vs)), plain(slices.Min(vs)), plain(slices.Max(vs)))
		}
	}

	if len(d.notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		fmt.Fprintln(w)
		for _, k := range slices.Sorted(mapKeys(d.notes)) {
			fmt.Fprintf(w, "- %s: %s\n", k, strings.TrimSpace(d.notes[k]))
		}
	}
}

// plain prints a raw figure: ns or bytes, without needless decimals.
func plain(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// thousands writes n with commas: 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// registryReport writes the registry's table: the partitioned registry
// against one partition and against the sync.Map floor, in the same runs.
func (d *driver) registryReport(w io.Writer) {
	parts := d.median("arbor", keyRegParts)
	fmt.Fprintf(w, "\nThe registry, in the same runs: %d goroutines at once, %s keys held by 64 processes; wall time per operation (lower is more throughput):\n\n",
		d.cfg.RegGoroutines, thousands(d.cfg.RegKeys))
	fmt.Fprintf(w, "| work | arbor, %.0f partitions | arbor, one partition | sync.Map (floor) | partitions/one | partitions/floor | one/floor |\n", parts)
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
	for _, r := range []struct{ work, key string }{
		{"register a name and unregister it, per pair", keyRegRegister},
		{"look up a name", keyRegLookup},
	} {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", r.work,
			nanos(d.median("arbor", r.key)), nanos(d.median("arbor-1p", r.key)), nanos(d.median("go", r.key)),
			formatRatio(d.ratio("arbor", r.key, "arbor-1p", r.key)), formatRatio(d.ratio("arbor", r.key, "go", r.key)),
			formatRatio(d.ratio("arbor-1p", r.key, "go", r.key)))
	}
}

// nanos formats a figure in ns, for the registry's short operations.
func nanos(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.0f ns", v)
}

// mainTable writes the table of the supervision work and the generator,
// against the peers and the Go floor, with issue 16's targets.
func (d *driver) mainTable(w io.Writer, selected []string) {
	fmt.Fprintln(w, "| work | arbor | suture | OTP | Go floor | arbor/suture | arbor/OTP | arbor/floor | target | met |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|---|---|")
	for _, r := range rows(d.cfg) {
		if !slices.Contains(selected, r.item) {
			continue
		}
		met, detail := r.check(d)
		target := r.target
		if detail != "" {
			target += ": " + detail
		}
		floor, toFloor := "—", "—"
		if r.floor != "" {
			floor = r.unit.format(d.median(r.floor, r.floorKey))
			toFloor = formatRatio(d.ratio(r.peer, r.key, r.floor, r.floorKey))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.work,
			r.unit.format(d.median(r.peer, r.key)), r.unit.format(d.median("suture", r.key)), r.unit.format(d.median("otp", r.key)),
			floor, formatRatio(d.ratio(r.peer, r.key, "suture", r.key)), formatRatio(d.ratio(r.peer, r.key, "otp", r.key)),
			toFloor, target, met)
	}
}
