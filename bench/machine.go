package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
)

// machine describes where the figures were measured.
type machine struct {
	cpu, goVersion, otp, kernel string
	arbor                       string // the commit measured
	cores                       int
	loadBefore, loadAfter       string
	loadMax                     float64 // the highest 1-minute load seen as a measurement started
}

// sampleLoad notes the 1-minute load average.
func (m *machine) sampleLoad() {
	if f := strings.Fields(loadAverage()); len(f) > 0 {
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			m.loadMax = max(m.loadMax, v)
		}
	}
}

func describeMachine(otp string) machine {
	m := machine{cpu: "unknown", goVersion: goruntime.Version(), cores: goruntime.NumCPU(), loadBefore: loadAverage()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	}
	erl := otp
	if otp == "auto" || otp == "off" {
		erl = "erl"
	}
	const eval = `{ok, V} = file:read_file(filename:join([code:root_dir(), "releases", erlang:system_info(otp_release), "OTP_VERSION"])), ` +
		`io:format("OTP ~s, ERTS ~s, ~b schedulers", [string:trim(V), erlang:system_info(version), erlang:system_info(schedulers_online)]), halt().`
	if out, err := exec.Command(erl, "-noshell", "-eval", eval).Output(); err == nil {
		m.otp = strings.TrimSpace(string(out))
	}
	return m
}

// commit names the commit of arbor's repository at root, and says when the
// runtime, spec or gen have changes not committed.
func commit(root string) string {
	out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%h").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--", "runtime", "spec", "gen", "cmd").Output(); err == nil && len(st) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

// loadAverage returns the 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// moduleDirs returns arbor's repository and this module's directory: the
// directory of this source file when it is known (go run keeps it), else
// the working directory, which must be this module's.
func moduleDirs() (root, dir string) {
	dir, _ = os.Getwd()
	if _, file, _, ok := goruntime.Caller(0); ok && filepath.IsAbs(file) {
		dir = filepath.Dir(file)
	}
	return filepath.Dir(dir), dir
}
