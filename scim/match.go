package scim

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"usersvc"
)

// Value filters evaluated in memory, on the values of one multi-valued
// attribute (a PATCH path's emails[type eq "work"], an attributes
// selection's), and what an equality-only filter describes.

// equalities is the element a filter of only eq comparisons (joined by
// and) describes; false for any other filter.
func equalities(e filter.Expression, a *attr) (map[string]any, bool) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		s := a.sub(x.AttributePath.AttributeName)
		if s == nil || x.AttributePath.SubAttribute != nil || !strings.EqualFold(string(x.Operator), "eq") {
			return nil, false
		}
		v, err := filterValue(x.CompareValue)
		if err != nil || v == nil {
			return nil, false
		}
		return map[string]any{s.Name: v}, true
	case *filter.LogicalExpression:
		if !strings.EqualFold(string(x.Operator), "and") {
			return nil, false
		}
		l, ok := equalities(x.Left, a)
		if !ok {
			return nil, false
		}
		r, ok := equalities(x.Right, a)
		if !ok {
			return nil, false
		}
		for k, v := range r {
			l[k] = v
		}
		return l, true
	}
	return nil, false
}

// matches evaluates a value filter on one element of a.
func matches(e filter.Expression, m map[string]any, a *attr) (bool, error) {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		l, err := matches(x.Left, m, a)
		if err != nil {
			return false, err
		}
		r, err := matches(x.Right, m, a)
		if err != nil {
			return false, err
		}
		if strings.EqualFold(string(x.Operator), "or") {
			return l || r, nil
		}
		return l && r, nil
	case *filter.NotExpression:
		ok, err := matches(x.Expression, m, a)
		return !ok, err
	case *filter.AttributeExpression:
		s := a.sub(x.AttributePath.AttributeName)
		if s == nil || x.AttributePath.SubAttribute != nil {
			return false, errorf(usersvc.RFilter, "The filter names an attribute that cannot be filtered on: %s", x.AttributePath.String())
		}
		want, err := filterValue(x.CompareValue)
		if err != nil {
			return false, err
		}
		return compareValue(m[s.Name], strings.ToLower(string(x.Operator)), want, s.CaseExact), nil
	}
	return false, errorf(usersvc.RFilter, "A value filter cannot hold another.")
}

// compareValue is one comparison of an element's value with a filter's.
func compareValue(got any, op string, want any, caseExact bool) bool {
	if op == "pr" {
		return got != nil
	}
	switch w := want.(type) {
	case nil:
		return (got == nil) == (op == "eq")
	case bool:
		g, ok := got.(bool)
		return ok && (g == w) == (op == "eq")
	case string:
		g, ok := got.(string)
		if !ok {
			return op == "ne"
		}
		if !caseExact {
			g, w = strings.ToLower(g), strings.ToLower(w)
		}
		switch op {
		case "eq":
			return g == w
		case "ne":
			return g != w
		case "co":
			return strings.Contains(g, w)
		case "sw":
			return strings.HasPrefix(g, w)
		case "ew":
			return strings.HasSuffix(g, w)
		case "gt":
			return g > w
		case "ge":
			return g >= w
		case "lt":
			return g < w
		case "le":
			return g <= w
		}
	}
	return false
}

func anyPrimary(list []any) bool {
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["primary"] == true {
			return true
		}
	}
	return false
}

// clearPrimary is list with no element primary (a new primary came).
func clearPrimary(list []any) []any {
	out := make([]any, len(list))
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && m["primary"] == true {
			m = clone(m)
			delete(m, "primary")
			e = m
		}
		out[i] = e
	}
	return out
}
