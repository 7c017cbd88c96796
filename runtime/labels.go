package runtime

import (
	"context"
	"runtime/pprof"
	"strconv"
)

// The pprof labels on every child's goroutine, which name its place in the
// tree, so that `go tool pprof` groups goroutine and CPU profiles by child
// (-tagfocus, -tagshow, -tags). A goroutine that a child starts inherits
// its labels, as Go's goroutines inherit their creator's.
const (
	// LabelApplication is the application the child runs under (OTP's
	// application:get_application/0); absent outside an application.
	LabelApplication = "arbor.application"
	// LabelSupervisor is the path of the child's supervisor, such as
	// "store/sessions".
	LabelSupervisor = "arbor.supervisor"
	// LabelChild is the child's id (empty for a child of a dynamic
	// supervisor started without one).
	LabelChild = "arbor.child"
	// LabelIncarnation is the incarnation number of the child's handle:
	// supervisor, child and incarnation spell the handle,
	// "store/sessions/session#3".
	LabelIncarnation = "arbor.incarnation"
)

type applicationKey struct{}

type noLabelsKey struct{}

// WithoutProfileLabels returns a context whose supervisors, and those
// below them, do not label their children's goroutines. Labels cost a
// few small allocations at each start of a child (see docs/profiling.md
// for the figures); a program that starts children at a high rate and
// never profiles them can save that.
func WithoutProfileLabels(ctx context.Context) context.Context {
	return context.WithValue(ctx, noLabelsKey{}, true)
}

// withApplication returns ctx carrying the name of the application whose
// processes it will be the values of.
func withApplication(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, applicationKey{}, name)
}

// ApplicationOf returns the name of the application that the process of
// ctx runs under, as OTP's application:get_application/0: inside a start
// function, a Serve or anything they call with their context. It returns
// false for a context that belongs to no application.
func ApplicationOf(ctx context.Context) (string, bool) {
	name, ok := ctx.Value(applicationKey{}).(string)
	return name, ok
}

// labelBase is what the labels of a supervisor's children share: its
// application, its path, and the labels of the context the tree was
// started with. The supervisor makes it in core.init, before it has a
// child, and it never changes after: its children's goroutines read it
// without a lock, as they read the supervisor's mailbox.
type labelBase struct {
	application string
	hasApp      bool
	path        string
	off         bool // WithoutProfileLabels
	// inherited holds only the labels of the tree's context (pprof.WithLabels
	// on it), or is context.Background when there are none: a child's
	// labels are merged onto it, so that no child walks the whole chain of
	// its own context to find them.
	inherited context.Context
}

// initLabelBase makes the labels that the children of supervisor process
// p share, unless p has them already (a supervisor that runs again in the
// process of one that exited). The caller holds p.mu, and p has no child.
func (p *process) initLabelBase() {
	ext := p.extLocked()
	if ext.labels != nil {
		return
	}
	app, hasApp := ApplicationOf(p)
	off, _ := p.Value(noLabelsKey{}).(bool)
	base := &labelBase{application: app, hasApp: hasApp, path: p.path(), off: off, inherited: context.Background()}
	var inherited []string
	pprof.ForLabels(p, func(key, value string) bool {
		inherited = append(inherited, key, value)
		return true
	})
	if len(inherited) > 0 {
		base.inherited = pprof.WithLabels(base.inherited, pprof.Labels(inherited...))
	}
	ext.labels = base
}

// labelBase returns the shared part of the labels of p's children; p runs
// a supervisor, whose init made it before its first child.
func (p *process) labelBase() *labelBase { return p.ext.labels }

// profileLabels returns the labels of child process p, whose supervisor's
// children share base.
func profileLabels(p *process, base *labelBase) pprof.LabelSet {
	n := strconv.FormatUint(uint64(p.incarnation), 10)
	// In the keys' sorted order: pprof.Labels sorts (and allocates) keys
	// given in any other, which costs five times as much.
	if base.hasApp {
		return pprof.Labels(LabelApplication, base.application, LabelChild, p.id(), LabelIncarnation, n, LabelSupervisor, base.path)
	}
	return pprof.Labels(LabelChild, p.id(), LabelIncarnation, n, LabelSupervisor, base.path)
}

// setProfileLabels gives the calling goroutine, child process p's, the
// labels of p. Labels on the context the tree was started with
// (pprof.WithLabels) are kept beside them, so a program, or a test, can
// tell its trees apart.
func setProfileLabels(p *process) {
	base := p.parent.labelBase()
	if base.off {
		return
	}
	pprof.SetGoroutineLabels(pprof.WithLabels(base.inherited, profileLabels(p, base)))
}

// setApplicationLabels gives the calling goroutine, an application
// master's, the application's label: it runs the application's start
// function and then its top supervisor's loop.
func setApplicationLabels(p *process, name string) {
	pprof.SetGoroutineLabels(pprof.WithLabels(p, pprof.Labels(LabelApplication, name)))
}

// ProfileLabels returns the pprof labels that the goroutine of h's process
// carries (see LabelApplication and the others), or nil for a process that
// is no supervisor's child or whose supervisor runs WithoutProfileLabels.
// Use them to find its goroutines in a goroutine profile.
func (h Handle) ProfileLabels() map[string]string {
	if h.p == nil || h.p.child == nil {
		return nil
	}
	base := h.p.parent.labelBase()
	if base.off {
		return nil
	}
	m := make(map[string]string, 4)
	pprof.ForLabels(pprof.WithLabels(context.Background(), profileLabels(h.p, base)), func(k, v string) bool {
		m[k] = v
		return true
	})
	return m
}
