package usersvc

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"usersvc/jsonpatch"
)

func TestDecodeInput(t *testing.T) {
	base := `"name":"A","email":"a@example.com","country":"ES","timeZone":"UTC"`
	for _, tc := range []struct {
		name, body, field string
	}{
		{"minimal", `{` + base + `}`, ""},
		{"read-only fields ignored", `{` + base + `,"creation":"x","success":true,"apiUsage":3,"lastLogin":null}`, ""},
		{"case-folded key is unknown", `{` + base + `,"Email":"b@example.com"}`, "Email"},
		{"upper-case role is unknown", `{` + base + `,"ROLE":"admin"}`, "ROLE"},
		{"unknown field", `{` + base + `,"colour":"red"}`, "colour"},
		{"missing name", `{"email":"a@example.com","country":"ES","timeZone":"UTC"}`, "name"},
		{"null email", `{"name":"A","email":null,"country":"ES","timeZone":"UTC"}`, "email"},
		{"tags not strings", `{` + base + `,"tags":{"a":1}}`, "tags"},
		{"privileges not strings", `{` + base + `,"privileges":[1]}`, "privileges"},
		{"adminDevices fraction", `{` + base + `,"adminDevices":1.5}`, "adminDevices"},
		{"adminDevices huge", `{` + base + `,"adminDevices":1e30}`, "adminDevices"},
		{"bad time", `{` + base + `,"from":"yesterday"}`, "from"},
		{"bad role", `{` + base + `,"role":"root"}`, "role"},
		{"disabled not bool", `{` + base + `,"disabled":"yes"}`, "disabled"},
		{"not an object", `[1]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := jsonpatch.Parse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			d, err := decodeBody(v, &User{Role: RoleUser}, true)
			if err == nil {
				err = d.err
			}
			if tc.name == "minimal" || tc.name == "read-only fields ignored" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != EInvalid || e.Field != tc.field {
				t.Fatalf("got %#v, want invalid on %q", err, tc.field)
			}
		})
	}
}

func validUser() *User {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &User{ID: "usr-x", Name: "A", Email: "a@example.com", Country: "ES", TimeZone: "Europe/Madrid",
		Tags: map[string]string{}, Privileges: []string{}, Role: RoleUser, Creation: now, Modification: now, Version: 1}
}

func TestValidate(t *testing.T) {
	str := func(s string) *string { return &s }
	early, late := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		edit  func(u *User)
		field string
	}{
		{"valid", func(u *User) {}, ""},
		{"display name in email", func(u *User) { u.Email = "Alice <a@example.com>" }, "email"},
		{"two emails", func(u *User) { u.Email = "a@example.com,b@example.com" }, "email"},
		{"no at", func(u *User) { u.Email = "example.com" }, "email"},
		{"email too long", func(u *User) { u.Email = strings.Repeat("a", 250) + "@example.com" }, "email"},
		{"bad zone", func(u *User) { u.TimeZone = "Mars/Olympus" }, "timeZone"},
		{"Local zone", func(u *User) { u.TimeZone = "Local" }, "timeZone"},
		{"empty country", func(u *User) { u.Country = " " }, "country"},
		{"empty name", func(u *User) { u.Name = "" }, "name"},
		{"from after expires", func(u *User) { u.From, u.Expires = &late, &early }, "from"},
		{"negative adminDevices", func(u *User) { u.AdminDevices = -1 }, "adminDevices"},
		{"duplicate privilege", func(u *User) { u.Privileges = []string{"a", "a"} }, "privileges"},
		{"empty privilege", func(u *User) { u.Privileges = []string{""} }, "privileges"},
		{"empty tag name", func(u *User) { u.Tags = map[string]string{"": "x"} }, "tags"},
		{"long description", func(u *User) { u.Description = str(strings.Repeat("é", MaxDescriptionLen+1)) }, "description"},
		{"NUL in name", func(u *User) { u.Name = "a\x00b" }, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := validUser()
			tc.edit(u)
			err := Validate(u)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Field != tc.field || e.Code != EInvalid {
				t.Fatalf("got %v, want invalid %s", err, tc.field)
			}
		})
	}
}

// fieldWriters is who may write each field of the user document, as the
// README's table says: "self" (the user and admins), "admin" (admins
// only), "undelete" (admins, and only back to null), "read-only" (nobody).
// Written here by hand: the tests check the production table against it,
// never with it.
var fieldWriters = map[string]string{
	"name": "self", "email": "self", "country": "self", "timeZone": "self", "description": "self", "password": "self",
	"message": "admin", "tags": "admin", "group": "admin", "deviceId": "admin", "adminDevices": "admin",
	"from": "admin", "expires": "admin", "disabled": "admin", "disabledMessage": "admin", "privileges": "admin",
	"role": "admin", "dailyQuota": "admin", "userName": "admin", "scim": "admin",
	"deletedAt": "undelete",
	"id":        "read-only", "creation": "read-only", "modification": "read-only", "lastLogin": "read-only",
}

// TestFieldTableAgrees: the production field table says what fieldWriters
// says, field for field. This is the one place the tests read it.
func TestFieldTableAgrees(t *testing.T) {
	names := map[Access]string{SelfWritable: "self", AdminWritable: "admin", AdminUndelete: "undelete", ReadOnly: "read-only"}
	production := map[string]string{}
	for _, f := range fields {
		production[f.Name] = names[f.Access]
	}
	for f, want := range fieldWriters {
		if got, ok := production[f]; !ok || got != want {
			t.Errorf("%s: the production table says %q (listed: %v), the README %q", f, got, ok, want)
		}
	}
	for f, got := range production {
		if _, ok := fieldWriters[f]; !ok {
			t.Errorf("%s: in the production table (%q) but not in the README's", f, got)
		}
	}
}

func TestAuthorizeChange(t *testing.T) {
	admin := &User{ID: "adm", Role: RoleAdmin}
	self := validUser()
	for field, access := range fieldWriters {
		t.Run(field, func(t *testing.T) {
			before := validUser()
			after := before.Clone()
			pw := false
			switch field {
			case "name":
				after.Name = "B"
			case "email":
				after.Email = "b@example.com"
			case "country":
				after.Country = "FR"
			case "timeZone":
				after.TimeZone = "UTC"
			case "description":
				s := "d"
				after.Description = &s
			case "password":
				pw = true
			case "message":
				s := "m"
				after.Message = &s
			case "tags":
				after.Tags = map[string]string{"a": "b"}
			case "group":
				s := "g"
				after.Group = &s
			case "deviceId":
				s := "d"
				after.DeviceID = &s
			case "adminDevices":
				after.AdminDevices = 3
			case "from":
				tm := time.Now()
				after.From = &tm
			case "expires":
				tm := time.Now()
				after.Expires = &tm
			case "disabled":
				after.Disabled = true
			case "disabledMessage":
				s := "x"
				after.DisabledMessage = &s
			case "privileges":
				after.Privileges = []string{"p"}
			case "role":
				after.Role = RoleAdmin
			case "dailyQuota":
				q := int64(5)
				after.DailyQuota = &q
			case "userName":
				s := "bee"
				after.UserName = &s
			case "scim":
				after.SCIM = map[string]any{"title": "t"}
			case "deletedAt":
				tm := time.Now()
				before.DeletedAt = &tm
			case "id":
				after.ID = "other"
			case "creation":
				after.Creation = after.Creation.Add(time.Hour)
			case "modification":
				after.Modification = after.Modification.Add(time.Hour)
			case "lastLogin":
				tm := time.Now()
				after.LastLogin = &tm
			default:
				t.Fatalf("no test for field %q", field)
			}
			if pw { // a password change is not in the user: it decodes from a body
				v, _ := jsonpatch.Parse([]byte(`{"name":"A","email":"a@example.com","country":"ES","timeZone":"UTC","password":"new password"}`))
				for _, actor := range []*User{self, admin} {
					d, err := decodeBody(v, before, actor.IsAdmin())
					if err != nil || d.password == nil {
						t.Fatalf("decode: %v", err)
					}
					if err := authorizeFields(actor, before, &draft{u: before, password: d.password}); err != nil {
						t.Errorf("%s changing the password: %v", actor.ID, err)
					}
				}
				return
			}
			selfErr := AuthorizeChange(self, before, after)
			adminErr := AuthorizeChange(admin, before, after)
			wantSelf, wantAdmin := access == "self", access != "read-only"
			if (selfErr == nil) != wantSelf {
				t.Errorf("self: err %v, want allowed=%v", selfErr, wantSelf)
			}
			if (adminErr == nil) != wantAdmin {
				t.Errorf("admin: err %v, want allowed=%v", adminErr, wantAdmin)
			}
			if selfErr != nil && ErrorCode(selfErr) != EForbidden {
				t.Errorf("self: code %s, want forbidden", ErrorCode(selfErr))
			}
		})
	}
	// deletedAt may only go back to null.
	before, after := validUser(), validUser()
	tm := time.Now()
	after.DeletedAt = &tm
	if err := AuthorizeChange(admin, before, after); ErrorCode(err) != EInvalid {
		t.Fatalf("admin setting deletedAt: %v, want invalid", err)
	}
}

func TestNegotiateLang(t *testing.T) {
	for h, want := range map[string]string{
		"":                        "en",
		"es":                      "es",
		"es-ES,es;q=0.9":          "es",
		"en-US,en;q=0.9,es;q=0.8": "en",
		"fr, es;q=0.5":            "es",
		"de":                      "en",
		"es;q=0.2, en;q=0.8":      "en",
		"ES-mx":                   "es",
		"es;q=bogus":              "en",
	} {
		if got := NegotiateLang(h); got != want {
			t.Errorf("NegotiateLang(%q) = %q, want %q", h, got, want)
		}
	}
}

// TestCatalogComplete checks that every message the module can produce
// through Errorf or FieldErrorf (errorf and fieldErrorf in package
// jsonpatch, whose messages JSONError passes on) has a Spanish translation.
func TestCatalogComplete(t *testing.T) {
	var files []string
	_ = filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "ent" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != "." {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			files = append(files, p)
		}
		return nil
	})
	fset := token.NewFileSet()
	found := 0
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				name = fn.Name
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			}
			idx := map[string]int{"Errorf": 1, "FieldErrorf": 2, "errorf": 1, "fieldErrorf": 2, "opError": -1}[name]
			if idx <= 0 || len(call.Args) <= idx {
				return true
			}
			lit, ok := call.Args[idx].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			msg, _ := strconv.Unquote(lit.Value)
			found++
			if _, ok := spanish[msg]; !ok {
				t.Errorf("%s: no Spanish for %q", fset.Position(lit.Pos()), msg)
			}
			return true
		})
	}
	if found < 40 {
		t.Fatalf("found only %d messages; the scan is broken", found)
	}
}

func TestLookupsAreValid(t *testing.T) {
	zs := TimeZones()
	if len(zs) < 300 {
		t.Fatalf("only %d zones", len(zs))
	}
	for _, z := range zs {
		if _, err := LoadLocation(z); err != nil {
			t.Errorf("listed zone %q does not load", z)
		}
	}
	seen := map[string]bool{}
	for _, c := range Countries() {
		if len(c.Code) != 2 || c.Name == "" || seen[c.Code] {
			t.Errorf("bad country %+v", c)
		}
		seen[c.Code] = true
	}
	if len(seen) != 249 {
		t.Errorf("%d countries, want 249", len(seen))
	}
}
