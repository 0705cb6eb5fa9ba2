package jsonpatch

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Patch limits.
const (
	// MaxOps is the most operations one patch may hold.
	MaxOps = 100
	// MaxNodes bounds the number of JSON values (every object, array and
	// scalar counts one) a patched document may grow to, so that a chain of
	// copy operations cannot blow it up.
	MaxNodes = 10_000
)

// Operation is one RFC 6902 operation. HasValue distinguishes an absent
// "value" from "value": null.
type Operation struct {
	Op       string
	Path     string
	From     string
	HasFrom  bool
	Value    any
	HasValue bool
}

// ParsePatch turns a generic JSON value into operations, checking the shape
// of each: op names are the RFC's, case-sensitive; path and from are JSON
// Pointers; value is required where the RFC requires it.
func ParsePatch(v any) ([]Operation, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, errorf(Invalid, "A JSON Patch must be an array of operations.")
	}
	if len(arr) > MaxOps {
		return nil, errorf(Invalid, "A patch may hold at most %d operations.", MaxOps)
	}
	ops := make([]Operation, 0, len(arr))
	for i, raw := range arr {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, opError(Invalid, i, "an operation must be an object")
		}
		var op Operation
		var okOp bool
		if op.Op, okOp = m["op"].(string); !okOp {
			return nil, opError(Invalid, i, "missing or non-string \"op\"")
		}
		switch op.Op {
		case "add", "remove", "replace", "move", "copy", "test":
		default:
			return nil, opError(Invalid, i, "unknown op %q", op.Op)
		}
		p, ok := m["path"].(string)
		if !ok {
			return nil, opError(Invalid, i, "missing or non-string \"path\"")
		}
		if _, err := parsePointer(p); err != nil {
			return nil, opError(Invalid, i, "path: %v", err)
		}
		op.Path = p
		if op.Op == "move" || op.Op == "copy" {
			f, ok := m["from"].(string)
			if !ok {
				return nil, opError(Invalid, i, "missing or non-string \"from\"")
			}
			if _, err := parsePointer(f); err != nil {
				return nil, opError(Invalid, i, "from: %v", err)
			}
			op.From, op.HasFrom = f, true
		}
		if op.Op == "add" || op.Op == "replace" || op.Op == "test" {
			val, has := m["value"]
			if !has {
				return nil, opError(Invalid, i, "missing \"value\"")
			}
			op.Value, op.HasValue = val, true
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// Apply applies ops to doc atomically: on any error doc is untouched and
// the result is nil. doc is a generic JSON value; it is never modified.
func Apply(doc any, ops []Operation) (any, error) {
	cur := deepCopy(doc)
	nodes := countNodes(cur)
	for i, op := range ops {
		path, err := parsePointer(op.Path)
		if err != nil {
			return nil, opError(Invalid, i, "path: %v", err)
		}
		switch op.Op {
		case "add":
			cur, err = addAt(cur, path, deepCopy(op.Value))
			nodes += countNodes(op.Value)
		case "remove":
			cur, _, err = removeAt(cur, path)
		case "replace":
			if _, err = getAt(cur, path); err == nil {
				if len(path) == 0 {
					cur = deepCopy(op.Value)
				} else {
					cur, _, _ = removeAt(cur, path)
					cur, err = addAt(cur, path, deepCopy(op.Value))
				}
				nodes += countNodes(op.Value)
			}
		case "move":
			from, _ := parsePointer(op.From)
			if isProperPrefix(from, path) {
				err = fmt.Errorf("cannot move %q into its own child %q", op.From, op.Path)
				break
			}
			var v any
			if cur, v, err = removeAt(cur, from); err == nil {
				cur, err = addAt(cur, path, v)
			}
		case "copy":
			from, _ := parsePointer(op.From)
			var v any
			if v, err = getAt(cur, from); err == nil {
				n := countNodes(v)
				nodes += n
				if nodes > MaxNodes {
					return nil, opError(Invalid, i, "the document would grow past %d values", MaxNodes)
				}
				cur, err = addAt(cur, path, deepCopy(v))
			}
		case "test":
			var v any
			if v, err = getAt(cur, path); err == nil && !jsonEqual(v, op.Value) {
				return nil, opError(TestFailed, i, "value at %q is not equal to the test value", op.Path)
			}
		default:
			err = fmt.Errorf("unknown op %q", op.Op)
		}
		if err != nil {
			return nil, opError(Invalid, i, "%v", err)
		}
		if nodes > MaxNodes {
			nodes = countNodes(cur)
			if nodes > MaxNodes {
				return nil, opError(Invalid, i, "the document would grow past %d values", MaxNodes)
			}
		}
	}
	return cur, nil
}

// ApplyMerge applies an RFC 7396 merge patch. doc is not modified.
func ApplyMerge(doc, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return deepCopy(patch)
	}
	tm, ok := doc.(map[string]any)
	out := map[string]any{}
	if ok {
		for k, v := range tm {
			out[k] = deepCopy(v)
		}
	}
	for k, v := range pm {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = ApplyMerge(out[k], v)
	}
	return out
}

