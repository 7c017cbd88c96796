package spec

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Validate checks a model against every rule of the language: the same
// rules Parse applies after reading a file, so a parsed Spec always passes.
// It returns nil or an ErrorList sorted by position. Values with the zero
// Pos are reported at the position of what holds them.
func Validate(s *Spec) error {
	return ValidateFor(s, "")
}

// ValidateFor is Validate for code generated into package pkg when the spec
// names no package: the rules that depend on the package (in package main,
// main is the program's entry point) apply to pkg.
func ValidateFor(s *Spec, pkg string) error {
	var e errs
	validateFor(s, pkg, &e)
	if len(e.list) == 0 {
		return nil
	}
	return finish(e.list, e.dropped > 0)
}

// at returns p when it is valid, else the fallback.
func at(p, fallback Pos) Pos {
	if p.IsValid() {
		return p
	}
	return fallback
}

// checker holds the indexes validate builds once, so that each rule is a
// lookup and the whole check stays linear in the size of the spec.
type checker struct {
	*errs
	spec        *Spec
	supervisors map[string]*Supervisor
	registries  map[string]*Registry
	deps        map[string]*Dep
	// usedDeps holds the dependencies an argument passes.
	usedDeps map[string]bool
	apps     map[string]*Application
	idents   map[string]string // generated Go identifier -> what generates it
	// generated holds every package-level name the generated file may
	// declare, with what declares it, so that no function or type of the
	// spec can be one of them.
	generated map[string]generatedName
	// pkg is the package of the generated file, "" when unknown.
	pkg   string
	names map[[2]string]*Child
	// supNames, regNames and depNames list the declared names once, for
	// messages.
	supNames, regNames, depNames []string
	// hintWork is what is left of the work "did you mean" may do, in
	// compared bytes, so that many unknown names among many declared
	// ones cannot make validation quadratic.
	hintWork int
}

// maxHintWork bounds the work of the "did you mean" hints of one spec.
const maxHintWork = 20_000_000

func validate(s *Spec, e *errs) { validateFor(s, "", e) }

func validateFor(s *Spec, pkg string, e *errs) {
	if s.Package.Val != "" {
		pkg = s.Package.Val
	}
	c := &checker{
		pkg:         pkg,
		generated:   generatedNames(s),
		errs:        e,
		spec:        s,
		supervisors: map[string]*Supervisor{},
		registries:  map[string]*Registry{},
		deps:        map[string]*Dep{},
		usedDeps:    map[string]bool{},
		apps:        map[string]*Application{},
		idents:      map[string]string{},
		names:       map[[2]string]*Child{},
		hintWork:    maxHintWork,
	}
	switch {
	case s.Version.Val == Version:
	case !s.Version.Pos.IsValid() && s.Version.Val == 0:
		c.addMissing(s.Pos, []string{"version"}, "missing key \"version\"; add version: %d", Version)
	default:
		c.add(at(s.Version.Pos, s.Pos), "version %d is not supported; allowed: %d", s.Version.Val, Version)
	}
	if p := s.Package.Val; p != "" || s.Package.Pos.IsValid() {
		if !IsPackageName(p) {
			c.add(at(s.Package.Pos, s.Pos), "package %+q is not a valid go package name", truncate(p))
		}
	}
	fields := map[string]string{}
	if s.Cluster != nil {
		fields["Node"] = "the node of the cluster"
	}
	c.checkCluster()
	c.checkDeps(fields)
	c.checkRegistries(fields)
	c.clusterFields(fields)
	c.indexSupervisors()
	for _, sup := range s.Supervisors {
		c.checkSupervisor(sup)
	}
	c.checkSupervisorCycles()
	c.checkListeners()
	c.checkApplications()
	c.checkClusterUses()
	c.checkUnusedDeps()
}

// identsOf records the generated top-level identifiers of one declaration and
// reports the first that another declaration generates too.
func (c *checker) identsOf(what string, p Pos, ids ...string) {
	for _, id := range ids {
		if prev, ok := c.idents[id]; ok {
			c.add(p, "%s would generate the go identifier %s, as %s does; rename one", what, id, prev)
			return
		}
	}
	for _, id := range ids {
		c.idents[id] = what
	}
}

// checkDeps checks the dependencies; fields collects the fields of the
// generated Deps, each with what generates it.
func (c *checker) checkDeps(fields map[string]string) {
	for _, d := range c.spec.Deps {
		what := fmt.Sprintf("dependency %+q", truncate(d.Name))
		p := at(d.Pos, c.spec.Pos)
		refused := true
		switch name := d.Name; {
		case !IsName(name):
			c.add(p, "%s is not a valid name; names are an ascii letter followed by letters, digits and underscores", what)
			continue
		case IsKeyword(name):
			c.add(p, "%s is a go keyword, which cannot name the parameter of NewDeps that takes it", what)
		case IsPredeclared(name):
			c.add(p, "%s would shadow go's predeclared %s in NewDeps, which takes it as a parameter", what, name)
		case slices.Contains(reservedParams, name):
			c.add(p, "%s has the name of a parameter of the generated functions (%s); rename it", what, strings.Join(reservedParams, ", "))
		case c.spec.Cluster != nil && slices.Contains(clusterParams, name):
			c.add(p, "%s has a name that the generated NewDeps and Run use with a cluster (%s); rename it", what, strings.Join(clusterParams, ", "))
		default:
			g, ok := c.generated[name]
			if ok {
				c.add(p, "%s has a name arbor generates for %s, which the parameter of NewDeps would hide; rename it", what, g.by)
			}
			refused = ok
		}
		if _, dup := c.deps[d.Name]; dup {
			c.add(p, "%s is declared twice", what)
			continue
		}
		c.deps[d.Name] = d
		switch t := d.Type; {
		case t.Val == nil && !t.Pos.IsValid():
			c.add(p, "%s has no type; want %s: <go type>, such as out: io.Writer", what, d.Name)
		case t.Val == nil:
			// Reported where it was read.
		case holdsDeps(t.Val):
			c.add(at(t.Pos, p), "%s has the type %s, which would make Deps, the generated type that holds it, hold itself; pass *Deps, or another type", what, t.Val)
		default:
			c.checkGoType(t.Val, what, at(t.Pos, p), false)
		}
		field := CamelCase(d.Name)
		if prev, ok := fields[field]; ok && !refused {
			c.add(p, "%s would generate the field Deps.%s, as %s does; rename one", what, field, prev)
			continue
		}
		fields[field] = what
	}
}

