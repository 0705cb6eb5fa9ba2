package usersvc

import "context"

// Reads is the part of storage that the service's plain reads use: the
// reads no write decides on. Service.Reader may give them to a store other
// than the primary (a PostgreSQL standby: store.Standby); without one they
// go to the Store.
//
// What goes where (docs/deploy.md, "Reads from standbys"):
//
//   - through Reads: user lists (ListUsers), histories (History,
//     HistoryBatch, and the user they belong to), exports (ExportUsers'
//     pages), and reading a user other than the caller (User).
//   - always on the Store: token checks and everything Authenticate does,
//     the caller's own user (the token check loaded it), every read a write
//     decides on (the write path's fetch, inside its transaction), API
//     keys, groups, import reads, the export's re-check of its admin and
//     its history entry, the change-log follower and the usage meter.
//
// A Reads must never answer older than the call: every write that any
// process acknowledged before the call began must be visible to it (read
// your writes, across processes). A standby that has not yet replayed that
// far, or that keeps cancelling the read, must not answer; the Reads then
// answers from the primary. Not found is an answer, like any other.
type Reads interface {
	// User: see UserStore (forUpdate is always false here).
	User(ctx context.Context, id string, forUpdate bool) (*User, error)
	// ListUsers: see UserStore.
	ListUsers(ctx context.Context, q ListQuery) ([]*User, int, error)
	// Histories and CountHistories: see HistoryStore.
	Histories(ctx context.Context, userIDs []string, before int64, limit int) (map[string][]*AuditEntry, error)
	CountHistories(ctx context.Context, userIDs []string) (map[string]int, error)
	// UsersAfter: see ImportStore.
	UsersAfter(ctx context.Context, afterID string, limit int) ([]*User, error)
}

var _ Reads = Store(nil)

// reads is where the plain reads go: the Reader when one is set, else the
// store.
func (s *Service) reads() Reads {
	if s.Reader != nil {
		return s.Reader
	}
	return s.store
}

// userReader is what target reads a user from: a transaction (a write's
// fetch) or the Reads (a plain read).
type userReader interface {
	User(ctx context.Context, id string, forUpdate bool) (*User, error)
}
