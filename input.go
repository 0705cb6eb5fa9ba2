package usersvc

import (
	"maps"
	"math"
	"slices"
	"time"

	"usersvc/jsonpatch"
)

// draft is a user being built from a write body (a REST body, a GraphQL
// input object, or a patched user document): the user the body describes
// over the stored one, what the body says besides the user, and the
// fields whose values did not decode.
type draft struct {
	u *User
	// id is the id the body names, if any; it must name the target.
	id *string
	// password is a new password (not yet validated); nil keeps it.
	password *string
	// errs holds each field whose value did not decode; err is the one
	// to report first (body keys in sorted order, then missing required
	// fields in document order).
	errs map[string]error
	err  error
}

// envelopeFields may appear in a write body (clients send back the answer
// they got) and are ignored, like the document's read-only fields.
var envelopeFields = map[string]bool{"success": true, "apiUsage": true, "apiDailyUsage": true}

// decodeBody applies body, a full replace, over a copy of base. Keys match
// field names exactly; a key that is no field is an error naming it, and
// so is a body that is not an object. Values that do not decode are kept
// in the draft, not returned: authorization looks at them first (see
// authorizeFields). admin says whether the writer is an admin: for the
// others, admin-only fields the body leaves out keep their values.
func decodeBody(body any, base *User, admin bool) (*draft, error) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, Errorf(EInvalid, "The user must be a JSON object.")
	}
	// Unknown fields first, the least one named (a stable answer), in one
	// pass: a body may hold tens of thousands of keys, and only the known
	// ones (a few dozen at most) are sorted.
	unknown, hasUnknown, known := "", false, make([]string, 0, len(fields))
	for k := range m {
		switch {
		case fieldNamed(k) != nil:
			known = append(known, k)
		case envelopeFields[k]:
		case !hasUnknown || k < unknown:
			unknown, hasUnknown = k, true
		}
	}
	if hasUnknown {
		return nil, FieldErrorf(EInvalid, unknown, "Unknown field %q.", unknown)
	}
	slices.Sort(known)
	d := &draft{u: base.Clone(), errs: map[string]error{}}
	for _, k := range known {
		d.decodeField(fieldNamed(k), m[k])
	}
	for _, f := range fields {
		if _, present := m[f.Name]; present || f.Access == ReadOnly {
			continue
		}
		switch {
		case f.omit == omitRequired:
			if d.errs[f.Name] == nil {
				d.fail(f.Name, FieldErrorf(EInvalid, f.Name, "Field %q is required.", f.Name))
			}
		case f.omit == omitClears && (admin || f.Access == SelfWritable):
			f.clear(d)
		}
	}
	return d, nil
}

// decodeField reads a body's value (nil for null) for field f into d.
func (d *draft) decodeField(f *Field, v any) {
	switch {
	case v != nil:
		if err := f.decode(d, v); err != nil {
			d.fail(f.Name, err)
		}
	case f.omit == omitRequired:
		d.fail(f.Name, FieldErrorf(EInvalid, f.Name, "Field %q is required.", f.Name))
	default:
		f.clear(d)
	}
}

// fail records that field's value did not decode.
func (d *draft) fail(field string, err error) {
	d.errs[field] = err
	if d.err == nil {
		d.err = err
	}
}

// asTime reads an RFC 3339 instant, kept to the service's precision.
func asTime(field string, v any) (time.Time, error) {
	switch s := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			break
		}
		return truncTime(t), nil
	case time.Time:
		return truncTime(s), nil
	}
	return time.Time{}, mustBe(field, "an RFC 3339 timestamp")
}

// asInt accepts the integer forms JSON decoders produce, within int32.
func asInt(v any) (int, bool) {
	d, ok := jsonpatch.NumberOf(v)
	if !ok {
		return 0, false
	}
	i, ok := d.Int64()
	if !ok || i < math.MinInt32 || i > math.MaxInt32 {
		return 0, false
	}
	return int(i), true
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
