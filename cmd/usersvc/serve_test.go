package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

func countUsers(t *testing.T, url string) int {
	t.Helper()
	st, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFirstStartPortInUse: when the address is taken, serve fails before
// it creates the first admin, so no one-time token is printed and lost,
// and the next start on a free address does it.
func TestFirstStartPortInUse(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		var out, errb bytes.Buffer
		err = run(context.Background(), []string{"serve", "-database-url", db.URL, "-addr", busy.Addr().String()}, nil, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("serve on a taken address: err %v", err)
		}
		if out.Len() != 0 {
			t.Fatalf("stdout %q: nothing may be printed", out.String())
		}
		// serve creating a SQLite database says so, on one line.
		if created := strings.Count(errb.String(), "usersvc: created a new SQLite database at "); db.Name == "sqlite" && created != 1 || db.Name == "postgres" && created != 0 {
			t.Fatalf("stderr %q", errb.String())
		}
		if n := countUsers(t, db.URL); n != 0 {
			t.Fatalf("%d users after a failed start, want 0", n)
		}

		// A free address: the admin is created, its token printed once and it works.
		free := busy.Addr().String()
		busy.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stdout, w := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"serve", "-database-url", db.URL, "-addr", free, "-drain-delay", "0"}, nil, w, io.Discard)
			w.Close()
		}()
		lines := bufio.NewScanner(stdout)
		var printed []string
		for len(printed) < 2 && lines.Scan() {
			printed = append(printed, lines.Text())
		}
		if len(printed) != 2 || !strings.Contains(printed[0], usersvc.BootstrapAdminEmail) || !strings.HasPrefix(printed[1], usersvc.TokenPrefix) {
			t.Fatalf("first start printed %q (serve: %v)", printed, func() error { cancel(); return <-done }())
		}
		req, _ := http.NewRequest("GET", "http://"+free+"/graphql?query=%7Bme%7Bemail%20role%7D%7D", nil)
		req.Header.Set("Authorization", "Bearer "+printed[1])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), `"role":"ADMIN"`) {
			t.Fatalf("the printed token: %d %s", res.StatusCode, body)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve after cancel: %v", err)
		}
		if n := countUsers(t, db.URL); n != 1 {
			t.Fatalf("%d users after the first start, want 1", n)
		}
		// The one request above was counted, and its count written by the
		// last flush before serve returned.
		st, err := store.Open(context.Background(), db.URL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		page, err := usersvc.NewService(st).ListUsers(usersvc.SystemContext(context.Background()), usersvc.UserFilter{}, nil, nil, false, false)
		if err != nil || len(page.Users) != 1 {
			t.Fatalf("users: %v, %v", page, err)
		}
		if u, err := st.UsageCounts(context.Background(), page.Users[0].ID, "2000-01-01"); err != nil || u.Total != 1 {
			t.Fatalf("the admin's stored requests after serve returned: %+v, %v; want a total of 1", u, err)
		}
	})
}

// TestRecoverAdminAccess: the README's recovery steps. user list finds the
// admins (with whether each can act now) and token create issues a token.
func TestRecoverAdminAccess(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		cli := func(stdin string, args ...string) string {
			t.Helper()
			var out, errb bytes.Buffer
			if err := run(context.Background(), append(args, "-database-url", db.URL), strings.NewReader(stdin), &out, &errb); err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			return out.String()
		}
		cli("", "migrate") // commands other than serve and migrate create no database
		ann := strings.TrimSpace(cli("", "user", "create", "--name", "Ann", "--email", "Ann@Example.com", "--country", "ES", "--time-zone", "UTC", "--role", "admin"))
		bob := strings.TrimSpace(cli("", "user", "create", "--name", "Bob", "--email", "bob@example.com", "--country", "ES", "--time-zone", "UTC"))
		if got, want := cli("", "user", "list", "--role", "admin"), ann+"\tAnn@Example.com\tadmin\tactive\n"; got != want {
			t.Fatalf("user list --role admin: %q, want %q", got, want)
		}
		if got, want := cli("", "user", "list", "--email", "BOB@example.com"), bob+"\tbob@example.com\tuser\tactive\n"; got != want {
			t.Fatalf("user list --email: %q, want %q", got, want)
		}
		if got := cli("", "user", "list"); strings.Count(got, "\n") != 2 {
			t.Fatalf("user list: %q", got)
		}
		if got := cli("", "user", "list", "--deleted"); got != "" {
			t.Fatalf("user list --deleted: %q", got)
		}
		// An admin who cannot act now says why.
		cy := strings.TrimSpace(cli("", "user", "create", "--name", "Cy", "--email", "cy@example.com", "--country", "ES", "--time-zone", "UTC", "--role", "admin"))
		st, err := store.Open(context.Background(), db.URL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = usersvc.NewService(st).PatchUser(usersvc.SystemContext(context.Background()), ann,
			[]any{map[string]any{"op": "add", "path": "/expires", "value": "2020-01-01T00:00:00Z"}}, nil)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cli("", "user", "list", "--role", "admin"), ann+"\tAnn@Example.com\tadmin\texpired\n"+cy+"\tcy@example.com\tadmin\tactive\n"; got != want {
			t.Fatalf("user list --role admin: %q, want %q", got, want)
		}
		tok := strings.TrimSpace(cli("", "token", "create", "--user", cy, "--ttl", "1h"))
		if !strings.HasPrefix(tok, usersvc.TokenPrefix) {
			t.Fatalf("token %q", tok)
		}
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"user", "list", "--role", "root", "-database-url", db.URL}, nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "--role must be") {
			t.Fatalf("bad role: %v", err)
		}
	})
}
