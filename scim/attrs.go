package scim

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"usersvc"
)

// attributes and excludedAttributes (RFC 7644 §3.9): which attributes an
// answer holds. id and schemas are always returned. Each name may be
// qualified by its schema's URN, name a sub-attribute (name.givenName)
// or filter a multi-valued attribute's values (emails[type eq "work"]).

// selection is a parsed attributes or excludedAttributes parameter.
type selection []selected

// selected is one name of a selection: a top-level key of the resource
// (the extension's URN for its attributes), optionally a sub-attribute
// or an attribute inside the extension, and a value filter.
type selected struct {
	key   string // top-level key
	inner string // the extension's attribute, when key is its URN
	sub   string // a sub-attribute, "" for the whole attribute
	where filter.Expression
	a     *attr
}

// readSelection parses a comma-separated list of the User's attribute
// names.
func readSelection(s string) (selection, error) { return readSelectionOf(s, userAttr) }

// readSelectionOf parses a comma-separated list of attribute names of a
// resource whose attributes lookup finds.
func readSelectionOf(s string, lookup func(string) *attr) (selection, error) {
	var out selection
	for _, name := range splitNames(s) {
		sel, err := readSelected(name, lookup)
		if err != nil {
			return nil, err
		}
		out = append(out, sel)
	}
	return out, nil
}

// splitNames splits at commas outside brackets and quotes.
func splitNames(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' && (i == 0 || s[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	out = append(out, s[start:])
	names := out[:0]
	for _, n := range out {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func readSelected(name string, lookup func(string) *attr) (selected, error) {
	bad := errorf(usersvc.RPath, "Unknown attribute %q in attributes or excludedAttributes.", name)
	if isURN(name, URNEnterprise) {
		return selected{key: URNEnterprise}, nil
	}
	p, err := filter.ParsePath([]byte(name))
	if err != nil {
		if p, err = filter.ParsePath([]byte(quoteBareValues(name))); err != nil {
			return selected{}, bad
		}
	}
	ap := p.AttributePath
	sel := selected{where: p.ValueExpression}
	sub := ap.SubAttribute
	if p.ValueExpression != nil {
		sub = p.SubAttribute
	}
	switch {
	case ap.URIPrefix != nil && isURN(ap.URI(), URNEnterprise):
		sel.key, sel.a = URNEnterprise, find(enterpriseAttrs, ap.AttributeName)
		if sel.a == nil {
			return selected{}, bad
		}
		sel.inner = sel.a.Name
	case ap.URIPrefix == nil || isURN(ap.URI(), URNUser) || isURN(ap.URI(), URNGroup):
		if strings.EqualFold(ap.AttributeName, "meta") {
			sel.key = "meta"
			if sub != nil {
				sel.sub = *sub
			}
			return sel, nil
		}
		if strings.EqualFold(ap.AttributeName, "id") || strings.EqualFold(ap.AttributeName, "schemas") {
			sel.key = strings.ToLower(ap.AttributeName)
			return sel, nil
		}
		if sel.a = lookup(ap.AttributeName); sel.a == nil {
			return selected{}, bad
		}
		sel.key = sel.a.Name
	default:
		return selected{}, bad
	}
	if sub != nil {
		s := sel.a.sub(*sub)
		if s == nil {
			return selected{}, bad
		}
		sel.sub = s.Name
	}
	if sel.where != nil && !sel.a.Multi {
		return selected{}, bad
	}
	return sel, nil
}

// alwaysReturned are the attributes every answer holds.
var alwaysReturned = map[string]bool{"id": true, "schemas": true}

// project applies attributes (keep) or excludedAttributes (drop) to r;
// an attributes parameter wins when both are given (RFC 7644 §3.9).
func project(r resource, keep, drop selection) resource {
	if len(keep) > 0 {
		out := resource{}
		for k := range alwaysReturned {
			if v, ok := r[k]; ok {
				out[k] = v
			}
		}
		for _, s := range keep {
			v, ok := r[s.key]
			if !ok {
				continue
			}
			if s.inner != "" {
				ext, _ := v.(map[string]any)
				iv, ok := ext[s.inner]
				if !ok {
					continue
				}
				prev, _ := out[s.key].(map[string]any)
				prev = clone(prev)
				prev[s.inner] = narrow(iv, s)
				out[s.key] = prev
				continue
			}
			if nv := narrow(v, s); nv != nil {
				out[s.key] = merged(out[s.key], nv)
			}
		}
		return out
	}
	out := clone(r)
	for _, s := range drop {
		if alwaysReturned[s.key] {
			continue
		}
		switch {
		case s.inner != "":
			ext, _ := out[s.key].(map[string]any)
			ext = clone(ext)
			delete(ext, s.inner)
			setOrDelete(out, s.key, nonEmpty(ext))
		case s.sub != "":
			if obj, ok := out[s.key].(map[string]any); ok {
				obj = clone(obj)
				delete(obj, s.sub)
				setOrDelete(out, s.key, nonEmpty(obj))
			}
		default:
			delete(out, s.key)
		}
	}
	return out
}

// narrow is v (an attribute's value) reduced to what s selects: the
// values its filter matches, and of each only its sub-attribute.
func narrow(v any, s selected) any {
	pick := func(e any) any {
		if s.sub == "" {
			return e
		}
		m, _ := e.(map[string]any)
		if sv, ok := m[s.sub]; ok {
			return map[string]any{s.sub: sv}
		}
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		return pick(v)
	}
	out := []any{}
	for _, e := range list {
		if s.where != nil {
			m, _ := e.(map[string]any)
			if ok, err := matches(s.where, m, s.a); err != nil || !ok {
				continue
			}
		}
		if pe := pick(e); pe != nil {
			out = append(out, pe)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// merged combines two selections of one attribute (name.givenName and
// name.familyName both asked for).
func merged(prev, v any) any {
	pm, ok1 := prev.(map[string]any)
	vm, ok2 := v.(map[string]any)
	if !ok1 || !ok2 {
		return v
	}
	out := clone(pm)
	for k, x := range vm {
		out[k] = x
	}
	return out
}
