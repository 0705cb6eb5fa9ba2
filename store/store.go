// Package store implements usersvc.Store on ent, for SQLite (the embedded
// default, through the pure-Go modernc.org/sqlite driver) and PostgreSQL
// (through lib/pq).
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"    // PostgreSQL driver and LISTEN
	_ "modernc.org/sqlite" // SQLite driver, no cgo

	"usersvc"
	"usersvc/ent"
	"usersvc/ent/audit"
	"usersvc/ent/predicate"
	"usersvc/ent/token"
	"usersvc/ent/usage"
	"usersvc/ent/user"
)

// Store is the ent-backed usersvc.Store.
type Store struct {
	client  *ent.Client
	db      *sql.DB
	dialect string
	url     string // for LISTEN and heartbeats (Options.ListenURL)
	// instance tells this process's notices from other processes'.
	instance string
	// tx is set on the Store handed to InTx callbacks.
	tx *ent.Tx
}

var _ usersvc.Store = (*Store)(nil)

// IsPostgresURL reports whether url selects PostgreSQL.
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Options tune the connection pool.
type Options struct {
	// MaxOpenConns caps PostgreSQL connections (default 16). SQLite always
	// uses one connection: SQLite allows one writer at a time, and a single
	// connection turns would-be SQLITE_BUSY failures into orderly waiting.
	MaxOpenConns int
	// OnQuery, when set, is called for every statement ent runs (tests
	// count queries with it).
	OnQuery func()
	// NoPrepare turns PostgreSQL's statement cache off: every statement is
	// sent unprepared. Needed behind a pooler in transaction mode
	// (pgbouncer pool_mode=transaction), where a prepared statement may
	// not exist on the next transaction's server connection.
	NoPrepare bool
	// ListenURL, when set, is the PostgreSQL URL the change listener (and
	// its heartbeats) use instead of the main one: LISTEN needs a session
	// of its own, which a pooler in transaction mode does not keep.
	ListenURL string
}

// Open connects to the database that url names: a postgres:// or
// postgresql:// URL, or else a SQLite file path, optionally prefixed
// "sqlite:". It does not migrate; call Migrate.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	var (
		db  *sql.DB
		err error
		d   string
	)
	if IsPostgresURL(url) {
		d = dialect.Postgres
		conn, err := newConnector(url)
		if err != nil {
			return nil, fmt.Errorf("database URL: %w", err)
		}
		db = sql.OpenDB(conn)
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 16
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		db.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		d = dialect.SQLite
		path := strings.TrimPrefix(url, "sqlite:")
		if path == "" {
			return nil, errors.New("database URL: empty SQLite path")
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("database directory: %w", err)
			}
		}
		dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err = sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("database URL: %w", err)
		}
		db.SetMaxOpenConns(1)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	var drv dialect.Driver = entsql.OpenDB(d, db)
	if d == dialect.Postgres && !opts.NoPrepare {
		drv = newPreparedDriver(db)
	}
	if opts.OnQuery != nil {
		drv = dialect.DebugWithContext(drv, func(context.Context, ...any) { opts.OnQuery() })
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	listenURL := url
	if opts.ListenURL != "" {
		listenURL = opts.ListenURL
	}
	return &Store{client: ent.NewClient(ent.Driver(drv)), db: db, dialect: d, url: listenURL, instance: hex.EncodeToString(b)}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.client.Close() }

// DB returns the underlying connection pool (for operations and tests).
func (s *Store) DB() *sql.DB { return s.db }

// Dialect names the database engine ("sqlite3" or "postgres").
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) (err error) {
	defer internal(&err)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.db.PingContext(ctx)
}

func (s *Store) c() *ent.Client {
	if s.tx != nil {
		return s.tx.Client()
	}
	return s.client
}

