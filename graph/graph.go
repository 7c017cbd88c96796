// Package graph draws the supervision tree of a spec, as Mermaid (which
// GitHub renders in Markdown) or as Graphviz DOT.
//
// The drawing is of the spec, not of a running program: one node per
// application, per supervisor, per child and per dynamic supervisor's
// template. Applications point to their top supervisor and, dotted, to the
// applications they depend on; a supervisor points to its children in start
// order (the edges are numbered); a child that runs a nested supervisor
// points to that supervisor's node, so a supervisor run by several children is
// drawn once, and the drawing stays as small as the spec; a dynamic
// supervisor points, dotted, to its template. Every node shows its name and
// its OTP values: strategy and intensity for a supervisor; start function,
// refs to earlier siblings, dependencies, restart and shutdown, registered
// name and the registries it listens to for a child; a template's id. A
// spec's cluster section is a node of its own, with its TTL and mandatory
// nodes, to which each distributed application (with its priority list of
// nodes) and each cluster supervisor (with its key type and moves) points,
// dotted.
//
// The output is deterministic: it follows the order of the spec, and node
// names are numbered, never taken from the spec. Text from the spec is
// escaped for each format, so no spec can change the structure of a drawing.
//
// The package holds no state; its functions are safe for concurrent use.
package graph

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/arborgo/arbor/spec"
)

// Format is an output format.
type Format string

// The formats.
const (
	Mermaid Format = "mermaid" // a Mermaid flowchart
	DOT     Format = "dot"     // a Graphviz digraph
)

// Formats lists the formats, the default first.
func Formats() []Format { return []Format{Mermaid, DOT} }

// Draw returns the drawing of s in format f. s must be valid (as Parse
// returns it); Draw reports an unknown format.
func Draw(s *spec.Spec, f Format) ([]byte, error) {
	g := build(s)
	switch f {
	case Mermaid:
		return g.mermaid(), nil
	case DOT:
		return g.dot(), nil
	}
	return nil, fmt.Errorf("unknown format %q; allowed: mermaid, dot", f)
}

// kind is what a node stands for; it picks the node's shape and style.
type kind uint8

const (
	application kind = iota
	supervisor
	dynamicSupervisor
	worker
	nestedChild // a child that runs a supervisor of the spec, or a hand-written one
	template
	cluster // the spec's cluster section
)

// node is one box of the drawing: lines of plain text, escaped when
// rendered.
type node struct {
	id    string
	kind  kind
	lines []string
}

// edge styles.
type style uint8

const (
	solid  style = iota // a supervisor's child
	thick               // an application's top supervisor
	dotted              // a dependency, a template
)

type edge struct {
	from, to string
	label    string
	style    style
}

type graph struct {
	nodes []node
	edges []edge
}

func (g *graph) node(id string, k kind, lines ...string) {
	g.nodes = append(g.nodes, node{id, k, lines})
}

func (g *graph) edge(from, to, label string, s style) {
	g.edges = append(g.edges, edge{from, to, label, s})
}

