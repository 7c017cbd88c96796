package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The JSON Schema of the language (schema/arbor.schema.json, which arbor
// schema prints) must name exactly the keys the parser reads, and the
// values and limits of this package. schema's own tests check it against
// the golden specs; this one checks it against the parser's tables, which
// only this package can see.

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "schema", "arbor.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// node follows a path of object keys.
func node(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("schema: %v is not an object at %q", path, p)
		}
		if v, ok = m[p]; !ok {
			t.Fatalf("schema: no %v", path)
		}
	}
	return v
}

func keysOf(t *testing.T, v any) []string {
	t.Helper()
	var keys []string
	for k := range v.(map[string]any) {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestSchemaKeys(t *testing.T) {
	doc := loadSchema(t)
	defs := node(t, doc, "definitions")
	for _, tc := range []struct {
		what  string
		props any
		keys  []string
	}{
		{"the spec", node(t, doc, "properties"), rootKeys},
		{"a registry", node(t, defs, "registry", "properties"), registryKeys},
		{"a supervisor", node(t, defs, "supervisor", "properties"), supervisorKeys},
		{"a child", node(t, defs, "child", "properties"), childKeys},
		{"a template", node(t, defs, "template", "properties"), templateKeys},
		{"a name", node(t, defs, "child", "properties", "name", "properties"), nameKeys},
		{"a backoff", node(t, defs, "backoff", "properties"), backoffKeys},
		{"an argument", node(t, defs, "arg", "anyOf").([]any)[1].(map[string]any)["properties"], argKeys},
		{"an application", node(t, defs, "application", "properties"), applicationKeys},
		{"the cluster", node(t, defs, "cluster", "properties"), clusterKeys},
		{"distributed", node(t, defs, "distributed", "properties"), distributedKeys},
	} {
		if got, want := keysOf(t, tc.props), sorted(tc.keys); !slices.Equal(got, want) {
			t.Errorf("the schema's keys of %s are %v; the parser's %v", tc.what, got, want)
		}
	}
	if got := keysOf(t, node(t, doc, "patternProperties")); !slices.Equal(got, []string{"^" + extensionKey}) {
		t.Errorf("the spec's pattern properties are %v, want the extension keys", got)
	}
}

func TestSchemaValues(t *testing.T) {
	doc := loadSchema(t)
	defs := node(t, doc, "definitions")
	sup := node(t, defs, "supervisor", "properties")
	enum := func(v any) []string {
		var out []string
		for _, x := range node(t, v, "enum").([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	for _, tc := range []struct {
		what      string
		got, want []string
	}{
		{"strategy", enum(node(t, sup, "strategy")), []string{string(OneForOne), string(OneForAll), string(RestForOne)}},
		{"auto_shutdown", enum(node(t, sup, "auto_shutdown")), []string{string(Never), string(AnySignificant), string(AllSignificant)}},
		{"restart", enum(node(t, defs, "restart")), []string{string(Permanent), string(Transient), string(Temporary)}},
		{"start_type", enum(node(t, defs, "application", "properties", "start_type")), []string{string(Permanent), string(Transient), string(Temporary)}},
		{"type", enum(node(t, defs, "childType")), []string{string(Worker), string(SupervisorType)}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("the schema's %s values are %v; the language's %v", tc.what, tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		what string
		got  any
		want float64
	}{
		{"version", node(t, doc, "properties", "version", "const"), Version},
		{"max_restarts default", node(t, sup, "max_restarts", "default"), DefaultMaxRestarts},
		{"max_restarts maximum", node(t, sup, "max_restarts", "maximum"), MaxIntensity},
		{"max_seconds default", node(t, sup, "max_seconds", "default"), DefaultMaxSeconds},
		{"max_seconds maximum", node(t, sup, "max_seconds", "maximum"), MaxIntensity},
		{"max_children maximum", node(t, sup, "max_children", "anyOf").([]any)[0].(map[string]any)["maximum"], MaxIntensity},
		{"args maxItems", node(t, defs, "args", "maxItems"), MaxArgs},
		{"template args maxItems", node(t, defs, "templateArgs", "maxItems"), MaxArgs},
		{"extra_args maxItems", node(t, defs, "extraArgs", "maxItems"), MaxArgs},
		{"max_moves default", node(t, sup, "max_moves", "default"), DefaultMaxMoves},
		{"max_moves maximum", node(t, sup, "max_moves", "maximum"), MaxIntensity},
		{"ttl minimum, in ms", node(t, defs, "cluster", "properties", "ttl", "anyOf").([]any)[1].(map[string]any)["minimum"], float64(MinClusterTTL / time.Millisecond)},
	} {
		if tc.got != tc.want {
			t.Errorf("the schema's %s is %v, want %v", tc.what, tc.got, tc.want)
		}
	}
	if got := enum(node(t, defs, "registry", "properties", "keys")); !slices.Equal(got, []string{UniqueKeys, DuplicateKeys}) {
		t.Errorf("the schema's registry keys are %v, want [unique duplicate]", got)
	}
	if got := enum(node(t, defs, "registry", "properties", "partition_by")); !slices.Equal(got, []string{PartitionByProcess, PartitionByKey}) {
		t.Errorf("the schema's partition_by values are %v, want [process key]", got)
	}
	if got := node(t, defs, "registry", "properties", "partitions", "maximum"); got != float64(MaxIntensity) {
		t.Errorf("the schema's partitions maximum is %v, want %d", got, MaxIntensity)
	}
}
