package rest

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"usersvc"
)

// encodingJSON is what writeJSON writes for v.
func encodingJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostile are strings encoding/json escapes in every way it can.
var hostile = []string{"", "plain", `"quoted" \back\slash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
	"é€😀", "\u2028line\u2029para", "bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate bytes", "ends in half \xe2\x82"}

func TestEnvelopeMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return hostile[rng.IntN(len(hostile))] }
	opt := func() *string {
		if rng.IntN(3) == 0 {
			return nil
		}
		s := pick()
		return &s
	}
	i64 := func() *int64 {
		if rng.IntN(2) == 0 {
			return nil
		}
		n := rng.Int64() - rng.Int64()
		return &n
	}
	for i := range 500 {
		d := &usersvc.Document{
			ID: pick(), Name: pick(), Email: pick(), Country: pick(), TimeZone: pick(),
			Description: opt(), Message: opt(), Disabled: rng.IntN(2) == 0, DisabledMessage: opt(),
			Group: opt(), DeviceID: opt(), AdminDevices: rng.IntN(1000) - 10, From: opt(), Expires: opt(), // Password is nil in every Document (TestEnvelopeWritesNoPassword)
			Creation: pick(), Modification: pick(), LastLogin: opt(), Role: usersvc.Role(pick()), DeletedAt: opt(), DailyQuota: i64(),
		}
		switch rng.IntN(3) {
		case 0: // nil stays nil: null, as encoding/json writes it
		case 1:
			d.Tags, d.Privileges = map[string]string{}, []string{}
		default:
			d.Tags = map[string]string{}
			for range rng.IntN(6) {
				d.Tags[pick()+pick()] = pick()
			}
			for range rng.IntN(4) {
				d.Privileges = append(d.Privileges, pick())
			}
		}
		h := head{Success: rng.IntN(2) == 0, APIUsage: i64(), APIDailyUsage: i64()}
		if rng.IntN(4) == 0 {
			h.Error, h.Field = pick(), pick()
		}
		e := &envelope{head: h, Document: d}
		if got, want := appendEnvelope(nil, e), encodingJSON(t, e); !bytes.Equal(got, want) {
			t.Fatalf("document %d:\ngot  %s\nwant %s", i, got, want)
		}
	}
}

// TestEnvelopeWritesNoPassword: the password is write-only (the field
// table says so), so the envelope writes null for it even from a
// Document that holds one.
func TestEnvelopeWritesNoPassword(t *testing.T) {
	pw, desc := "hunter2-secret", "d"
	d := &usersvc.Document{ID: "usr-1", Name: "A", Description: &desc, Password: &pw, Role: usersvc.RoleUser}
	got := string(appendEnvelope(nil, &envelope{head: head{Success: true}, Document: d}))
	want := `{"success":true,"id":"usr-1","name":"A","email":"","userName":null,"country":"","timeZone":"","description":"d","message":null,` +
		`"disabled":false,"disabledMessage":null,"tags":null,"privileges":null,"group":null,"deviceId":null,"adminDevices":0,` +
		`"from":null,"expires":null,"password":null,"creation":"","modification":"","lastLogin":null,"role":"user",` +
		`"deletedAt":null,"dailyQuota":null,"scim":null}` + "\n"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestAppendValueOfOtherTypes: a value of a type the envelope does not
// know (a future field's) is written as encoding/json writes it, HTML
// escaping off.
func TestAppendValueOfOtherTypes(t *testing.T) {
	type label string
	for _, tc := range []struct {
		v    any
		want string
	}{
		{label("<a&b>"), `"<a&b>"`},
		{[]int{1, 2}, `[1,2]`},
		{map[string]int{"b": 1, "a": 2}, `{"a":2,"b":1}`},
		{func() {}, `null`}, // cannot be JSON: null, never a broken body
	} {
		if got := string(appendValue([]byte("x"), tc.v)); got != "x"+tc.want {
			t.Errorf("%#v: got %s, want x%s", tc.v, got, tc.want)
		}
	}
}

// FuzzJSONString: appendJSONString quotes any string as encoding/json does.
func FuzzJSONString(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		want := bytes.TrimSuffix(encodingJSON(t, s), []byte("\n"))
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}
