package usersvc

import (
	"context"
	"time"
)

// Store is what the service needs from storage, split by what it is for.
// The store package implements it on ent for SQLite and PostgreSQL.
// Not-found lookups return an *Error with ENotFound; a duplicate email on
// save returns EConflict; any other failure is an internal *Error.
type Store interface {
	Tx
	Ping(ctx context.Context) error

	UserStore
	GroupStore
	ImportStore
	ImportJobStore
	TokenStore
	UsageStore
	HistoryStore
	ChangeLog
	// FailureLog keeps the sign-in throttle's failures, for every process
	// sharing the database.
	FailureLog
}

// Tx is what a write reads and writes inside one transaction, and all
// that InTx hands its callback: the user (locked), the active admins the
// last-admin rule counts, the tokens an API key change or a key's
// sign-in touches, the save with its history entry, and an entry of its
// own. A Store is a Tx outside any transaction (each call its own).
type Tx interface {
	// InTx runs fn inside one transaction; the Tx passed to fn is bound
	// to it. fn's error rolls the transaction back. When the database
	// aborts the transaction to break a deadlock, InTx runs fn again (a
	// few times at most), so fn must only write through tx and assign.
	// Called on a Tx already in a transaction, it joins it.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// User, SaveUser and CountActiveAdmins: see UserStore.
	User(ctx context.Context, id string, forUpdate bool) (*User, error)
	SaveUser(ctx context.Context, w *UserSave) (saved bool, err error)
	CountActiveAdmins(ctx context.Context, except string, now time.Time, lock bool) (int, error)
	// TokenByHash, CreateToken, RevokeToken, RevokeSessionsOfKey: see
	// TokenStore.
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	CreateToken(ctx context.Context, t *Token) error
	RevokeToken(ctx context.Context, userID string, kind TokenKind, id int) (*Token, error)
	RevokeSessionsOfKey(ctx context.Context, userID string, apiKeyID int) error
	// AppendAudit: see HistoryStore.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// Group, SaveGroup and UsersByID: see GroupStore.
	Group(ctx context.Context, id string, forUpdate bool) (*Group, error)
	SaveGroup(ctx context.Context, w *GroupSave) (saved bool, err error)
	UsersByID(ctx context.Context, ids []string, forUpdate bool) ([]*User, error)
}

// GroupStore keeps groups and their memberships. Every read of members
// leaves out deleted users (their memberships are kept, hidden).
type GroupStore interface {
	// Group reads a group with its members (in id order), one statement;
	// forUpdate locks its row until the transaction ends. ENotFound if
	// there is none.
	Group(ctx context.Context, id string, forUpdate bool) (*Group, error)
	// Groups answers one page of q (q.Count set) in displayName order
	// (case-insensitively, then id), members included, and the number of
	// groups matching q's filter: two statements at most.
	Groups(ctx context.Context, q GroupQuery) ([]*Group, int, error)
	// GroupsOfUsers lists each user's groups in displayName order, members
	// included, in one statement.
	GroupsOfUsers(ctx context.Context, userIDs []string) (map[string][]*Group, error)
	// SaveGroup saves one decided group write (GroupSave), guarded by the
	// version it was decided on: false, with nothing written, when that
	// version moved or the group is gone. A displayName taken
	// (case-insensitively) by another group is EConflict.
	SaveGroup(ctx context.Context, w *GroupSave) (saved bool, err error)
	// UsersByID reads the users with these ids that exist, deleted ones
	// too, in id order, one statement; forUpdate locks their rows.
	UsersByID(ctx context.Context, ids []string, forUpdate bool) ([]*User, error)
}

// GroupSave is one write of a group as the service decided it
// (groupwrite.go). The users' side (history entries, roles) is written
// through the user write path in the same transaction.
type GroupSave struct {
	// Group is the group as it is to be stored (for Delete, as it was).
	Group *Group
	// Create inserts Group; Delete removes it and its memberships (hidden
	// ones too); otherwise the stored group is updated, only if its version
	// is still Version.
	Create, Delete bool
	Version        int64
	// Join and Leave are the users that become and stop being members.
	Join, Leave []string
}

// ImportStore moves users in and out in bulk.
type ImportStore interface {
	// ExistingUsers reports which of ids are users and which of the
	// sign-in keys (SignInKey) belong to one (key → id), one statement each.
	ExistingUsers(ctx context.Context, ids, emailKeys []string) (map[string]bool, map[string]string, error)
	// InsertUsers inserts new users with their history entries
	// (entries[i] is users[i]'s) in one transaction, skipping any whose id
	// or email is taken, and reports which were inserted.
	InsertUsers(ctx context.Context, users []*User, entries []*AuditEntry) ([]bool, error)
	// UsersAfter lists users, deleted ones too, in id order after afterID
	// ("" for the first), at most limit.
	UsersAfter(ctx context.Context, afterID string, limit int) ([]*User, error)
}

