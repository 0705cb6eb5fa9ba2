package scim

import (
	"errors"
	"testing"

	"usersvc"
)

// FuzzFilterAndPatch: no filter, attributes list or PATCH path panics,
// and each is either read or refused with an invalid-input error; a
// refused PATCH leaves the resource as it was.
func FuzzFilterAndPatch(f *testing.F) {
	for _, s := range []string{
		`userName eq "a"`, `name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`,
		`emails[type eq "work" and value co "@x"]`, `not (title pr)`, `meta.created gt 2015-10-10T14:38:21.8617979-07:00`,
		`emails[type eq "work"].value`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
		`userName eq "a\"b"`, `((`, `emails[`, `"`, `a eq "` + "\x00" + `"`, `userName sw O`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		invalid := func(err error) {
			var e *usersvc.Error
			if err != nil && (!errors.As(err, &e) || e.Code != usersvc.EInvalid) {
				t.Fatalf("%q: %v is not invalid input", s, err)
			}
		}
		_, err := readFilter(s)
		invalid(err)
		_, err = readSelection(s)
		invalid(err)
		for _, op := range []string{"add", "replace", "remove"} {
			r := resource{"userName": "u", "emails": []any{map[string]any{"value": "a@b.c", "type": "work"}}}
			err := applyPatch(r, []patchOp{{op: op, path: s, hasPath: true, value: "v"}})
			invalid(err)
			if err != nil && (r["userName"] != "u" || len(r["emails"].([]any)) != 1) {
				t.Fatalf("%q: a refused %s changed the resource: %v", s, op, r)
			}
		}
	})
}
