package usersvc

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"
)

// APIKey is the public record of an API key: never its secret.
type APIKey struct {
	ID       int        `json:"id"`
	Label    string     `json:"label"`
	Creation time.Time  `json:"creation"`
	LastUsed *time.Time `json:"lastUsed"`
}

func apiKeyOf(t *Token) *APIKey {
	return &APIKey{ID: t.ID, Label: t.Label, Creation: t.Created, LastUsed: t.LastUsed}
}

// CreateAPIKey makes a new API key for userID (the caller themselves, or
// anyone for an admin) and returns its secret, shown only this once.
func (s *Service) CreateAPIKey(ctx context.Context, userID, label string) (string, *APIKey, error) {
	if label == "" || utf8.RuneCountInString(label) > MaxAPIKeyLabelLen {
		return "", nil, FieldErrorf(EInvalid, "label", "An API key needs a label of 1 to %d characters.", MaxAPIKeyLabelLen)
	}
	if err := checkText("label", label, MaxAPIKeyLabelLen); err != nil {
		return "", nil, err // the text rule of every field: a NUL was a 500 on PostgreSQL
	}
	secret, err := newSecret(APIKeyPrefix)
	if err != nil {
		return "", nil, Internal(err)
	}
	t := &Token{Kind: KindAPIKey, Label: label, Hash: HashToken(secret), Created: s.now()}
	if _, err := s.tokenChange(ctx, userID, ActionAPIKeyCreate, func(tx Tx, owner string) error {
		t.UserID = owner
		return tx.CreateToken(ctx, t)
	}); err != nil {
		return "", nil, err
	}
	return secret, apiKeyOf(t), nil
}

// RevokeAPIKey revokes one of userID's API keys and the sessions that were
// exchanged for it.
func (s *Service) RevokeAPIKey(ctx context.Context, userID, keyID string) (*APIKey, error) {
	id, err := strconv.Atoi(keyID)
	if err != nil || id <= 0 {
		return nil, Errorf(ENotFound, "API key not found.")
	}
	var revoked *Token
	owner, err := s.tokenChange(ctx, userID, ActionAPIKeyRevoke, func(tx Tx, owner string) error {
		t, err := tx.RevokeToken(ctx, owner, KindAPIKey, id) // ENotFound "API key not found." when none
		if err != nil {
			return err
		}
		revoked = t
		return tx.RevokeSessionsOfKey(ctx, owner, id)
	})
	if err != nil {
		if outcomeUnknown(err) && owner != "" {
			s.committed(owner, nil) // it may have committed
		}
		return nil, err
	}
	// After the commit, so no request re-caches the old state; the key's
	// sessions ended: their subscriptions re-check now, here and (through
	// the history entry, the change log) in every other process.
	s.committed(owner, nil)
	return apiKeyOf(revoked), nil
}

// tokenChange runs a change to userID's keys (the caller's when userID is
// "") with the same visibility rule as any other access, and records it in
// the history. It locks the user's row, as a sign-in does, so a key's
// revocation and a sign-in with that key are one before the other. It
// sends no change notice itself: a new API key or operator token is in no
// cache (RevokeAPIKey sends one: it ends sessions).
func (s *Service) tokenChange(ctx context.Context, userID, action string, fn func(tx Tx, owner string) error) (owner string, err error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return "", err
	}
	if userID == "" {
		userID = actor.ID
	}
	return userID, s.store.InTx(ctx, func(tx Tx) error {
		if _, err := s.target(ctx, tx, actor, action, userID, true); err != nil {
			return err
		}
		if err := fn(tx, userID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.entry(ctx, actor.ID, userID, action, []PatchOperation{}))
	})
}

// APIKeys lists userID's (by default the caller's) live API keys, newest first.
func (s *Service) APIKeys(ctx context.Context, userID string) ([]APIKey, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if userID == "" {
		userID = actor.ID
	}
	if _, err := s.target(ctx, s.store, actor, ActionAPIKeys, userID, false); err != nil {
		return nil, err
	}
	toks, err := s.store.Tokens(ctx, userID, KindAPIKey)
	if err != nil {
		return nil, err
	}
	keys := []APIKey{}
	for _, t := range toks {
		if !t.Revoked {
			keys = append(keys, *apiKeyOf(t))
		}
	}
	return keys, nil
}

// CreateToken issues an operator API token for userID (CLI) and returns its
// secret. ttl 0 means no expiry.
func (s *Service) CreateToken(ctx context.Context, userID, label string, ttl time.Duration) (string, error) {
	return s.CreateScopedToken(ctx, userID, label, ttl, ScopeAll)
}

// CreateScopedToken is CreateToken for a token of scope (ScopeSCIM: a
// provisioning key, which only an administrator may own: mayOwn).
func (s *Service) CreateScopedToken(ctx context.Context, userID, label string, ttl time.Duration, scope TokenScope) (string, error) {
	if !scope.Valid() {
		return "", FieldErrorf(EInvalid, "scope", "A token's scope is %q or none.", string(ScopeSCIM))
	}
	if ttl < 0 {
		return "", Errorf(EInvalid, "Token lifetime must be positive.")
	}
	if err := checkText("label", label, MaxAPIKeyLabelLen); err != nil {
		return "", err
	}
	secret, err := newSecret(TokenPrefix)
	if err != nil {
		return "", Internal(err)
	}
	now := s.now()
	t := &Token{Kind: KindToken, Label: label, Hash: HashToken(secret), Created: now, Scope: scope}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.Expires = &exp
	}
	if _, err := s.tokenChange(ctx, userID, ActionTokenCreate, func(tx Tx, owner string) error {
		t.UserID = owner
		if scope != ScopeAll {
			u, err := tx.User(ctx, owner, false)
			if err != nil {
				return err
			}
			if err := mayOwn(u, scope); err != nil {
				return err
			}
		}
		return tx.CreateToken(ctx, t)
	}); err != nil {
		return "", err
	}
	return secret, nil
}