// UserStore reads and saves users.
type UserStore interface {
	// User loads a user, deleted or not. forUpdate locks the row until the
	// transaction ends (where the database supports row locks).
	User(ctx context.Context, id string, forUpdate bool) (*User, error)
	// UserBySignInKey finds the user whose SignInKey is key.
	UserBySignInKey(ctx context.Context, key string) (*User, error)
	// SaveUser saves one decided write (see UserSave) atomically: the
	// user, its history entry and what else the write carries. It reports
	// whether it saved: false, with nothing written, when the stored
	// version is no longer w.Version or the user is gone. It is the only
	// way a user is written.
	SaveUser(ctx context.Context, w *UserSave) (saved bool, err error)
	CountUsers(ctx context.Context) (int, error)
	// ListUsers answers one page of q and, when q.Count, the number of
	// users matching q's filter (ignoring the cursor); 0 otherwise.
	ListUsers(ctx context.Context, q ListQuery) ([]*User, int, error)
	// CountActiveAdmins counts admins that can act at now (not deleted, not
	// disabled, from ≤ now < expires, as usable says), except the user with
	// id except; lock locks their rows.
	CountActiveAdmins(ctx context.Context, except string, now time.Time, lock bool) (int, error)
}

// UserSave is one write of a user as the service decided it (write.go).
type UserSave struct {
	// User holds every field as it is to be stored.
	User *User
	// Create inserts User (its Version is its first); otherwise the stored
	// user is updated, only if its version is still Version.
	Create  bool
	Version int64
	// Entry is the change's history entry, written with it (its ID is set).
	Entry *AuditEntry
	// EndSessions revokes the user's sign-in sessions with the change.
	EndSessions bool
	// Session is a sign-in's new session, issued with the change. When its
	// APIKeyID is set it is issued only while that key is live at
	// Session.Created; otherwise SaveUser fails with ENotFound and saves
	// nothing.
	Session *Token
	// KeepSessions, with Session, is how many of the user's live sessions
	// (Session included) stay: the oldest beyond it are revoked with the
	// change. Expired tokens (a bounded number each time) are deleted
	// with it too.
	KeepSessions int
}

// TokenStore keeps bearer tokens: operator tokens, sessions, API keys.
type TokenStore interface {
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	CreateToken(ctx context.Context, t *Token) error
	TouchToken(ctx context.Context, id int, at time.Time) error
	// Tokens lists a user's tokens of one kind, newest first.
	Tokens(ctx context.Context, userID string, kind TokenKind) ([]*Token, error)
	// RevokeToken revokes one of userID's tokens of kind; ENotFound if none.
	RevokeToken(ctx context.Context, userID string, kind TokenKind, id int) (*Token, error)
	// RevokeSessionsOfKey revokes userID's sessions exchanged for the API
	// key with id apiKeyID.
	RevokeSessionsOfKey(ctx context.Context, userID string, apiKeyID int) error
}

// UsageStore keeps request counts.
type UsageStore interface {
	// UsageCounts reads userID's stored counts: all time, and on day (the
	// caller's local date, YYYY-MM-DD).
	UsageCounts(ctx context.Context, userID, day string) (Usage, error)
	// UsageCountsOf reads, in one statement, the stored counts of each
	// key's user (all time, and on the key's day), in the keys' order.
	UsageCountsOf(ctx context.Context, keys []UsageKey) ([]Usage, error)
	// AddUsages adds each delta to its user's all-time count and to the
	// count of its day, all at once (one transaction), and returns, for
	// each delta in order, both counts after (others' additions
	// included). A user's deltas on two days both add to the all-time
	// count. flushID names this set of deltas: a call with an id already
	// applied (a retry of a flush whose answer was lost) adds nothing and
	// returns the stored counts. Ids are kept a day.
	AddUsages(ctx context.Context, flushID string, deltas []UsageDelta) ([]Usage, error)
}

// UsageKey names a user's counts on a day (YYYY-MM-DD).
type UsageKey struct{ UserID, Day string }

// UsageDelta is N more requests of UserID on Day (YYYY-MM-DD).
type UsageDelta struct {
	UserID, Day string
	N           int64
}

// HistoryStore keeps users' histories.
type HistoryStore interface {
	// AppendAudit appends a history entry that comes with no change to
	// the user's fields (an API key created or revoked) and sets its ID.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// Histories lists each user's history newest first, entries with ID <
	// before (all when before is 0), at most limit a user, in one
	// statement.
	Histories(ctx context.Context, userIDs []string, before int64, limit int) (map[string][]*AuditEntry, error)
	// CountHistories counts each user's history entries in one statement.
	CountHistories(ctx context.Context, userIDs []string) (map[string]int, error)
}

// ChangeLog tells each process what other processes changed. The history
// is the log: every change that matters to a token check or a
// subscription writes a history entry in the same statement or
// transaction as the change itself, so no write sends anything at commit.
type ChangeLog interface {
	// Announce tells other processes, soon and without blocking, that
	// this one has committed changes. Announcements are coalesced (one
	// notice every few milliseconds at most) and sent outside any write
	// transaction; one that is lost only delays the news until the next
	// catch-up read.
	Announce()
	// FollowChanges reads the history entries other processes commit and
	// calls changed with each entry's user, until ctx ends. It reads
	// after each announcement it hears and several times a second
	// regardless, so a process that died between its commit and its
	// announcement is heard too. heard(at) says every change committed
	// before at has been passed to changed. changed("") says changes may
	// have been missed (more than one catch-up read holds): everything
	// must be read again. live(false) says reads fail, so changes may go
	// unheard for now; live(true) that they are followed again, and that
	// the changes made meanwhile are being passed to changed as usual.
	// A store without other processes (SQLite) returns at once.
	FollowChanges(ctx context.Context, changed func(userID string), live func(bool), heard func(at time.Time)) error
}
