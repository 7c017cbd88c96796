package schema_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fromYAML turns a YAML document into the JSON value an editor's schema
// checker sees: mappings become objects (merge keys applied, as the YAML
// loader does), sequences lists, scalars numbers, strings, booleans or null
// by their YAML tag. What JSON cannot hold — a second document, a key that
// is not a string, a duplicate key — is an error, as it is for
// yaml-language-server.
func fromYAML(src []byte) (any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := decode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty document")
		}
		return nil, err
	}
	var extra yaml.Node
	if err := decode(dec, &extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one document")
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("empty document")
	}
	c := &converter{budget: 1_000_000}
	return c.value(doc.Content[0], 0)
}

func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

type converter struct {
	budget int // nodes left to convert, against alias bombs
}

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	c.budget--
	if c.budget < 0 || depth > 10_000 {
		return nil, errors.New("too large once aliases are expanded")
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, errors.New("alias without an anchor")
		}
		return c.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.value(item, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, nil
	case yaml.MappingNode:
		obj := map[string]any{}
		explicit := map[string]bool{}
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			for k.Kind == yaml.AliasNode && k.Alias != nil {
				k = k.Alias
			}
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				merges = append(merges, v)
				continue
			}
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				return nil, fmt.Errorf("line %d: a key that is not a string", k.Line)
			}
			if explicit[k.Value] {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			explicit[k.Value] = true
			val, err := c.value(v, depth+1)
			if err != nil && depth == 0 && strings.HasPrefix(k.Value, "x-") {
				// The language ignores what a top-level x- key holds, even
				// YAML that has no JSON form (a merge of no mapping, say);
				// the schema allows anything there, so null stands for it.
				val, err = nil, nil
			}
			if err != nil {
				return nil, err
			}
			obj[k.Value] = val
		}
		// Merged keys come after the explicit ones, the first merged
		// mapping first.
		for _, m := range merges {
			if err := c.merge(obj, m, depth+1); err != nil {
				return nil, err
			}
		}
		return obj, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("unexpected node kind %d", n.Kind)
}

// merge adds the keys of the mapping (or list of mappings) m that obj lacks.
func (c *converter) merge(obj map[string]any, m *yaml.Node, depth int) error {
	for m.Kind == yaml.AliasNode && m.Alias != nil {
		m = m.Alias
	}
	switch m.Kind {
	case yaml.SequenceNode:
		for _, item := range m.Content {
			if err := c.merge(obj, item, depth+1); err != nil {
				return err
			}
		}
		return nil
	case yaml.MappingNode:
		v, err := c.value(m, depth+1)
		if err != nil {
			return err
		}
		for k, x := range v.(map[string]any) {
			if _, ok := obj[k]; !ok {
				obj[k] = x
			}
		}
		return nil
	}
	return errors.New("a merge key that merges no mapping")
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		switch strings.ToLower(n.Value) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return n.Value, nil
	case "!!int":
		plain := strings.ReplaceAll(n.Value, "_", "")
		neg := strings.HasPrefix(plain, "-")
		plain = strings.TrimLeft(plain, "+-")
		if i, err := strconv.ParseUint(plain, 0, 64); err == nil {
			f := float64(i)
			if neg {
				f = -f
			}
			return f, nil
		}
		if b, ok := new(big.Int).SetString(plain, 0); ok {
			f, _ := new(big.Float).SetInt(b).Float64()
			if neg {
				f = -f
			}
			return f, nil
		}
		return n.Value, nil
	case "!!float":
		v := strings.ToLower(strings.ReplaceAll(n.Value, "_", ""))
		switch strings.TrimLeft(v, "+-") {
		case ".inf":
			if strings.HasPrefix(v, "-") {
				return math.Inf(-1), nil
			}
			return math.Inf(1), nil
		case ".nan":
			return math.NaN(), nil
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f, nil
		}
		return n.Value, nil
	}
	// !!str, and the tags the parser refuses (!!timestamp, !!binary,
	// custom ones), which JSON sees as strings.
	return n.Value, nil
}