// holdsDeps reports whether a value of type t holds a value of the
// generated Deps: Deps, or an array of them.
func holdsDeps(t *TypeExpr) bool {
	for t != nil && t.Kind == ArrayType {
		t = t.Elem
	}
	return t != nil && t.Kind == NamedType && t.Path == "" && t.Name == "Deps"
}

// checkGoType checks a type the spec writes; what names what has it. A type
// inBody is written in the body of NewDeps, where its parameters, named as
// the dependencies, would hide a type of the same name.
func (c *checker) checkGoType(t *TypeExpr, what string, p Pos, inBody bool) {
	if err := checkType(t, 0); err != nil {
		c.add(p, "%s has an invalid type: %v", what, err)
		return
	}
	c.checkTypeNames(t, what, p)
	if !inBody {
		return
	}
	for _, name := range localTypeNames(t) {
		if d, ok := c.deps[name]; ok && c.spec.Dep(name) == d {
			c.add(p, "%s has the type %s, which dependency %+q would hide in NewDeps, which takes it as a parameter of that name; rename the dependency", what, name, name)
		}
	}
}

// localTypeNames returns the names of the package's own types in t.
func localTypeNames(t *TypeExpr) []string {
	var names []string
	for ; t != nil; t = t.Elem {
		if t.Kind == MapType {
			names = append(names, localTypeNames(t.Key)...)
		}
		if t.Kind == NamedType && t.Path == "" && !isPredeclaredType(t.Name) {
			names = append(names, t.Name)
		}
	}
	return names
}

// checkRegistries checks the registries; fields holds the fields of the
// generated Deps that the dependencies take.
func (c *checker) checkRegistries(fields map[string]string) {
	for _, r := range c.spec.Registries {
		what := fmt.Sprintf("registry %+q", truncate(r.Name))
		p := at(r.Pos, c.spec.Pos)
		if !IsName(r.Name) {
			c.add(p, "%s is not a valid name; names are an ascii letter followed by letters, digits and underscores", what)
			continue
		}
		if _, dup := c.registries[r.Name]; dup {
			c.add(p, "%s is declared twice", what)
			continue
		}
		c.registries[r.Name] = r
		dup := r.IsDuplicate()
		if k := r.Keys.Val; k != UniqueKeys && k != DuplicateKeys && (k != "" || r.Keys.Pos.IsValid()) {
			c.add(at(r.Keys.Pos, p), "keys %+q of %s is invalid; allowed: unique, duplicate", truncate(k), what)
		}
		for _, t := range []struct {
			key string
			v   Value[*TypeExpr]
		}{{"key", r.Key}, {"value", r.Value}, {"pubsub", r.PubSub}} {
			if t.v.Val != nil {
				c.checkGoType(t.v.Val, fmt.Sprintf("the %s of %s", t.key, what), at(t.v.Pos, p), true)
			}
		}
		if r.PubSub.Val != nil || r.PubSub.Pos.IsValid() {
			switch {
			case !dup:
				c.add(at(r.PubSub.Pos, p), "pubsub is only for duplicate registries, whose keys are topics with many subscribers; %s has unique keys (add keys: duplicate)", what)
			case r.Value.Val != nil || r.Value.Pos.IsValid():
				c.add(at(r.PubSub.Pos, p), "%s has both value and pubsub; pubsub: T makes the value a runtime.Subscriber[T]: remove one", what)
			}
		}
		if r.Partitions.Pos.IsValid() || r.Partitions.Val != 0 {
			if n := r.Partitions.Val; n < 1 || n > MaxIntensity {
				c.add(at(r.Partitions.Pos, p), "partitions %d is invalid; allowed: an integer from 1 to %d", n, MaxIntensity)
			}
		}
		switch pb := r.PartitionBy.Val; {
		case pb == "" && !r.PartitionBy.Pos.IsValid():
		case pb != PartitionByProcess && pb != PartitionByKey:
			c.add(at(r.PartitionBy.Pos, p), "partition_by %+q is invalid; allowed: process, key", truncate(pb))
		case !dup:
			c.add(at(r.PartitionBy.Pos, p), "partition_by is only for duplicate registries; %s has unique keys, which it always partitions by key", what)
		}
		for _, m := range r.Meta {
			switch m.Value.Kind {
			case IntArg, FloatArg, StringArg, BoolArg, NullArg, DurationArg:
			default:
				c.add(at(m.Value.Pos, at(m.Pos, p)), "meta %+q of %s is %s; metadata in the spec is a literal: a number, a string, true, false, null or {duration: d}", truncate(m.Key), what, m.Value.Literal())
			}
		}
		field := CamelCase(r.Name)
		if prev, ok := fields[field]; ok {
			c.add(p, "%s would generate the field Deps.%s, as %s does; rename one", what, field, prev)
			continue
		}
		fields[field] = what
	}
	if c.spec.HasDeps() {
		c.idents["Deps"] = "the deps"
		c.idents["NewDeps"] = "the deps"
	}
}

// notClusterKeys reports the keys of a cluster supervisor on supervisor
// sup, which is not one.
func (c *checker) notClusterKeys(sup *Supervisor, what string) {
	for _, k := range []struct {
		key string
		pos Pos
	}{{"key", sup.Key.Pos}, {"max_moves", sup.MaxMoves.Pos}, {"move_backoff", sup.MoveBackoff.Pos}} {
		if k.pos.IsValid() {
			c.add(k.pos, "%s is only for cluster supervisors; %s is not one (dynamic: cluster makes it one)", k.key, what)
		}
	}
}

