package spec

import (
	"fmt"
	"slices"
	"time"
)

// IsNodeName reports whether s can name a cluster or a node of one: ASCII
// letters, digits, '.', '-' and '_', starting with a letter or a digit, as
// host and pod names are. (The cluster module takes any name without a
// slash; the spec keeps to names that read the same everywhere.)
func IsNodeName(s string) bool {
	if s == "" || !isLetter(s[0]) && !isDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

const nodeNameRule = "ascii letters, digits, '.', '-' and '_', starting with a letter or a digit, as a host or pod name"

// clusterParams are the names that the generated NewDeps and Run give their
// parameters and locals besides the dependencies when the spec has a
// cluster: the node, the configuration the program gives (its endpoints,
// its node's name), and the error of joining the cluster.
var clusterParams = []string{"node", "cfg", "err"}

// checkCluster checks the cluster section.
func (c *checker) checkCluster() {
	cl := c.spec.Cluster
	if cl == nil {
		return
	}
	p := at(cl.Pos, c.spec.Pos)
	switch name := cl.Name.Val; {
	case name == "" && !cl.Name.Pos.IsValid():
		c.addMissing(p, []string{"name"}, "cluster has no name; want name: <the cluster's name>, such as shop")
	case !IsNodeName(name):
		c.add(at(cl.Name.Pos, p), "cluster name %+q is invalid; a cluster's name is %s", truncate(name), nodeNameRule)
	}
	tp := at(cl.TTL.Pos, p)
	switch ttl := cl.TTL.Val; {
	case ttl == 0 && !cl.TTL.Pos.IsValid():
		// A model built in Go: the default.
	case ttl%time.Second != 0:
		c.add(tp, "ttl %s is not a whole number of seconds; etcd's leases count seconds", ttl)
	case ttl < MinClusterTTL:
		c.add(tp, "ttl %s is under etcd's minimum of %s (1.5 election timeouts of etcd's default 1s, rounded up), to which etcd would raise it; allowed: whole seconds from %s", ttl, MinClusterTTL, MinClusterTTL)
	case ttl > MaxClusterTTL:
		c.add(tp, "ttl %s is over etcd's maximum of %d seconds", ttl, MaxClusterTTL/time.Second)
	}
	seen := map[string]Pos{}
	for _, n := range cl.SyncNodesMandatory {
		np := at(n.Pos, p)
		if !IsNodeName(n.Val) {
			c.add(np, "node %+q of sync_nodes_mandatory is not a valid node name; a node's name is %s", truncate(n.Val), nodeNameRule)
			continue
		}
		if prev, dup := seen[n.Val]; dup {
			c.add(np, "node %+q is listed twice in sync_nodes_mandatory (first at %s)", n.Val, prev.short())
		}
		seen[n.Val] = np
	}
	if t := cl.SyncNodesTimeout; t.Val != InfiniteWait && (t.Val != 0 || t.Pos.IsValid()) && t.Val <= 0 {
		c.add(at(t.Pos, p), "sync_nodes_timeout %s is invalid; allowed: a duration > 0, or infinity", t.Val)
	}
	c.idents["NewNode"] = "the cluster"
}

// clusterFields records the fields of the generated Deps that the cluster
// gives: the node, and one per cluster supervisor.
func (c *checker) clusterFields(fields map[string]string) {
	if c.spec.Cluster == nil {
		return
	}
	for _, sup := range c.spec.Supervisors {
		if !sup.Cluster || !IsName(sup.Name) {
			continue
		}
		what := fmt.Sprintf("cluster supervisor %+q", sup.Name)
		field := CamelCase(sup.Name)
		if prev, ok := fields[field]; ok {
			c.add(at(sup.Pos, c.spec.Pos), "%s would generate the field Deps.%s, as %s does; rename one", what, field, prev)
			continue
		}
		fields[field] = what
	}
}

// checkClusterSupervisor checks what is particular to a cluster supervisor;
// checkSupervisor has checked what it shares with a dynamic one.
func (c *checker) checkClusterSupervisor(sup *Supervisor, what string, p Pos) {
	if c.spec.Cluster == nil {
		c.add(at(sup.Dynamic.Pos, p), "%s needs the spec's cluster section: its children run on the nodes of that cluster; add cluster: {name: ...}", what)
	}
	if sup.MaxChildren.Pos.IsValid() {
		c.add(sup.MaxChildren.Pos, "max_children is not for cluster supervisors: the children of %s spread over the nodes, without a limit", what)
	}
	if k := sup.Key; k.Val != nil {
		kp := at(k.Pos, p)
		if err := checkType(k.Val, 0); err != nil {
			c.add(kp, "key of %s has an invalid type: %v", what, err)
		} else if why := keyUnencodable(k.Val); why != "" {
			c.add(kp, "key %s of %s cannot be a cluster key, %s; a key is a string, integer or bool type, or a type whose value implements encoding.TextMarshaler and whose pointer encoding.TextUnmarshaler", k.Val, what, why)
		} else {
			c.checkTypeNames(k.Val, "key of "+what, kp)
		}
	}
	if m := sup.MaxMoves.Val; m < 0 || m > MaxIntensity {
		c.add(at(sup.MaxMoves.Pos, p), "max_moves %d is invalid; allowed: an integer from 0 to %d", m, MaxIntensity)
	}
	if b := sup.MoveBackoff; b.Val <= 0 && (b.Val != 0 || b.Pos.IsValid()) {
		c.add(at(b.Pos, p), "move_backoff %s is invalid; allowed: a duration > 0", b.Val)
	}
	t := sup.Template
	if t == nil {
		c.addMissing(p, []string{"template"}, "%s has no template; want template: {start: F, ...}, how each of its keyed children starts", what)
		return
	}
	tp := at(t.Pos, p)
	if t.ID.Val != "" || t.ID.Pos.IsValid() {
		c.add(at(t.ID.Pos, tp), "id is not for the template of %s: its children are named by their keys", what)
	}
	args := ClusterArgs(sup.Name)
	fields := map[string]ExtraArg{}
	for _, x := range t.ExtraArgs {
		xp := at(x.Pos, tp)
		if !isGoIdent(x.Name) {
			continue // reported by checkTemplate
		}
		switch x.Name {
		case "key":
			c.add(xp, "extra argument name \"key\" is taken by the key, which the generated StartChild takes first; rename it")
			continue
		case args:
			c.add(xp, "extra argument name %+q would hide the type %s, which the generated StartChild makes of the extra arguments; rename it", x.Name, args)
			continue
		}
		field := CamelCase(x.Name)
		if prev, dup := fields[field]; dup && prev.Name != x.Name {
			c.add(xp, "extra arguments %+q and %+q would both be the field %s of %s, which carries them; rename one", prev.Name, x.Name, field, args)
		} else if !dup {
			fields[field] = x
		}
		if x.Type != nil && checkType(x.Type, 0) == nil {
			if why := unencodable(x.Type); why != "" {
				c.add(xp, "extra argument %+q of %s has the type %s, which cannot travel through etcd to the node that runs the child: %s", x.Name, what, x.Type, why)
			}
		}
	}
}

// keyUnencodable says why a value of t cannot be a cluster key, when the
// spec alone can tell; "" when it is one or only the Go code can tell.
func keyUnencodable(t *TypeExpr) string {
	if t.Kind != NamedType {
		return "as a pointer, slice, array or map"
	}
	if t.Path != "" {
		if t.Path == "unsafe" {
			return "as an unsafe pointer"
		}
		return ""
	}
	switch t.Name {
	case "float32", "float64":
		return "as a floating-point number, whose text form does not always give it back"
	case "complex64", "complex128":
		return "as a complex number"
	case "any", "error":
		return "as an interface"
	}
	return ""
}

// unencodable says why values of t cannot travel through etcd as JSON (the
// rule of cluster.CheckArgs), when the spec alone can tell; "" when they can
// or only the Go code can tell.
func unencodable(t *TypeExpr) string {
	switch t.Kind {
	case PointerType, SliceType, ArrayType:
		return unencodable(t.Elem)
	case MapType:
		k := t.Key
		ok := k.Kind == NamedType && (k.Path != "" && k.Path != "unsafe" ||
			slices.Contains([]string{"string", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "byte", "rune"}, k.Name) ||
			k.Path == "" && !isPredeclaredType(k.Name))
		if !ok {
			return fmt.Sprintf("a map key must be a string, an integer or an encoding.TextMarshaler, not %s", k)
		}
		return unencodable(t.Elem)
	}
	switch {
	case t.Path == "unsafe" && t.Name == "Pointer":
		return "unsafe pointers cannot leave the process"
	case t.Path != "":
		return ""
	case t.Name == "complex64" || t.Name == "complex128":
		return "json has no complex numbers"
	case t.Name == "any" || t.Name == "error":
		return "an interface does not say what to decode it into"
	}
	return ""
}

// checkDistributed checks the distributed entry of application app.
func (c *checker) checkDistributed(app *Application, what string, p Pos) {
	ds := app.Distributed
	dp := at(ds.Pos, p)
	if c.spec.Cluster == nil {
		c.add(dp, "distributed %s needs the spec's cluster section: it runs on one node of that cluster; add cluster: {name: ...}", what)
	}
	if len(ds.Nodes) == 0 && !ds.NodesPos.IsValid() {
		c.addMissing(dp, []string{"nodes"}, "distributed of %s has no nodes; want nodes: [a, [b, c]], its nodes by priority, a list for equals", what)
	}
	seen := map[string]Pos{}
	if len(ds.Nodes) == 0 && ds.NodesPos.IsValid() {
		c.add(ds.NodesPos, "nodes of %s is empty; want nodes: [a, [b, c]], its nodes by priority, a list for equals", what)
	}
	for _, group := range ds.Nodes {
		if len(group) == 0 {
			c.add(at(ds.NodesPos, dp), "nodes of %s has an empty group; a group lists nodes of equal priority", what)
		}
		for _, n := range group {
			np := at(n.Pos, dp)
			if !IsNodeName(n.Val) {
				c.add(np, "node %+q of %s is not a valid node name; a node's name is %s", truncate(n.Val), what, nodeNameRule)
				continue
			}
			if prev, dup := seen[n.Val]; dup {
				c.add(np, "node %+q is listed twice in the nodes of %s (first at %s)", n.Val, what, prev.short())
			}
			seen[n.Val] = np
		}
	}
	if d := ds.FailoverDelay.Val; d < 0 {
		c.add(at(ds.FailoverDelay.Pos, dp), "failover_delay %s is negative; allowed: a duration >= 0", d)
	}
	if !ds.Handoff.Pos.IsValid() && ds.Handoff.Val.IsZero() {
		return
	}
	c.checkFunc(ds.Handoff, "handoff", dp)
	fp := at(ds.Handoff.Pos, dp)
	if len(ds.HandoffArgs) > MaxArgs {
		c.add(at(ds.HandoffArgs[MaxArgs].Pos, fp), "handoff of %s takes %d arguments; at most %d are supported", what, len(ds.HandoffArgs), MaxArgs)
	}
	c.checkArgs(ds.HandoffArgs, fp, func(a Arg) {
		c.add(at(a.Pos, fp), "ref %+q is not allowed in handoff: an application has no siblings", a.Name)
	})
}

// clusterUse is a place of the spec that runs a cluster supervisor's local
// part: a child of a static supervisor, or an application.
type clusterUse struct {
	pos  Pos
	what string // "child "x" of supervisor "top"", "application "a""
	in   string // the supervisor the child belongs to; "" for an application
}

// checkClusterUses reports a cluster supervisor that would run more than
// once on a node: its local part runs once on each node, where it makes the
// node a candidate for its children.
func (c *checker) checkClusterUses() {
	if c.spec.Cluster == nil {
		return
	}
	refs := map[string][]clusterUse{} // every supervisor's uses
	for _, sup := range c.spec.Supervisors {
		if c.supervisors[sup.Name] != sup || sup.Dynamic.Val {
			continue
		}
		for _, ch := range sup.Children {
			target := c.supervisors[ch.Supervisor.Val]
			if target == nil || !ch.Start.Val.IsZero() {
				continue
			}
			u := clusterUse{at(ch.Supervisor.Pos, at(ch.Pos, sup.Pos)), fmt.Sprintf("child %+q of supervisor %+q", ch.ID.Val, sup.Name), sup.Name}
			refs[target.Name] = append(refs[target.Name], u)
		}
	}
	for _, app := range c.spec.Applications {
		target := c.supervisors[app.Supervisor.Val]
		if c.apps[app.Name] != app || target == nil {
			continue
		}
		u := clusterUse{at(app.Supervisor.Pos, app.Pos), fmt.Sprintf("application %+q", app.Name), ""}
		refs[target.Name] = append(refs[target.Name], u)
	}
	// runs counts how often a supervisor runs on a node, capped at 2: once
	// for each of its uses, times the runs of the supervisor of a child
	// (a supervisor that nothing in the spec runs may be run by hand: once).
	runs := map[string]int{}
	var count func(name string, depth int) int
	count = func(name string, depth int) int {
		if n, ok := runs[name]; ok {
			return n
		}
		runs[name] = 1 // a cycle, reported elsewhere, counts once
		n := 0
		if depth < 64 {
			for _, u := range refs[name] {
				if u.in == "" {
					n++
				} else {
					n += count(u.in, depth+1)
				}
				if n >= 2 {
					break
				}
			}
		}
		runs[name] = max(n, 1)
		return runs[name]
	}
	for _, sup := range c.spec.Supervisors {
		if !sup.Cluster || c.supervisors[sup.Name] != sup {
			continue
		}
		for i, u := range refs[sup.Name] {
			if i > 0 {
				first := refs[sup.Name][0]
				c.add(u.pos, "%s runs cluster supervisor %+q, which %s runs already (at %s); a cluster supervisor runs once on a node", u.what, sup.Name, first.what, first.pos.short())
				continue
			}
			if u.in != "" && count(u.in, 0) > 1 {
				c.add(u.pos, "%s runs cluster supervisor %+q, but supervisor %+q runs more than once in the tree; a cluster supervisor runs once on a node", u.what, sup.Name, u.in)
			}
		}
	}
}

// clusterSupervisorNames lists the cluster supervisors, for a message.
func (c *checker) clusterSupervisorNames() []string {
	var names []string
	for _, sup := range c.spec.Supervisors {
		if sup.Cluster && IsName(sup.Name) {
			names = append(names, sup.Name)
		}
	}
	return names
}

// describeSupervisor names sup's kind for a message: "dynamic supervisor
// "pool"" or "supervisor "top"".
func describeSupervisor(sup *Supervisor) string {
	if sup.Dynamic.Val {
		return fmt.Sprintf("dynamic supervisor %+q", sup.Name)
	}
	return fmt.Sprintf("supervisor %+q", sup.Name)
}
