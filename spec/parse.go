package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxAliasExpansion bounds how many YAML nodes aliases may add to a spec, so
// that a small file of nested aliases (an "alias bomb") cannot make Parse
// take unbounded time or memory.
const MaxAliasExpansion = 1_000_000

// maxMergeDepth bounds merge keys ("<<") merging mappings that merge others.
const maxMergeDepth = 16

// Limits on what Parse reads, checked before the YAML is parsed, so that a
// hostile file is refused in time and memory proportional to these bounds.
const (
	// MaxSize is the size of the largest spec file, in bytes: 4 MiB, three
	// times a 10,000-child spec written in block style.
	MaxSize = 4 << 20
	// MaxSeparators bounds the YAML separators of a spec: the characters
	// , [ { : - ? and line breaks. Every YAML value but the first needs at
	// least one of them and no separator makes more than three, so the
	// bound caps the values, and the memory, the YAML parser needs. A
	// 10,000-child spec has about 130,000.
	MaxSeparators = 250_000
)

// Parse reads the spec in src; filename is used in positions only. It returns
// the model with every default resolved, or a nil Spec and an ErrorList with
// every problem found, sorted by position. Parse never panics.
func Parse(filename string, src []byte) (*Spec, error) {
	if err := checkInput(filename, src); err != nil {
		return nil, ErrorList{err}
	}
	d := &decoder{file: filename, src: src, budget: MaxAliasExpansion, sizes: map[*yaml.Node]int{}, suppressed: map[Pos]bool{}, keyErrors: map[Pos]string{}}
	s := d.document(src)
	var list ErrorList
	list = append(list, d.errs.list...)
	if s != nil && d.errs.dropped == 0 {
		// Semantic checks run on the partial model too, so that one run
		// reports everything; an error at a position the decoder already
		// reported is a consequence of that one and is dropped. A mapping
		// and its first key share a position: that a key is missing is a
		// consequence of an unknown key there only when the unknown key is
		// the missing one misspelt.
		reported := d.suppressed
		for _, e := range d.errs.list {
			if _, isKey := d.keyErrors[e.Pos]; !isKey {
				reported[e.Pos] = true
			}
		}
		var v errs
		validate(s, &v)
		for _, e := range v.list {
			if reported[e.Pos] {
				continue
			}
			if hint, isKey := d.keyErrors[e.Pos]; isKey {
				if keys, ok := v.missing[e]; !ok || slices.Contains(keys, hint) {
					continue
				}
			}
			list = append(list, e)
		}
		if v.dropped > 0 {
			d.errs.dropped += v.dropped
		}
	}
	if len(list) > 0 {
		return nil, finish(list, d.errs.dropped > 0)
	}
	return s, nil
}

// checkInput refuses, before the YAML parser sees it, a file that is too
// large, has too many separators, or is not UTF-8 text.
func checkInput(filename string, src []byte) *Error {
	start := Pos{File: filename, Line: 1, Col: 1}
	if len(src) > MaxSize {
		return &Error{start, fmt.Sprintf("file is %d bytes; a spec is at most %d bytes (4 MiB)", len(src), MaxSize)}
	}
	line, lineStart, seps := 1, 0, 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case ',', '[', '{', ':', '-', '?', '\n':
			seps++
			if seps > MaxSeparators {
				p := Pos{File: filename, Line: line, Col: utf8.RuneCount(src[lineStart:i]) + 1}
				return &Error{p, fmt.Sprintf("the spec has more than %d yaml separators (, [ { : - ? and line breaks); arbor reads at most that many, about 20000 children", MaxSeparators)}
			}
			if c == '\n' {
				line, lineStart = line+1, i+1
			}
		default:
			if c >= 0x20 && c < 0x7f || c == '\t' || c == '\r' {
				continue
			}
			r, size := utf8.DecodeRune(src[i:])
			p := Pos{File: filename, Line: line, Col: utf8.RuneCount(src[lineStart:i]) + 1}
			if r == utf8.RuneError && size == 1 {
				return &Error{p, fmt.Sprintf("invalid utf-8 (byte 0x%02x at offset %d); a spec is utf-8 text", c, i)}
			}
			if !yamlPrintable(r) {
				return &Error{p, fmt.Sprintf("character %U is not allowed in yaml, which is printable text", r)}
			}
			i += size - 1
		}
	}
	return nil
}

// yamlPrintable reports whether YAML allows r in a file (the YAML 1.2
// c-printable set, as the YAML parser checks it, less tab, CR and LF, which
// the caller allows).
func yamlPrintable(r rune) bool {
	return r >= 0x20 && r <= 0x7e || r == 0x85 || r >= 0xa0 && r <= 0xd7ff ||
		r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
}

// decoder turns YAML nodes into the model. It reports type, syntax and
// key errors; the rules that need the whole model are validate's.
type decoder struct {
	file       string
	src        []byte
	errs       errs
	budget     int                // alias expansion left
	sizes      map[*yaml.Node]int // subtree sizes, memoized; -1 while being computed
	overBudget bool
	// suppressed holds the positions of mappings and lists with a value
	// the decoder could not read: what validate says about what they lack
	// is a consequence of that error.
	suppressed map[Pos]bool
	// keyErrors holds the positions of unknown, duplicate and non-string
	// keys, each with the key it suggests instead, or "".
	keyErrors map[Pos]string
}

