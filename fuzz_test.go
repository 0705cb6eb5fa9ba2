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
