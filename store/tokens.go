package store

import (
	"context"
	"time"

	"usersvc"
	"usersvc/ent"
	"usersvc/ent/predicate"
	"usersvc/ent/token"
)

// TokenByHash finds a token by the hash of its secret: one statement (reads.go).
func (s *Store) TokenByHash(ctx context.Context, hash string) (_ *usersvc.Token, err error) {
	defer internal(&err)
	return readOne(s, ctx, readQueriesOf[s.dialect].tokenByHash, hash, scanToken, "Invalid or expired token.")
}

func tokenToDomain(t *ent.Token) *usersvc.Token {
	return &usersvc.Token{
		ID: t.ID, UserID: t.UserID, Kind: usersvc.TokenKind(t.Kind), Label: t.Label, Hash: t.Hash,
		Created: t.CreatedAt.UTC(), Expires: utcPtr(t.ExpiresAt), LastUsed: utcPtr(t.LastUsed), Revoked: t.Revoked,
		APIKeyID: t.APIKeyID, Scope: usersvc.TokenScope(t.Scope),
	}
}

// CreateToken inserts t and sets its ID.
func (s *Store) CreateToken(ctx context.Context, t *usersvc.Token) (err error) {
	defer internal(&err)
	created, err := s.c().Token.Create().
		SetHash(t.Hash).SetLabel(t.Label).SetCreatedAt(t.Created).SetNillableExpiresAt(t.Expires).
		SetUserID(t.UserID).SetKind(token.Kind(t.Kind)).SetNillableAPIKeyID(t.APIKeyID).SetScope(string(t.Scope)).Save(ctx)
	if err != nil {
		return notFound(err, "User not found.")
	}
	t.ID = created.ID
	return nil
}

// TouchToken records a token's last use.
func (s *Store) TouchToken(ctx context.Context, id int, at time.Time) (err error) {
	defer internal(&err)
	return s.c().Token.UpdateOneID(id).SetLastUsed(at).Exec(ctx)
}

// Tokens lists a user's tokens of one kind, newest first.
func (s *Store) Tokens(ctx context.Context, userID string, kind usersvc.TokenKind) (_ []*usersvc.Token, err error) {
	defer internal(&err)
	rows, err := s.c().Token.Query().Where(token.UserID(userID), token.KindEQ(token.Kind(kind))).
		Order(ent.Desc(token.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*usersvc.Token, len(rows))
	for i, r := range rows {
		out[i] = tokenToDomain(r)
	}
	return out, nil
}

// RevokeToken revokes one live token of userID of kind.
func (s *Store) RevokeToken(ctx context.Context, userID string, kind usersvc.TokenKind, id int) (_ *usersvc.Token, err error) {
	defer internal(&err)
	where := []predicate.Token{token.ID(id), token.UserID(userID), token.KindEQ(token.Kind(kind)), token.Revoked(false)}
	n, err := s.c().Token.Update().Where(where...).SetRevoked(true).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, usersvc.Errorf(usersvc.ENotFound, "API key not found.")
	}
	t, err := s.c().Token.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return tokenToDomain(t), nil
}

// RevokeSessionsOfKey revokes userID's live sessions exchanged for the API key apiKeyID.
func (s *Store) RevokeSessionsOfKey(ctx context.Context, userID string, apiKeyID int) (err error) {
	defer internal(&err)
	_, err = s.c().Token.Update().Where(token.UserID(userID), token.KindEQ(token.KindSession),
		token.APIKeyID(apiKeyID), token.Revoked(false)).SetRevoked(true).Save(ctx)
	return err
}
