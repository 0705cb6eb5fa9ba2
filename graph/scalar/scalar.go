// Package scalar holds the custom GraphQL scalars' marshalling.
package scalar

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalStringMap writes a map of strings as a JSON object.
func MarshalStringMap(m map[string]string) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if m == nil {
			m = map[string]string{}
		}
		b, _ := json.Marshal(m) // a map of strings always marshals
		_, _ = w.Write(b)
	})
}

// UnmarshalStringMap accepts a JSON object whose values are strings.
func UnmarshalStringMap(v any) (map[string]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("StringMap must be an object of strings")
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("StringMap value %q must be a string", k)
		}
		out[k] = s
	}
	return out, nil
}
