package usersvc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
)

// Moving users in and out (docs/import.md). A file is NDJSON: one user a
// line, the document POST /api/users takes, plus the import-only fields
// below. Import streams it in batches: each batch is checked against the
// stored users with one read, and its new users are written with their
// history entries in one transaction; a bad line is reported and never
// rolls back a good one, and a crash loses at most the batch in flight.

// Import modes.
const (
	// ImportCreate refuses a line whose id or email exists.
	ImportCreate = "create"
	// ImportUpsert replaces an existing user's fields with the line's, as
	// PUT does (the user found by id, or by email when the line has no
	// id), and creates the others.
	ImportUpsert = "upsert"
)

// Import limits.
const (
	// MaxImportLine is the longest line read; a longer one fails alone.
	MaxImportLine = 1 << 20
	// importBatch is how many lines are checked and written together.
	importBatch = 500
)

// importOnly are the fields a line may have besides the document's: the
// id to keep, a hash instead of a password, and the server-kept times.
var importOnly = []string{"id", "passwordHash", "passwordSalt", "creation", "modification", "lastLogin", "deletedAt"}

// ImportOptions says how to import.
type ImportOptions struct {
	Mode   string // ImportCreate (the default) or ImportUpsert
	DryRun bool   // check every line and report as a real run would, writing nothing
	// Progress, when set, is called after each batch with the counts so far.
	Progress func(ImportCounts)
	// Failed, when set, is called for each failed line, in line order.
	Failed func(ImportFailure)
	// BeforeBatch, when set, is called before each batch is written; an
	// error stops the import with it (a job whose admin lost the right).
	BeforeBatch func(context.Context) error
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

// importLine is one line read and checked.
type importLine struct {
	n int64
	// u is the user the line describes, as created; its password, if the
	// line gave one in clear, is password (hashed when written).
	u        *User
	password *string
	idGiven  bool
	// doc is the line's document (without the import-only fields), decoded
	// again over the stored user in upsert mode.
	doc map[string]any
}

// Import reads NDJSON users from r (see the top of this file). It returns
// the counts, and an error only when the import could not go on (the
// input unreadable, the database failing, ctx ended); failed lines are
// counted and reported through opts.Failed. Admins only.
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions) (ImportCounts, error) {
	var counts ImportCounts
	actor, err := s.caller(ctx)
	if err != nil {
		return counts, err
	}
	if err := Authorize(actor, ActionImport, nil, s.now()); err != nil {
		return counts, err
	}
	switch opts.Mode {
	case "":
		opts.Mode = ImportCreate
	case ImportCreate, ImportUpsert:
	default:
		return counts, FieldErrorf(EInvalid, "mode", "The import mode must be %q or %q.", ImportCreate, ImportUpsert)
	}
	im := &importer{s: s, actor: actor, opts: opts, counts: &counts}
	if opts.DryRun {
		im.seenIDs, im.seenEmails = map[string]bool{}, map[string]bool{}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var batch []*importLine
	var fails []ImportFailure
	flush := func() error {
		if opts.BeforeBatch != nil && len(batch) > 0 {
			if err := opts.BeforeBatch(ctx); err != nil {
				return err
			}
		}
		err := im.batch(ctx, batch, &fails)
		slices.SortFunc(fails, func(a, b ImportFailure) int { return int(a.Line - b.Line) })
		for _, f := range fails {
			counts.Failed++
			if opts.Failed != nil {
				opts.Failed(f)
			}
		}
		batch, fails = batch[:0], fails[:0]
		if err == nil && opts.Progress != nil {
			opts.Progress(counts)
		}
		return err
	}
	for n := int64(1); ; n++ {
		line, size, tooLong, readErr := readLine(br)
		counts.Bytes += size
		if readErr != nil && readErr != io.EOF {
			return counts, Errorf(EInvalid, "Reading the input: %s", readErr.Error())
		}
		if err := ctx.Err(); err != nil {
			return counts, err
		}
		switch blank := len(bytes.TrimSpace(line)) == 0 && !tooLong; {
		case blank:
		case tooLong:
			counts.Lines++
			fails = append(fails, ImportFailure{Line: n, Code: EInvalid, Message: fmt.Sprintf("The line is longer than %d bytes.", MaxImportLine)})
		default:
			counts.Lines++
			l, err := s.parseImportLine(line, n)
			if err != nil {
				fails = append(fails, importFailure(n, err))
			} else {
				batch = append(batch, l)
			}
		}
		if len(batch)+len(fails) >= importBatch || readErr == io.EOF {
			if err := flush(); err != nil {
				return counts, err
			}
		}
		if readErr == io.EOF {
			return counts, nil
		}
	}
}

// importer is one import's state.
type importer struct {
	s      *Service
	actor  *User
	opts   ImportOptions
	counts *ImportCounts
	// seenIDs and seenEmails are the ids and email keys of earlier lines a
	// dry run would have written (a real run finds them in the database).
	seenIDs, seenEmails map[string]bool
}

var (
	errImportIDTaken    = FieldErrorf(EConflict, "id", "A user with this id already exists.")
	errImportEmailTaken = FieldErrorf(EConflict, "email", "A user with this email already exists.")
)

// batch imports checked lines: one read of the stored users they name,
// then the new users in one transaction, and (upsert) each changed user
// through the write path.
func (im *importer) batch(ctx context.Context, lines []*importLine, fails *[]ImportFailure) error {
	if len(lines) == 0 {
		return nil
	}
	s := im.s
	ids, keys := make([]string, 0, len(lines)), make([]string, 0, len(lines))
	for _, l := range lines {
		ids = append(ids, l.u.ID)
		keys = append(keys, EmailKey(l.u.Email))
	}
	foundIDs, foundEmails, err := s.store.ExistingUsers(ctx, ids, keys)
	if err != nil {
		return err
	}
	batchIDs, batchEmails := map[string]bool{}, map[string]bool{}
	fail := func(l *importLine, err error) { *fails = append(*fails, importFailure(l.n, err)) }
	var creates []*importLine
	for _, l := range lines {
		key := EmailKey(l.u.Email)
		if im.opts.Mode == ImportUpsert {
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
				changed, err := im.update(ctx, target, l)
				switch {
				case outcomeUnknown(err): // the database failed: the import cannot go on
					return err
				case err != nil:
					fail(l, err)
				case changed:
					im.counts.Updated++
				default:
					im.counts.Unchanged++
				}
				continue
			}
		}
		switch {
		case batchIDs[l.u.ID] || foundIDs[l.u.ID] || im.seenIDs[l.u.ID]:
			fail(l, errImportIDTaken)
		case batchEmails[key] || foundEmails[key] != "" || im.seenEmails[key]:
			fail(l, errImportEmailTaken)
		default:
			batchIDs[l.u.ID], batchEmails[key] = true, true
			creates = append(creates, l)
		}
	}
	if len(creates) == 0 {
		return nil
	}
	if im.opts.DryRun {
		for _, l := range creates {
			im.seenIDs[l.u.ID], im.seenEmails[EmailKey(l.u.Email)] = true, true
		}
		im.counts.Created += int64(len(creates))
		return nil
	}
	users := make([]*User, len(creates))
	entries := make([]*AuditEntry, len(creates))
	for i, l := range creates {
		if err := ctx.Err(); err != nil { // a cancelled job stops between hashes
			return err
		}
		if l.password != nil {
			if err := s.hashPassword(ctx, l.u, *l.password); err != nil {
				return err
			}
		}
		users[i] = l.u
		entries[i] = s.entry(ctx, im.actor.ID, l.u.ID, ActionImport, DiffPatch(nil, l.u, l.u.PasswordHash != ""))
	}
	inserted, err := s.store.InsertUsers(ctx, users, entries)
	if err != nil {
		return err
	}
	for i, ok := range inserted {
		if ok {
			im.counts.Created++
			s.feed.publish(users[i].ID)
		} else { // taken meanwhile, by another writer
			fail(creates[i], Errorf(EConflict, "A user with this id or email already exists."))
		}
	}
	s.store.Announce()
	return nil
}

// update replaces a stored user's fields with the line's, as PUT does
// (and its password hash, when the line has one): one write through the
// write path, which decides on the user it reads and records a history
// entry only when something changed. A dry run reads the user and makes
// the same decision (decide), writing nothing.
func (im *importer) update(ctx context.Context, id string, l *importLine) (changed bool, err error) {
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
	if !im.opts.DryRun {
		after, err := im.s.write(ctx, id, nil, ActionImport, change)
		if err != nil {
			return false, err
		}
		return after.Version != seen, nil
	}
	before, err := im.s.store.User(ctx, id, false)
	if err != nil {
		return false, err
	}
	e, err := change(im.actor, before.Clone())
	if err != nil {
		return false, err
	}
	var pw *passwordDecision
	if e.password != nil {
		pw = &passwordDecision{stored: before.PasswordHash, password: *e.password}
		if err := im.s.decidePassword(ctx, nil, pw); err != nil {
			return false, err
		}
	}
	return decide(before, e, pw, im.s.now()).after != nil, nil
}
