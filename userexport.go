package usersvc

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
)

// Export writes every user, deleted ones too, as NDJSON in id order: each
// line the document GET answers (with the server-kept times), and with
// withHashes the stored password hash as passwordHash (recorded in the
// exporting admin's history). Importing it into an empty database gives
// back the same users. It returns how many were written. Admins only.
func (s *Service) Export(ctx context.Context, w io.Writer, withHashes bool) (int64, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return 0, err
	}
	if err := Authorize(actor, ActionExport, nil, s.now()); err != nil {
		return 0, err
	}
	if withHashes {
		if err := s.store.AppendAudit(ctx, s.entry(ctx, actor.ID, actor.ID, ActionExportHashes, []PatchOperation{})); err != nil {
			return 0, err
		}
	}
	var n int64
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	after := ""
	for {
		users, err := s.store.UsersAfter(ctx, after, 1000)
		if err != nil {
			return n, err
		}
		for _, u := range users {
			line := exportLine{Document: u.Document()}
			if withHashes && u.PasswordHash != "" {
				line.PasswordHash = u.PasswordHash
			}
			if err := enc.Encode(line); err != nil {
				return n, err
			}
			n++
		}
		if len(users) < 1000 {
			return n, bw.Flush()
		}
		after = users[len(users)-1].ID
		if err := bw.Flush(); err != nil {
			return n, err
		}
	}
}

// exportLine is one exported user: the document (its password null) and
// the hash when asked for.
type exportLine struct {
	*Document
	PasswordHash string `json:"passwordHash,omitempty"`
}
