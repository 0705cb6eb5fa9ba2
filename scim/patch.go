package scim

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"usersvc"
)

// PATCH (RFC 7644 §3.5.2) on a User: each operation applies to the user's
// SCIM resource in memory, in order; the result is written over the user
// as a replace, inside the service's one write path, so the whole PATCH
// is saved or nothing is. Operation names are read in any case; a path
// may carry a value filter (emails[type eq "work"].value); an add or
// replace without a path takes an object whose keys are paths (Okta's
// {"op":"replace","value":{"active":false}}).

// patchOp is one operation of a PatchOp body.
type patchOp struct {
	op, path string
	hasPath  bool
	value    any
}

// readPatch reads a PatchOp body: its Operations (the key in any case).
func readPatch(body any) ([]patchOp, error) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, errorf(usersvc.RSyntax, "The body must be a JSON object.")
	}
	var list []any
	for k, v := range m {
		if strings.EqualFold(k, "Operations") {
			list, ok = v.([]any)
			if !ok {
				return nil, errorf(usersvc.RSyntax, "Operations must be a list of operations.")
			}
		}
	}
	if len(list) == 0 {
		return nil, errorf(usersvc.RSyntax, "Operations must be a list of operations.")
	}
	if len(list) > maxPatchOps {
		return nil, errorf(usersvc.RTooMany, "A PATCH holds at most %d operations.", maxPatchOps)
	}
	ops := make([]patchOp, 0, len(list))
	for _, e := range list {
		om, ok := e.(map[string]any)
		if !ok {
			return nil, errorf(usersvc.RSyntax, "Each operation must be an object with op, path and value.")
		}
		var o patchOp
		for k, v := range om {
			switch strings.ToLower(k) {
			case "op":
				s, _ := v.(string)
				o.op = strings.ToLower(s)
			case "path":
				s, ok := v.(string)
				if !ok && v != nil {
					return nil, errorf(usersvc.RPath, "An operation's path must be a string.")
				}
				o.path, o.hasPath = strings.TrimSpace(s), s != ""
			case "value":
				o.value = v
			}
		}
		if o.op != "add" && o.op != "replace" && o.op != "remove" {
			return nil, errorf(usersvc.RSyntax, "An operation's op must be add, replace or remove.")
		}
		ops = append(ops, o)
	}
	return ops, nil
}

// maxPatchOps bounds a PATCH's operations.
const maxPatchOps = 100

// applyPatch applies ops to r, a User resource (changed in place).
func applyPatch(r resource, ops []patchOp) error {
	for _, o := range ops {
		if !o.hasPath {
			if o.op == "remove" {
				return errorf(usersvc.RNoTarget, "A remove needs a path.")
			}
			m, ok := o.value.(map[string]any)
			if !ok {
				return errorf(usersvc.RValue, "An operation without a path needs an object as its value.")
			}
			for k, v := range m {
				if isURN(k, URNEnterprise) {
					ext, ok := v.(map[string]any)
					if !ok {
						return badValue(URNEnterprise)
					}
					for ek, ev := range ext {
						if err := applyAt(r, o.op, URNEnterprise+":"+ek, ev, true); err != nil {
							return err
						}
					}
					continue
				}
				if err := applyAt(r, o.op, k, v, true); err != nil {
					return err
				}
			}
			continue
		}
		if isURN(o.path, URNEnterprise) { // the extension as a whole
			if o.op == "remove" {
				delete(r, URNEnterprise)
				continue
			}
			if err := applyPatch(r, []patchOp{{op: o.op, value: map[string]any{URNEnterprise: o.value}}}); err != nil {
				return err
			}
			continue
		}
		if err := applyAt(r, o.op, o.path, o.value, false); err != nil {
			return err
		}
	}
	return nil
}

