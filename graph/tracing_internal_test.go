package graph

import (
	"context"
	"strings"
	"testing"
)

// TestRedacted: a recorded document keeps the operation's shape and
// loses every string and number literal and every comment.
func TestRedacted(t *testing.T) {
	tr := newOperationTracer()
	for _, tc := range []struct{ in, want string }{
		{`query Me($id: ID!) { user(id: $id) { id name } }`, `query Me ( $id : ID ! ) { user ( id : $id ) { id name } }`},
		{`mutation { login(email: "carol@example.com", password: """a long passphrase""") { token } } # carol's`,
			`mutation { login ( email : ? password : ? ) { token } }`},
		{`{ users(first: 50, where: {role: ADMIN, disabled: false}) { edges { node { ...F } } } } fragment F on User { id }`,
			`{ users ( first : ? where : { role : ADMIN disabled : false } ) { edges { node { ... F } } } } fragment F on User { id }`},
		{`{ a(x: -1.5e3, y: [1, 2], z: null) }`, `{ a ( x : ? y : [ ? ? ] z : null ) }`},
		{`{ a(x: "unterminated) }`, ``},
	} {
		if got := tr.redacted(context.Background(), tc.in); got != tc.want {
			t.Errorf("redacted(%q)\n got  %q\n want %q", tc.in, got, tc.want)
		}
	}
	long := "{ " + strings.Repeat("field ", 1000) + "}"
	if got := tr.redacted(context.Background(), long); len(got) != maxDocument+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("a long document: %d bytes, want %d and a trailing …", len(got), maxDocument+len("…"))
	}
}