// build lays out s as nodes and edges, in the order of the spec.
func build(s *spec.Spec) *graph {
	g := &graph{}
	supID := make(map[string]string, len(s.Supervisors))
	for i, sup := range s.Supervisors {
		supID[sup.Name] = "sup" + strconv.Itoa(i+1)
	}
	appID := make(map[string]string, len(s.Applications))
	for i, app := range s.Applications {
		appID[app.Name] = "app" + strconv.Itoa(i+1)
	}
	const clusterID = "cluster"
	if c := s.Cluster; c != nil {
		lines := []string{"cluster " + c.Name.Val, "ttl " + c.TTL.Val.String()}
		if len(c.SyncNodesMandatory) > 0 {
			var nodes []string
			for _, n := range c.SyncNodesMandatory {
				nodes = append(nodes, n.Val)
			}
			wait := "sync_nodes_mandatory " + strings.Join(nodes, ", ")
			if t := c.SyncNodesTimeout.Val; t > 0 {
				wait += ", within " + t.String()
			}
			lines = append(lines, wait)
		}
		g.node(clusterID, cluster, lines...)
	}
	for _, app := range s.Applications {
		id := appID[app.Name]
		lines := []string{"application " + app.Name, "start_type " + string(app.StartType.Val)}
		if f := app.PrepStop.Val; !f.IsZero() {
			lines = append(lines, "prep_stop "+f.String()+depsOf(app.PrepStopArgs))
		}
		if f := app.Stop.Val; !f.IsZero() {
			lines = append(lines, "stop "+f.String()+depsOf(app.StopArgs))
		}
		if d := app.Distributed; d != nil {
			lines = append(lines, distributed(d)...)
		}
		g.node(id, application, lines...)
		if app.Distributed != nil && s.Cluster != nil {
			g.edge(id, clusterID, "distributed", dotted)
		}
		if to, ok := supID[app.Supervisor.Val]; ok {
			g.edge(id, to, "", thick)
		}
		for _, dep := range app.DependsOn {
			if to, ok := appID[dep.Val]; ok {
				g.edge(id, to, "depends on", dotted)
			}
		}
	}
	listens := map[*spec.Child][]string{}
	for ch, regs := range s.Listeners() {
		for _, r := range regs {
			listens[ch] = append(listens[ch], r.Name)
		}
	}
	for _, sup := range s.Supervisors {
		id := supID[sup.Name]
		intensity := fmt.Sprintf("max_restarts %d, max_seconds %d", sup.MaxRestarts.Val, sup.MaxSeconds.Val)
		if sup.Dynamic.Val {
			limit := "max_children infinity"
			if m := sup.MaxChildren.Val; m != spec.Infinity {
				limit = "max_children " + strconv.Itoa(m)
			}
			if sup.Cluster {
				key := "key string"
				if k := sup.Key.Val; k != nil {
					key = "key " + k.String()
				}
				moves := fmt.Sprintf("max_moves %d, move_backoff %s", sup.MaxMoves.Val, sup.MoveBackoff.Val)
				g.node(id, dynamicSupervisor, "cluster supervisor "+sup.Name, key, intensity+" per child", moves)
				if s.Cluster != nil {
					g.edge(id, clusterID, "cluster-wide", dotted)
				}
			} else {
				g.node(id, dynamicSupervisor, "dynamic supervisor "+sup.Name, string(sup.Strategy.Val), intensity, limit)
			}
			if t := sup.Template; t != nil {
				tid := id + "_template"
				call := "start " + t.Start.Val.String()
				var params []string
				if sup.Cluster {
					params = append(params, "key")
				}
				for _, x := range t.ExtraArgs {
					params = append(params, x.Name+" "+x.Type.String())
				}
				if len(params) > 0 {
					call += "(" + strings.Join(params, ", ") + ")"
				}
				lines := []string{"template", call}
				if t.ID.Val != "" {
					lines = append(lines, "id "+t.ID.Val)
				}
				if deps := argsOf(t.Args, spec.DepArg); deps != "" {
					lines = append(lines, "dep "+deps)
				}
				if sups := argsOf(t.Args, spec.SupervisorArg); sups != "" {
					lines = append(lines, "cluster supervisor "+sups)
				}
				lines = append(lines, childValues(t.Restart.Val, t.Shutdown.Val))
				if t.Type.Val == spec.SupervisorType {
					lines = append(lines, "type supervisor")
				}
				if b := t.Backoff; b != nil {
					lines = append(lines, backoff(b))
				}
				g.node(tid, template, lines...)
				g.edge(id, tid, "template", dotted)
			}
			continue
		}
		lines := []string{"supervisor " + sup.Name, string(sup.Strategy.Val), intensity}
		if a := sup.AutoShutdown.Val; a != spec.Never {
			lines = append(lines, "auto_shutdown "+string(a))
		}
		g.node(id, supervisor, lines...)
		for i, c := range sup.Children {
			cid := id + "_c" + strconv.Itoa(i+1)
			k := worker
			lines := []string{c.ID.Val}
			if n := c.Supervisor.Val; n != "" {
				k = nestedChild
				lines = append(lines, "supervisor "+n)
			} else {
				lines = append(lines, "start "+c.Start.Val.String())
				if c.Type.Val == spec.SupervisorType {
					k = nestedChild
					lines = append(lines, "type supervisor")
				}
			}
			if refs := argsOf(c.Args, spec.RefArg); refs != "" {
				lines = append(lines, "ref "+refs)
			}
			if deps := argsOf(c.Args, spec.DepArg); deps != "" {
				lines = append(lines, "dep "+deps)
			}
			if sups := argsOf(c.Args, spec.SupervisorArg); sups != "" {
				lines = append(lines, "cluster supervisor "+sups)
			}
			lines = append(lines, childValues(c.Restart.Val, c.Shutdown.Val))
			if c.Significant.Val {
				lines = append(lines, "significant")
			}
			if n := c.Name; n != nil {
				name := "name " + n.Registry.Val + " " + n.Key.Literal()
				if n.Value != nil {
					name += " value " + n.Value.Literal()
				}
				lines = append(lines, name)
			}
			if regs := listens[c]; len(regs) > 0 {
				lines = append(lines, "listens to "+strings.Join(regs, ", "))
			}
			if b := c.Backoff; b != nil {
				lines = append(lines, backoff(b))
			}
			g.node(cid, k, lines...)
			g.edge(id, cid, strconv.Itoa(i+1), solid)
			if to, ok := supID[c.Supervisor.Val]; ok && c.Supervisor.Val != "" {
				g.edge(cid, to, "", solid)
			}
		}
	}
	return g
}

