package usersvc

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestJSONValueIsTheRoundTrip: a recorded patch's values are converted
// directly from the document's field types; each must be exactly what
// encoding/json reads back from the value's JSON, for every field, set and
// empty, or the patch of a write would differ from the same patch read
// from the history.
func TestJSONValueIsTheRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 30, 0, 123456000, time.UTC)
	s := func(v string) *string { return &v }
	quota := int64(1) << 40
	full := &User{
		ID: "usr-1", Name: "Ada", Email: "ada@example.com", Country: "ES", TimeZone: "Europe/Madrid",
		Description: s("d"), Message: s("m"), Disabled: true, DisabledMessage: s("off"),
		Tags: map[string]string{"a": "1", "b": ""}, Privileges: []string{"x", "y"},
		Group: s("g"), DeviceID: s("dev"), AdminDevices: 7, From: &at, Expires: &at,
		Creation: at, Modification: at, LastLogin: &at, Role: RoleAdmin, DeletedAt: &at, DailyQuota: &quota,
	}
	empty := &User{ID: "usr-2", Creation: at, Modification: at}
	for _, u := range []*User{full, empty} {
		doc := u.Document()
		for _, f := range fields {
			v := f.value(doc)
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var want any
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if got := jsonValue(v); !reflect.DeepEqual(got, want) {
				t.Errorf("%s of %s: %#v (%T), the round trip gives %#v (%T)", f.Name, u.ID, got, got, want, want)
			}
		}
	}
}

// TestEqualValuesIsDeepEqual: equalValues answers as reflect.DeepEqual on
// every pair of the document's value types, alike and mixed.
func TestEqualValuesIsDeepEqual(t *testing.T) {
	s := func(v string) *string { return &v }
	n := func(v int64) *int64 { return &v }
	var nilString *string
	var nilInt *int64
	values := []any{nil, "", "a", "b", s(""), s("a"), s("a"), s("b"), nilString, true, false, 0, 1, 2, int64(1),
		Role("user"), Role("admin"), "user", n(1), n(1), n(2), nilInt,
		map[string]string{}, map[string]string{"a": "1"}, map[string]string(nil), []string{}, []string{"x"}, []string(nil)}
	for i, a := range values {
		for j, b := range values {
			if got, want := equalValues(a, b), reflect.DeepEqual(a, b); got != want {
				t.Errorf("values %d and %d (%#v, %#v): %v, DeepEqual %v", i, j, a, b, got, want)
			}
		}
	}
}