// keyError reports an error about the key k, which suggests hint.
func (d *decoder) keyError(k *yaml.Node, hint, format string, args ...any) {
	d.errorf(k, format, args...)
	if _, seen := d.keyErrors[d.pos(k)]; !seen || hint != "" {
		d.keyErrors[d.pos(k)] = hint
	}
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs.add(d.pos(n), format, args...)
}

var (
	yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// yamlError reports an error of the YAML parser, at its line when it has one.
func (d *decoder) yamlError(err error) {
	msg := err.Error()
	p := Pos{File: d.file, Line: 1, Col: 1}
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		if line, err := strconv.Atoi(m[1]); err == nil && line > 0 {
			p.Line = line
		}
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
		// The parser gives no line for an alias without an anchor: it
		// is the first "*name" of the file.
		if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
			if i := aliasIndex(d.src, m[1]); i >= 0 {
				line := 1 + bytes.Count(d.src[:i], []byte("\n"))
				lineStart := bytes.LastIndexByte(d.src[:i], '\n') + 1
				p = Pos{File: d.file, Line: line, Col: utf8.RuneCount(d.src[lineStart:i]) + 1}
			}
			// A pointer type written bare (out: *Config) is an alias in
			// YAML, to an anchor that is not there.
			if t, err := ParseType("*" + m[1]); err == nil {
				msg += fmt.Sprintf(" (if %s is a go pointer type, quote it: \"%s\")", t, t)
			}
		}
	}
	d.errs.add(p, "invalid yaml: %s", msg)
}

// aliasIndex returns the offset of the first "*name" of src that is not in
// a comment (after a # on its line), or -1.
func aliasIndex(src []byte, name string) int {
	alias := []byte("*" + name)
	for off := 0; off < len(src); {
		i := bytes.Index(src[off:], alias)
		if i < 0 {
			return -1
		}
		i += off
		lineStart := bytes.LastIndexByte(src[:i], '\n') + 1
		if bytes.IndexByte(src[lineStart:i], '#') < 0 {
			return i
		}
		off = i + len(alias)
	}
	return -1
}

// decodeYAML runs the YAML parser, turning a panic in it into an error.
func decodeYAML(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

func (d *decoder) document(src []byte) *Spec {
	start := Pos{File: d.file, Line: 1, Col: 1}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	err := decodeYAML(dec, &doc)
	if errors.Is(err, io.EOF) || err == nil && isEmptyDocument(&doc) {
		d.errs.add(start, "file is empty; a spec needs at least version and supervisors")
		return nil
	}
	if err != nil {
		d.yamlError(err)
		return nil
	}
	var extra yaml.Node
	switch err := decodeYAML(dec, &extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.yamlError(err)
	default:
		d.errorf(&extra, "a spec file holds one yaml document; found a second")
	}
	root := d.resolve(doc.Content[0])
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "a spec must be a mapping with keys version, supervisors, ...; got %s", describe(root))
		return nil
	}
	s := &Spec{File: d.file, Pos: d.pos(root)}
	d.mapping(root, "the spec", rootKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			if i, ok := d.integer(v, "version"); ok {
				s.Version = Value[int]{clamp(i), d.pos(v)}
			} else {
				s.Version.Pos = d.pos(v)
			}
		case "package":
			str, _ := d.str(v, "package")
			s.Package = Value[string]{str, d.pos(v)}
		case "deps":
			d.mapping(v, "deps", nil, func(name string, k, v *yaml.Node) {
				s.Deps = append(s.Deps, d.dep(name, k, v))
			})
		case "registries":
			d.mapping(v, "registries", nil, func(name string, k, v *yaml.Node) {
				s.Registries = append(s.Registries, d.registry(name, k, v))
			})
		case "supervisors":
			d.mapping(v, "supervisors", nil, func(name string, k, v *yaml.Node) {
				if sup := d.supervisor(name, k, v); sup != nil {
					s.Supervisors = append(s.Supervisors, sup)
				}
			})
		case extensionKey:
			// Ignored: a place for anchors that other keys alias.
		case "applications":
			d.mapping(v, "applications", nil, func(name string, k, v *yaml.Node) {
				if app := d.application(name, k, v); app != nil {
					s.Applications = append(s.Applications, app)
				}
			})
		case "cluster":
			s.Cluster = d.cluster(k, v)
		}
	})
	return s
}

func isEmptyDocument(doc *yaml.Node) bool {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Style&yaml.TaggedStyle == 0
}

// The keys each mapping allows, in the order docs/spec.md lists them.
var (
	rootKeys        = []string{"version", "package", "deps", "registries", "supervisors", "applications", "cluster"}
	registryKeys    = []string{"keys", "key", "value", "pubsub", "partitions", "partition_by", "meta", "listeners"}
	supervisorKeys  = []string{"dynamic", "strategy", "max_restarts", "max_seconds", "auto_shutdown", "children", "max_children", "template", "key", "max_moves", "move_backoff"}
	childKeys       = []string{"id", "start", "supervisor", "args", "restart", "shutdown", "type", "significant", "name", "backoff"}
	templateKeys    = []string{"id", "start", "args", "extra_args", "restart", "shutdown", "type", "significant", "backoff"}
	nameKeys        = []string{"registry", "key", "value"}
	backoffKeys     = []string{"min", "max", "jitter"}
	argKeys         = []string{"ref", "duration", "registry", "dep", "supervisor"}
	applicationKeys = []string{"supervisor", "start_type", "depends_on", "prep_stop", "stop", "distributed"}
	callbackKeys    = []string{"func", "args"}
	clusterKeys     = []string{"name", "ttl", "sync_nodes_mandatory", "sync_nodes_timeout"}
	distributedKeys = []string{"nodes", "failover_delay", "takeover", "handoff"}
)