// depsOf says which dependencies and cluster supervisors args pass, after
// a callback.
func depsOf(args []spec.Arg) string {
	var s string
	if deps := argsOf(args, spec.DepArg); deps != "" {
		s += ", dep " + deps
	}
	if sups := argsOf(args, spec.SupervisorArg); sups != "" {
		s += ", cluster supervisor " + sups
	}
	return s
}

// distributed describes a distributed application's entry: its nodes by
// priority as the spec writes them, a group of equals in brackets, its
// failover delay, takeover and handoff.
func distributed(d *spec.Distributed) []string {
	var groups []string
	for _, g := range d.Nodes {
		var nodes []string
		for _, n := range g {
			nodes = append(nodes, n.Val)
		}
		if len(nodes) == 1 {
			groups = append(groups, nodes[0])
		} else {
			groups = append(groups, "["+strings.Join(nodes, ", ")+"]")
		}
	}
	lines := []string{"distributed " + strings.Join(groups, ", ")}
	how := "takeover"
	if !d.Takeover.Val {
		how = "no takeover"
	}
	if f := d.FailoverDelay.Val; f > 0 {
		how = "failover_delay " + f.String() + ", " + how
	}
	lines = append(lines, how)
	if f := d.Handoff.Val; !f.IsZero() {
		lines = append(lines, "handoff "+f.String()+depsOf(d.HandoffArgs))
	}
	return lines
}

// argsOf lists the names that the arguments of kind k pass, for a line.
func argsOf(args []spec.Arg, k spec.ArgKind) string {
	var names []string
	for _, a := range args {
		if a.Kind == k {
			names = append(names, a.Name)
		}
	}
	return strings.Join(names, ", ")
}

func childValues(r spec.Restart, s spec.Shutdown) string {
	return "restart " + string(r) + ", shutdown " + s.String()
}

func backoff(b *spec.Backoff) string {
	s := "backoff " + b.Min.Val.String() + " to " + b.Max.Val.String()
	if j := b.Jitter.Val; j != 0 {
		s += ", jitter " + strconv.FormatFloat(j, 'g', -1, 64)
	}
	return s
}

// mermaid renders g as a Mermaid flowchart, top down.
func (g *graph) mermaid() []byte {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	for _, n := range g.nodes {
		open, close := mermaidShape(n.kind)
		escaped := make([]string, len(n.lines))
		for i, l := range n.lines {
			escaped[i] = mermaidText(l)
		}
		fmt.Fprintf(&b, "    %s%s\"%s\"%s:::%s\n", n.id, open, strings.Join(escaped, "<br/>"), close, className(n.kind))
	}
	for _, e := range g.edges {
		arrow := map[style]string{solid: "-->", thick: "==>", dotted: "-.->"}[e.style]
		if e.label != "" {
			fmt.Fprintf(&b, "    %s %s|%s| %s\n", e.from, arrow, mermaidText(e.label), e.to)
		} else {
			fmt.Fprintf(&b, "    %s %s %s\n", e.from, arrow, e.to)
		}
	}
	// Colors that read in light and dark themes: dark text on light fills.
	b.WriteString("    classDef application fill:#dbeafe,stroke:#1e40af,color:#111\n")
	b.WriteString("    classDef supervisor fill:#fef3c7,stroke:#92400e,color:#111\n")
	b.WriteString("    classDef dynamic fill:#fef3c7,stroke:#92400e,color:#111,stroke-dasharray:5 3\n")
	b.WriteString("    classDef worker fill:#f3f4f6,stroke:#374151,color:#111\n")
	b.WriteString("    classDef nested fill:#fde68a,stroke:#92400e,color:#111\n")
	b.WriteString("    classDef template fill:#ffffff,stroke:#374151,color:#111,stroke-dasharray:5 3\n")
	if g.hasCluster() {
		b.WriteString("    classDef cluster fill:#dcfce7,stroke:#166534,color:#111\n")
	}
	return []byte(b.String())
}

