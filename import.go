package usersvc

import (
	"context"
	"fmt"
)

// Moving users in (docs/import.md): the decide-and-save of imported users.
// Reading a file (NDJSON in batches), jobs, spooling and the export's
// writer are package moving's; it hands each batch of checked lines
// (ParseImportLine, importline.go) to ImportUsers, which checks them
// against the stored users with one read and writes the new ones with
// their history entries in one transaction through the store's bulk
// insert. A bad line is reported and never rolls back a good one.

// Import modes.
const (
	// ImportCreate refuses a line whose id or email exists.
	ImportCreate = "create"
	// ImportUpsert replaces an existing user's fields with the line's, as
	// PUT does (the user found by id, or by email when the line has no
	// id), and creates the others.
	ImportUpsert = "upsert"
)

// ImportOptions says how to import. Pass the same *ImportOptions to every
// batch of one import: a dry run remembers there the users its earlier
// batches would have created.
type ImportOptions struct {
	Mode   string // ImportCreate (the default) or ImportUpsert
	DryRun bool   // check every line and report as a real run would, writing nothing

	// seenIDs and seenEmails are the ids and email keys of earlier lines a
	// dry run would have written (a real run finds them in the database).
	seenIDs, seenEmails map[string]bool
}

// Check sets the default mode (ImportCreate) and refuses an unknown one.
func (o *ImportOptions) Check() error {
	switch o.Mode {
	case "":
		o.Mode = ImportCreate
	case ImportCreate, ImportUpsert:
	default:
		return FieldErrorf(EInvalid, "mode", "The import mode must be %q or %q.", ImportCreate, ImportUpsert)
	}
	return nil
}

// ImportCounts are an import's counters; they only grow.
type ImportCounts struct {
	Lines     int64 `json:"lines"`
	Created   int64 `json:"created"`
	Updated   int64 `json:"updated"`
	Unchanged int64 `json:"unchanged"`
	Failed    int64 `json:"failed"`
	// Bytes is how much of the input was read.
	Bytes int64 `json:"bytes"`
}

// String is the summary line.
func (c ImportCounts) String() string {
	return fmt.Sprintf("created %d, updated %d, unchanged %d, failed %d", c.Created, c.Updated, c.Unchanged, c.Failed)
}

