package gen

import (
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/arborgo/arbor/spec"
)

// ClusterPath is the import path of the cluster module, which the code of a
// spec with a cluster section calls; no other spec's code imports it.
const ClusterPath = "github.com/arborgo/arbor/cluster"

// Names of the parameters and locals of the functions generated for a
// cluster.
const (
	nodeName = "node" // NewDeps's and Run's node
	cfgName  = "cfg"  // NewNode's and Run's configuration
)

// cl is a qualified identifier of the cluster module.
func (g *generator) cl(name string) *jen.Statement { return jen.Qual(ClusterPath, name) }

// clusterSupervisors returns the cluster supervisors of the spec, in order.
func (g *generator) clusterSupervisors() []*spec.Supervisor {
	var sups []*spec.Supervisor
	for _, sup := range g.spec.Supervisors {
		if sup.Cluster {
			sups = append(sups, sup)
		}
	}
	return sups
}

// clusterDeps generates NewDeps for a spec with a cluster: it takes the
// node first, and makes the cluster supervisors on it, which may fail.
func (g *generator) clusterDeps(params, values []jen.Code) {
	g.f.Comment("NewDeps returns what the tree needs on node: the dependencies given, new")
	g.f.Comment("registries and the cluster supervisors, which it makes on node. Make one")
	g.f.Comment("per tree, after NewNode, and keep it to reach them.")
	body := []jen.Code{jen.Id(depsName).Op(":=").Op("&").Id("Deps").Values(values...)}
	for _, sup := range g.clusterSupervisors() {
		// An error in the scope of the if alone, so that no dependency's
		// parameter can be hidden by it.
		body = append(body, jen.If(
			jen.List(jen.Id(recvName), jen.Id(errName)).Op(":=").Id("New"+spec.CamelCase(sup.Name)+"Supervisor").Call(jen.Id(depsName)),
			jen.Id(errName).Op("==").Nil(),
		).Block(
			jen.Id(depsName).Dot(spec.CamelCase(sup.Name)).Op("=").Id(recvName),
		).Else().Block(
			jen.Return(jen.Nil(), jen.Id(errName)),
		))
	}
	body = append(body, jen.Return(jen.Id(depsName), jen.Nil()))
	g.f.Func().Id("NewDeps").Params(params...).Params(jen.Op("*").Id("Deps"), jen.Error()).Block(body...)
	g.f.Line()
}

// newNode generates NewNode, which joins the spec's cluster with what the
// program gives: where etcd is and which node this is.
func (g *generator) newNode() {
	cl := g.spec.Cluster
	cfg := jen.Id(cfgName)
	var body []jen.Code
	set := func(field string, zero, value jen.Code) {
		body = append(body, jen.If(cfg.Clone().Dot(field).Op("==").Add(zero)).Block(
			cfg.Clone().Dot(field).Op("=").Add(value),
		))
	}
	ttl := cl.TTL.Val
	if ttl == 0 {
		ttl = spec.DefaultClusterTTL // a model built in Go
	}
	set("Cluster", jen.Lit(""), quote(cl.Name.Val))
	set("TTL", jen.Lit(0), g.duration(ttl, false))
	var waits string
	if len(cl.SyncNodesMandatory) > 0 {
		var nodes []jen.Code
		var names []string
		for _, n := range cl.SyncNodesMandatory {
			nodes = append(nodes, quote(n.Val))
			names = append(names, n.Val)
		}
		set("WaitFor", jen.Nil(), jen.Index().String().Values(nodes...))
		waits = strings.Join(names, ", ")
	}
	timeout := "as long as ctx allows"
	if t := cl.SyncNodesTimeout.Val; t > 0 {
		set("WaitTimeout", jen.Lit(0), g.duration(t, false))
		timeout = "up to " + t.String()
	}
	body = append(body, jen.Return(g.cl("NewNode").Call(jen.Id(ctxName), cfg)))
	g.f.Commentf("NewNode joins cluster %s of %s as the node cfg.Node,", strconv.Quote(cl.Name.Val), g.pos(cl.Pos))
	g.f.Comment("through cfg.Endpoints or cfg.Client: the program says where etcd is and")
	g.f.Comment("which node this is. The spec gives what cfg leaves zero: the cluster's")
	if waits != "" {
		g.f.Commentf("name, the TTL of the node's lease (%s) and the nodes to wait for, OTP's", ttl)
		g.f.Commentf("sync_nodes_mandatory (%s, %s).", waits, timeout)
	} else {
		g.f.Commentf("name and the TTL of the node's lease (%s).", ttl)
	}
	g.f.Comment("It returns once the node holds a lease. Close the node after the")
	g.f.Comment("applications that use it have stopped, so that other nodes take over its")
	g.f.Comment("work at once.")
	g.f.Func().Id("NewNode").Params(jen.Id(ctxName).Add(g.ctxType()), jen.Id(cfgName).Add(g.cl("Config"))).
		Params(jen.Op("*").Add(g.cl("Node")), jen.Error()).Block(body...)
	g.f.Line()
}

