package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"usersvc/internal/testenv"
	"usersvc/store"
)

// closedPort is a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// multiHost rewrites a one-host postgres:// URL into libpq's multi-host
// form with first in front of its host: postgres://u@first,host:port/db?...
func multiHost(t *testing.T, base, first, extra string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Host
	if u.Port() == "" {
		host += ":5432"
	}
	user := ""
	if u.User != nil {
		user = u.User.String() + "@"
	}
	q := u.RawQuery
	if extra != "" {
		if q != "" {
			q += "&"
		}
		q += extra
	}
	return "postgres://" + user + first + "," + host + u.Path + "?" + q
}

// TestMultiHostURL: a database URL whose first host refuses connections
// (a closed port) reaches the second, the real server, with
// target_session_attrs=read-write, in each spelling: libpq's multi-host
// URI, lib/pq's (?port=) and key/value. The store opens, migrates (its
// migration lock and change listener use the same URL) and writes.
func TestMultiHostURL(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	closedHost, closedPortNo, _ := net.SplitHostPort(closedPort(t))
	user := "postgres"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	for _, tc := range []struct {
		name string
		url  func(schemaURL string) string
	}{
		{"libpq", func(su string) string {
			return multiHost(t, su, closedHost+":"+closedPortNo, "target_session_attrs=read-write")
		}},
		{"lib/pq", func(su string) string {
			v, _ := url.Parse(su)
			q := v.Query()
			q.Set("port", closedPortNo+","+port)
			q.Set("target_session_attrs", "read-write")
			v.Host = closedHost + "," + host
			v.RawQuery = q.Encode()
			return v.String()
		}},
		{"key/value", func(su string) string {
			v, _ := url.Parse(su)
			return "host=" + closedHost + "," + host + " port=" + closedPortNo + "," + port + " user=" + user +
				" dbname=" + strings.TrimPrefix(v.Path, "/") + " sslmode=disable target_session_attrs=read-write search_path=" + v.Query().Get("search_path")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schemaURL := testenv.NewSchema(t, base)
			su, _ := url.Parse(schemaURL)
			dbURL := tc.url(schemaURL)
			st := testenv.OpenStore(t, testenv.DB{Name: "postgres", URL: dbURL})
			var got int
			var schema string
			if err := st.DB().QueryRow("SELECT inet_server_port(), current_schema()").Scan(&got, &schema); err != nil {
				t.Fatal(err)
			}
			if want := su.Query().Get("search_path"); schema != want {
				t.Fatalf("%s: in schema %q, want the test's %q", dbURL, schema, want)
			}
			if strconv.Itoa(got) != port {
				t.Fatalf("%s: connected to port %d, want the server's %s", dbURL, got, port)
			}
			if _, err := st.DB().Exec("CREATE TABLE multihost_probe (id int)"); err != nil {
				t.Fatalf("a write through %s: %v", dbURL, err)
			}
		})
	}
}

// TestWeakSSLModeRefused: Open refuses sslmode=prefer and allow before it
// dials, naming the modes to use instead.
func TestWeakSSLModeRefused(t *testing.T) {
	for _, mode := range []string{"prefer", "allow"} {
		_, err := store.Open(context.Background(), "postgres://"+closedPort(t)+","+closedPort(t)+"/app?sslmode="+mode, store.Options{})
		if err == nil || !strings.Contains(err.Error(), "sslmode="+mode) || !strings.Contains(err.Error(), "sslmode=disable") || !strings.Contains(err.Error(), "sslmode=require") {
			t.Fatalf("sslmode=%s: err = %v, want a refusal naming sslmode=disable and sslmode=require", mode, err)
		}
	}
	_, err := store.Open(context.Background(), "sqlite:"+t.TempDir()+"/x.db", store.Options{ListenURL: "postgres://db/app?sslmode=prefer"})
	if err != nil {
		t.Fatalf("a listen URL is PostgreSQL's only: %v", err)
	}
}

// TestAcceptedSSLModesLeaveNoBackends: with each accepted sslmode (disable,
// and require when the server has TLS), a store that held a few
// connections at once leaves none of its backends behind once closed: the
// server's pg_stat_activity counts them, by an application_name of the
// test's own, while open and after.
func TestAcceptedSSLModesLeaveNoBackends(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var ssl string
	if err := admin.QueryRow("SHOW ssl").Scan(&ssl); err != nil {
		t.Fatal(err)
	}
	modes := []string{"disable"}
	if ssl == "on" {
		modes = append(modes, "require")
	} else {
		t.Log("sslmode=require not tried: the server has ssl off")
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			b := make([]byte, 6)
			_, _ = rand.Read(b)
			app := "usersvc_test_" + hex.EncodeToString(b)
			u, err := url.Parse(base)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("sslmode", mode)
			q.Set("application_name", app)
			u.RawQuery = q.Encode()
			// Through the multi-host form, as an operator would give it.
			dbURL := multiHost(t, u.String(), closedPort(t), "target_session_attrs=read-write")
			st, err := store.Open(context.Background(), dbURL, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			const held = 3
			conns := make([]*sql.Conn, held)
			for i := range conns {
				if conns[i], err = st.DB().Conn(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := conns[i].PingContext(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			count := func() (n int, sslOn int) {
				t.Helper()
				err := admin.QueryRow(`SELECT count(*), count(*) FILTER (WHERE s.ssl)
					FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = $1`, app).Scan(&n, &sslOn)
				if err != nil {
					t.Fatal(err)
				}
				return n, sslOn
			}
			n, withSSL := count()
			if n != held {
				t.Fatalf("%d backends while %d connections are open", n, held)
			}
			if want := map[string]int{"disable": 0, "require": held}[mode]; withSSL != want {
				t.Fatalf("%d of the backends use TLS, want %d", withSSL, want)
			}
			for _, c := range conns {
				c.Close()
			}
			st.Close()
			// A backend ends when it reads the client's goodbye; bounded wait
			// for the server to notice, not a speed check.
			for range 200 {
				if n, _ = count(); n == 0 {
					break
				}
				time.Sleep(25 * time.Millisecond)
			}
			if n != 0 {
				t.Fatalf("%d backends left after the store closed", n)
			}
		})
	}
}
