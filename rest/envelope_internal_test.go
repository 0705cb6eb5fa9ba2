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
			Group: opt(), DeviceID: opt(), AdminDevices: rng.IntN(1000) - 10, From: opt(), Expires: opt(), Password: opt(),
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
