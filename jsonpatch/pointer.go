package jsonpatch

// JSON Pointers (RFC 6901) and what an operation does at one: get, add,
// remove, set.

import (
	"fmt"
	"strconv"
	"strings"
)

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