// InTx runs fn in one transaction. Nested calls join the outer transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx usersvc.Store) error) (err error) {
	defer internal(&err)
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(&Store{client: s.client, db: s.db, dialect: s.dialect, url: s.url, instance: s.instance, tx: tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// internal turns storage and driver errors into internal domain errors at
// the storage boundary, so no transport can show their text.
func internal(err *error) { *err = usersvc.Internal(classify(*err)) }

func notFound(err error, what string) error {
	if ent.IsNotFound(err) {
		return usersvc.Errorf(usersvc.ENotFound, what)
	}
	return err
}

// User loads one user.
func (s *Store) User(ctx context.Context, id string, forUpdate bool) (_ *usersvc.User, err error) {
	defer internal(&err)
	q := s.c().User.Query().Where(user.ID(id))
	if forUpdate && s.tx != nil && s.dialect == dialect.Postgres {
		q = q.ForUpdate() // SQLite needs no row lock: its write lock is taken at BEGIN IMMEDIATE
	}
	u, err := q.Only(ctx)
	if err != nil {
		return nil, notFound(err, "User not found.")
	}
	return toDomain(u), nil
}

// CountUsers counts every user, deleted ones included.
func (s *Store) CountUsers(ctx context.Context) (_ int, err error) {
	defer internal(&err)
	return s.c().User.Query().Count(ctx)
}

func saveErr(err error) error {
	if ent.IsConstraintError(err) {
		return usersvc.FieldErrorf(usersvc.EConflict, "email", "Email already in use.")
	}
	return err
}

// CreateUser inserts u.
func (s *Store) CreateUser(ctx context.Context, u *usersvc.User) (err error) {
	defer internal(&err)
	_, err = s.c().User.Create().
		SetID(u.ID).SetName(u.Name).SetEmail(u.Email).SetEmailKey(usersvc.EmailKey(u.Email)).
		SetCountry(u.Country).SetTimeZone(u.TimeZone).
		SetNillableDescription(u.Description).SetNillableMessage(u.Message).
		SetDisabled(u.Disabled).SetNillableDisabledMessage(u.DisabledMessage).
		SetTags(u.Tags).SetPrivileges(u.Privileges).
		SetNillableGroup(u.Group).SetNillableDeviceID(u.DeviceID).SetAdminDevices(u.AdminDevices).
		SetNillableValidFrom(u.From).SetNillableValidUntil(u.Expires).
		SetCreation(u.Creation).SetModification(u.Modification).SetNillableLastLogin(u.LastLogin).
		SetPasswordHash(u.PasswordHash).SetRole(user.Role(u.Role)).SetNillableDeletedAt(u.DeletedAt).
		SetVersion(u.Version).SetNillableDailyQuota(u.DailyQuota).
		Save(ctx)
	return saveErr(err)
}

// UpdateUser writes every field of u.
func (s *Store) UpdateUser(ctx context.Context, u *usersvc.User) (err error) {
	defer internal(&err)
	// A bulk update by id is one UPDATE; UpdateOne would read the row back.
	upd := s.c().User.Update().Where(user.ID(u.ID)).
		SetName(u.Name).SetEmail(u.Email).SetEmailKey(usersvc.EmailKey(u.Email)).
		SetCountry(u.Country).SetTimeZone(u.TimeZone).
		SetDisabled(u.Disabled).SetTags(u.Tags).SetPrivileges(u.Privileges).
		SetAdminDevices(u.AdminDevices).SetModification(u.Modification).
		SetPasswordHash(u.PasswordHash).SetRole(user.Role(u.Role)).SetVersion(u.Version)
	optStr := func(v *string, set func(string) *ent.UserUpdate, clear func() *ent.UserUpdate) {
		if v != nil {
			set(*v)
		} else {
			clear()
		}
	}
	optTime := func(v *time.Time, set func(time.Time) *ent.UserUpdate, clear func() *ent.UserUpdate) {
		if v != nil {
			set(*v)
		} else {
			clear()
		}
	}
	optStr(u.Description, upd.SetDescription, upd.ClearDescription)
	optStr(u.Message, upd.SetMessage, upd.ClearMessage)
	optStr(u.DisabledMessage, upd.SetDisabledMessage, upd.ClearDisabledMessage)
	optStr(u.Group, upd.SetGroup, upd.ClearGroup)
	optStr(u.DeviceID, upd.SetDeviceID, upd.ClearDeviceID)
	optTime(u.From, upd.SetValidFrom, upd.ClearValidFrom)
	optTime(u.Expires, upd.SetValidUntil, upd.ClearValidUntil)
	optTime(u.LastLogin, upd.SetLastLogin, upd.ClearLastLogin)
	optTime(u.DeletedAt, upd.SetDeletedAt, upd.ClearDeletedAt)
	if u.DailyQuota != nil {
		upd.SetDailyQuota(*u.DailyQuota)
	} else {
		upd.ClearDailyQuota()
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return saveErr(err)
	}
	if n == 0 {
		return usersvc.Errorf(usersvc.ENotFound, "User not found.")
	}
	return nil
}

// TokenByHash finds a token by the hash of its secret.
func (s *Store) TokenByHash(ctx context.Context, hash string) (_ *usersvc.Token, err error) {
	defer internal(&err)
	t, err := s.c().Token.Query().Where(token.Hash(hash)).Only(ctx)
	if err != nil {
		return nil, notFound(err, "Invalid or expired token.")
	}
	return tokenToDomain(t), nil
}

func tokenToDomain(t *ent.Token) *usersvc.Token {
	return &usersvc.Token{
		ID: t.ID, UserID: t.UserID, Kind: usersvc.TokenKind(t.Kind), Label: t.Label, Hash: t.Hash,
		Created: t.CreatedAt.UTC(), Expires: utcPtr(t.ExpiresAt), LastUsed: utcPtr(t.LastUsed), Revoked: t.Revoked,
		APIKeyID: t.APIKeyID,
	}
}

// CreateToken inserts t and sets its ID.
func (s *Store) CreateToken(ctx context.Context, t *usersvc.Token) (err error) {
	defer internal(&err)
	created, err := s.c().Token.Create().
		SetHash(t.Hash).SetLabel(t.Label).SetCreatedAt(t.Created).SetNillableExpiresAt(t.Expires).
		SetUserID(t.UserID).SetKind(token.Kind(t.Kind)).SetNillableAPIKeyID(t.APIKeyID).Save(ctx)
	if err != nil {
		return notFound(err, "User not found.")
	}
	t.ID = created.ID
	return nil
}

// TouchToken records a token's last use.
func (s *Store) TouchToken(ctx context.Context, id int, at time.Time) (err error) {
	defer internal(&err)
	return s.c().Token.UpdateOneID(id).SetLastUsed(at).Exec(ctx)
}

// totalDay is the usage row that holds a user's all-time count.
const totalDay = "total"

// UsageCounts reads a user's stored all-time count and day's count.
func (s *Store) UsageCounts(ctx context.Context, userID, day string) (_ usersvc.Usage, err error) {
	defer internal(&err)
	rows, err := s.c().Usage.Query().Where(usage.UserID(userID), usage.DayIn(totalDay, day)).All(ctx)
	if err != nil {
		return usersvc.Usage{}, err
	}
	var u usersvc.Usage
	for _, r := range rows {
		if r.Day == totalDay {
			u.Total = r.Count
		} else {
			u.Daily = r.Count
		}
	}
	return u, nil
}

// AddUsage adds n requests for userID to the all-time row and to day's
// row, atomically, and returns both counts after.
func (s *Store) AddUsage(ctx context.Context, userID, day string, n int64) (_ usersvc.Usage, err error) {
	defer internal(&err)
	var u usersvc.Usage
	err = s.InTx(ctx, func(txs usersvc.Store) error {
		c := txs.(*Store).c()
		for _, d := range []string{totalDay, day} {
			err := c.Usage.Create().SetUserID(userID).SetDay(d).SetCount(n).
				OnConflictColumns(usage.FieldUserID, usage.FieldDay).AddCount(n).Exec(ctx)
			if err != nil {
				return err
			}
		}
		var err error
		u, err = txs.UsageCounts(ctx, userID, day)
		return err
	})
	return u, err
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

func toDomain(u *ent.User) *usersvc.User {
	tags := u.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	privs := u.Privileges
	if privs == nil {
		privs = []string{}
	}
	return &usersvc.User{
		ID: u.ID, Name: u.Name, Email: u.Email, Country: u.Country, TimeZone: u.TimeZone,
		Description: u.Description, Message: u.Message, Disabled: u.Disabled,
		DisabledMessage: u.DisabledMessage, Tags: tags, Privileges: privs,
		Group: u.Group, DeviceID: u.DeviceID, AdminDevices: u.AdminDevices,
		From: utcPtr(u.ValidFrom), Expires: utcPtr(u.ValidUntil),
		Creation: u.Creation.UTC(), Modification: u.Modification.UTC(), LastLogin: utcPtr(u.LastLogin),
		Role: usersvc.Role(u.Role), DeletedAt: utcPtr(u.DeletedAt), Version: u.Version,
		PasswordHash: u.PasswordHash, DailyQuota: u.DailyQuota,
	}
}

// UserByEmail finds a user by the lower-cased email.
func (s *Store) UserByEmail(ctx context.Context, emailKey string) (_ *usersvc.User, err error) {
	defer internal(&err)
	u, err := s.c().User.Query().Where(user.EmailKey(emailKey)).Only(ctx)
	if err != nil {
		return nil, notFound(err, "User not found.")
	}
	return toDomain(u), nil
}

// ListUsers answers one page in (creation, id) order and the filter's total:
// two queries whatever the page size.
func (s *Store) ListUsers(ctx context.Context, q usersvc.ListQuery) (_ []*usersvc.User, _ int, err error) {
	defer internal(&err)
	var preds []predicate.User
	f := q.Filter
	if f.Deleted {
		preds = append(preds, user.DeletedAtNotNil())
	} else {
		preds = append(preds, user.DeletedAtIsNil())
	}
	if f.OnlyID != "" {
		preds = append(preds, user.ID(f.OnlyID))
	}
	if f.Email != nil {
		preds = append(preds, user.EmailKey(usersvc.EmailKey(*f.Email)))
	}
	if f.Group != nil {
		preds = append(preds, user.Group(*f.Group))
	}
	if f.Role != nil {
		preds = append(preds, user.RoleEQ(user.Role(*f.Role)))
	}
	if f.Disabled != nil {
		preds = append(preds, user.Disabled(*f.Disabled))
	}
	if f.Search != nil && *f.Search != "" {
		preds = append(preds, user.Or(user.NameContainsFold(*f.Search), user.EmailKeyContains(strings.ToLower(*f.Search))))
	}
	total, err := s.c().User.Query().Where(preds...).Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	page := s.c().User.Query().Where(preds...)
	if c := q.After; c != nil {
		if q.Desc {
			page = page.Where(user.Or(user.CreationLT(c.Creation), user.And(user.CreationEQ(c.Creation), user.IDLT(c.ID))))
		} else {
			page = page.Where(user.Or(user.CreationGT(c.Creation), user.And(user.CreationEQ(c.Creation), user.IDGT(c.ID))))
		}
	}
	if q.Desc {
		page = page.Order(ent.Desc(user.FieldCreation), ent.Desc(user.FieldID))
	} else {
		page = page.Order(ent.Asc(user.FieldCreation), ent.Asc(user.FieldID))
	}
	rows, err := page.Limit(q.Limit).All(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*usersvc.User, len(rows))
	for i, r := range rows {
		out[i] = toDomain(r)
	}
	return out, total, nil
}

// CountActiveAdmins counts admins that can act at now (not deleted, not
// disabled, valid_from ≤ now < valid_until, absent bounds open), other than
// except. On PostgreSQL lock takes their row locks, so two concurrent
// demotions cannot both see the other as the remaining admin.
func (s *Store) CountActiveAdmins(ctx context.Context, except string, now time.Time, lock bool) (_ int, err error) {
	defer internal(&err)
	q := s.c().User.Query().Where(user.RoleEQ(user.RoleAdmin), user.DeletedAtIsNil(), user.Disabled(false), user.IDNEQ(except),
		user.Or(user.ValidFromIsNil(), user.ValidFromLTE(now)),
		user.Or(user.ValidUntilIsNil(), user.ValidUntilGT(now)))
	if lock && s.tx != nil && s.dialect == dialect.Postgres {
		ids, err := q.ForUpdate().IDs(ctx)
		return len(ids), err
	}
	return q.Count(ctx)
}

// Tokens lists a user's tokens of one kind, newest first.
func (s *Store) Tokens(ctx context.Context, userID string, kind usersvc.TokenKind) (_ []*usersvc.Token, err error) {
	defer internal(&err)
	rows, err := s.c().Token.Query().Where(token.UserID(userID), token.KindEQ(token.Kind(kind))).
		Order(ent.Desc(token.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*usersvc.Token, len(rows))
	for i, r := range rows {
		out[i] = tokenToDomain(r)
	}
	return out, nil
}

// RevokeToken revokes one live token of userID of kind.
func (s *Store) RevokeToken(ctx context.Context, userID string, kind usersvc.TokenKind, id int) (_ *usersvc.Token, err error) {
	defer internal(&err)
	where := []predicate.Token{token.ID(id), token.UserID(userID), token.KindEQ(token.Kind(kind)), token.Revoked(false)}
	n, err := s.c().Token.Update().Where(where...).SetRevoked(true).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, usersvc.Errorf(usersvc.ENotFound, "API key not found.")
	}
	t, err := s.c().Token.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return tokenToDomain(t), nil
}

// RevokeTokens revokes all of userID's tokens of kind.
func (s *Store) RevokeTokens(ctx context.Context, userID string, kind usersvc.TokenKind) (err error) {
	defer internal(&err)
	_, err = s.c().Token.Update().Where(token.UserID(userID), token.KindEQ(token.Kind(kind)), token.Revoked(false)).
		SetRevoked(true).Save(ctx)
	return err
}

// RevokeSessionsOfKey revokes userID's live sessions exchanged for the API key apiKeyID.
func (s *Store) RevokeSessionsOfKey(ctx context.Context, userID string, apiKeyID int) (err error) {
	defer internal(&err)
	_, err = s.c().Token.Update().Where(token.UserID(userID), token.KindEQ(token.KindSession),
		token.APIKeyID(apiKeyID), token.Revoked(false)).SetRevoked(true).Save(ctx)
	return err
}

// AppendAudit appends one history entry and sets its ID.
func (s *Store) AppendAudit(ctx context.Context, e *usersvc.AuditEntry) (err error) {
	defer internal(&err)
	a, err := s.c().Audit.Create().SetUserID(e.UserID).SetAt(e.At).SetActor(e.Actor).SetAction(e.Action).
		SetAddress(e.Address).SetPatch(e.Patch).Save(ctx)
	if err != nil {
		return err
	}
	e.ID = a.ID
	return nil
}

// Audit lists a user's history newest first.
func (s *Store) Audit(ctx context.Context, userID string, before int64, limit int) (_ []*usersvc.AuditEntry, err error) {
	defer internal(&err)
	q := s.c().Audit.Query().Where(audit.UserID(userID))
	if before > 0 {
		q = q.Where(audit.IDLT(before))
	}
	rows, err := q.Order(ent.Desc(audit.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*usersvc.AuditEntry, len(rows))
	for i, r := range rows {
		patch := r.Patch
		if patch == nil {
			patch = []map[string]any{}
		}
		out[i] = &usersvc.AuditEntry{ID: r.ID, UserID: r.UserID, At: r.At.UTC(), Actor: r.Actor,
			Action: r.Action, Address: r.Address, Patch: patch}
	}
	return out, nil
}

// CountAudit counts a user's history entries.
func (s *Store) CountAudit(ctx context.Context, userID string) (_ int, err error) {
	defer internal(&err)
	return s.c().Audit.Query().Where(audit.UserID(userID)).Count(ctx)
}

// notifyChannel carries "this user or their tokens changed" between processes.
const notifyChannel = "usersvc_user_changed"

// NotifyUserChanged sends the notice on PostgreSQL (delivered when the
// transaction commits); SQLite serves one process and needs none.
func (s *Store) NotifyUserChanged(ctx context.Context, userID string) (err error) {
	defer internal(&err)
	if s.dialect != dialect.Postgres {
		return nil
	}
	rows, err := s.c().QueryContext(ctx, "SELECT pg_notify($1, $2)", notifyChannel, s.instance+":"+userID)
	if err != nil {
		return err
	}
	return rows.Close()
}

// heartbeatEvery is how often a listener sends itself a heartbeat notice;
// the token cache needs one heard within a second (usersvc.authCache).
const heartbeatEvery = 200 * time.Millisecond

// ListenUserChanges follows other processes' notices on PostgreSQL with a
// lib/pq Listener (it reconnects by itself; live reports whether notices
// can be missed). It also sends itself a heartbeat notice every 200 ms
// through the pool and reports each one that comes back through heard:
// notices arrive in commit order, so everything committed before the
// heartbeat was sent has arrived. On SQLite it returns at once.
func (s *Store) ListenUserChanges(ctx context.Context, changed func(string), live func(bool), heard func(time.Time)) error {
	if s.dialect != dialect.Postgres {
		return nil
	}
	live(false)
	// Every read of the listener's connection is bounded (listenerIdle) and
	// the server is pinged more often than that, so a server that stops
	// answering drops the connection and the listener reconnects instead
	// of waiting for notices that cannot come.
	l := pq.NewDialListener(dialer{idle: listenerIdle}, s.url, 100*time.Millisecond, 2*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
			live(false)
		}
	})
	defer l.Close()
	if err := l.Listen(notifyChannel); err != nil {
		return fmt.Errorf("listening for user changes: %w", err)
	}
	live(true)
	beats := newHeartbeats()
	hbCtx, stopBeats := context.WithCancel(ctx)
	defer stopBeats()
	go s.sendHeartbeats(hbCtx, beats)
	ping := time.NewTicker(listenerPing)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ping.C:
			go func() { _ = l.Ping() }() // a dead connection fails its reads; the listener reconnects
		case n := <-l.Notify:
			if n == nil { // reconnected: anything sent meanwhile is lost
				live(true)
				continue
			}
			from, rest, _ := strings.Cut(n.Extra, ":")
			if kind, seq, ok := strings.Cut(rest, ":"); ok && kind == "hb" {
				if from == s.instance {
					if sent, ok := beats.sent(seq); ok {
						heard(sent)
					}
				}
				continue
			}
			if from != s.instance { // this process already updated its cache
				changed(rest)
			}
		}
	}
}