// resolve follows aliases, charging the expansion budget, and rejects
// non-standard tags. It returns nil after reporting an error.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		target := n.Alias
		if target == nil {
			d.errorf(n, "alias *%s refers to no anchor", n.Value)
			return nil
		}
		d.budget -= d.size(target)
		if d.budget < 0 {
			if !d.overBudget {
				d.errorf(n, "aliases expand the spec beyond %d nodes; is this an alias bomb?", MaxAliasExpansion)
				d.overBudget = true
			}
			return nil
		}
		n = target
	}
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq":
		default:
			d.errorf(n, "unsupported tag %s; allowed: !!str, !!int, !!float, !!bool, !!null, !!map, !!seq", truncate(n.Tag))
			return nil
		}
	}
	return n
}

// size returns the number of nodes under n, aliases expanded, capped just
// above the budget; a cycle of aliases counts as over the budget.
func (d *decoder) size(n *yaml.Node) int {
	const capped = MaxAliasExpansion + 1
	if s, ok := d.sizes[n]; ok {
		if s < 0 {
			return capped
		}
		return s
	}
	d.sizes[n] = -1
	s := 1
	if n.Kind == yaml.AliasNode {
		if n.Alias != nil {
			s = d.size(n.Alias)
		}
	} else {
		for _, c := range n.Content {
			s += d.size(c)
			if s >= capped {
				s = capped
				break
			}
		}
	}
	d.sizes[n] = s
	return s
}

// mapping calls fn for each key of the mapping n in order, with merge keys
// expanded. It reports keys that are not strings, duplicate keys, and, when
// allowed is not nil, keys not in allowed. what names the mapping in
// messages.
func (d *decoder) mapping(n *yaml.Node, what string, allowed []string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && allowed == nil {
		return // "supervisors:" with nothing under it is an empty mapping
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, got %s", what, describe(n))
		return
	}
	// The keys written in the mapping, each with where it first is; a key
	// may be an alias of a string. (An alias's target is never an alias.)
	explicit := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		target := k
		if target.Kind == yaml.AliasNode && target.Alias != nil {
			target = target.Alias
		}
		if target.Kind == yaml.ScalarNode && target.ShortTag() == "!!str" {
			if _, dup := explicit[target.Value]; !dup {
				explicit[target.Value] = k
			}
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			if !d.merge(v, what, allowed, explicit, seen, fn, 0) {
				// What the mapping lacks may be what failed to merge.
				d.suppressed[d.pos(n)] = true
			}
			continue
		}
		key, ok := d.key(k, what)
		if !ok {
			continue
		}
		if first := explicit[key]; first != nil && first != k {
			d.keyError(k, "", "duplicate key %+q in %s (first at %s)", truncate(key), what, d.pos(first).short())
			continue
		}
		seen[key] = true
		d.field(n, key, k, v, what, allowed, fn)
	}
}

// merge applies the merge key "<<": its value is a mapping, or a list of
// mappings, whose keys are added unless the mapping has them already. It
// reports whether everything merged.
func (d *decoder) merge(v *yaml.Node, what string, allowed []string, explicit map[string]*yaml.Node, seen map[string]bool, fn func(key string, k, v *yaml.Node), depth int) bool {
	if v = d.resolve(v); v == nil {
		return false
	}
	if depth > maxMergeDepth {
		d.errorf(v, "merge keys nest deeper than %d levels", maxMergeDepth)
		return false
	}
	ok := true
	switch v.Kind {
	case yaml.SequenceNode:
		for _, m := range v.Content {
			if m.Kind == yaml.SequenceNode {
				d.errorf(m, "merge key in %s must merge mappings, got a list", what)
				ok = false
				continue
			}
			ok = d.merge(m, what, allowed, explicit, seen, fn, depth+1) && ok
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := v.Content[i], v.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				ok = d.merge(val, what, allowed, explicit, seen, fn, depth+1) && ok
				continue
			}
			key, isKey := d.key(k, what)
			if !isKey || seen[key] || explicit[key] != nil {
				continue
			}
			seen[key] = true
			d.field(v, key, k, val, what, allowed, fn)
		}
	default:
		d.errorf(v, "merge key in %s must merge a mapping, got %s", what, describe(v))
		return false
	}
	return ok
}

func (d *decoder) key(k *yaml.Node, what string) (string, bool) {
	if k = d.resolve(k); k == nil {
		return "", false
	}
	if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
		d.keyError(k, "", "keys of %s must be strings, got %s", what, describe(k))
		return "", false
	}
	return k.Value, true
}

// extensionKey stands for the top-level keys starting with "x-", which
// mapping passes to the callback as this key, unread: they hold anchors.
const extensionKey = "x-"

