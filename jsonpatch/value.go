package jsonpatch

// Values of a JSON document: copies, sizes and equality (RFC 6902's "test").

import (
	"encoding/json"
	"strings"
)

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

func countNodes(v any) int {
	n := 1
	switch t := v.(type) {
	case map[string]any:
		for _, e := range t {
			n += countNodes(e)
		}
	case []any:
		for _, e := range t {
			n += countNodes(e)
		}
	}
	return n
}

// jsonEqual is RFC 6902 4.6 equality: numbers compare numerically (exactly),
// objects ignore member order, arrays compare element by element.
func jsonEqual(a, b any) bool {
	if da, ok := NumberOf(a); ok {
		db, ok := NumberOf(b)
		return ok && da == db
	}
	if na, ok := a.(json.Number); ok {
		// A number whose exponent is beyond NumberOf's bound is equal to
		// the same number written the same way (a value is equal to
		// itself), and to nothing else.
		nb, ok := b.(json.Number)
		return ok && strings.EqualFold(string(na), string(nb))
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}
