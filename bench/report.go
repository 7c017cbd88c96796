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
	target          string
	// check returns the verdict and, optionally, a figure that goes with
	// the target.
	check func(d *driver) (met, detail string)
}

func rows(cfg config) []row {
	n, fill := thousands(cfg.N), thousands(cfg.Fill)
	ratioAtMost := func(peer string, limit float64, key string) func(d *driver) (string, string) {
		return func(d *driver) (string, string) {
			r := d.ratio("arbor", key, peer, key)
			return verdict(r <= limit, !math.IsNaN(r)), ""
		}
	}
	return []row{
		{"restart-few", "restart latency p50, few restarts in window", keyRestartFew, micro, "≤ 0.5× suture",
			ratioAtMost("suture", 0.5, keyRestartFew)},
		{"restart-window", "restart latency p50, " + fill + " restarts in window", keyRestartWindow, micro, "≤ 1.3× arbor's few-restarts figure",
			func(d *driver) (string, string) {
				r := d.ratio("arbor", keyRestartWindow, "arbor", keyRestartFew)
				return verdict(r <= 1.3, !math.IsNaN(r)), "is " + formatRatio(r)
			}},
		{"static", "start " + n + " static children, per child", keyStartStatic, micro, "≤ 0.35× suture",
			ratioAtMost("suture", 0.35, keyStartStatic)},
		{"static", "… the same, again in the same process (warm)", keyStartStatic + warm, micro, "≤ 0.35× suture",
			ratioAtMost("suture", 0.35, keyStartStatic+warm)},
		{"dynamic", n + " dynamic starts, per child", keyStartDynamic, micro, "≤ 0.25× OTP",
			ratioAtMost("otp", 0.25, keyStartDynamic)},
		{"dynamic", "… the same, again in the same process (warm)", keyStartDynamic + warm, micro, "≤ 0.25× OTP",
			ratioAtMost("otp", 0.25, keyStartDynamic+warm)},
		{"dynamic", "memory per idle child (heap + stacks)", keyMemIdle, kilo, "≤ 2.9 KB, below every peer",
			func(d *driver) (string, string) {
				a, s, o := d.median("arbor", keyMemIdle), d.median("suture", keyMemIdle), d.median("otp", keyMemIdle)
				if math.IsNaN(a) {
					return "n/a", ""
				}
				ok := a <= 2900 && (math.IsNaN(s) || a < s) && (math.IsNaN(o) || a < o)
				return verdict(ok, true), ""
			}},
		{"static", "stop " + n + " static children", keyStopStatic, milli, "≤ 0.5× suture",
			ratioAtMost("suture", 0.5, keyStopStatic)},
		{"static", "… the same, again in the same process (warm)", keyStopStatic + warm, milli, "≤ 0.5× suture",
			ratioAtMost("suture", 0.5, keyStopStatic+warm)},
		{"dynamic", "stop " + n + " dynamic children", keyStopDynamic, milli, "≤ 0.5× suture",
			ratioAtMost("suture", 0.5, keyStopDynamic)},
		{"dynamic", "… the same, again in the same process (warm)", keyStopDynamic + warm, milli, "≤ 0.5× suture",
			ratioAtMost("suture", 0.5, keyStopDynamic+warm)},
		{"call", "server call round trip", keyCall, micro, "≤ 0.4× OTP gen_server:call",
			ratioAtMost("otp", 0.4, keyCall)},
		{"generate", "arbor generate, 1,000-child spec, whole process", keyGenerate + "_1000", milli, "≤ 100 ms",
			func(d *driver) (string, string) {
				v := d.median("arbor", keyGenerate+"_1000")
				return verdict(v <= 100e6, !math.IsNaN(v)), ""
			}},
		{"generate", "arbor generate, 10,000-child spec, whole process", keyGenerate + "_10000", milli, "≤ 1 s, linear (≤ 10× the 1,000)",
			func(d *driver) (string, string) {
				v := d.median("arbor", keyGenerate+"_10000")
				r := d.ratio("arbor", keyGenerate+"_10000", "arbor", keyGenerate+"_1000")
				return verdict(v <= 1e9 && r <= 10, !math.IsNaN(v) && !math.IsNaN(r)), "is " + formatRatio(r)
			}},
	}
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
	for _, peer := range []string{"arbor", "arbor-1p", "suture", "otp", "go", "go-ctx", "otp-floor"} {
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
// against the peers, with issue 6's targets.
func (d *driver) mainTable(w io.Writer, selected []string) {
	fmt.Fprintln(w, "| work | arbor | suture | OTP | arbor/suture | arbor/OTP | target | met |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|---|---|")
	for _, r := range rows(d.cfg) {
		if !slices.Contains(selected, r.item) {
			continue
		}

		met, detail := r.check(d)
		target := r.target
		if detail != "" {
			target += ": " + detail
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.work,
			r.unit.format(d.median("arbor", r.key)), r.unit.format(d.median("suture", r.key)), r.unit.format(d.median("otp", r.key)),
			formatRatio(d.ratio("arbor", r.key, "suture", r.key)), formatRatio(d.ratio("arbor", r.key, "otp", r.key)),
			target, met)
	}
}