func (d *decoder) field(m *yaml.Node, key string, k, v *yaml.Node, what string, allowed []string, fn func(key string, k, v *yaml.Node)) {
	if allowed != nil && allowed[0] == "version" && strings.HasPrefix(key, extensionKey) {
		fn(extensionKey, k, v)
		return
	}
	if allowed != nil && !contains(allowed, key) {
		if hint := DidYouMean(key, allowed); hint != "" {
			d.keyError(k, hint, "unknown key %+q in %s; did you mean %+q?", truncate(key), what, hint)
		} else {
			d.keyError(k, "", "unknown key %+q in %s; allowed: %s", truncate(key), what, strings.Join(allowed, ", "))
		}
		return
	}
	if v = d.resolve(v); v == nil {
		d.suppressed[d.pos(m)] = true
		d.suppressed[d.pos(k)] = true
		return
	}
	fn(key, k, v)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// list calls fn for each item of the sequence n.
func (d *decoder) list(n *yaml.Node, what string, fn func(item *yaml.Node)) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list, got %s", what, describe(n))
		return
	}
	for _, item := range n.Content {
		if item = d.resolve(item); item != nil {
			fn(item)
		} else {
			d.suppressed[d.pos(n)] = true
		}
	}
}

// describe names a node's kind and value for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!str":
			return "string " + strconv.QuoteToASCII(truncate(n.Value))
		case "!!int":
			return "integer " + truncate(n.Value)
		case "!!float":
			return "float " + truncate(n.Value)
		case "!!bool":
			return "boolean " + truncate(n.Value)
		case "!!timestamp":
			return "timestamp " + truncate(n.Value) + " (quote it to make it a string)"
		}
		return strconv.QuoteToASCII(truncate(n.Value))
	}
	return "nothing"
}

// truncate shortens s for a message.
func truncate(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// clamp turns an int64 into an int that keeps it out of range when it was:
// the decoder has reported values beyond MaxIntensity already.
func clamp(i int64) int {
	switch {
	case i > MaxIntensity:
		return MaxIntensity + 1
	case i < -MaxIntensity:
		return -MaxIntensity - 1
	}
	return int(i)
}

// scalar resolves n and checks that it is a scalar with tag; got describes
// what it was otherwise.
func (d *decoder) scalar(n *yaml.Node, tag, what, want string) (*yaml.Node, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != tag {
		d.errorf(n, "%s must be %s, got %s", what, want, describe(n))
		return nil, false
	}
	return n, true
}

func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	n, ok := d.scalar(n, "!!str", what, "a string")
	if !ok {
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	n, ok := d.scalar(n, "!!bool", what, "true or false")
	if !ok {
		return false, false
	}
	switch n.Value {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	d.errorf(n, "%s must be true or false, got %+q", what, truncate(n.Value))
	return false, false
}

var decimalInteger = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

// tooLarge reports whether n is an integer that YAML made a float because it
// does not fit in 64 bits: a plain scalar with the digits of an integer,
// which no tag made a float.
func tooLarge(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && n.Style&yaml.TaggedStyle == 0 &&
		decimalInteger.MatchString(n.Value)
}

// integer reads an int64, as YAML spells integers.
func (d *decoder) integer(n *yaml.Node, what string) (int64, bool) {
	if tooLarge(n) {
		d.errorf(n, "%s %s does not fit in a 64-bit integer", what, truncate(n.Value))
		return 0, false
	}
	n, ok := d.scalar(n, "!!int", what, "an integer")
	if !ok {
		return 0, false
	}
	i, err := parseYAMLInt(n.Value)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			d.errorf(n, "%s %s does not fit in a 64-bit integer", what, truncate(n.Value))
		} else {
			d.errorf(n, "%s must be an integer, got %+q", what, truncate(n.Value))
		}
		return 0, false
	}
	return i, true
}

func parseYAMLInt(s string) (int64, error) {
	plain := strings.ReplaceAll(s, "_", "")
	neg := false
	switch {
	case strings.HasPrefix(plain, "-"):
		neg, plain = true, plain[1:]
	case strings.HasPrefix(plain, "+"):
		plain = plain[1:]
	}
	if plain == "" || plain[0] == '-' || plain[0] == '+' {
		return 0, strconv.ErrSyntax
	}
	if neg {
		plain = "-" + plain
	}
	i, err := strconv.ParseInt(plain, 0, 64)
	if err != nil {
		return 0, err.(*strconv.NumError).Err
	}
	return i, nil
}

// bounded reads an integer flag that must fit MaxIntensity.
func (d *decoder) bounded(n *yaml.Node, what string) (Value[int], bool) {
	i, ok := d.integer(n, what)
	if !ok {
		return Value[int]{Pos: d.pos(n)}, false
	}
	if i > MaxIntensity {
		d.errorf(n, "%s %d is too large; the most allowed is %d", what, i, MaxIntensity)
	}
	return Value[int]{clamp(i), d.pos(n)}, true
}

// number reads a float64 from an integer or a finite float.
func (d *decoder) number(n *yaml.Node, what string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		i, err := parseYAMLInt(n.Value)
		if err == nil {
			return float64(i), true
		}
	}
	n, ok := d.scalar(n, "!!float", what, "a number")
	if !ok {
		return 0, false
	}
	f, ok := parseYAMLFloat(n.Value)
	if !ok {
		d.errorf(n, "%s must be a finite number, got %s", what, truncate(n.Value))
		return 0, false
	}
	return f, true
}

func parseYAMLFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// duration reads a Go duration string or an integer number of milliseconds.
func (d *decoder) duration(n *yaml.Node, what string) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.errorf(n, "%s %+q is not a duration; want a go duration such as 1500ms or 5s, or an integer number of milliseconds", what, truncate(n.Value))
			return 0, false
		}
		return dur, true
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		ms, ok := d.integer(n, what)
		if !ok {
			return 0, false
		}
		if ms > math.MaxInt64/int64(time.Millisecond) || ms < math.MinInt64/int64(time.Millisecond) {
			d.errorf(n, "%s %d ms is too long for a go duration", what, ms)
			return 0, false
		}
		return time.Duration(ms) * time.Millisecond, true
	}
	d.errorf(n, "%s must be a go duration such as 1500ms or an integer number of milliseconds, got %s", what, describe(n))
	return 0, false
}

func (d *decoder) shutdown(n *yaml.Node) (Value[Shutdown], bool) {
	p := d.pos(n)
	r := n
	if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str" {
		switch r.Value {
		case "brutal_kill":
			return Value[Shutdown]{Shutdown{Kind: BrutalKill}, p}, true
		case "infinity":
			return Value[Shutdown]{Shutdown{Kind: ShutdownInfinity}, p}, true
		}
		if _, err := time.ParseDuration(r.Value); err != nil {
			d.errorf(r, "shutdown %+q is invalid; allowed: brutal_kill, infinity, a go duration such as 5s, or an integer number of milliseconds", truncate(r.Value))
			return Value[Shutdown]{Pos: p}, false
		}
	}
	dur, ok := d.duration(r, "shutdown")
	return Value[Shutdown]{Shutdown{Timeout: dur}, p}, ok
}

func (d *decoder) function(n *yaml.Node, what string) Value[Func] {
	s, ok := d.str(n, what)
	if !ok {
		return Value[Func]{Pos: d.pos(n)}
	}
	f, err := ParseFunc(s)
	if err != nil {
		d.errorf(n, "%s %+q is not a function: %v", what, truncate(s), err)
	}
	return Value[Func]{f, d.pos(n)}
}

// goType reads a Go type, as extra arguments spell them; what names the
// value in messages.
func (d *decoder) goType(n *yaml.Node, what string) Value[*TypeExpr] {
	p := d.pos(n)
	s, ok := d.str(n, what)
	if !ok {
		return Value[*TypeExpr]{Pos: p}
	}
	t, err := ParseType(s)
	if err != nil {
		d.errorf(n, "%s %+q is not a go type: %v", what, truncate(s), err)
		return Value[*TypeExpr]{Pos: p}
	}
	return Value[*TypeExpr]{t, p}
}

func (d *decoder) dep(name string, k, v *yaml.Node) *Dep {
	dep := &Dep{Name: name, Pos: d.pos(k)}
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		// At the name: that the type is missing is all there is to say.
		d.errorf(k, "dependency %+q has no type; want %s: <go type>, such as out: io.Writer", truncate(name), truncate(name))
		return dep
	}
	p := d.pos(v)
	s, ok := d.str(v, fmt.Sprintf("the type of dependency %+q", truncate(name)))
	if !ok {
		dep.Type.Pos = p
		return dep
	}
	t, err := ParseType(s)
	if err != nil {
		d.errorf(v, "dependency %+q has the type %+q, which is not a go type: %v", truncate(name), truncate(s), err)
		dep.Type.Pos = p
		return dep
	}
	dep.Type = Value[*TypeExpr]{t, p}
	return dep
}

func (d *decoder) registry(name string, k, v *yaml.Node) *Registry {
	r := &Registry{Name: name, Pos: d.pos(k), Keys: Value[string]{Val: UniqueKeys}}
	what := fmt.Sprintf("registry %+q", truncate(name))
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return r
	}
	d.mapping(v, what, registryKeys, func(key string, k, v *yaml.Node) {
		p := d.pos(v)
		switch key {
		case "keys":
			s, _ := d.str(v, "keys")
			r.Keys = Value[string]{s, p}
		case "key":
			r.Key = d.goType(v, "key")
		case "value":
			r.Value = d.goType(v, "value")
		case "pubsub":
			r.PubSub = d.goType(v, "pubsub")
		case "partitions":
			r.Partitions, _ = d.bounded(v, "partitions")
		case "partition_by":
			s, _ := d.str(v, "partition_by")
			r.PartitionBy = Value[string]{s, p}
		case "meta":
			d.mapping(v, "meta of "+what, nil, func(key string, k, v *yaml.Node) {
				if a, ok := d.arg(v); ok {
					r.Meta = append(r.Meta, &Meta{Key: key, Pos: d.pos(k), Value: a})
				}
			})
		case "listeners":
			d.list(v, "listeners", func(item *yaml.Node) {
				if s, ok := d.str(item, "listener"); ok {
					r.Listeners = append(r.Listeners, Value[string]{s, d.pos(item)})
				}
			})
		}
	})
	return r
}

