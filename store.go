package usersvc

import (
	"context"
	"time"
)

// Store is what the service needs from storage. The store package implements
// it on ent for SQLite and PostgreSQL. Not-found lookups return an *Error with
// ENotFound; a duplicate email on save returns EConflict; any other failure
// is an internal *Error.
type Store interface {
	// InTx runs fn inside one transaction; the Store passed to fn is bound
	// to it. fn's error rolls the transaction back. When the database
	// aborts the transaction to break a deadlock, InTx runs fn again (a
	// few times at most), so fn must only write through tx and assign.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// User loads a user, deleted or not. forUpdate locks the row until the
	// transaction ends (where the database supports row locks).
	User(ctx context.Context, id string, forUpdate bool) (*User, error)
	// UserByEmail finds a user by EmailKey(email).
	UserByEmail(ctx context.Context, emailKey string) (*User, error)
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser saves every field of u, including Version and Modification.
	UpdateUser(ctx context.Context, u *User) error
	// UpdateUserIfVersion saves every field of u (as UpdateUser) only if
	// the stored user's version is still version, and atomically with it
	// appends e to the history (setting e.ID) and notifies other processes
	// (as NotifyUserChanged). It reports whether it saved: false, with
	// nothing written and no notice, when the version moved or the user
	// is gone. Outside InTx it commits by itself; on PostgreSQL it is one
	// statement (one round trip), which is the write path's fast path.
	UpdateUserIfVersion(ctx context.Context, u *User, version int64, e *AuditEntry) (bool, error)
	CountUsers(ctx context.Context) (int, error)
	// ListUsers answers one page of q and, when q.Count, the number of
	// users matching q's filter (ignoring the cursor); 0 otherwise.
	ListUsers(ctx context.Context, q ListQuery) ([]*User, int, error)
	// CountActiveAdmins counts admins that can act at now (not deleted, not
	// disabled, from ≤ now < expires, as usable says), except the user with
	// id except; lock locks their rows.
	CountActiveAdmins(ctx context.Context, except string, now time.Time, lock bool) (int, error)

	TokenByHash(ctx context.Context, hash string) (*Token, error)
	CreateToken(ctx context.Context, t *Token) error
	TouchToken(ctx context.Context, id int, at time.Time) error
	// Tokens lists a user's tokens of one kind, newest first.
	Tokens(ctx context.Context, userID string, kind TokenKind) ([]*Token, error)
	// RevokeToken revokes one of userID's tokens of kind; ENotFound if none.
	RevokeToken(ctx context.Context, userID string, kind TokenKind, id int) (*Token, error)
	// RevokeTokens revokes all of userID's tokens of kind.
	RevokeTokens(ctx context.Context, userID string, kind TokenKind) error
	// RevokeSessionsOfKey revokes userID's sessions exchanged for the API
	// key with id apiKeyID.
	RevokeSessionsOfKey(ctx context.Context, userID string, apiKeyID int) error

	// UsageCounts reads userID's stored counts: all time, and on day (the
	// caller's local date, YYYY-MM-DD).
	UsageCounts(ctx context.Context, userID, day string) (Usage, error)
	// AddUsage adds n requests for userID on day, atomically to the
	// all-time and the day's count, and returns both after.
	AddUsage(ctx context.Context, userID, day string, n int64) (Usage, error)

	AppendAudit(ctx context.Context, e *AuditEntry) error
	// Audit lists userID's history newest first, entries with ID < before
	// (all when before is 0), at most limit.
	Audit(ctx context.Context, userID string, before int64, limit int) ([]*AuditEntry, error)
	// CountAudit counts userID's history entries.
	CountAudit(ctx context.Context, userID string) (int, error)

	// NotifyUserChanged tells every process sharing the database, when the
	// surrounding transaction commits, that a user or their tokens changed.
	NotifyUserChanged(ctx context.Context, userID string) error
	// ListenUserChanges calls changed for each such notice until ctx ends;
	// live(false) when notices may be missed (disconnected), live(true)
	// once they are delivered again; and, several times a second,
	// heard(sent): every notice committed before sent has been delivered
	// (a heartbeat this process sent at sent came back). A store without
	// other processes (SQLite) returns at once.
	ListenUserChanges(ctx context.Context, changed func(userID string), live func(bool), heard func(sent time.Time)) error

	Ping(ctx context.Context) error

	// FailureLog keeps the sign-in throttle's failures, for every process
	// sharing the database.
	FailureLog
}
