// Package scalar holds the custom GraphQL scalars' marshalling.
package scalar

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"usersvc"
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

// roleNames spells the domain's roles as the GraphQL enum Role does.
var roleNames = map[usersvc.Role]string{usersvc.RoleUser: "USER", usersvc.RoleAdmin: "ADMIN"}

// MarshalRole writes a role as its enum value (USER, ADMIN).
func MarshalRole(r usersvc.Role) graphql.Marshaler {
	name, ok := roleNames[r]
	if !ok {
		return graphql.Null
	}
	return graphql.MarshalString(name)
}

// UnmarshalRole takes the enum's values exactly as spelled. gqlparser lets
// a variable's enum value through in any case; GraphQL enum values are
// case-sensitive, so "admin" is refused here rather than read as no role.
func UnmarshalRole(v any) (usersvc.Role, error) {
	if s, ok := v.(string); ok {
		for r, name := range roleNames {
			if s == name {
				return r, nil
			}
		}
	}
	return "", fmt.Errorf("%v is not a valid Role", v)
}