func (d *decoder) supervisor(name string, k, v *yaml.Node) *Supervisor {
	sup := &Supervisor{
		Name:         name,
		Pos:          d.pos(k),
		Strategy:     Value[Strategy]{Val: OneForOne},
		MaxRestarts:  Value[int]{Val: DefaultMaxRestarts},
		MaxSeconds:   Value[int]{Val: DefaultMaxSeconds},
		AutoShutdown: Value[AutoShutdown]{Val: Never},
		MaxChildren:  Value[int]{Val: Infinity},
		MaxMoves:     Value[int]{Val: DefaultMaxMoves},
		MoveBackoff:  Value[time.Duration]{Val: DefaultMoveBackoff},
	}
	what := fmt.Sprintf("supervisor %+q", truncate(name))
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		d.errorf(v, "%s must be a mapping with at least children (or dynamic: true), got null", what)
		return sup
	}
	d.mapping(v, what, supervisorKeys, func(key string, k, v *yaml.Node) {
		p := d.pos(v)
		switch key {
		case "dynamic":
			if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
				if v.Value != "cluster" {
					d.errorf(v, "dynamic %+q is invalid; allowed: true, false, cluster", truncate(v.Value))
					sup.Dynamic = Value[bool]{false, p}
					return
				}
				sup.Dynamic, sup.Cluster = Value[bool]{true, p}, true
				return
			}
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				d.errorf(v, "dynamic must be true, false or cluster, got %s", describe(v))
				return
			}
			b, _ := d.boolean(v, "dynamic")
			sup.Dynamic = Value[bool]{b, p}
		case "key":
			sup.Key = d.goType(v, "key")
		case "max_moves":
			sup.MaxMoves, _ = d.bounded(v, "max_moves")
		case "move_backoff":
			dur, _ := d.duration(v, "move_backoff")
			sup.MoveBackoff = Value[time.Duration]{dur, p}
		case "strategy":
			s, _ := d.str(v, "strategy")
			sup.Strategy = Value[Strategy]{Strategy(s), p}
		case "max_restarts":
			sup.MaxRestarts, _ = d.bounded(v, "max_restarts")
		case "max_seconds":
			sup.MaxSeconds, _ = d.bounded(v, "max_seconds")
		case "auto_shutdown":
			s, _ := d.str(v, "auto_shutdown")
			sup.AutoShutdown = Value[AutoShutdown]{AutoShutdown(s), p}
		case "max_children":
			switch r := v; {
			case r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str":
				if r.Value != "infinity" {
					d.errorf(r, "max_children %+q is invalid; allowed: an integer >= 1 or infinity", truncate(r.Value))
				}
				sup.MaxChildren = Value[int]{Infinity, p}
			default:
				sup.MaxChildren, _ = d.bounded(r, "max_children")
			}
		case "children":
			sup.ChildrenPos = p
			d.list(v, "children", func(item *yaml.Node) {
				if c := d.child(item); c != nil {
					sup.Children = append(sup.Children, c)
				}
			})
		case "template":
			sup.Template = d.template(v)
		}
	})
	return sup
}

// childDefaults resolves the defaults of restart, type and shutdown, which
// depend on whether the child is a nested supervisor.
func childDefaults(restart *Value[Restart], typ *Value[ChildType], shutdown *Value[Shutdown], nested bool) {
	if !restart.Pos.IsValid() && restart.Val == "" {
		restart.Val = Permanent
	}
	if !typ.Pos.IsValid() && typ.Val == "" {
		typ.Val = Worker
		if nested {
			typ.Val = SupervisorType
		}
	}
	if !shutdown.Pos.IsValid() {
		shutdown.Val = Shutdown{Timeout: DefaultWorkerShutdown}
		if typ.Val == SupervisorType {
			shutdown.Val = Shutdown{Kind: ShutdownInfinity}
		}
	}
}

func (d *decoder) child(n *yaml.Node) *Child {
	c := &Child{Pos: d.pos(n)}
	shared := startFields{&c.Start, &c.Args, &c.Restart, &c.Shutdown, &c.Type, &c.Significant, &c.Backoff}
	d.mapping(n, "child", childKeys, func(key string, k, v *yaml.Node) {
		if d.startField(key, v, shared) {
			return
		}
		p := d.pos(v)
		switch key {
		case "id":
			s, _ := d.str(v, "id")
			c.ID = Value[string]{s, p}
		case "supervisor":
			s, _ := d.str(v, "supervisor")
			c.Supervisor = Value[string]{s, p}
		case "name":
			c.Name = d.name(v)
		}
	})
	childDefaults(&c.Restart, &c.Type, &c.Shutdown, c.Supervisor.Pos.IsValid() && !c.Start.Pos.IsValid())
	return c
}

// startFields points at the fields that a child and a dynamic supervisor's
// template share: how to start, restart and stop what they describe.
type startFields struct {
	start       *Value[Func]
	args        *[]Arg
	restart     *Value[Restart]
	shutdown    *Value[Shutdown]
	typ         *Value[ChildType]
	significant *Value[bool]
	backoff     **Backoff
}

// startField decodes key into f when it is one of the shared keys, and
// reports whether it was.
func (d *decoder) startField(key string, v *yaml.Node, f startFields) bool {
	p := d.pos(v)
	switch key {
	case "start":
		*f.start = d.function(v, "start")
	case "args":
		*f.args = d.args(v)
	case "restart":
		s, _ := d.str(v, "restart")
		*f.restart = Value[Restart]{Restart(s), p}
	case "shutdown":
		*f.shutdown, _ = d.shutdown(v)
	case "type":
		s, _ := d.str(v, "type")
		*f.typ = Value[ChildType]{ChildType(s), p}
	case "significant":
		b, _ := d.boolean(v, "significant")
		*f.significant = Value[bool]{b, p}
	case "backoff":
		*f.backoff = d.backoff(v)
	default:
		return false
	}
	return true
}