// heartbeats remembers when recent heartbeats were sent.
type heartbeats struct {
	mu   sync.Mutex
	next uint64
	at   map[uint64]time.Time
}

func newHeartbeats() *heartbeats { return &heartbeats{at: map[uint64]time.Time{}} }

// add records a heartbeat about to be sent and returns its payload part.
func (h *heartbeats) add(now time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	h.at[h.next] = now
	delete(h.at, h.next-64) // a heartbeat 64 beats old is of no use
	return strconv.FormatUint(h.next, 10)
}

func (h *heartbeats) sent(seq string) (time.Time, bool) {
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.at[n]
	return t, ok
}

// sendHeartbeats notifies this process's own listener every heartbeatEvery
// until ctx ends. A heartbeat that fails or is slow is simply not heard.
// It has a connection of its own, so a busy pool does not delay it.
func (s *Store) sendHeartbeats(ctx context.Context, beats *heartbeats) {
	conn, err := newConnector(s.url) // bounded like every other connection (conn.go)
	if err != nil {
		return // never heard: the cache is bypassed, which is safe
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(1)
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		seq := beats.add(time.Now()) // before sending: the notice commits after this time
		c, cancel := context.WithTimeout(ctx, time.Second)
		_, _ = db.ExecContext(c, "SELECT pg_notify($1, $2)", notifyChannel, s.instance+":hb:"+seq)
		cancel()
	}
}