// clusterSupervisor generates a cluster supervisor: the type of its extra
// arguments, its typed handle, its spec, New, and a typed StartChild.
func (g *generator) clusterSupervisor(sup *spec.Supervisor) {
	camel := spec.CamelCase(sup.Name)
	typ, specFn, newFn, argsType := camel+"Supervisor", camel+"SupervisorSpec", "New"+camel+"Supervisor", spec.ClusterArgs(sup.Name)
	t := sup.Template
	key := jen.String()
	keyType := "string"
	if sup.Key.Val != nil {
		key = g.typeExpr(sup.Key.Val)
		keyType = sup.Key.Val.String()
	}
	generic := func() *jen.Statement { return jen.Index(jen.List(key.Clone(), jen.Id(argsType))) }

	var fields []jen.Code
	for _, x := range t.ExtraArgs {
		fields = append(fields, jen.Id(spec.CamelCase(x.Name)).Add(g.typeExpr(x.Type)).Tag(map[string]string{"json": x.Name}))
	}
	g.f.Commentf("%s are the extra arguments of a child of cluster supervisor %q:", argsType, sup.Name)
	g.f.Comment("StartChild sends them through etcd, as JSON, to the node that runs the")
	g.f.Comment("child, whose start function gets them there.")
	g.f.Type().Id(argsType).Struct(fields...)
	g.f.Line()

	g.f.Commentf("%s is cluster supervisor %q of %s: a dynamic", typ, sup.Name, g.pos(sup.Pos))
	g.f.Commentf("supervisor and registry of children named by a key (a %s), each running on", keyType)
	g.f.Comment("exactly one live node of the cluster. Lookup, TerminateChild, WhichChildren")
	g.f.Comment("and Nodes are cluster.Supervisor's; its Start, the start function of this")
	g.f.Comment("node's part, runs as a child of the tree.")
	g.f.Type().Id(typ).Struct(jen.Op("*").Add(g.cl("Supervisor")).Add(generic()))
	g.f.Line()

	// The start function's parameters: named so as not to hide it.
	keyVar, argsVar := "key", "args"
	for t.Start.Val.Path == "" && (keyVar == t.Start.Val.Name || argsVar == t.Start.Val.Name) {
		keyVar, argsVar = keyVar+"1", argsVar+"1"
	}
	extra := []jen.Code{jen.Id(keyVar)}
	for _, x := range t.ExtraArgs {
		extra = append(extra, jen.Id(argsVar).Dot(spec.CamelCase(x.Name)))
	}
	start := jen.Func().Params(jen.Id(ctxName).Add(g.ctxType()), jen.Id(keyVar).Add(key.Clone()), jen.Id(argsVar).Id(argsType)).
		Params(g.rt("Service"), jen.Error()).Block(jen.Return(g.call(t.Start.Val, "", t.Args, extra, false)))
	specFields := []jen.Code{
		jen.Line().Id("Name").Op(":").Lit(sup.Name),
		jen.Line().Id("Start").Op(":").Add(start),
	}
	for _, f := range g.childFields(t.Restart.Val, t.Shutdown.Val, t.Type.Val, t.Backoff) {
		specFields = append(specFields, jen.Line().Add(f))
	}
	moves := sup.MaxMoves.Val
	movesNote := ""
	if moves == 0 {
		moves, movesNote = -1, " (max_moves 0: the first move marks a child failed)"
	}
	specFields = append(specFields,
		jen.Line().Id("MaxRestarts").Op(":").Lit(sup.MaxRestarts.Val),
		jen.Line().Id("MaxSeconds").Op(":").Lit(sup.MaxSeconds.Val),
		jen.Line().Id("MaxMoves").Op(":").Lit(moves),
		jen.Line().Id("MoveBackoff").Op(":").Add(g.duration(sup.MoveBackoff.Val, false)),
		jen.Line())
	g.f.Commentf("%s returns the spec of cluster supervisor %q: each child", specFn, sup.Name)
	g.f.Commentf("restarts at most %d times in %ds on its node, then moves to another, at", sup.MaxRestarts.Val, sup.MaxSeconds.Val)
	g.f.Commentf("most %d times%s.", sup.MaxMoves.Val, movesNote)
	g.f.Func().Id(specFn).Params(g.depsParam()...).Add(g.cl("SupervisorSpec")).Add(generic()).Block(
		jen.Return(g.cl("SupervisorSpec").Add(generic()).Values(specFields...)),
	)
	g.f.Line()

	g.f.Commentf("%s returns cluster supervisor %q on deps.Node: NewDeps", newFn, sup.Name)
	g.f.Commentf("makes it, into deps.%s.", camel)
	g.f.Func().Id(newFn).Params(g.depsParam()...).Params(jen.Op("*").Id(typ), jen.Error()).Block(
		jen.List(jen.Id(recvName), jen.Id(errName)).Op(":=").Add(g.cl("NewSupervisor").Call(jen.Id(depsName).Dot("Node"), jen.Id(specFn).Call(g.depsArg()...))),
		jen.If(jen.Id(errName).Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id(errName))),
		jen.Return(jen.Op("&").Id(typ).Values(jen.Id(recvName)), jen.Nil()),
	)
	g.f.Line()

	params := []jen.Code{jen.Id(ctxName).Add(g.ctxType()), jen.Id("key").Add(key.Clone())}
	var values []jen.Code
	for _, x := range t.ExtraArgs {
		params = append(params, jen.Id(x.Name).Add(g.typeExpr(x.Type)))
		values = append(values, jen.Id(spec.CamelCase(x.Name)).Op(":").Id(x.Name))
	}
	g.f.Commentf("StartChild starts the child of key on one live node of the cluster, from")
	g.f.Commentf("the template at %s, with the given extra arguments, which", g.pos(t.Pos))
	g.f.Comment("it is given again on every restart, wherever it runs; it returns the node")
	g.f.Comment("that owns it and its fencing token. A key that has a child already gets a")
	g.f.Comment("*cluster.AlreadyStartedError that names its owner.")
	g.f.Func().Params(jen.Id(recvName).Op("*").Id(typ)).Id("StartChild").Params(params...).
		Params(g.cl("Owner"), jen.Error()).Block(
		jen.Return(jen.Id(recvName).Dot("Supervisor").Dot("StartChild").Call(
			jen.Id(ctxName), jen.Id("key"), jen.Id(argsType).Values(values...))),
	)
	g.f.Line()
}