func mermaidShape(k kind) (string, string) {
	switch k {
	case application:
		return "([", "])" // stadium
	case supervisor:
		return "[[", "]]" // subroutine
	case dynamicSupervisor:
		return "{{", "}}" // hexagon
	case template:
		return "[/", "/]" // parallelogram
	case cluster:
		return "[(", ")]" // cylinder: a store, etcd
	}
	return "[", "]" // rectangle
}

func className(k kind) string {
	return [...]string{application: "application", supervisor: "supervisor", dynamicSupervisor: "dynamic",
		worker: "worker", nestedChild: "nested", template: "template", cluster: "cluster"}[k]
}

// mermaidText escapes text for a quoted Mermaid label: the characters that
// could end the label or start markup become entity codes, and anything but
// printable ASCII and the few Unicode symbols Go's durations use is
// written as a \u escape.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString("#quot;")
		case r == '#' || r == '&' || r == '<' || r == '>' || r == '`' || r == '|':
			fmt.Fprintf(&b, "#%d;", r)
		case r >= 0x20 && r < 0x7f || r == 'µ':
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

// dot renders g as a Graphviz digraph, top down.
func (g *graph) dot() []byte {
	var b strings.Builder
	b.WriteString("digraph arbor {\n")
	b.WriteString("\trankdir=TB;\n")
	b.WriteString("\tnode [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\", fillcolor=\"#f3f4f6\"];\n")
	b.WriteString("\tedge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, n := range g.nodes {
		escaped := make([]string, len(n.lines))
		for i, l := range n.lines {
			escaped[i] = dotText(l)
		}
		fmt.Fprintf(&b, "\t%s [label=\"%s\"%s];\n", n.id, strings.Join(escaped, "\\n"), dotStyle(n.kind))
	}
	for _, e := range g.edges {
		var attrs []string
		if e.label != "" {
			attrs = append(attrs, "label=\""+dotText(e.label)+"\"")
		}
		switch e.style {
		case thick:
			attrs = append(attrs, "penwidth=2")
		case dotted:
			attrs = append(attrs, "style=dashed")
		}
		if len(attrs) > 0 {
			fmt.Fprintf(&b, "\t%s -> %s [%s];\n", e.from, e.to, strings.Join(attrs, ", "))
		} else {
			fmt.Fprintf(&b, "\t%s -> %s;\n", e.from, e.to)
		}
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

func dotStyle(k kind) string {
	switch k {
	case application:
		return ", shape=ellipse, style=filled, fillcolor=\"#dbeafe\""
	case supervisor:
		return ", fillcolor=\"#fef3c7\", peripheries=2"
	case dynamicSupervisor:
		return ", shape=hexagon, style=filled, fillcolor=\"#fef3c7\""
	case nestedChild:
		return ", fillcolor=\"#fde68a\""
	case template:
		return ", shape=parallelogram, style=dashed"
	case cluster:
		return ", shape=cylinder, style=filled, fillcolor=\"#dcfce7\""
	}
	return ""
}

// hasCluster reports whether g draws a cluster section.
func (g *graph) hasCluster() bool {
	for _, n := range g.nodes {
		if n.kind == cluster {
			return true
		}
	}
	return false
}

// dotText escapes text for a quoted DOT string: quotes and backslashes are
// escaped, and anything but printable ASCII and µ is written as a \u escape
// whose backslash is escaped in turn.
func dotText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f || r == 'µ':
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(strings.ReplaceAll(q[1:len(q)-1], `\`, `\\`))
		}
	}
	return b.String()
}