// ImportFailure is a line that was not imported, and why. It never holds
// the line's password or hash.
type ImportFailure struct {
	Line    int64  `json:"line"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ImportResult is what ImportUsers did with a batch: its counts, and its
// failed lines (in no particular order).
type ImportResult struct {
	Created, Updated, Unchanged int64
	Failures                    []ImportFailure
}

var (
	errImportIDTaken    = FieldErrorf(EConflict, "id", "A user with this id already exists.")
	errImportEmailTaken = FieldErrorf(EConflict, "email", "A user with this email already exists.")
)

// ImportUsers imports one batch of checked lines as the caller, an admin:
// one read of the stored users they name, then the new users with their
// history entries in one transaction (InsertUsers), and (upsert) each
// changed user through the write path (decide, then save). An empty batch
// only checks the caller and opts (call it before reading an input). It
// returns an error only when the import cannot go on (the caller may not
// import, a bad mode, the database failing, ctx ended); the result then
// holds what the batch did before.
func (s *Service) ImportUsers(ctx context.Context, users []*ImportUser, opts *ImportOptions) (ImportResult, error) {
	var res ImportResult
	actor, err := s.caller(ctx)
	if err != nil {
		return res, err
	}
	if err := Authorize(actor, ActionImport, nil, s.now()); err != nil {
		return res, err
	}
	if err := opts.Check(); err != nil {
		return res, err
	}
	if opts.DryRun && opts.seenIDs == nil {
		opts.seenIDs, opts.seenEmails = map[string]bool{}, map[string]bool{}
	}
	if len(users) == 0 {
		return res, nil
	}
	ids, keys := make([]string, 0, len(users)), make([]string, 0, len(users))
	for _, l := range users {
		ids = append(ids, l.u.ID)
		keys = append(keys, SignInKey(l.u))
	}
	foundIDs, foundEmails, err := s.store.ExistingUsers(ctx, ids, keys)
	if err != nil {
		return res, err
	}
	batchIDs, batchEmails := map[string]bool{}, map[string]bool{}
	fail := func(l *ImportUser, err error) { res.Failures = append(res.Failures, NewImportFailure(l.n, err)) }
	var creates []*ImportUser
	for _, l := range users {
		key := SignInKey(l.u)
		if opts.Mode == ImportUpsert {
			target := ""
			switch {
			case l.idGiven && foundIDs[l.u.ID]:
				target = l.u.ID
			case !l.idGiven && foundEmails[key] != "":
				target = foundEmails[key]
			}
			if target != "" {
				if other := foundEmails[key]; other != "" && other != target {
					fail(l, errImportEmailTaken)
					continue
				}
				changed, err := s.importUpdate(ctx, actor, target, l, opts.DryRun)
				switch {
				case outcomeUnknown(err): // the database failed: the import cannot go on
					return res, err
				case err != nil:
					fail(l, err)
				case changed:
					res.Updated++
				default:
					res.Unchanged++
				}
				continue
			}
		}
		switch {
		case batchIDs[l.u.ID] || foundIDs[l.u.ID] || opts.seenIDs[l.u.ID]:
			fail(l, errImportIDTaken)
		case batchEmails[key] || foundEmails[key] != "" || opts.seenEmails[key]:
			fail(l, errImportEmailTaken)
		default:
			batchIDs[l.u.ID], batchEmails[key] = true, true
			creates = append(creates, l)
		}
	}
	if len(creates) == 0 {
		return res, nil
	}
	if opts.DryRun {
		for _, l := range creates {
			opts.seenIDs[l.u.ID], opts.seenEmails[SignInKey(l.u)] = true, true
		}
		res.Created += int64(len(creates))
		return res, nil
	}
	return s.importCreate(ctx, actor, creates, res)
}

// importCreate writes new users (their passwords hashed first, with no
// lock held) and their history entries in one transaction.
func (s *Service) importCreate(ctx context.Context, actor *User, creates []*ImportUser, res ImportResult) (ImportResult, error) {
	users := make([]*User, len(creates))
	entries := make([]*AuditEntry, len(creates))
	for i, l := range creates {
		if err := ctx.Err(); err != nil { // a cancelled job stops between hashes
			return res, err
		}
		if l.password != nil {
			if err := s.hashPassword(ctx, l.u, *l.password); err != nil {
				return res, err
			}
		}
		users[i] = l.u
		entries[i] = s.entry(ctx, actor.ID, l.u.ID, ActionImport, DiffPatch(nil, l.u, l.u.PasswordHash != ""))
	}
	inserted, err := s.store.InsertUsers(ctx, users, entries)
	if err != nil {
		return res, err
	}
	for i, ok := range inserted {
		if ok {
			res.Created++
			s.feed.publish(users[i].ID)
		} else { // taken meanwhile, by another writer
			res.Failures = append(res.Failures, NewImportFailure(creates[i].n, Errorf(EConflict, "A user with this id or email already exists.")))
		}
	}
	s.store.Announce()
	return res, nil
}

// importUpdate replaces a stored user's fields with the line's, as PUT
// does (and its password hash, when the line has one and
// takesImportedHash says so): one write through the write path, which
// decides on the user it reads and records a history entry only when
// something changed. A dry run reads the user and makes the same decision
// (decide), writing nothing.
func (s *Service) importUpdate(ctx context.Context, actor *User, id string, l *ImportUser, dryRun bool) (changed bool, err error) {
	fn := fromDraft(func(actor, before *User) (*draft, error) {
		return decodeBody(l.doc, before, true)
	})
	var seen int64 // the version the write's (last) decision was made on
	change := func(actor, before *User) (edit, error) {
		seen = before.Version
		e, err := fn(actor, before)
		if err != nil {
			return e, err
		}
		e.password = nil
		switch {
		case l.u.PasswordHash != "" && takesImportedHash(before, l.u.PasswordSource):
			e.hash = &l.u.PasswordHash
			e.after.PasswordSource = l.u.PasswordSource
		case l.password != nil && before.PasswordHash == "":
			e.password = l.password
		}
		return e, nil
	}
	if !dryRun {
		after, err := s.write(ctx, id, nil, ActionImport, change)
		if err != nil {
			return false, err
		}
		return after.Version != seen, nil
	}
	before, err := s.store.User(ctx, id, false)
	if err != nil {
		return false, err
	}
	e, err := change(actor, before.Clone())
	if err != nil {
		return false, err
	}
	var pw *passwordDecision
	if e.password != nil {
		pw = &passwordDecision{stored: before.PasswordHash, password: *e.password}
		if err := s.decidePassword(ctx, nil, pw); err != nil {
			return false, err
		}
	}
	return decide(before, e, pw, s.now()).after != nil, nil
}
