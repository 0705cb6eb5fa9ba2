package store_test

import (
	"context"
	"database/sql"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"golang.org/x/crypto/bcrypt"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
	"usersvc/store/migrations"
)

// The secrets of the tokens the old release's database holds.
const (
	oldAdminToken   = "usv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	oldAdminSession = "usv_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	oldAdminAPIKey  = "usk_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
	oldBobAPIKey    = "usk_DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"
	oldAdminPass    = "correct horse battery"
	baselineFile    = "20261123200532_baseline.sql"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

// rebind writes $n placeholders as SQLite's ?.
func rebind(db testenv.DB, q string) string {
	if db.Name == "sqlite" {
		return regexp.MustCompile(`\$\d+`).ReplaceAllString(q, "?")
	}
	return q
}

// openRaw opens db without migrating it.
func openRaw(t *testing.T, db testenv.DB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), db.URL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// createOldRelease builds the schema release dc3d736 made (its
// auto-migration, dumped into testdata) on db.
func createOldRelease(t *testing.T, db testenv.DB, raw *sql.DB) {
	t.Helper()
	ddl, err := os.ReadFile("testdata/release-dc3d736/" + db.Name + ".sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(string(ddl)); err != nil {
		t.Fatalf("old release's schema: %v", err)
	}
}

// fillOldRelease writes what a running old release would have stored:
// users (one disabled, one deleted), tokens of every kind, API keys,
// history and usage, with the ids its sequences hand out.
func fillOldRelease(t *testing.T, db testenv.DB, raw *sql.DB) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(oldAdminPass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(rebind(db, q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const insUser = `INSERT INTO users (id, name, email, email_key, country, time_zone, description, message, disabled,
		disabled_message, tags, privileges, user_group, device_id, admin_devices, valid_from, valid_until, creation,
		modification, last_login, password_hash, role, deleted_at, version, daily_quota)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`
	exec(insUser, "usr-admin", "Ada Admin", "Ada@Example.com", "ada@example.com", "GB", "Europe/London", "ops lead", nil, false,
		nil, `{"team":"ops","zone":"España ☀"}`, `["reports","fleet"]`, "hq", nil, 3, nil, nil, at("2026-01-02T03:04:05Z"),
		at("2026-02-03T04:05:06Z"), at("2026-03-04T05:06:07Z"), string(hash), "admin", nil, 4, 50000)
	exec(insUser, "usr-bob", "Bob", "bob@example.com", "bob@example.com", "US", "America/New_York", nil, "hello", true,
		"on leave", `{}`, `[]`, nil, "dev-9", 0, at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), at("2026-01-03T00:00:00Z"),
		at("2026-01-04T00:00:00Z"), nil, nil, "user", nil, 2, nil)
	exec(insUser, "usr-carol", "Carol", "carol@example.com", "carol@example.com", "ES", "Europe/Madrid", nil, nil, false,
		nil, `{}`, `[]`, nil, nil, 0, nil, nil, at("2026-01-05T00:00:00Z"),
		at("2026-01-06T00:00:00Z"), nil, "", "user", at("2026-01-06T00:00:00Z"), 3, nil)
	const insToken = `INSERT INTO tokens (hash, label, created_at, expires_at, last_used, revoked, kind, user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	exec(insToken, usersvc.HashToken(oldAdminToken), "cli", at("2026-01-02T03:04:05Z"), nil, nil, false, "token", "usr-admin")
	exec(insToken, usersvc.HashToken(oldAdminSession), "", at("2026-05-31T10:00:00Z"), at("2026-12-31T00:00:00Z"), at("2026-05-31T11:00:00Z"), false, "session", "usr-admin")
	exec(insToken, usersvc.HashToken(oldAdminAPIKey), "tracker", at("2026-02-01T00:00:00Z"), nil, at("2026-05-01T00:00:00Z"), false, "api_key", "usr-admin")
	exec(insToken, usersvc.HashToken(oldBobAPIKey), "old", at("2026-02-02T00:00:00Z"), nil, nil, true, "api_key", "usr-bob")
	const insUsage = `INSERT INTO usages (user_id, day, count) VALUES ($1, $2, $3)`
	exec(insUsage, "usr-admin", "total", 1234)
	exec(insUsage, "usr-admin", "2026-06-01", 17)
	exec(insUsage, "usr-bob", "total", 5)
	const insAudit = `INSERT INTO audits (user_id, at, actor, action, address, patch) VALUES ($1, $2, $3, $4, $5, $6)`
	exec(insAudit, "usr-admin", at("2026-01-02T03:04:05Z"), "system", "create", "", `[{"op":"add","path":"","value":{"name":"Ada"}}]`)
	exec(insAudit, "usr-admin", at("2026-02-03T04:05:06Z"), "usr-admin", "update", "192.0.2.7", `[{"op":"replace","path":"/name","value":"Ada Admin"}]`)
	exec(insAudit, "usr-bob", at("2026-01-04T00:00:00Z"), "usr-admin", "disable", "192.0.2.7", `[]`)
}

// withExtra is the embedded directory plus files, with atlas.sum rewritten.
// buildFiles counts this build's migration files for dialect.
func buildFiles(t *testing.T, dialect string) int {
	t.Helper()
	files, err := withExtra(t, dialect).Files()
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

func withExtra(t *testing.T, dialect string, extra ...string) migrate.Dir {
	t.Helper()
	base, err := migrations.Dir(dialect)
	if err != nil {
		t.Fatal(err)
	}
	files, err := base.Files()
	if err != nil {
		t.Fatal(err)
	}
	dir := &migrate.MemDir{}
	for i := 0; i+1 < len(extra); i += 2 {
		files = append(files, migrate.NewLocalFile(extra[i], []byte(extra[i+1])))
	}
	if err := dir.CopyFiles(files); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestUpgradeFromAutoMigratedRelease: a database created and filled by
// release dc3d736 (ent auto-migration, no revisions) gets the baseline
// recorded, not run, then later migrations; every row reads back intact
// through the Store and the Service, and new rows get fresh ids.
func TestUpgradeFromAutoMigratedRelease(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		ctx := context.Background()
		st := openRaw(t, db)
		createOldRelease(t, db, st.DB())
		fillOldRelease(t, db, st.DB())

		const later = "99990101000000_add_nickname.sql"
		dir := withExtra(t, st.Dialect(), later, "ALTER TABLE users ADD COLUMN nickname text NULL;\nCREATE INDEX user_nickname ON users (nickname);\n")
		res, err := store.ApplyDir(st, ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		embedded, _ := migrations.Dir(st.Dialect())
		files, _ := embedded.Files()
		wantApplied := []string{}
		for _, f := range files[1:] {
			wantApplied = append(wantApplied, f.Name())
		}
		wantApplied = append(wantApplied, later)
		if res.Baseline != baselineFile || !reflect.DeepEqual(res.Applied, wantApplied) || res.Version != "99990101000000" {
			t.Fatalf("result %+v, want baseline %s recorded and %v applied", res, baselineFile, wantApplied)
		}
		var executed bool
		if err := st.DB().QueryRow(rebind(db, "SELECT executed FROM schema_revisions WHERE version = $1"), "20261123200532").Scan(&executed); err != nil || executed {
			t.Fatalf("baseline revision: executed %v, err %v; want recorded, not executed", executed, err)
		}
		var nicknames int
		if err := st.DB().QueryRow("SELECT count(*) FROM users WHERE nickname IS NULL").Scan(&nicknames); err != nil || nicknames != 3 {
			t.Fatalf("the later migration's column: %d rows, err %v", nicknames, err)
		}
		// A second start finds nothing to do.
		if res, err := store.ApplyDir(st, ctx, dir); err != nil || res.Baseline != "" || len(res.Applied) != 0 || res.Version != "99990101000000" {
			t.Fatalf("second run: %+v, %v", res, err)
		}

		sys := usersvc.SystemContext(ctx)
		admin, err := st.User(sys, "usr-admin", false)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(admin.PasswordHash, "$2a$") {
			t.Fatalf("password hash %q", admin.PasswordHash)
		}
		admin.PasswordHash = ""
		wantAdmin := &usersvc.User{ID: "usr-admin", Name: "Ada Admin", Email: "Ada@Example.com", Country: "GB", TimeZone: "Europe/London",
			Description: ptr("ops lead"), Tags: map[string]string{"team": "ops", "zone": "España ☀"}, Privileges: []string{"reports", "fleet"},
			Group: ptr("hq"), AdminDevices: 3, Creation: at("2026-01-02T03:04:05Z"), Modification: at("2026-02-03T04:05:06Z"),
			LastLogin: ptr(at("2026-03-04T05:06:07Z")), Role: usersvc.RoleAdmin, Version: 4, DailyQuota: ptr(int64(50000))}
		if !reflect.DeepEqual(admin, wantAdmin) {
			t.Fatalf("admin\n got %+v\nwant %+v", admin, wantAdmin)
		}
		bob, err := st.User(sys, "usr-bob", false)
		if err != nil {
			t.Fatal(err)
		}
		wantBob := &usersvc.User{ID: "usr-bob", Name: "Bob", Email: "bob@example.com", Country: "US", TimeZone: "America/New_York",
			Message: ptr("hello"), Disabled: true, DisabledMessage: ptr("on leave"), Tags: map[string]string{}, Privileges: []string{},
			DeviceID: ptr("dev-9"), From: ptr(at("2026-01-01T00:00:00Z")), Expires: ptr(at("2027-01-01T00:00:00Z")),
			Creation: at("2026-01-03T00:00:00Z"), Modification: at("2026-01-04T00:00:00Z"), Role: usersvc.RoleUser, Version: 2}
		if !reflect.DeepEqual(bob, wantBob) {
			t.Fatalf("bob\n got %+v\nwant %+v", bob, wantBob)
		}
		live, total, err := st.ListUsers(sys, usersvc.ListQuery{Limit: 10, Count: true})
		if err != nil || total != 2 || len(live) != 2 || live[0].ID != "usr-admin" || live[1].ID != "usr-bob" {
			t.Fatalf("live users: %d, %v", total, err)
		}
		deleted, total, err := st.ListUsers(sys, usersvc.ListQuery{Limit: 10, Count: true, Filter: usersvc.UserFilter{Deleted: true}})
		if err != nil || total != 1 || deleted[0].ID != "usr-carol" || !deleted[0].DeletedAt.Equal(at("2026-01-06T00:00:00Z")) {
			t.Fatalf("deleted users: %d, %v", total, err)
		}
		if u, err := st.UserBySignInKey(sys, "ada@example.com"); err != nil || u.ID != "usr-admin" {
			t.Fatalf("by email: %v", err)
		}

		clock := &testenv.Clock{}
		clock.Set(at("2026-06-01T12:00:00Z"))
		svc := testenv.NewService(st, clock)
		page, err := svc.History(sys, "usr-admin", nil, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 2 {
			t.Fatalf("history total %d, want 2", page.TotalCount)
		}
		if len(page.Entries) != 2 || page.Entries[0].Action != "update" || page.Entries[0].Address != "192.0.2.7" ||
			!page.Entries[0].At.Equal(at("2026-02-03T04:05:06Z")) || page.Entries[1].Action != "create" ||
			!reflect.DeepEqual(page.Entries[0].Patch, []usersvc.PatchOperation{{"op": "replace", "path": "/name", "value": "Ada Admin"}}) ||
			!reflect.DeepEqual(page.Entries[1].Patch, []usersvc.PatchOperation{{"op": "add", "path": "", "value": map[string]any{"name": "Ada"}}}) {
			t.Fatalf("admin's history: %+v", page.Entries)
		}
		if u, err := st.UsageCounts(sys, "usr-admin", "2026-06-01"); err != nil || u != (usersvc.Usage{Total: 1234, Daily: 17}) {
			t.Fatalf("usage %+v, %v", u, err)
		}
		for _, secret := range []string{oldAdminToken, oldAdminSession} {
			p, err := svc.Authenticate(ctx, usersvc.Bearer(secret))
			if err != nil || p.User.ID != "usr-admin" {
				t.Fatalf("old bearer token: %v", err)
			}
		}
		// The third request counts on top of the old release's 1234 and 17,
		// under the admin's own quota of 50000.
		p, err := svc.Authenticate(ctx, usersvc.Bearer(oldAdminToken))
		if err != nil || p.Usage != (usersvc.Usage{Total: 1237, Daily: 20}) || p.Quota.Limit != 50000 {
			t.Fatalf("usage counted on the old rows: %+v, %v", p, err)
		}
		keys, err := svc.APIKeys(sys, "usr-admin")
		if err != nil || len(keys) != 1 || keys[0].ID != 3 || keys[0].Label != "tracker" || !keys[0].Creation.Equal(at("2026-02-01T00:00:00Z")) {
			t.Fatalf("admin's API keys: %+v, %v", keys, err)
		}
		if _, err := svc.LoginWithAPIKey(ctx, "ada@example.com", oldAdminAPIKey); err != nil {
			t.Fatalf("sign-in with the old API key: %v", err)
		}
		if _, err := svc.LoginWithAPIKey(ctx, "bob@example.com", oldBobAPIKey); usersvc.ErrorCode(err) != usersvc.EUnauthenticated {
			t.Fatalf("the revoked old API key signed in: %v", err)
		}
		if _, err := svc.Login(ctx, "ada@example.com", oldAdminPass); err != nil {
			t.Fatalf("sign-in with the old password: %v", err)
		}
		// The ids went on from the old rows: the two sign-ins added tokens
		// 5 and 6 and history entries 4 and 5, and saved the admin twice (version 6).
		sessions, err := st.Tokens(sys, "usr-admin", usersvc.KindSession)
		if err != nil || len(sessions) != 3 || sessions[0].ID != 6 || sessions[1].ID != 5 || sessions[2].ID != 2 {
			t.Fatalf("sessions after sign-in: %+v, %v", sessions, err)
		}
		page, err = svc.History(sys, "usr-admin", nil, nil, false)
		if err != nil || len(page.Entries) != 4 || page.TotalCount != 0 || page.Entries[0].ID != 5 || page.Entries[1].ID != 4 || page.Entries[0].Action != "login" {
			t.Fatalf("history after sign-in: %+v, %v", page, err)
		}
		if u, err := st.User(sys, "usr-admin", false); err != nil || u.Version != 6 || !u.LastLogin.Equal(at("2026-06-01T12:00:00Z")) {
			t.Fatalf("admin after sign-in: %+v, %v", u, err)
		}
	})
}
