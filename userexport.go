package usersvc

import "context"

// Moving users out (docs/import.md, "Export"): what an export line holds
// and who may export. Writing the NDJSON stream is package moving's.

// ExportedUser is one export line: the document GET answers (its password
// null, the server-kept times included) and, when asked for, the stored
// password hash. Importing it gives back the same user.
type ExportedUser struct {
	*Document
	PasswordHash string `json:"passwordHash,omitempty"`
}

// MaxExportPage is the most users one ExportUsers call returns.
const MaxExportPage = 1000

// ExportUsers returns up to n users (at most MaxExportPage), deleted ones
// too, in id order after the id after ("" for the first page), as export
// lines; withHashes adds each one's stored password hash. Admins only. The
// first page of an export with hashes (after "") records it in the
// exporting admin's history (export.withPasswordHashes) before any hash
// is given.
func (s *Service) ExportUsers(ctx context.Context, after string, n int, withHashes bool) ([]ExportedUser, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := Authorize(actor, ActionExport, nil, s.now()); err != nil {
		return nil, err
	}
	if withHashes && after == "" {
		if err := s.store.AppendAudit(ctx, s.entry(ctx, actor.ID, actor.ID, ActionExportHashes, []PatchOperation{})); err != nil {
			return nil, err
		}
	}
	n = min(max(n, 1), MaxExportPage)
	users, err := s.store.UsersAfter(ctx, after, n)
	if err != nil {
		return nil, err
	}
	lines := make([]ExportedUser, len(users))
	for i, u := range users {
		lines[i] = ExportedUser{Document: u.Document()}
		if withHashes {
			lines[i].PasswordHash = u.PasswordHash
		}
	}
	return lines, nil
}
