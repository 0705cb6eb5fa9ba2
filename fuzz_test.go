package usersvc

import (
	"testing"

	"usersvc/jsonpatch"
)

// FuzzDecodeInput: any body decodes to a draft or a clear invalid error,
// and authorizing and validating what it decoded never panics.
func FuzzDecodeInput(f *testing.F) {
	f.Add(`{"name":"A","email":"a@example.com","country":"ES","timeZone":"UTC","tags":{"a":"b"},"adminDevices":3}`)
	f.Add(`{"name":"A","name":"B"}`)
	f.Add(`{"Email":1,"from":"2026-01-01T00:00:00Z","dailyQuota":1e400}`)
	// Body shapes of many keys: unknown ones in descending order (the
	// worst case of the insertion sort that used to order them), unknown
	// beside known, and the envelope's keys.
	f.Add(`{"z9":0,"z8":0,"z7":0,"z6":0,"z5":0,"z4":0,"z3":0,"z2":0,"z1":0,"z0":0,"":0}`)
	f.Add(`{"name":"A","zz":1,"email":"a@example.com","aa":2,"success":true,"apiUsage":1}`)
	f.Add(`{"success":true,"apiUsage":1,"apiDailyUsage":2,"name":"A","email":"a@example.com","country":"ES","timeZone":"UTC"}`)
	f.Fuzz(func(t *testing.T, body string) {
		v, err := jsonpatch.Parse([]byte(body))
		if err != nil {
			if c := ErrorCode(JSONError(err)); c != EInvalid {
				t.Fatalf("jsonpatch.Parse error code %s", c)
			}
			return
		}
		for _, admin := range []bool{true, false} {
			before := &User{ID: "usr-a", Role: RoleUser}
			d, err := decodeBody(v, before, admin)
			if err != nil {
				if ErrorCode(err) != EInvalid {
					t.Fatalf("decodeBody error code %s", ErrorCode(err))
				}
				return
			}
			if err := authorizeFields(&User{ID: "usr-a", Role: map[bool]Role{true: RoleAdmin, false: RoleUser}[admin]}, before, d); err != nil {
				if c := ErrorCode(err); c != EForbidden && c != EInvalid {
					t.Fatalf("authorizeFields error code %s", c)
				}
			}
			if d.err != nil && ErrorCode(d.err) != EInvalid {
				t.Fatalf("decode error code %s", ErrorCode(d.err))
			}
			_ = Validate(d.u) // must not panic
		}
	})
}