// applyAt applies one operation at path. lenient (keys of a value object)
// ignores attributes no schema defines, and read-only ones, as a PUT
// does; an explicit path naming one is refused.
func applyAt(r resource, op, path string, value any, lenient bool) error {
	p, err := filter.ParsePath([]byte(path))
	if err != nil {
		if p, err = filter.ParsePath([]byte(quoteBareValues(path))); err != nil {
			return errorf(usersvc.RPath, "The path %q cannot be read.", path)
		}
	}
	container, a := r, (*attr)(nil)
	ap := p.AttributePath
	switch {
	case ap.URIPrefix != nil && isURN(ap.URI(), URNEnterprise):
		a = find(enterpriseAttrs, ap.AttributeName)
		if a != nil {
			ext, _ := r[URNEnterprise].(map[string]any)
			container = clone(ext)
			defer func() { setOrDelete(r, URNEnterprise, nonEmpty(container)) }()
		}
	case ap.URIPrefix == nil || isURN(ap.URI(), URNUser):
		a = userAttr(ap.AttributeName)
	}
	if a == nil || a.Mutability == "readOnly" {
		if lenient || strings.EqualFold(ap.AttributeName, "schemas") || strings.EqualFold(ap.AttributeName, "meta") ||
			strings.EqualFold(ap.AttributeName, "id") {
			return nil
		}
		if a != nil {
			return errorf(usersvc.RReadOnly, "The path %q names a read-only attribute.", path)
		}
		return errorf(usersvc.RPath, "The path %q names no attribute of the User.", path)
	}
	sub := ap.SubAttribute
	if p.ValueExpression != nil {
		sub = p.SubAttribute
		if !a.Multi || ap.SubAttribute != nil {
			return errorf(usersvc.RPath, "The path %q filters an attribute that is not multi-valued.", path)
		}
		return applyFiltered(container, a, p.ValueExpression, sub, op, value, path)
	}
	if sub != nil {
		s := a.sub(*sub)
		if s == nil || a.Multi {
			return errorf(usersvc.RPath, "The path %q names no attribute of the User.", path)
		}
		obj, _ := container[a.Name].(map[string]any)
		obj = clone(obj)
		if op == "remove" {
			delete(obj, s.Name)
		} else {
			v, err := normalizeSingle(s, value)
			if err != nil {
				return err
			}
			setOrDelete(obj, s.Name, v)
		}
		setOrDelete(container, a.Name, nonEmpty(obj))
		return nil
	}
	if op == "remove" {
		delete(container, a.Name)
		return nil
	}
	v, err := normalize(a, value)
	if err != nil {
		return err
	}
	switch {
	case v == nil:
		delete(container, a.Name)
	case a.Multi && op == "add":
		old, _ := container[a.Name].([]any)
		added := v.([]any)
		if anyPrimary(added) {
			old = clearPrimary(old)
		}
		container[a.Name] = append(append([]any{}, old...), added...)
	case a.Type == "complex" && !a.Multi:
		obj, _ := container[a.Name].(map[string]any)
		obj = clone(obj)
		for k, sv := range v.(map[string]any) {
			obj[k] = sv
		}
		container[a.Name] = obj
	default:
		container[a.Name] = v
	}
	return nil
}

// applyFiltered applies an operation to the elements of the multi-valued
// attribute a that match expr (or to their sub-attribute sub). An add or
// replace that matches nothing adds an element when the filter only says
// what equals what (emails[type eq "work"].value), as Entra ID expects;
// otherwise it is noTarget.
func applyFiltered(container resource, a *attr, expr filter.Expression, sub *string, op string, value any, path string) error {
	var s *attr
	if sub != nil {
		if s = a.sub(*sub); s == nil {
			return errorf(usersvc.RPath, "The path %q names no attribute of the User.", path)
		}
	}
	list, _ := container[a.Name].([]any)
	out := make([]any, 0, len(list))
	matched := false
	for _, e := range list {
		m, _ := e.(map[string]any)
		ok, err := matches(expr, m, a)
		if err != nil {
			return err
		}
		if !ok {
			out = append(out, e)
			continue
		}
		matched = true
		if op == "remove" && s == nil {
			continue
		}
		m, err = edited(m, a, s, op, value)
		if err != nil {
			return err
		}
		if m != nil {
			out = append(out, m)
		}
	}
	if !matched && op != "remove" {
		base, ok := equalities(expr, a)
		if !ok {
			return errorf(usersvc.RNoTarget, "The path %q matches no value.", path)
		}
		m, err := edited(base, a, s, "add", value)
		if err != nil {
			return err
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		delete(container, a.Name)
	} else {
		container[a.Name] = out
	}
	return nil
}

// edited is element m after op: sub-attribute s set or removed, or (s
// nil) the value object's sub-attributes merged in.
func edited(m map[string]any, a, s *attr, op string, value any) (map[string]any, error) {
	m = clone(m)
	if s != nil {
		if op == "remove" {
			delete(m, s.Name)
			return nonEmptyMap(m), nil
		}
		v, err := normalizeSingle(s, value)
		if err != nil {
			return nil, err
		}
		setOrDelete(m, s.Name, v)
		return nonEmptyMap(m), nil
	}
	v, err := normalizeSingle(a, value)
	if err != nil {
		return nil, err
	}
	nv, _ := v.(map[string]any)
	for k, sv := range nv {
		m[k] = sv
	}
	return nonEmptyMap(m), nil
}

func nonEmptyMap(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}
