package usersvc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
)

// AuditEntry is one entry of a user's history.
type AuditEntry struct {
	ID      int64            `json:"-"`
	UserID  string           `json:"-"`
	At      time.Time        `json:"at"`
	Actor   string           `json:"actor"`
	Action  string           `json:"action"`
	Address string           `json:"address"`
	Patch   []PatchOperation `json:"patch"`
}

// entry is the history entry of a change: the one place one is made.
func (s *Service) entry(ctx context.Context, actor, userID, action string, patch []PatchOperation) *AuditEntry {
	return &AuditEntry{UserID: userID, At: s.now(), Actor: actor, Action: action, Address: ClientAddr(ctx), Patch: patch}
}

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// PageItems is how many items a page asked for with first may hold: the
// page size, or its nearest bound when first is out of range (such a
// request is refused, and costs no more than the largest page meanwhile).
// Query cost limits use it.
func PageItems(first *int64) int {
	if first == nil {
		return DefaultPageSize
	}
	return int(min(max(*first, 1), MaxPageSize))
}

func pageSize(first *int64) (int, error) {
	if first == nil {
		return DefaultPageSize, nil
	}
	if *first < 1 || *first > MaxPageSize {
		return 0, FieldErrorf(EInvalid, "first", "Page size must be between 1 and %d.", MaxPageSize)
	}
	return int(*first), nil
}

// HistoryPage is one page of a user's history, newest first.
type HistoryPage struct {
	Entries    []*AuditEntry
	NextCursor *string
	// Cursors holds each entry's cursor, for Relay edges.
	Cursors []string
	// TotalCount is the length of the whole history (0 unless asked for).
	TotalCount int
}

func auditCursor(e *AuditEntry) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(e.ID, 10)))
}

// History lists what was done to a user, newest first. Admins and the user
// themselves may read it.
//
// withTotal asks for TotalCount too (one more query: GraphQL asks when
// totalCount is selected; REST never shows it).
func (s *Service) History(ctx context.Context, userID string, first *int64, after *string, withTotal bool) (*HistoryPage, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	n, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	var before int64
	if after != nil && *after != "" {
		b, err := base64.RawURLEncoding.DecodeString(*after)
		if err == nil {
			before, err = strconv.ParseInt(string(b), 10, 64)
		}
		if err != nil || before <= 0 {
			return nil, FieldErrorf(EInvalid, "after", "Invalid cursor.")
		}
	}
	if _, err := s.target(ctx, s.Store, actor, ActionHistory, userID, false); err != nil {
		return nil, err
	}
	entries, err := s.Store.Audit(ctx, userID, before, n+1)
	if err != nil {
		return nil, err
	}
	page := &HistoryPage{Entries: entries}
	if withTotal {
		if page.TotalCount, err = s.Store.CountAudit(ctx, userID); err != nil {
			return nil, err
		}
	}
	if len(entries) > n {
		page.Entries = entries[:n]
		c := auditCursor(entries[n-1])
		page.NextCursor = &c
	}
	for _, e := range page.Entries {
		page.Cursors = append(page.Cursors, auditCursor(e))
	}
	return page, nil
}

// PatchOperation is one operation of a recorded patch.
type PatchOperation = map[string]any

// DiffPatch is the JSON Patch taking before's document to after's: one
// replace per changed field (add of the whole document when before is nil).
// A password change appears only as "password changed".
func DiffPatch(before, after *User, passwordChanged bool) []PatchOperation {
	ops := []PatchOperation{}
	if before == nil {
		doc, _ := after.documentMap() // a Document always marshals
		if passwordChanged {
			doc["password"] = "password changed"
		}
		return append(ops, PatchOperation{"op": "add", "path": "", "value": doc})
	}
	doc := after.Document()
	for _, f := range ChangedFields(before, after) {
		v, _ := json.Marshal(FieldNamed(f).value(doc))
		var generic any
		_ = json.Unmarshal(v, &generic)
		ops = append(ops, PatchOperation{"op": "replace", "path": "/" + f, "value": generic})
	}
	if passwordChanged {
		ops = append(ops, PatchOperation{"op": "replace", "path": "/password", "value": "password changed"})
	}
	return ops
}