func (d *decoder) template(n *yaml.Node) *Template {
	t := &Template{Pos: d.pos(n)}
	shared := startFields{&t.Start, &t.Args, &t.Restart, &t.Shutdown, &t.Type, &t.Significant, &t.Backoff}
	d.mapping(n, "template", templateKeys, func(key string, k, v *yaml.Node) {
		if d.startField(key, v, shared) {
			return
		}
		if key == "id" {
			s, _ := d.str(v, "id")
			t.ID = Value[string]{s, d.pos(v)}
		}
		if key == "extra_args" {
			d.list(v, "extra_args", func(item *yaml.Node) {
				if a, ok := d.extraArg(item); ok {
					t.ExtraArgs = append(t.ExtraArgs, a)
				}
			})
		}
	})
	childDefaults(&t.Restart, &t.Type, &t.Shutdown, false)
	return t
}

func (d *decoder) extraArg(n *yaml.Node) (ExtraArg, bool) {
	s, ok := d.str(n, "extra argument")
	if !ok {
		return ExtraArg{}, false
	}
	// Only ASCII spaces and tabs separate the name from the type: another
	// space character (U+00A0, U+2003, ...) is part of a field, which then
	// is not a valid name or type.
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(fields) != 2 {
		d.errorf(n, "extra argument %+q must be \"name type\", such as \"name string\"", truncate(s))
		return ExtraArg{}, false
	}
	t, err := ParseType(fields[1])
	if err != nil {
		d.errorf(n, "extra argument %+q has an invalid type: %v", truncate(s), err)
		return ExtraArg{}, false
	}
	return ExtraArg{Pos: d.pos(n), Name: fields[0], Type: t}, true
}

func (d *decoder) args(n *yaml.Node) []Arg {
	var args []Arg
	d.list(n, "args", func(item *yaml.Node) {
		if a, ok := d.arg(item); ok {
			args = append(args, a)
		}
	})
	return args
}

const argForms = "an integer, a float, a string, true, false, null, {ref: id}, {duration: d}, {registry: name}, {dep: name} or {supervisor: name}"

func (d *decoder) arg(n *yaml.Node) (Arg, bool) {
	p := d.pos(n)
	a := Arg{Pos: p}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int":
			i, ok := d.integer(n, "argument")
			a.Kind, a.Int = IntArg, i
			return a, ok
		case "!!float":
			if tooLarge(n) {
				_, ok := d.integer(n, "argument")
				return a, ok
			}
			f, ok := parseYAMLFloat(n.Value)
			if !ok {
				d.errorf(n, "argument %s is not a finite number; go has no literal for it", truncate(n.Value))
				return a, false
			}
			a.Kind, a.Float = FloatArg, f
			return a, true
		case "!!str":
			a.Kind, a.String = StringArg, n.Value
			return a, true
		case "!!bool":
			b, ok := d.boolean(n, "argument")
			a.Kind, a.Bool = BoolArg, b
			return a, ok
		case "!!null":
			a.Kind = NullArg
			return a, true
		}
	case yaml.MappingNode:
		count := 0
		ok := true
		d.mapping(n, "argument", argKeys, func(key string, k, v *yaml.Node) {
			count++
			switch key {
			case "ref", "registry", "dep", "supervisor":
				a.Kind = map[string]ArgKind{"ref": RefArg, "registry": RegistryArg, "dep": DepArg, "supervisor": SupervisorArg}[key]
				a.Name, ok = d.str(v, key)
				a.Pos = d.pos(v)
			case "duration":
				a.Kind = DurationArg
				a.Duration, ok = d.duration(v, "duration")
			}
		})
		if count != 1 {
			if count > 1 {
				d.errorf(n, "argument mapping must have exactly one key of ref, duration, registry, dep, supervisor; got %d", count)
			} else if len(n.Content) == 0 {
				d.errorf(n, "argument must be %s, got an empty mapping", argForms)
			}
			return a, false
		}
		return a, ok
	}
	d.errorf(n, "argument must be %s, got %s", argForms, describe(n))
	return a, false
}

func (d *decoder) name(n *yaml.Node) *Name {
	nm := &Name{Pos: d.pos(n)}
	d.mapping(n, "name", nameKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "registry":
			s, _ := d.str(v, key)
			nm.Registry = Value[string]{s, d.pos(v)}
		case "key", "value":
			a, ok := d.arg(v)
			if !ok {
				// Reported; the key is not missing.
				a = Arg{Pos: d.pos(v), Kind: StringArg, String: "?"}
			}
			if key == "key" {
				nm.Key = &a
			} else {
				nm.Value = &a
			}
		}
	})
	return nm
}

func (d *decoder) backoff(n *yaml.Node) *Backoff {
	b := &Backoff{Pos: d.pos(n)}
	d.mapping(n, "backoff", backoffKeys, func(key string, k, v *yaml.Node) {
		p := d.pos(v)
		switch key {
		case "min":
			dur, _ := d.duration(v, "backoff min")
			b.Min = Value[time.Duration]{dur, p}
		case "max":
			dur, _ := d.duration(v, "backoff max")
			b.Max = Value[time.Duration]{dur, p}
		case "jitter":
			f, _ := d.number(v, "backoff jitter")
			b.Jitter = Value[float64]{f, p}
		}
	})
	return b
}