// parsePointer splits an RFC 6901 JSON Pointer into unescaped tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("JSON Pointer %q must start with \"/\"", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		for j := 0; j < len(s); j++ {
			if s[j] == '~' && (j+1 >= len(s) || (s[j+1] != '0' && s[j+1] != '1')) {
				return nil, fmt.Errorf("JSON Pointer %q has a bad escape", p)
			}
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

func isProperPrefix(a, b []string) bool {
	if len(a) >= len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// arrayIndex parses an array index token: decimal, no sign, no leading zero.
func arrayIndex(tok string, n int, allowEnd bool) (int, error) {
	if tok == "-" {
		if allowEnd {
			return n, nil
		}
		return 0, fmt.Errorf("index \"-\" is past the end of the array")
	}
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, fmt.Errorf("bad array index %q", tok)
	}
	for _, c := range tok {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad array index %q", tok)
		}
	}
	i, err := strconv.Atoi(tok)
	if err != nil {
		return 0, fmt.Errorf("bad array index %q", tok)
	}
	max := n - 1
	if allowEnd {
		max = n
	}
	if i > max {
		return 0, fmt.Errorf("array index %d is out of bounds", i)
	}
	return i, nil
}

func getAt(doc any, path []string) (any, error) {
	cur := doc
	for _, tok := range path {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("path %q does not exist", "/"+strings.Join(path, "/"))
			}
			cur = v
		case []any:
			i, err := arrayIndex(tok, len(c), false)
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("path %q does not exist", "/"+strings.Join(path, "/"))
		}
	}
	return cur, nil
}

// addAt returns doc with v added at path (RFC 6902 4.1).
func addAt(doc any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := getAt(doc, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch c := parent.(type) {
	case map[string]any:
		c[last] = v
		return doc, nil
	case []any:
		i, err := arrayIndex(last, len(c), true)
		if err != nil {
			return nil, err
		}
		c = append(c, nil)
		copy(c[i+1:], c[i:])
		c[i] = v
		return setAt(doc, path[:len(path)-1], c), nil
	}
	return nil, fmt.Errorf("cannot add to a non-container at %q", "/"+strings.Join(path[:len(path)-1], "/"))
}

// removeAt returns doc without the value at path, and that value.
func removeAt(doc any, path []string) (any, any, error) {
	if len(path) == 0 {
		return nil, nil, fmt.Errorf("cannot remove the whole document")
	}
	parent, err := getAt(doc, path[:len(path)-1])
	if err != nil {
		return nil, nil, err
	}
	last := path[len(path)-1]
	switch c := parent.(type) {
	case map[string]any:
		v, ok := c[last]
		if !ok {
			return nil, nil, fmt.Errorf("path %q does not exist", "/"+strings.Join(path, "/"))
		}
		delete(c, last)
		return doc, v, nil
	case []any:
		i, err := arrayIndex(last, len(c), false)
		if err != nil {
			return nil, nil, err
		}
		v := c[i]
		c = append(c[:i:i], c[i+1:]...)
		return setAt(doc, path[:len(path)-1], c), v, nil
	}
	return nil, nil, fmt.Errorf("path %q does not exist", "/"+strings.Join(path, "/"))
}

// setAt replaces the (existing) container at path with v; used after an
// array changed length.
func setAt(doc any, path []string, v any) any {
	if len(path) == 0 {
		return v
	}
	parent, _ := getAt(doc, path[:len(path)-1])
	last := path[len(path)-1]
	switch c := parent.(type) {
	case map[string]any:
		c[last] = v
	case []any:
		i, _ := strconv.Atoi(last)
		c[i] = v
	}
	return doc
}

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
