package jsonpatch

import (
	"fmt"
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