// callback reads an application's prep_stop or stop: a function, or a
// mapping {func: f, args: [...]}.
func (d *decoder) callback(n *yaml.Node, what string) (Value[Func], []Arg) {
	if n.Kind != yaml.MappingNode {
		return d.function(n, what), nil
	}
	f := Value[Func]{Pos: d.pos(n)}
	var args []Arg
	hasFunc := false
	d.mapping(n, what, callbackKeys, func(key string, k, v *yaml.Node) {
		if key == "func" {
			f, hasFunc = d.function(v, what), true
		} else {
			args = d.args(v)
		}
	})
	if !hasFunc {
		d.errorf(n, "%s has no func; want {func: F, args: [...]}", what)
	}
	return f, args
}

func (d *decoder) application(name string, k, v *yaml.Node) *Application {
	app := &Application{Name: name, Pos: d.pos(k), StartType: Value[Restart]{Val: Temporary}}
	what := fmt.Sprintf("application %+q", truncate(name))
	if v.Kind != yaml.MappingNode {
		// At the name: the error that the application has no supervisor,
		// at the same place, is dropped as a consequence of this one.
		d.errorf(k, "%s must be a mapping with at least supervisor, got %s", what, describe(v))
		return app
	}
	d.mapping(v, what, applicationKeys, func(key string, k, v *yaml.Node) {
		p := d.pos(v)
		switch key {
		case "supervisor":
			s, _ := d.str(v, "supervisor")
			app.Supervisor = Value[string]{s, p}
		case "start_type":
			s, _ := d.str(v, "start_type")
			app.StartType = Value[Restart]{Restart(s), p}
		case "depends_on":
			d.list(v, "depends_on", func(item *yaml.Node) {
				s, ok := d.str(item, "dependency")
				if ok {
					app.DependsOn = append(app.DependsOn, Value[string]{s, d.pos(item)})
				}
			})
		case "prep_stop":
			app.PrepStop, app.PrepStopArgs = d.callback(v, "prep_stop")
		case "stop":
			app.Stop, app.StopArgs = d.callback(v, "stop")
		case "distributed":
			app.Distributed = d.distributed(v, what)
		}
	})
	return app
}

// cluster reads the cluster section, whose key is k.
func (d *decoder) cluster(k, v *yaml.Node) *Cluster {
	c := &Cluster{Pos: d.pos(k), TTL: Value[time.Duration]{Val: DefaultClusterTTL}, SyncNodesTimeout: Value[time.Duration]{Val: InfiniteWait}}
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		// At the key: that the name is missing is all there is to say.
		d.errorf(k, "cluster must be a mapping with at least name, got null")
		return c
	}
	c.Pos = d.pos(v)
	d.mapping(v, "cluster", clusterKeys, func(key string, k, v *yaml.Node) {
		p := d.pos(v)
		switch key {
		case "name":
			s, _ := d.str(v, "name")
			c.Name = Value[string]{s, p}
		case "ttl":
			dur, _ := d.duration(v, "ttl")
			c.TTL = Value[time.Duration]{dur, p}
		case "sync_nodes_mandatory":
			d.list(v, "sync_nodes_mandatory", func(item *yaml.Node) {
				if s, ok := d.str(item, "node"); ok {
					c.SyncNodesMandatory = append(c.SyncNodesMandatory, Value[string]{s, d.pos(item)})
				}
			})
		case "sync_nodes_timeout":
			if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && v.Value == "infinity" {
				c.SyncNodesTimeout = Value[time.Duration]{InfiniteWait, p}
				return
			}
			dur, _ := d.duration(v, "sync_nodes_timeout")
			c.SyncNodesTimeout = Value[time.Duration]{dur, p}
		}
	})
	return c
}

// distributed reads the distributed entry of an application, which what
// names.
func (d *decoder) distributed(n *yaml.Node, what string) *Distributed {
	ds := &Distributed{Pos: d.pos(n), Takeover: Value[bool]{Val: true}}
	d.mapping(n, "distributed", distributedKeys, func(key string, k, v *yaml.Node) {
		p := d.pos(v)
		switch key {
		case "nodes":
			ds.NodesPos = p
			d.list(v, "nodes", func(item *yaml.Node) {
				if item.Kind == yaml.SequenceNode {
					var group []Value[string]
					d.list(item, "a group of nodes", func(node *yaml.Node) {
						if s, ok := d.str(node, "a node of a group"); ok {
							group = append(group, Value[string]{s, d.pos(node)})
						}
					})
					if len(group) == 0 && len(item.Content) == 0 {
						d.errorf(item, "a group of the nodes of %s is empty; a group lists nodes of equal priority, such as [b, c]", what)
					}
					if len(group) > 0 {
						ds.Nodes = append(ds.Nodes, group)
					}
					return
				}
				if s, ok := d.str(item, "a node"); ok {
					ds.Nodes = append(ds.Nodes, []Value[string]{{s, d.pos(item)}})
				}
			})
		case "failover_delay":
			dur, _ := d.duration(v, "failover_delay")
			ds.FailoverDelay = Value[time.Duration]{dur, p}
		case "takeover":
			b, _ := d.boolean(v, "takeover")
			ds.Takeover = Value[bool]{b, p}
		case "handoff":
			ds.Handoff, ds.HandoffArgs = d.callback(v, "handoff")
		}
	})
	return ds
}
