package spec

import (
	"fmt"
	"strings"
)

// IDPart is a piece of a template's id pattern: the literal Text, or, when
// Arg is not "", the value of the extra argument Arg.
type IDPart struct {
	Text string
	Arg  string
}

// ParseIDPattern parses the id pattern of a template, as the shell expands
// variables: $name or ${name} stands for the extra argument name (the
// longest name after a bare $), $$ for a dollar sign, and everything else is
// itself. "bucket-$name" gives the parts "bucket-" and name. Adjacent text
// is one part.
func ParseIDPattern(s string) ([]IDPart, error) {
	var parts []IDPart
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			parts = append(parts, IDPart{Text: text.String()})
			text.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			text.WriteByte(s[i])
			continue
		}
		switch rest := s[i+1:]; {
		case strings.HasPrefix(rest, "$"):
			text.WriteByte('$')
			i++
		case strings.HasPrefix(rest, "{"):
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return nil, fmt.Errorf("${ at offset %d has no closing }", i)
			}
			name := rest[1:end]
			if !isGoIdent(name) {
				return nil, fmt.Errorf("${%s} at offset %d does not name an extra argument; want ${name}", truncate(name), i)
			}
			flush()
			parts = append(parts, IDPart{Arg: name})
			i += 1 + end
		default:
			n := 0
			for n < len(rest) && (isLetter(rest[n]) || rest[n] == '_' || n > 0 && isDigit(rest[n])) {
				n++
			}
			if n == 0 {
				return nil, fmt.Errorf("$ at offset %d must be followed by an extra argument's name, ${name} or $$ (a dollar sign)", i)
			}
			flush()
			parts = append(parts, IDPart{Arg: rest[:n]})
			i += n
		}
	}
	flush()
	return parts, nil
}
