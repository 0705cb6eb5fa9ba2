package httpauth_test

import (
	"testing"

	"usersvc"
	"usersvc/internal/httpauth"
)

func TestCredentials(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   usersvc.Credentials
	}{
		{"", usersvc.Credentials{}},
		{"   ", usersvc.Credentials{}},
		{"Bearer usv_abc", usersvc.Credentials{Scheme: "Bearer", Secret: "usv_abc"}},
		{"  bearer   usv_abc  ", usersvc.Credentials{Scheme: "bearer", Secret: "usv_abc"}},
		{"Bearer", usersvc.Credentials{Scheme: "Bearer"}},
		{"Basic dXNlcjpwYXNz", usersvc.Credentials{Scheme: "Basic", Secret: "dXNlcjpwYXNz"}},
		{"usv_abc", usersvc.Credentials{Scheme: "usv_abc"}},
	} {
		if got := httpauth.Credentials(tc.header); got != tc.want {
			t.Errorf("Credentials(%q) = %+v, want %+v", tc.header, got, tc.want)
		}
	}
}
