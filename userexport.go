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
//
// An export is a long transfer (bounded by idleness, not by time): every
// later page (after not "") reads the caller and their token again, so an
// admin demoted, disabled, expired or deleted, or whose token was revoked,
// since the export began gets no further page.
func (s *Service) ExportUsers(ctx context.Context, after string, n int, withHashes bool) ([]ExportedUser, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if after != "" {
		if actor, err = s.callerNow(ctx); err != nil {
			return nil, err
		}
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
	users, err := s.reads().UsersAfter(ctx, after, n)
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

// callerNow is the caller as stored now, for a long transfer's later
// steps: their token must still be live and they must still be usable
// (the token cache's copy, in the context, is as old as the request).
func (s *Service) callerNow(ctx context.Context) (*User, error) {
	p := PrincipalFrom(ctx)
	if p == nil || p.User == nil {
		return nil, Errorf(EUnauthenticated, "Authentication required.")
	}
	now := s.now()
	if p.Token != nil {
		t, err := s.store.TokenByHash(ctx, p.Token.Hash)
		if ErrorCode(err) == ENotFound || err == nil && !tokenLive(t, now) {
			return nil, errBadToken
		}
		if err != nil {
			return nil, err
		}
	}
	u, err := s.store.User(ctx, p.User.ID, false)
	if ErrorCode(err) == ENotFound {
		return nil, Errorf(EUnauthenticated, "Authentication required.")
	}
	if err != nil {
		return nil, err
	}
	if err := usable(u, now); err != nil {
		return nil, err
	}
	return u, nil
}
