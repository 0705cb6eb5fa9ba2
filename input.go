package usersvc

import (
	"encoding/json"
	"math"
	"math/big"
	"time"
)

// Input is a full-replace request for a user after decoding: what PUT,
// updateUser and (after applying the patch) PATCH and patchUser all produce.
type Input struct {
	// ID is the id the body names, if any; it must match the target.
	ID              *string
	Name            string
	Email           string
	Country         string
	TimeZone        string
	Description     *string
	Message         *string
	Disabled        bool
	DisabledMessage *string
	Tags            map[string]string
	Privileges      []string
	Group           *string
	DeviceID        *string
	AdminDevices    int
	From            *time.Time
	Expires         *time.Time
	// Password is nil to keep the current password.
	Password *string
	// Role is nil to keep the current role.
	Role *Role
	// DeletedAtSet says the body named deletedAt; DeletedAt is its value.
	DeletedAtSet bool
	DeletedAt    *time.Time
	DailyQuota   *int64
	// Present names the fields the body had.
	Present map[string]bool
}

// readOnlyFields may appear in a replace body (the public examples send them)
// and are ignored, except id, which must match the path.
var readOnlyFields = map[string]bool{
	"creation": true, "modification": true, "lastLogin": true,
	"success": true, "apiUsage": true, "apiDailyUsage": true,
}

// DecodeInput turns a generic JSON object (a REST body, a GraphQL input
// object, or a patched user document) into an Input. Keys match field names
// exactly; any other key is an error naming it.
func DecodeInput(doc any) (*Input, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, Errorf(EInvalid, "The user must be a JSON object.")
	}
	in := &Input{Tags: map[string]string{}, Privileges: []string{}, Present: make(map[string]bool, len(m))}
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	// Report unknown fields first, in a stable order.
	for _, k := range sortedKeys(m) {
		if _, known := inputFields[k]; !known && !readOnlyFields[k] {
			return nil, FieldErrorf(EInvalid, k, "Unknown field %q.", k)
		}
	}
	for _, k := range sortedKeys(m) {
		in.Present[k] = true
		if set := inputFields[k]; set != nil {
			check(set(in, k, m[k]))
		}
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	for _, f := range []struct {
		name string
		val  string
	}{{"name", in.Name}, {"email", in.Email}, {"country", in.Country}, {"timeZone", in.TimeZone}} {
		if _, present := m[f.name]; !present || m[f.name] == nil {
			return nil, FieldErrorf(EInvalid, f.name, "Field %q is required.", f.name)
		}
	}
	return in, nil
}

type setter func(in *Input, field string, v any) error

var inputFields map[string]setter

