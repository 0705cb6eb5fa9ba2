package jsonpatch

import "testing"

// benchBodies are bodies as clients send them: a PATCH, a whole user
// document, and the same document with \u escapes and non-ASCII text
// (which the strict reader once handed to a second, slower reader).
var benchBodies = []struct{ name, body string }{
	{"patch", `[{"op":"replace","path":"/description","value":"On call this week"},{"op":"add","path":"/tags/team","value":"blue"}]`},
	{"document", `{"id":"usr-abcdefghijklmnop","name":"Alice Example","email":"alice@example.com","country":"ES","timeZone":"Europe/Madrid",` +
		`"description":"On call","message":null,"disabled":false,"disabledMessage":null,"tags":{"team":"blue","floor":"3"},` +
		`"privileges":["read","write"],"group":"ops","deviceId":null,"adminDevices":2,"from":null,"expires":null,` +
		`"creation":"2026-01-01T00:00:00Z","modification":"2026-01-01T00:00:00Z","lastLogin":null,"role":"user","dailyQuota":1000}`},
	{"escaped", `{"id":"usr-abcdefghijklmnop","name":"Jos\u00e9 Mart\u00edn","email":"jose@example.com","country":"ES","timeZone":"Europe/Madrid",` +
		`"description":"Caf\u00e9 \ud83d\ude00 \"quoted\"\n","message":"Se\u00f1or","disabled":false,"tags":{"equipo":"a\u00f1il"},` +
		`"privileges":["read"],"group":"ops","adminDevices":2,"role":"user","dailyQuota":1000}`},
}

// BenchmarkParse is the strict reader on each body.
func BenchmarkParse(b *testing.B) {
	for _, tc := range benchBodies {
		data := []byte(tc.body)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
