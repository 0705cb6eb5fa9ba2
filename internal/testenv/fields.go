package testenv

import (
	"testing"

	"usersvc"
)

// FieldWriters is who may write each field of the user document, as the
// table in docs/api.md says (TestWriteTableInDocs): "self" (the user and admins), "admin" (admins
// only), "undelete" (admins, and only back to null), "read-only" (nobody).
// Written here by hand: the tests check the production table against it,
// never with it.
var FieldWriters = map[string]string{
	"name": "self", "email": "self", "country": "self", "timeZone": "self", "description": "self", "password": "self",
	"message": "admin", "tags": "admin", "group": "admin", "deviceId": "admin", "adminDevices": "admin",
	"from": "admin", "expires": "admin", "disabled": "admin", "disabledMessage": "admin", "privileges": "admin",
	"role": "admin", "dailyQuota": "admin",
	"deletedAt": "undelete",
	"id":        "read-only", "creation": "read-only", "modification": "read-only", "lastLogin": "read-only",
}

// CheckFieldWriters fails t unless the production field table says what
// FieldWriters says (the one place the transport tests read it), and
// unless samples holds a value for exactly the writable fields.
func CheckFieldWriters[V any](t testing.TB, samples map[string]V) {
	t.Helper()
	names := map[usersvc.Access]string{usersvc.SelfWritable: "self", usersvc.AdminWritable: "admin", usersvc.AdminUndelete: "undelete", usersvc.ReadOnly: "read-only"}
	production := map[string]string{}
	for _, f := range usersvc.FieldTable() {
		production[f.Name] = names[f.Access]
	}
	for f, want := range FieldWriters {
		if got := production[f]; got != want {
			t.Errorf("%s: the production table says %q, docs/api.md %q", f, got, want)
		}
		if _, ok := samples[f]; ok == (want == "read-only") {
			t.Errorf("%s (%s): sample present = %v", f, want, ok)
		}
	}
	for f := range production {
		if _, ok := FieldWriters[f]; !ok {
			t.Errorf("%s: in the production table but not in docs/api.md", f)
		}
	}
	for f := range samples {
		if _, ok := FieldWriters[f]; !ok {
			t.Errorf("%s: a sample for a field the table does not have", f)
		}
	}
}
