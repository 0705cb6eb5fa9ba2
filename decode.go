package usersvc

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// MaxBodyBytes is the largest request body any write accepts.
const MaxBodyBytes = 1 << 20

// maxJSONDepth bounds nesting in request bodies so that a hostile body cannot
// exhaust the stack.
const maxJSONDepth = 64

// ParseJSON decodes one JSON value strictly: numbers stay json.Number (so big
// integers survive exactly), an object with a duplicated key is an error, and
// trailing data after the value is an error.
//
// Every string must be valid text as written: invalid UTF-8 or an unpaired
// surrogate escape (which Go's decoder would silently turn into U+FFFD) is
// an error naming the first key on the way to it.
func ParseJSON(data []byte) (any, error) {
	if path, bad := BadJSONText(data); bad {
		return nil, FieldErrorf(EInvalid, path[0], "Field %q must be valid text.", path[0])
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Errorf(EInvalid, "Malformed JSON body.")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, Errorf(EInvalid, "JSON body is nested too deeply.")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, Errorf(EInvalid, "Malformed JSON body.")
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, Errorf(EInvalid, "Malformed JSON body.")
				}
				k, _ := kt.(string)
				if _, dup := m[k]; dup {
					return nil, FieldErrorf(EInvalid, k, "Duplicate key %q in JSON body.", k)
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, Errorf(EInvalid, "Malformed JSON body.")
			}
			return m, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, Errorf(EInvalid, "Malformed JSON body.")
			}
			return a, nil
		}
		return nil, Errorf(EInvalid, "Malformed JSON body.")
	default:
		return t, nil
	}
}

// BadJSONText finds the first string in the JSON value data that is not
// valid text as written: bytes that are not UTF-8, or a \u escape of half
// a surrogate pair. It returns the object keys leading to it (the bad key
// itself last when the key is the bad string; a string directly inside a
// top-level array has the path [""]). JSON it cannot read is not its
// concern: it reports nothing, and the caller's decoder fails on it.
func BadJSONText(data []byte) (path []string, bad bool) {
	if utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) {
		return nil, false // the common case: nothing to look at
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object, wantKey bool
		key             string
	}
	var stack []frame
	keys := func(extra ...string) []string {
		var p []string
		for _, f := range stack {
			if f.object && !f.wantKey {
				p = append(p, f.key)
			}
		}
		p = append(p, extra...)
		if len(p) == 0 {
			p = []string{""}
		}
		return p
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].object && stack[top].wantKey
		if s, ok := tok.(string); ok && !rawTextValid(data[start:dec.InputOffset()]) {
			if isKey {
				return keys(s), true
			}
			return keys(), true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
			if top == 0 {
				return nil, false
			}
			if stack[top-1].object {
				stack[top-1].wantKey = true
			}
		default:
			switch {
			case isKey:
				stack[top].wantKey, stack[top].key = false, tok.(string)
			case top < 0:
				return nil, false
			case stack[top].object:
				stack[top].wantKey = true
			}
		}
	}
}

// rawTextValid reports whether a JSON string token as written (with what
// precedes it since the last token: whitespace, ':' or ',') is UTF-8 with
// every surrogate escape paired.
func rawTextValid(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	hex4 := func(i int) rune { // the 4 hex digits of a \u escape at raw[i-2:]
		if i+4 > len(raw) {
			return -1
		}
		n, err := strconv.ParseUint(string(raw[i:i+4]), 16, 32)
		if err != nil {
			return -1
		}
		return rune(n)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r := hex4(i + 1)
		i += 4
		switch {
		case r >= 0xD800 && r < 0xDC00: // high half: a low half must follow
			if i+2 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			if lo := hex4(i + 3); lo < 0xDC00 || lo >= 0xE000 {
				return false
			}
			i += 6
		case r >= 0xDC00 && r < 0xE000: // a low half alone
			return false
		}
	}
	return true
}

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

// ReadBody reads a request body of at most MaxBodyBytes: it stops reading
// one byte past the limit, so a larger body costs no more memory.
func ReadBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return nil, Errorf(EInvalid, "Could not read the request body.")
	}
	if len(b) > MaxBodyBytes {
		return nil, errTooLarge()
	}
	return b, nil
}

// ReadRequestBody is ReadBody for an HTTP request: a body whose declared
// Content-Length is over the limit is refused without reading any of it.
func ReadRequestBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, errTooLarge()
	}
	if r.Body == nil {
		return nil, nil
	}
	return ReadBody(r.Body)
}

func errTooLarge() error {
	return Errorf(ETooLarge, "Request body is too large (limit %d bytes).", MaxBodyBytes)
}
