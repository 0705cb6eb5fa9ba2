package usersvc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"sync"
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
	args, err := historyArgsOf(first, after, withTotal)
	if err != nil {
		return nil, err
	}
	if _, err := s.target(ctx, s.reads(), actor, ActionHistory, userID, false); err != nil {
		return nil, err
	}
	pages, err := s.historyPages(ctx, []string{userID}, args)
	if err != nil {
		return nil, err
	}
	return pages[userID], nil
}

// historyArgs is what a history page asks for: its size, the entries
// before a cursor (all when 0), and whether to count the whole history.
type historyArgs struct {
	n         int
	before    int64
	withTotal bool
}

func historyArgsOf(first *int64, after *string, withTotal bool) (historyArgs, error) {
	n, err := pageSize(first)
	if err != nil {
		return historyArgs{}, err
	}
	a := historyArgs{n: n, withTotal: withTotal}
	if after != nil && *after != "" {
		b, err := base64.RawURLEncoding.DecodeString(*after)
		if err == nil {
			a.before, err = strconv.ParseInt(string(b), 10, 64)
		}
		if err != nil || a.before <= 0 {
			return historyArgs{}, FieldErrorf(EInvalid, "after", "Invalid cursor.")
		}
	}
	return a, nil
}

// historyPages reads the same page of each user's history: one statement
// for the entries (and one for the counts when asked), whatever the number
// of users.
func (s *Service) historyPages(ctx context.Context, userIDs []string, a historyArgs) (map[string]*HistoryPage, error) {
	entries, err := s.reads().Histories(ctx, userIDs, a.before, a.n+1)
	if err != nil {
		return nil, err
	}
	var totals map[string]int
	if a.withTotal {
		if totals, err = s.reads().CountHistories(ctx, userIDs); err != nil {
			return nil, err
		}
	}
	pages := make(map[string]*HistoryPage, len(userIDs))
	for _, id := range userIDs {
		list := entries[id]
		page := &HistoryPage{Entries: list, TotalCount: totals[id]}
		if len(list) > a.n {
			page.Entries = list[:a.n]
			c := auditCursor(list[a.n-1])
			page.NextCursor = &c
		}
		for _, e := range page.Entries {
			page.Cursors = append(page.Cursors, auditCursor(e))
		}
		pages[id] = page
	}
	return pages, nil
}

// HistoryBatch reads the histories of a page of users together. The first
// history page asked of any of its users (for a given first, after and
// total) is read for every user of the batch the caller may see, in one
// statement, and later asks with the same arguments are answered from it:
// a GraphQL users page selecting history costs one statement per distinct
// history selection, not one per user. A batch lives as long as the
// request that listed the users; the users are as that list read them.
type HistoryBatch struct {
	s     *Service
	users map[string]*User
	mu    sync.Mutex
	loads map[historyArgs]*historyLoad
}

type historyLoad struct {
	once  sync.Once
	pages map[string]*HistoryPage
	err   error
}

// HistoryBatch starts a batch for a page of users.
func (s *Service) HistoryBatch(users []*User) *HistoryBatch {
	b := &HistoryBatch{s: s, users: make(map[string]*User, len(users)), loads: map[historyArgs]*historyLoad{}}
	for _, u := range users {
		b.users[u.ID] = u
	}
	return b
}

// History is Service.History for a user of the batch (a user who is not
// falls back to it). The same authorization applies to each user.
func (b *HistoryBatch) History(ctx context.Context, userID string, first *int64, after *string, withTotal bool) (*HistoryPage, error) {
	u := b.users[userID]
	if u == nil {
		return b.s.History(ctx, userID, first, after, withTotal)
	}
	actor, err := b.s.caller(ctx)
	if err != nil {
		return nil, err
	}
	args, err := historyArgsOf(first, after, withTotal)
	if err != nil {
		return nil, err
	}
	now := b.s.now()
	if err := Authorize(actor, ActionHistory, u, now); err != nil {
		return nil, err
	}
	b.mu.Lock()
	l := b.loads[args]
	if l == nil {
		l = &historyLoad{}
		b.loads[args] = l
	}
	b.mu.Unlock()
	l.once.Do(func() {
		var ids []string
		for id, other := range b.users {
			if Authorize(actor, ActionHistory, other, now) == nil {
				ids = append(ids, id)
			}
		}
		l.pages, l.err = b.s.historyPages(ctx, ids, args)
	})
	if l.err != nil {
		return nil, l.err
	}
	return l.pages[userID], nil
}

// PatchOperation is one operation of a recorded patch.
type PatchOperation = map[string]any

// DiffPatch is the JSON Patch taking before's document to after's: one
// replace per changed field (add of the whole document when before is nil).
// A password change appears only as "password changed".
func DiffPatch(before, after *User, passwordChanged bool) []PatchOperation {
	if before == nil {
		doc, _ := after.documentMap() // a Document always marshals
		if passwordChanged {
			doc["password"] = "password changed"
		}
		return []PatchOperation{{"op": "add", "path": "", "value": doc}}
	}
	return diffPatch(before.Document(), after.Document(), passwordChanged)
}

// diffPatch is DiffPatch between two rendered documents.
func diffPatch(before, after *Document, passwordChanged bool) []PatchOperation {
	ops := []PatchOperation{}
	for _, f := range fields {
		if v := f.value(after); !equalValues(f.value(before), v) {
			ops = append(ops, PatchOperation{"op": "replace", "path": "/" + f.Name, "value": jsonValue(v)})
		}
	}
	if passwordChanged {
		ops = append(ops, PatchOperation{"op": "replace", "path": "/password", "value": "password changed"})
	}
	return ops
}

// jsonValue is a document field's value as encoding/json reads it back
// into an any (nil, bool, float64, string, []any, map[string]any): the
// form a recorded patch has whether it was just made or read from the
// history. The field types are converted directly; anything else takes
// the round trip through JSON.
func jsonValue(v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return v
	case *string:
		if v == nil {
			return nil
		}
		return *v
	case bool:
		return v
	case Role:
		return string(v)
	case int:
		return float64(v)
	case *int64:
		if v == nil {
			return nil
		}
		return float64(*v)
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		return m
	case []string:
		l := make([]any, len(v))
		for i, s := range v {
			l[i] = s
		}
		return l
	}
	b, _ := json.Marshal(v)
	var generic any
	_ = json.Unmarshal(b, &generic)
	return generic
}