// distributed wraps the spec of distributed application app, appSpec, for
// its node.
func (g *generator) distributed(app *spec.Application, appSpec *jen.Statement) *jen.Statement {
	ds := app.Distributed
	var groups []jen.Code
	for _, group := range ds.Nodes {
		var nodes []jen.Code
		for _, n := range group {
			nodes = append(nodes, quote(n.Val))
		}
		groups = append(groups, jen.Values(nodes...))
	}
	fields := []jen.Code{
		jen.Line().Id("App").Op(":").Add(appSpec),
		jen.Line().Id("Nodes").Op(":").Index().Index().String().Values(groups...),
	}
	if d := ds.FailoverDelay.Val; d > 0 {
		fields = append(fields, jen.Line().Id("FailoverDelay").Op(":").Add(g.duration(d, false)))
	}
	fields = append(fields, jen.Line().Id("Takeover").Op(":").Lit(ds.Takeover.Val))
	if f := ds.Handoff.Val; !f.IsZero() {
		handoff := g.funcRef(f)
		if len(ds.HandoffArgs) > 0 {
			handoff = jen.Func().Params(jen.Id(ctxName).Add(g.ctxType())).Params(jen.Index().Byte(), jen.Error()).Block(
				jen.Return(g.call(f, "", ds.HandoffArgs, nil, false)))
		}
		fields = append(fields, jen.Line().Id("Handoff").Op(":").Add(handoff))
	}
	fields = append(fields, jen.Line())
	return jen.Id(depsName).Dot("Node").Dot("Distributed").Call(g.cl("DistributedSpec").Values(fields...))
}

// clusterRun generates Run for a spec with a cluster: it joins the cluster
// first, and leaves it last.
func (g *generator) clusterRun() {
	params := []jen.Code{jen.Id(ctxName).Add(g.ctxType()), jen.Id(cfgName).Add(g.cl("Config"))}
	args := []jen.Code{jen.Id(nodeName)}
	for _, d := range g.spec.Deps {
		params = append(params, jen.Id(d.Name).Add(g.typeExpr(d.Type.Val)))
		args = append(args, jen.Id(d.Name))
	}
	g.f.Comment("Run joins the cluster as NewNode does, makes the Deps on its node with the")
	g.f.Comment("dependencies given, starts the applications in dependency order, as OTP's")
	g.f.Comment("application:ensure_all_started does, and runs them until ctx is cancelled, a")
	g.f.Comment("signal arrives or a permanent application fails; then it stops them in")
	g.f.Comment("reverse order and closes the node, so that other nodes take over its")
	g.f.Comment("distributed applications and keyed children at once.")
	g.f.Func().Id("Run").Params(params...).Error().Block(
		jen.List(jen.Id(nodeName), jen.Id(errName)).Op(":=").Id("NewNode").Call(jen.Id(ctxName), jen.Id(cfgName)),
		jen.If(jen.Id(errName).Op("!=").Nil()).Block(jen.Return(jen.Id(errName))),
		jen.Defer().Id(nodeName).Dot("Close").Call(jen.Qual("context", "WithoutCancel").Call(jen.Id(ctxName))),
		jen.List(jen.Id(depsName), jen.Id(errName)).Op(":=").Id("NewDeps").Call(args...),
		jen.If(jen.Id(errName).Op("!=").Nil()).Block(jen.Return(jen.Id(errName))),
		jen.Return(g.rt("RunApplications").Call(jen.Id(ctxName), jen.Id("Applications").Call(jen.Id(depsName)).Op("..."))),
	)
}
