// Package goroutines reads the program's goroutine profile with its pprof
// labels: which goroutines carry which labels, and where they are. The
// observer shows a child's stack with it, and the test kit finds the
// goroutines a tree left behind; both match the labels the runtime puts on
// each child's goroutine.
//
// It reads the text form of the profile (debug=1), which the standard
// library writes with the labels of each group of goroutines, so it needs
// no profile decoder.
package goroutines

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/pprof"
	"strconv"
	"strings"
)

// Group is a set of goroutines with the same stack and the same labels.
type Group struct {
	// Count is how many goroutines are in it.
	Count int `json:"count"`
	// Labels are their pprof labels; nil when they have none.
	Labels map[string]string `json:"labels,omitempty"`
	// Stack is where they are, innermost call first.
	Stack []Frame `json:"stack"`
}

// Frame is one call in a stack.
type Frame struct {
	Func string `json:"func"`
	File string `json:"file"`
	Line int    `json:"line"`
}

// String spells f as a stack trace does: "pkg.Func file:line".
func (f Frame) String() string { return fmt.Sprintf("%s %s:%d", f.Func, f.File, f.Line) }

// Profile reads the goroutine profile now. It walks every goroutine's
// stack, so it costs time in proportion to how many there are: read it on
// demand, not in a loop.
func Profile() ([]Group, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return nil, err
	}
	return Parse(buf.Bytes())
}

// Parse reads a goroutine profile written with debug=1.
func Parse(text []byte) ([]Group, error) {
	var out []Group
	var cur *Group
	for n, line := range strings.Split(string(text), "\n") {
		bad := func(what string) error {
			return fmt.Errorf("goroutine profile line %d: %s: %q", n+1, what, line)
		}
		switch {
		case line == "" || strings.HasPrefix(line, "goroutine profile:"):
			cur = nil
		case strings.HasPrefix(line, "# labels: "):
			if cur == nil {
				return nil, bad("labels outside a group")
			}
			labels, err := parseLabels(strings.TrimPrefix(line, "# labels: "))
			if err != nil {
				return nil, bad(err.Error())
			}
			cur.Labels = labels
		case strings.HasPrefix(line, "#\t"):
			if cur == nil {
				return nil, bad("a frame outside a group")
			}
			f, err := parseFrame(strings.TrimPrefix(line, "#\t"))
			if err != nil {
				return nil, bad(err.Error())
			}
			cur.Stack = append(cur.Stack, f)
		default:
			count, _, ok := strings.Cut(line, " @ ")
			c, err := strconv.Atoi(count)
			if !ok || err != nil {
				return nil, bad("not a group's first line")
			}
			out = append(out, Group{Count: c})
			cur = &out[len(out)-1]
		}
	}
	return out, nil
}

// parseFrame reads "0x4c8770\truntime/pprof.writeRuntimeProfile+0xb0\t/path/pprof.go:851".
func parseFrame(s string) (Frame, error) {
	fields := strings.Fields(s)
	if len(fields) < 3 {
		return Frame{}, errors.New("a frame needs an address, a function and a place")
	}
	fn := fields[1]
	if i := strings.LastIndex(fn, "+0x"); i >= 0 {
		fn = fn[:i]
	}
	place := strings.Join(fields[2:], " ")
	i := strings.LastIndexByte(place, ':')
	if i < 0 {
		return Frame{}, errors.New("a frame's place needs a line")
	}
	line, err := strconv.Atoi(place[i+1:])
	if err != nil {
		return Frame{}, errors.New("a frame's line is not a number")
	}
	return Frame{Func: fn, File: place[:i], Line: line}, nil
}

// parseLabels reads {"k":"v", "k2":"v2"}, Go-quoted.
func parseLabels(s string) (map[string]string, error) {
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, errors.New("labels must be in braces")
	}
	s = s[1 : len(s)-1]
	m := map[string]string{}
	for s != "" {
		k, rest, err := quoted(s)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(rest, ":") {
			return nil, errors.New("a label's key must be followed by a colon")
		}
		v, rest, err := quoted(rest[1:])
		if err != nil {
			return nil, err
		}
		m[k] = v
		s = strings.TrimPrefix(strings.TrimPrefix(rest, ","), " ")
	}
	return m, nil
}

// quoted reads the Go-quoted string at the start of s.
func quoted(s string) (string, string, error) {
	prefix, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", errors.New("a label must be a quoted string")
	}
	v, err := strconv.Unquote(prefix)
	if err != nil {
		return "", "", err
	}
	return v, s[len(prefix):], nil
}

// Matching returns the groups whose labels include every label of want.
func Matching(groups []Group, want map[string]string) []Group {
	var out []Group
	for _, g := range groups {
		if has(g.Labels, want) {
			out = append(out, g)
		}
	}
	return out
}

func has(labels, want map[string]string) bool {
	for k, v := range want {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Count adds up the goroutines of groups.
func Count(groups []Group) int {
	n := 0
	for _, g := range groups {
		n += g.Count
	}
	return n
}