func init() {
	inputFields = map[string]setter{
		"id": func(in *Input, f string, v any) error {
			if v == nil {
				return nil
			}
			return asStringPtr(f, v, &in.ID)
		},
		"name":            requiredString(func(in *Input) *string { return &in.Name }),
		"email":           requiredString(func(in *Input) *string { return &in.Email }),
		"country":         requiredString(func(in *Input) *string { return &in.Country }),
		"timeZone":        requiredString(func(in *Input) *string { return &in.TimeZone }),
		"description":     optionalString(func(in *Input) **string { return &in.Description }),
		"message":         optionalString(func(in *Input) **string { return &in.Message }),
		"disabledMessage": optionalString(func(in *Input) **string { return &in.DisabledMessage }),
		"group":           optionalString(func(in *Input) **string { return &in.Group }),
		"deviceId":        optionalString(func(in *Input) **string { return &in.DeviceID }),
		"password":        optionalString(func(in *Input) **string { return &in.Password }),
		"from":            optionalTime(func(in *Input) **time.Time { return &in.From }),
		"expires":         optionalTime(func(in *Input) **time.Time { return &in.Expires }),
		"disabled": func(in *Input, f string, v any) error {
			switch b := v.(type) {
			case nil:
				in.Disabled = false
			case bool:
				in.Disabled = b
			default:
				return FieldErrorf(EInvalid, f, "Field %q must be a boolean.", f)
			}
			return nil
		},
		"adminDevices": func(in *Input, f string, v any) error {
			if v == nil {
				in.AdminDevices = 0
				return nil
			}
			n, ok := asInt(v)
			if !ok {
				return FieldErrorf(EInvalid, f, "Field %q must be an integer.", f)
			}
			in.AdminDevices = n
			return nil
		},
		"dailyQuota": func(in *Input, f string, v any) error {
			if v == nil {
				in.DailyQuota = nil
				return nil
			}
			n, ok := asInt(v)
			if !ok {
				return FieldErrorf(EInvalid, f, "Field %q must be an integer.", f)
			}
			q := int64(n)
			in.DailyQuota = &q
			return nil
		},
		"tags": func(in *Input, f string, v any) error {
			switch t := v.(type) {
			case nil:
				return nil
			case map[string]any:
				for k, tv := range t {
					s, ok := tv.(string)
					if !ok {
						return FieldErrorf(EInvalid, f, "Field %q must be an object of strings.", f)
					}
					in.Tags[k] = s
				}
				return nil
			case map[string]string:
				for k, s := range t {
					in.Tags[k] = s
				}
				return nil
			}
			return FieldErrorf(EInvalid, f, "Field %q must be an object of strings.", f)
		},
		"privileges": func(in *Input, f string, v any) error {
			switch t := v.(type) {
			case nil:
				return nil
			case []any:
				for _, pv := range t {
					s, ok := pv.(string)
					if !ok {
						return FieldErrorf(EInvalid, f, "Field %q must be an array of strings.", f)
					}
					in.Privileges = append(in.Privileges, s)
				}
				return nil
			case []string:
				in.Privileges = append(in.Privileges, t...)
				return nil
			}
			return FieldErrorf(EInvalid, f, "Field %q must be an array of strings.", f)
		},
		"role": func(in *Input, f string, v any) error {
			if v == nil {
				return nil // omitted or null keeps the role
			}
			s, ok := v.(string)
			if !ok || !Role(s).Valid() {
				return errBadRole(f)
			}
			r := Role(s)
			in.Role = &r
			return nil
		},
		"deletedAt": func(in *Input, f string, v any) error {
			in.DeletedAtSet = true
			return optionalTime(func(in *Input) **time.Time { return &in.DeletedAt })(in, f, v)
		},
	}
}

func requiredString(dst func(*Input) *string) setter {
	return func(in *Input, f string, v any) error {
		if v == nil {
			return FieldErrorf(EInvalid, f, "Field %q is required.", f)
		}
		s, ok := v.(string)
		if !ok {
			return FieldErrorf(EInvalid, f, "Field %q must be a string.", f)
		}
		*dst(in) = s
		return nil
	}
}

func optionalString(dst func(*Input) **string) setter {
	return func(in *Input, f string, v any) error { return asStringPtr(f, v, dst(in)) }
}

func asStringPtr(f string, v any, dst **string) error {
	switch s := v.(type) {
	case nil:
		*dst = nil
	case string:
		*dst = &s
	default:
		return FieldErrorf(EInvalid, f, "Field %q must be a string.", f)
	}
	return nil
}

func optionalTime(dst func(*Input) **time.Time) setter {
	return func(in *Input, f string, v any) error {
		switch s := v.(type) {
		case nil:
			*dst(in) = nil
			return nil
		case string:
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return FieldErrorf(EInvalid, f, "Field %q must be an RFC 3339 timestamp.", f)
			}
			t = truncTime(t)
			*dst(in) = &t
			return nil
		case time.Time:
			t := truncTime(s)
			*dst(in) = &t
			return nil
		}
		return FieldErrorf(EInvalid, f, "Field %q must be an RFC 3339 timestamp.", f)
	}
}

// asInt accepts the integer forms JSON decoders produce, within int32.
func asInt(v any) (int, bool) {
	var r big.Rat
	switch n := v.(type) {
	case json.Number:
		if _, ok := r.SetString(string(n)); !ok {
			return 0, false
		}
	case int:
		r.SetInt64(int64(n))
	case int64:
		r.SetInt64(n)
	case float64:
		if math.IsInf(n, 0) || math.IsNaN(n) {
			return 0, false
		}
		r.SetFloat64(n)
	default:
		return 0, false
	}
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	i := r.Num().Int64()
	if i < math.MinInt32 || i > math.MaxInt32 {
		return 0, false
	}
	return int(i), true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ { // insertion sort: maps here are small
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