// checkListeners checks that each listener of a registry names one static
// child of the spec that starts a service of its own.
func (c *checker) checkListeners() {
	var ids map[string][]*Supervisor // child id -> the supervisors that have it
	for _, r := range c.spec.Registries {
		if c.registries[r.Name] != r {
			continue
		}
		seen := map[string]Pos{}
		for _, l := range r.Listeners {
			lp := at(l.Pos, at(r.Pos, c.spec.Pos))
			what := fmt.Sprintf("listener %+q of registry %+q", truncate(l.Val), r.Name)
			ch, sup := c.listenerChild(l.Val, &ids)
			switch {
			case ch == nil && sup == nil:
				c.add(lp, "%s names no child; want the id of a child of a static supervisor, or supervisor/id", what)
				continue
			case ch == nil:
				c.add(lp, "%s names a child of several supervisors (%s); write supervisor/%s", what, supervisorList(ids[l.Val]), l.Val)
				continue
			case ch.Start.Val.IsZero() || c.isGeneratedNew(ch.Start.Val):
				c.add(lp, "%s runs a nested supervisor, which arbor generates and which has no %sListener method; a listener is a child whose start function returns a service with one", what, CamelCase(r.Name))
				continue
			}
			key := sup.Name + "/" + ch.ID.Val
			if prev, dup := seen[key]; dup {
				c.add(lp, "%s is listed twice (first at %s)", what, prev.short())
			}
			seen[key] = lp
		}
	}
}

// ListenerChild returns the child and supervisor that the listener l of a
// registry of s names: a child id, unique in the spec, or "supervisor/id".
// It returns nil, nil when none matches and nil with a supervisor when
// several do.
func (s *Spec) ListenerChild(l string) (*Child, *Supervisor) {
	var ids map[string][]*Supervisor
	return s.supervisorIndex().listenerChild(l, &ids)
}

// Listeners returns, for each child that a registry of s names as a
// listener, the registries it listens to, in the order of the spec.
func (s *Spec) Listeners() map[*Child][]*Registry {
	c := s.supervisorIndex()
	var ids map[string][]*Supervisor
	m := map[*Child][]*Registry{}
	for _, r := range s.Registries {
		for _, l := range r.Listeners {
			if ch, _ := c.listenerChild(l.Val, &ids); ch != nil && !slices.Contains(m[ch], r) {
				m[ch] = append(m[ch], r)
			}
		}
	}
	return m
}

// supervisorIndex returns a checker that knows s's supervisors by name (the
// first of each name), for the lookups of listeners.
func (s *Spec) supervisorIndex() *checker {
	c := &checker{spec: s, supervisors: map[string]*Supervisor{}}
	for _, sup := range s.Supervisors {
		if _, ok := c.supervisors[sup.Name]; !ok {
			c.supervisors[sup.Name] = sup
		}
	}
	return c
}

func (c *checker) listenerChild(l string, ids *map[string][]*Supervisor) (*Child, *Supervisor) {
	if supName, id, ok := strings.Cut(l, "/"); ok {
		sup := c.supervisors[supName]
		if sup == nil || sup.Dynamic.Val {
			return nil, nil
		}
		for _, ch := range sup.Children {
			if ch.ID.Val == id {
				return ch, sup
			}
		}
		return nil, nil
	}
	if *ids == nil {
		*ids = map[string][]*Supervisor{}
		for _, sup := range c.spec.Supervisors {
			if c.supervisors[sup.Name] != sup || sup.Dynamic.Val {
				continue
			}
			seen := map[string]bool{}
			for _, ch := range sup.Children {
				if !seen[ch.ID.Val] {
					seen[ch.ID.Val] = true
					(*ids)[ch.ID.Val] = append((*ids)[ch.ID.Val], sup)
				}
			}
		}
	}
	sups := (*ids)[l]
	switch len(sups) {
	case 0:
		return nil, nil
	case 1:
		for _, ch := range sups[0].Children {
			if ch.ID.Val == l {
				return ch, sups[0]
			}
		}
	}
	return nil, sups[0]
}

func supervisorList(sups []*Supervisor) string {
	names := make([]string, len(sups))
	for i, s := range sups {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// isGeneratedNew reports whether f is the New function that the generated
// file declares for a supervisor of the spec.
func (c *checker) isGeneratedNew(f Func) bool {
	if f.Path != "" || !strings.HasPrefix(f.Name, "New") {
		return false
	}
	for _, sup := range c.spec.Supervisors {
		if f.Name == "New"+CamelCase(sup.Name)+"Supervisor" {
			return true
		}
	}
	return false
}

// checkUnusedDeps reports each dependency that no argument passes.
func (c *checker) checkUnusedDeps() {
	for _, d := range c.spec.Deps {
		if c.deps[d.Name] == d && !c.usedDeps[d.Name] && IsName(d.Name) {
			c.add(at(d.Pos, c.spec.Pos), "dependency %+q is declared, but no argument passes it; pass it with {dep: %s}, or remove it", truncate(d.Name), d.Name)
		}
	}
}

func (c *checker) depNameList() []string {
	if c.depNames == nil {
		c.depNames = make([]string, 0, len(c.spec.Deps))
		for _, d := range c.spec.Deps {
			c.depNames = append(c.depNames, d.Name)
		}
	}
	return c.depNames
}

func (c *checker) indexSupervisors() {
	if len(c.spec.Supervisors) == 0 {
		c.addMissing(c.spec.Pos, []string{"supervisors"}, "the spec has no supervisors; at least one is required")
	}
	for _, sup := range c.spec.Supervisors {
		what := fmt.Sprintf("supervisor %+q", truncate(sup.Name))
		p := at(sup.Pos, c.spec.Pos)
		if !IsName(sup.Name) {
			c.add(p, "%s is not a valid name; names are an ascii letter followed by letters, digits and underscores", what)
			continue
		}
		if _, dup := c.supervisors[sup.Name]; dup {
			c.add(p, "%s is declared twice", what)
			continue
		}
		c.supervisors[sup.Name] = sup
		camel := CamelCase(sup.Name)
		c.identsOf(what, p, camel+"Supervisor", camel+"SupervisorSpec", "New"+camel+"Supervisor")
	}
}

// known lists declared names for a message.
func (c *checker) known(kind string, names []string) string {
	if len(names) == 0 {
		return "no " + kind + " is declared"
	}
	if len(names) > 10 {
		names = append(names[:10:10], "...")
	}
	return "declared: " + strings.Join(names, ", ")
}

func (c *checker) unknown(p Pos, what, name, kind string, names []string) {
	if slices.Contains(names, name) {
		// Declared, and refused there: its error is the one to fix.
		return
	}
	if hint := closest(name, names, &c.hintWork); hint != "" {
		c.add(p, "%s the unknown %s %+q; did you mean %+q?", what, kind, truncate(name), hint)
		return
	}
	c.add(p, "%s the unknown %s %+q; %s", what, kind, truncate(name), c.known(kind, names))
}

func (c *checker) supervisorNames() []string {
	if c.supNames == nil {
		c.supNames = make([]string, 0, len(c.spec.Supervisors))
		for _, sup := range c.spec.Supervisors {
			c.supNames = append(c.supNames, sup.Name)
		}
	}
	return c.supNames
}

func (c *checker) registryNames() []string {
	if c.regNames == nil {
		c.regNames = make([]string, 0, len(c.spec.Registries))
		for _, r := range c.spec.Registries {
			c.regNames = append(c.regNames, r.Name)
		}
	}
	return c.regNames
}

func (c *checker) checkSupervisor(sup *Supervisor) {
	what := fmt.Sprintf("supervisor %+q", truncate(sup.Name))
	p := at(sup.Pos, c.spec.Pos)
	switch st := sup.Strategy.Val; {
	case st != OneForOne && st != OneForAll && st != RestForOne:
		c.add(at(sup.Strategy.Pos, p), "strategy %+q is invalid; allowed: one_for_one, one_for_all, rest_for_one", truncate(string(st)))
	case sup.Dynamic.Val && st != OneForOne:
		c.add(at(sup.Strategy.Pos, p), "strategy %+q is invalid for dynamic %s; allowed: one_for_one", st, what)
	}
	if r := sup.MaxRestarts.Val; r < 0 || r > MaxIntensity {
		c.add(at(sup.MaxRestarts.Pos, p), "max_restarts %d is invalid; allowed: an integer from 0 to %d", r, MaxIntensity)
	}
	if s := sup.MaxSeconds.Val; s <= 0 || s > MaxIntensity {
		c.add(at(sup.MaxSeconds.Pos, p), "max_seconds %d is invalid; allowed: an integer from 1 to %d", s, MaxIntensity)
	}
	switch a := sup.AutoShutdown.Val; {
	case a != Never && a != AnySignificant && a != AllSignificant:
		c.add(at(sup.AutoShutdown.Pos, p), "auto_shutdown %+q is invalid; allowed: never, any_significant, all_significant", truncate(string(a)))
	case sup.Dynamic.Val && a != Never:
		c.add(at(sup.AutoShutdown.Pos, p), "auto_shutdown %+q is invalid for dynamic %s; allowed: never", a, what)
	}
	if !sup.Cluster {
		c.notClusterKeys(sup, what)
	}
	if !sup.Dynamic.Val {
		if sup.MaxChildren.Pos.IsValid() {
			c.add(sup.MaxChildren.Pos, "max_children is only for dynamic supervisors; %s is static (add dynamic: true)", what)
		}
		if sup.Template != nil {
			c.add(at(sup.Template.Pos, p), "template is only for dynamic supervisors; %s is static (add dynamic: true)", what)
		}
		c.checkChildren(sup)
		return
	}
	// OTP allows max_children 0, a supervisor that refuses every child;
	// runtime.DynamicSupervisorSpec spells infinity as 0, so arbor does not.
	if m := sup.MaxChildren.Val; m != Infinity && (m < 1 || m > MaxIntensity) {
		c.add(at(sup.MaxChildren.Pos, p), "max_children %d is invalid; allowed: an integer from 1 to %d, or infinity", m, MaxIntensity)
	}
	if sup.ChildrenPos.IsValid() || len(sup.Children) > 0 {
		c.add(at(sup.ChildrenPos, p), "dynamic %s cannot list children; it starts them at run time from its template", what)
	}
	if sup.Cluster {
		c.checkClusterSupervisor(sup, "cluster "+what, p)
	}
	if sup.Template != nil {
		c.checkTemplate(sup, sup.Template)
	}
}

func (c *checker) checkChildren(sup *Supervisor) {
	index := make(map[string]int, len(sup.Children))
	all := make(map[string]int, len(sup.Children)) // id -> first index
	for i, ch := range sup.Children {
		if _, ok := all[ch.ID.Val]; !ok {
			all[ch.ID.Val] = i
		}
	}
	var siblings []string // computed at the first unknown ref
	for i, ch := range sup.Children {
		id := ch.ID.Val
		what := fmt.Sprintf("child %+q", truncate(id))
		p := at(ch.Pos, at(sup.Pos, c.spec.Pos))
		switch {
		case id == "" && !ch.ID.Pos.IsValid():
			c.addMissing(p, []string{"id"}, "child has no id; every child needs one")
			what = "child"
		case !IsName(id):
			c.add(at(ch.ID.Pos, p), "child id %+q is not a valid name; names are an ascii letter followed by letters, digits and underscores", truncate(id))
		default:
			if j, dup := index[id]; dup {
				c.add(at(ch.ID.Pos, p), "duplicate child id %+q in supervisor %+q (first at %s)", id, sup.Name, at(sup.Children[j].ID.Pos, sup.Children[j].Pos).short())
			} else {
				index[id] = i
			}
		}
		hasStart := !ch.Start.Val.IsZero() || ch.Start.Pos.IsValid()
		hasSup := ch.Supervisor.Val != "" || ch.Supervisor.Pos.IsValid()
		switch {
		case hasStart && hasSup:
			c.add(at(ch.Supervisor.Pos, p), "%s has both start and supervisor; it needs exactly one", what)
		case !hasStart && !hasSup:
			c.addMissing(p, []string{"start", "supervisor"}, "%s has neither start nor supervisor; it needs exactly one", what)
		case hasStart:
			c.checkFunc(ch.Start, "start", p)
			c.checkGeneratedStart(ch.Start, len(ch.Args), p)
		case hasSup:
			if _, ok := c.supervisors[ch.Supervisor.Val]; !ok {
				c.unknown(at(ch.Supervisor.Pos, p), what+" runs", ch.Supervisor.Val, "supervisor", c.supervisorNames())
			}
			if ch.Type.Pos.IsValid() {
				c.add(ch.Type.Pos, "%s runs a nested supervisor, so its type is supervisor; remove type", what)
			} else if ch.Type.Val != SupervisorType {
				c.add(p, "%s runs a nested supervisor, so its type must be supervisor, not %+q", what, ch.Type.Val)
			}
			if len(ch.Args) > 0 {
				c.add(at(ch.Args[0].Pos, p), "%s runs a nested supervisor, which takes no args", what)
			}
		}
		if len(ch.Args) > MaxArgs {
			c.add(at(ch.Args[MaxArgs].Pos, p), "the start function of %s takes %d arguments; at most %d are supported", what, len(ch.Args), MaxArgs)
		}
		c.checkArgs(ch.Args, p, func(a Arg) {
			switch j, ok := all[a.Name]; {
			case !ok && !IsName(a.Name):
				c.add(at(a.Pos, p), "ref %+q is not a valid child id", truncate(a.Name))
			case !ok:
				if siblings == nil {
					siblings = siblingIDs(sup)
				}
				c.unknown(at(a.Pos, p), fmt.Sprintf("ref of %s names", what), a.Name, "child", siblings)
			case j == i:
				c.add(at(a.Pos, p), "ref %+q names %s itself; a ref must name an earlier sibling", a.Name, what)
			case j > i:
				c.add(at(a.Pos, p), "ref %+q names a child that starts after %s; a ref must name an earlier sibling", a.Name, what)
			}
		})
		c.checkChildValues(ch.Restart, ch.Type, ch.Shutdown, what, p)
		if ch.Significant.Val {
			sp := at(ch.Significant.Pos, p)
			if sup.AutoShutdown.Val == Never {
				c.add(sp, "significant %s needs auto_shutdown any_significant or all_significant on supervisor %+q, which has never", what, sup.Name)
			}
			if ch.Restart.Val == Permanent {
				c.add(at(ch.Restart.Pos, sp), "significant %s must not be permanent; allowed restart: transient, temporary", what)
			}
		}
		if ch.Name != nil {
			c.checkName(ch, what, p)
		}
		if ch.Backoff != nil {
			c.checkBackoff(ch.Backoff, p)
		}
	}
}

// siblingIDs lists a supervisor's valid child ids once each, for a message.
func siblingIDs(sup *Supervisor) []string {
	ids := make([]string, 0, len(sup.Children))
	seen := make(map[string]bool, len(sup.Children))
	for _, ch := range sup.Children {
		if id := ch.ID.Val; IsName(id) && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

func (c *checker) checkFunc(f Value[Func], what string, p Pos) {
	if f.Val.IsZero() {
		c.add(at(f.Pos, p), "%s is empty; want a go function name or \"import/path.Name\"", what)
		return
	}
	if err := checkFunc(f.Val); err != nil {
		c.add(at(f.Pos, p), "%s %+q is not a function: %v", what, truncate(f.Val.String()), err)
		return
	}
	if f.Val.Path != "" {
		return
	}
	name, fp := f.Val.Name, at(f.Pos, p)
	switch {
	case slices.Contains(reservedParams, name):
		c.add(fp, "%s %+q has the name of a parameter of the generated functions (%s); rename the function",
			what, name, strings.Join(reservedParams, ", "))
	case name == "init":
		c.add(fp, "%s \"init\" cannot be referred to: go calls init functions itself, and only then; rename the function", what)
	case name == "main" && c.pkg == "main":
		c.add(fp, "%s \"main\" is the program's entry point, func main(), in package main; rename the function", what)
	case IsPredeclared(name):
		c.add(fp, "%s %+q would be a function hiding go's predeclared %s in the whole package, generated code included; rename the function", what, name, name)
	default:
		if g, ok := c.generated[name]; ok && (g.kind != genStart || what != "start") {
			c.add(fp, "%s %+q is a name arbor generates for %s; rename the function", what, name, g.by)
		}
	}
}

// checkGeneratedStart checks a start function that is a supervisor's
// generated New function against the nargs arguments the spec passes it: it
// takes the context only, and the registries when the spec has some, which
// no argument of a spec can pass.
func (c *checker) checkGeneratedStart(f Value[Func], nargs int, p Pos) {
	g, ok := c.generated[f.Val.Name]
	if f.Val.Path != "" || !ok || g.kind != genStart {
		return
	}
	switch {
	case c.spec.HasDeps():
		c.add(at(f.Pos, p), "start %s, which arbor generates for %s, takes the spec's deps, which no argument can pass; write supervisor: instead of start:", f.Val.Name, g.by)
	case nargs > 0:
		c.add(at(f.Pos, p), "start %s, which arbor generates for %s, takes no arguments; the spec passes %d", f.Val.Name, g.by, nargs)
	}
}

// generatedName is a package-level name of the generated file: what it is
// generated for, and what it is.
type generatedName struct {
	by   string
	kind generatedKind
}

type generatedKind uint8

const (
	genFunc     generatedKind = iota // a function that is not a start function
	genStart                         // a supervisor's New function, a start function like any other
	genType                          // a type
	genVariable                      // a variable
)

// generatedNames returns every package-level name the file generated from s
// may declare.
func generatedNames(s *Spec) map[string]generatedName {
	names := map[string]generatedName{}
	add := func(name, by string, kind generatedKind) {
		if _, ok := names[name]; !ok {
			names[name] = generatedName{by, kind}
		}
	}
	if s.HasDeps() {
		add("Deps", "the deps", genType)
		add("NewDeps", "the deps", genFunc)
	}
	if s.Cluster != nil {
		add("NewNode", "the cluster", genFunc)
	}
	for _, sup := range s.Supervisors {
		if !IsName(sup.Name) {
			continue
		}
		by := fmt.Sprintf("supervisor %q", sup.Name)
		camel := CamelCase(sup.Name)
		add(camel+"Supervisor", by, genType)
		add(camel+"SupervisorSpec", by, genFunc)
		add("New"+camel+"Supervisor", by, genStart)
		if sup.Cluster {
			add(ClusterArgs(sup.Name), by, genType)
		}
		if sup.Dynamic.Val {
			continue
		}
		add(ChildTable(sup.Name), by, genVariable)
		for _, ch := range sup.Children {
			if IsName(ch.ID.Val) {
				add(ChildFunc(sup.Name, ch.ID.Val), fmt.Sprintf("child %q of %s", ch.ID.Val, by), genFunc)
			}
		}
	}
	for _, app := range s.Applications {
		if IsName(app.Name) {
			add(CamelCase(app.Name)+"Application", fmt.Sprintf("application %q", app.Name), genFunc)
		}
	}
	if len(s.Applications) > 0 {
		for _, name := range []string{"Applications", "Run", "StartApplications"} {
			add(name, "the applications", genFunc)
		}
		add(AppTable, "the applications", genVariable)
	}
	return names
}

// checkTypeNames reports the first name in t that cannot be a type in the
// generated file's package.
func (c *checker) checkTypeNames(t *TypeExpr, what string, p Pos) {
	for t != nil {
		if t.Kind == MapType {
			c.checkTypeNames(t.Key, what, p)
		}
		if t.Kind != NamedType {
			t = t.Elem
			continue
		}
		if t.Path != "" {
			return
		}
		switch name := t.Name; {
		case name == "comparable":
			c.add(p, "%s has the type comparable, a constraint that only type parameters can have; use any or a concrete type", what)
		case name == "init":
			c.add(p, "%s has the type init, a name go keeps for init functions", what)
		case name == "main" && c.pkg == "main":
			c.add(p, "%s has the type main, which in package main is the program's entry point, func main()", what)
		case IsPredeclared(name) && !isPredeclaredType(name):
			c.add(p, "%s has the type %s, which is not a go type", what, name)
		default:
			if g, ok := c.generated[name]; ok && g.kind != genType {
				c.add(p, "%s has the type %s, a name arbor generates for %s, not a type", what, name, g.by)
			}
		}
		return
	}
}

// checkArgs checks the arguments of a start function; ref checks a RefArg.
func (c *checker) checkArgs(args []Arg, p Pos, ref func(Arg)) {
	for _, a := range args {
		ap := at(a.Pos, p)
		switch a.Kind {
		case IntArg, StringArg, BoolArg, NullArg, DurationArg:
		case FloatArg:
			if math.IsInf(a.Float, 0) || math.IsNaN(a.Float) {
				c.add(ap, "argument %s is not a finite number; go has no literal for it", a.Literal())
			}
		case RefArg:
			ref(a)
		case RegistryArg:
			if _, ok := c.registries[a.Name]; !ok {
				c.unknown(ap, "argument names", a.Name, "registry", c.registryNames())
			}
		case DepArg:
			c.usedDeps[a.Name] = true
			if _, ok := c.deps[a.Name]; !ok {
				c.unknown(ap, "argument names", a.Name, "dependency", c.depNameList())
			}
		case SupervisorArg:
			switch sup := c.supervisors[a.Name]; {
			case sup == nil:
				c.unknown(ap, "argument names", a.Name, "cluster supervisor", c.clusterSupervisorNames())
			case !sup.Cluster:
				c.add(ap, "argument %s names %s, which is not a cluster supervisor; {supervisor: name} passes a cluster supervisor (dynamic: cluster), which exists before it runs", a.Literal(), describeSupervisor(sup))
			}
		default:
			c.add(ap, "argument has the unknown kind %d", a.Kind)
		}
	}
}

func (c *checker) checkChildValues(restart Value[Restart], typ Value[ChildType], shutdown Value[Shutdown], what string, p Pos) {
	switch restart.Val {
	case Permanent, Transient, Temporary:
	default:
		c.add(at(restart.Pos, p), "restart %+q is invalid; allowed: permanent, transient, temporary", truncate(string(restart.Val)))
	}
	switch typ.Val {
	case Worker, SupervisorType:
	default:
		c.add(at(typ.Pos, p), "type %+q is invalid; allowed: worker, supervisor", truncate(string(typ.Val)))
	}
	switch sd := shutdown.Val; sd.Kind {
	case BrutalKill, ShutdownInfinity:
	case ShutdownTimeout:
		if sd.Timeout < 0 {
			c.add(at(shutdown.Pos, p), "shutdown %s is negative; allowed: brutal_kill, infinity, a duration >= 0", sd.Timeout)
		}
	default:
		c.add(at(shutdown.Pos, p), "shutdown has the unknown kind %d", sd.Kind)
	}
}

func (c *checker) checkName(ch *Child, what string, p Pos) {
	n := ch.Name
	np := at(n.Pos, p)
	regName := n.Registry.Val
	r := c.registries[regName]
	switch {
	case regName == "" && !n.Registry.Pos.IsValid():
		c.addMissing(np, []string{"registry"}, "name of %s has no registry; want {registry: r, key: k}", what)
	case r == nil:
		c.unknown(at(n.Registry.Pos, np), "name of "+what+" uses", regName, "registry", c.registryNames())
	case r.IsDuplicate():
		c.add(at(n.Registry.Pos, np), "name of %s uses registry %+q, which has duplicate keys; a name needs a unique registry, where a key names one process", what, regName)
		r = nil
	}
	if v := n.Value; v != nil {
		vp := at(v.Pos, np)
		switch {
		case v.Kind == RefArg || v.Kind == RegistryArg || v.Kind == SupervisorArg:
			c.add(vp, "name value %s of %s is not a value; want a literal, {duration: d} or {dep: name}", v.Literal(), what)
		case r != nil && r.Value.Val == nil && r.PubSub.Val == nil && !r.Value.Pos.IsValid():
			c.add(vp, "name of %s gives the value %s, but registry %+q declares no value type; add value: <go type> to it", what, v.Literal(), regName)
		default:
			c.checkArgs([]Arg{*v}, vp, nil)
		}
	}
	k := n.Key
	if k == nil {
		c.addMissing(np, []string{"key"}, "name of %s has no key; want {registry: r, key: k}", what)
		return
	}
	kp := at(k.Pos, np)
	switch {
	case k.Kind == StringArg && k.String == "":
		c.add(kp, "name key of %s is empty", what)
		return
	case k.Kind != IntArg && k.Kind != FloatArg && k.Kind != StringArg && k.Kind != BoolArg:
		c.add(kp, "name key %s of %s is not a literal; want a string, a number, true or false", k.Literal(), what)
		return
	case r != nil && r.Key.Val == nil && k.Kind != StringArg:
		c.add(kp, "name key %s of %s is not a string, but registry %+q has string keys; quote it, or declare key: <go type> on the registry", k.Literal(), what, regName)
		return
	}
	if r == nil {
		return
	}
	key := [2]string{regName, k.Literal()}
	if prev, ok := c.names[key]; ok {
		c.add(kp, "key %s in registry %+q already names child %+q (at %s); a unique registry holds each key once", truncateLiteral(k), regName, prev.ID.Val, at(prev.Name.Key.Pos, prev.Pos).short())
		return
	}
	c.names[key] = ch
}

// truncateLiteral returns a's literal, shortened for a message.
func truncateLiteral(a *Arg) string {
	if a.Kind == StringArg {
		return fmt.Sprintf("%+q", truncate(a.String))
	}
	return truncate(a.Literal())
}

func (c *checker) checkBackoff(b *Backoff, p Pos) {
	bp := at(b.Pos, p)
	switch {
	case !b.Min.Pos.IsValid() && b.Min.Val == 0:
		c.addMissing(bp, []string{"min"}, "backoff has no min; want {min: d, max: d, jitter: f}")
	case b.Min.Val <= 0:
		c.add(at(b.Min.Pos, bp), "backoff min %s is invalid; it must be > 0", b.Min.Val)
	}
	switch {
	case !b.Max.Pos.IsValid() && b.Max.Val == 0:
		c.addMissing(bp, []string{"max"}, "backoff has no max; want {min: d, max: d, jitter: f}")
	case b.Max.Val < b.Min.Val:
		c.add(at(b.Max.Pos, bp), "backoff max %s is less than min %s", b.Max.Val, b.Min.Val)
	}
	if j := b.Jitter.Val; !(j >= 0 && j <= 1) {
		c.add(at(b.Jitter.Pos, bp), "backoff jitter %g is invalid; allowed: a number from 0 to 1", j)
	}
}

// reservedParams are the names generated code gives its own parameters.
var reservedParams = []string{"ctx", "s", "deps"}

func (c *checker) checkTemplate(sup *Supervisor, t *Template) {
	p := at(t.Pos, at(sup.Pos, c.spec.Pos))
	what := fmt.Sprintf("the template of supervisor %+q", truncate(sup.Name))
	key := 0 // the key of a cluster supervisor's child, its first extra argument
	if sup.Cluster {
		key = 1
		what = fmt.Sprintf("the template of cluster supervisor %+q", truncate(sup.Name))
	}
	if t.Start.Val.IsZero() && !t.Start.Pos.IsValid() {
		c.addMissing(p, []string{"start"}, "template has no start; want start: NewWorker")
	} else {
		c.checkFunc(t.Start, "start", p)
		c.checkGeneratedStart(t.Start, len(t.Args)+key+len(t.ExtraArgs), p)
	}
	if total := len(t.Args) + key + len(t.ExtraArgs); total > MaxArgs {
		var ninth Pos
		switch {
		case len(t.Args) > MaxArgs:
			ninth = t.Args[MaxArgs].Pos
		case len(t.Args)+key > MaxArgs:
			ninth = sup.Key.Pos
		default:
			ninth = t.ExtraArgs[MaxArgs-len(t.Args)-key].Pos
		}
		with := "with its extra arguments"
		if key > 0 {
			with = "with the key and its extra arguments"
		}
		c.add(at(ninth, p), "the start function of %s takes %d arguments %s; at most %d are supported", what, total, with, MaxArgs)
	}
	c.checkArgs(t.Args, p, func(a Arg) {
		c.add(at(a.Pos, p), "ref %+q is not allowed in a template: a child started at run time has no siblings", a.Name)
	})
	if (t.ID.Val != "" || t.ID.Pos.IsValid()) && !sup.Cluster {
		c.checkIDPattern(t, what, at(t.ID.Pos, p))
	}
	names := map[string]Pos{}
	for _, x := range t.ExtraArgs {
		xp := at(x.Pos, p)
		switch {
		case !isGoIdent(x.Name) || x.Name == "_":
			c.add(xp, "extra argument name %+q is not a go identifier", truncate(x.Name))
		case IsKeyword(x.Name):
			c.add(xp, "extra argument name %+q is a go keyword", x.Name)
		case IsPredeclared(x.Name):
			c.add(xp, "extra argument name %+q would shadow go's predeclared %s", x.Name, x.Name)
		case slices.Contains(reservedParams, x.Name):
			c.add(xp, "extra argument name %+q is taken by the generated StartChild; reserved: %s", x.Name, strings.Join(reservedParams, ", "))
		case t.Start.Val.Path == "" && x.Name == t.Start.Val.Name:
			c.add(xp, "extra argument name %+q would hide the start function %s", x.Name, x.Name)
		default:
			if prev, dup := names[x.Name]; dup {
				c.add(xp, "duplicate extra argument name %+q (first at %s)", x.Name, prev.short())
			}
			names[x.Name] = xp
		}
		if err := checkType(x.Type, 0); err != nil {
			c.add(xp, "extra argument %+q has an invalid type: %v", truncate(x.Name), err)
		} else {
			c.checkTypeNames(x.Type, fmt.Sprintf("extra argument %+q", truncate(x.Name)), xp)
		}
	}
	c.checkChildValues(t.Restart, t.Type, t.Shutdown, what, p)
	if t.Significant.Val {
		c.add(at(t.Significant.Pos, p), "significant must be false in a template: dynamic supervisors have no auto_shutdown")
	}
	if t.Backoff != nil {
		c.checkBackoff(t.Backoff, p)
	}
}

// checkIDPattern checks the id pattern of template t.
func (c *checker) checkIDPattern(t *Template, what string, p Pos) {
	if t.ID.Val == "" {
		c.add(p, "id of %s is empty; want a pattern such as $name, from the extra arguments", what)
		return
	}
	parts, err := ParseIDPattern(t.ID.Val)
	if err != nil {
		c.add(p, "id %+q of %s is invalid: %v", truncate(t.ID.Val), what, err)
		return
	}
	var names []string
	for _, x := range t.ExtraArgs {
		names = append(names, x.Name)
	}
	for _, part := range parts {
		if part.Arg != "" && !slices.Contains(names, part.Arg) {
			if len(names) == 0 {
				c.add(p, "id %+q of %s names the extra argument %+q, but the template has no extra_args", truncate(t.ID.Val), what, part.Arg)
				return
			}
			c.unknown(p, fmt.Sprintf("id %+q of %s names", truncate(t.ID.Val), what), part.Arg, "extra argument", names)
			return
		}
	}
}

// checkSupervisorCycles reports each supervisor that contains itself through
// nested supervisor children, with the cycle.
func (c *checker) checkSupervisorCycles() {
	var roots []string
	for _, sup := range c.spec.Supervisors {
		if c.supervisors[sup.Name] == sup {
			roots = append(roots, sup.Name)
		}
	}
	walkCycles(roots, func(name string) []*Child {
		var nested []*Child
		for _, ch := range c.supervisors[name].Children {
			if _, ok := c.supervisors[ch.Supervisor.Val]; ok && ch.Start.Val.IsZero() {
				nested = append(nested, ch)
			}
		}
		return nested
	}, func(ch *Child) string { return ch.Supervisor.Val }, func(from string, ch *Child, path string) {
		c.add(at(ch.Supervisor.Pos, at(ch.Pos, c.supervisors[from].Pos)), "supervisor %+q contains itself: %s", ch.Supervisor.Val, path)
	})
}

func (c *checker) checkApplications() {
	appNames := make([]string, 0, len(c.spec.Applications))
	for _, app := range c.spec.Applications {
		appNames = append(appNames, app.Name)
	}
	for _, app := range c.spec.Applications {
		what := fmt.Sprintf("application %+q", truncate(app.Name))
		p := at(app.Pos, c.spec.Pos)
		if !IsName(app.Name) {
			c.add(p, "%s is not a valid name; names are an ascii letter followed by letters, digits and underscores", what)
			continue
		}
		if _, dup := c.apps[app.Name]; dup {
			c.add(p, "%s is declared twice", what)
			continue
		}
		c.apps[app.Name] = app
		c.identsOf(what, p, CamelCase(app.Name)+"Application")
		if app.Distributed != nil {
			c.checkDistributed(app, what, p)
		}
	}
	if len(c.spec.Applications) > 0 {
		c.identsOf("the applications", c.spec.Pos, "Applications", "Run", "StartApplications")
	}
	for _, app := range c.spec.Applications {
		if c.apps[app.Name] != app {
			continue
		}
		what := fmt.Sprintf("application %+q", truncate(app.Name))
		p := at(app.Pos, c.spec.Pos)
		switch {
		case app.Supervisor.Val == "" && !app.Supervisor.Pos.IsValid():
			c.addMissing(p, []string{"supervisor"}, "%s has no supervisor; want supervisor: <its top supervisor>", what)
		default:
			if _, ok := c.supervisors[app.Supervisor.Val]; !ok {
				c.unknown(at(app.Supervisor.Pos, p), what+" has", app.Supervisor.Val, "supervisor", c.supervisorNames())
			}
		}
		switch app.StartType.Val {
		case Permanent, Transient, Temporary:
		default:
			c.add(at(app.StartType.Pos, p), "start_type %+q is invalid; allowed: permanent, transient, temporary", truncate(string(app.StartType.Val)))
		}
		seen := map[string]Pos{}
		for _, dep := range app.DependsOn {
			dp := at(dep.Pos, p)
			if _, ok := c.apps[dep.Val]; !ok {
				c.unknown(dp, what+" depends on", dep.Val, "application", appNames)
				continue
			}
			if prev, dup := seen[dep.Val]; dup {
				c.add(dp, "%s depends on %+q twice (first at %s)", what, dep.Val, prev.short())
			}
			seen[dep.Val] = dp
		}
		for _, cb := range []struct {
			key  string
			f    Value[Func]
			args []Arg
		}{{"prep_stop", app.PrepStop, app.PrepStopArgs}, {"stop", app.Stop, app.StopArgs}} {
			if !cb.f.Pos.IsValid() && cb.f.Val.IsZero() {
				continue
			}
			c.checkFunc(cb.f, cb.key, p)
			fp := at(cb.f.Pos, p)
			if len(cb.args) > MaxArgs {
				c.add(at(cb.args[MaxArgs].Pos, fp), "%s of %s takes %d arguments; at most %d are supported", cb.key, what, len(cb.args), MaxArgs)
			}
			c.checkArgs(cb.args, fp, func(a Arg) {
				c.add(at(a.Pos, fp), "ref %+q is not allowed in %s: an application has no siblings", a.Name, cb.key)
			})
		}
	}
	c.checkApplicationCycles()
}

// checkApplicationCycles reports each dependency cycle among applications,
// with its path.
func (c *checker) checkApplicationCycles() {
	var roots []string
	for _, app := range c.spec.Applications {
		if c.apps[app.Name] == app {
			roots = append(roots, app.Name)
		}
	}
	walkCycles(roots, func(name string) []Value[string] {
		var deps []Value[string]
		seen := map[string]bool{}
		for _, dep := range c.apps[name].DependsOn {
			if _, ok := c.apps[dep.Val]; ok && !seen[dep.Val] {
				seen[dep.Val] = true
				deps = append(deps, dep)
			}
		}
		return deps
	}, func(dep Value[string]) string { return dep.Val }, func(from string, dep Value[string], path string) {
		c.add(at(dep.Pos, c.apps[from].Pos), "applications depend on each other in a cycle: %s", path)
	})
}

// walkCycles walks a graph depth first from each root in order, following
// the edges of each node (target names the node an edge leads to), and calls
// found for every edge that closes a cycle, with the node it leaves and the
// cycle's path. Each node is walked once.
func walkCycles[E any](roots []string, edges func(node string) []E, target func(E) string, found func(from string, e E, path string)) {
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[string]int{}
	index := map[string]int{} // position on the stack
	var stack []string
	var visit func(node string)
	visit = func(node string) {
		state[node] = onStack
		index[node] = len(stack)
		stack = append(stack, node)
		for _, e := range edges(node) {
			switch next := target(e); state[next] {
			case unvisited:
				visit(next)
			case onStack:
				found(node, e, cyclePath(stack, index[next]))
			}
		}
		stack = stack[:len(stack)-1]
		state[node] = done
	}
	for _, root := range roots {
		if state[root] == unvisited {
			visit(root)
		}
	}
}

// cyclePath renders the cycle stack[i:] and back to stack[i] as
// "a -> b -> a", eliding the middle of a long one so that a message stays
// short however deep the cycle.
func cyclePath(stack []string, i int) string {
	cycle := stack[i:]
	const ends = 4
	var parts []string
	if len(cycle) <= 2*ends+1 {
		parts = append(slices.Clone(cycle), cycle[0])
	} else {
		parts = append(parts, cycle[:ends]...)
		parts = append(parts, fmt.Sprintf("... (%d more)", len(cycle)-2*ends))
		parts = append(parts, cycle[len(cycle)-ends:]...)
		parts = append(parts, cycle[0])
	}
	return strings.Join(parts, " -> ")
}
