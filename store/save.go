package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"entgo.io/ent/dialect"

	"usersvc"
)

// updateUserIfVersionPG is UpdateUserIfVersion on PostgreSQL: one
// statement, so one round trip and (outside a transaction) one commit.
// The update matches only the version the caller read; the history entry
// is inserted from its RETURNING rows and the notice selected from them,
// so neither happens when it matched nothing. The final SELECT references
// the notice (a plain SELECT in a WITH runs only when referenced; the
// data-modifying ones always run). The notice is sent at commit.
const updateUserIfVersionPG = `WITH saved AS (
	UPDATE users SET name = $3, email = $4, email_key = $5, country = $6, time_zone = $7,
		description = $8, message = $9, disabled = $10, disabled_message = $11, tags = $12, privileges = $13,
		user_group = $14, device_id = $15, admin_devices = $16, valid_from = $17, valid_until = $18,
		modification = $19, last_login = $20, password_hash = $21, role = $22, deleted_at = $23,
		version = $24, daily_quota = $25
	WHERE id = $1 AND version = $2
	RETURNING id
), entry AS (
	INSERT INTO audits (user_id, at, actor, action, address, patch)
	SELECT id, $26::timestamptz, $27::text, $28::text, $29::text, $30::jsonb FROM saved
	RETURNING id
), notice AS (
	SELECT pg_notify($31::text, $32::text) FROM saved
)
SELECT (SELECT id FROM entry), (SELECT count(*) FROM notice)`

// UpdateUserIfVersion saves every field of u if the stored user's version
// is still version, and with it appends e to the history (setting e.ID)
// and notifies other processes; it reports whether it saved. On
// PostgreSQL it is one statement (updateUserIfVersionPG); on SQLite a
// short transaction (SQLite has no notices to send).
func (s *Store) UpdateUserIfVersion(ctx context.Context, u *usersvc.User, version int64, e *usersvc.AuditEntry) (saved bool, err error) {
	defer internal(&err)
	if s.dialect != dialect.Postgres {
		err = s.InTx(ctx, func(txs usersvc.Store) error {
			t := txs.(*Store)
			n, err := t.updateUser(ctx, u, &version)
			if err != nil || n == 0 {
				return err
			}
			if err := t.AppendAudit(ctx, e); err != nil {
				return err
			}
			saved = true
			return t.NotifyUserChanged(ctx, u.ID)
		})
		return saved, err
	}
	tags, err := json.Marshal(u.Tags)
	if err != nil {
		return false, err
	}
	privs, err := json.Marshal(u.Privileges)
	if err != nil {
		return false, err
	}
	patch, err := json.Marshal(e.Patch)
	if err != nil {
		return false, err
	}
	rows, err := s.c().QueryContext(ctx, updateUserIfVersionPG,
		u.ID, version, u.Name, u.Email, usersvc.EmailKey(u.Email), u.Country, u.TimeZone,
		optString(u.Description), optString(u.Message), u.Disabled, optString(u.DisabledMessage), string(tags), string(privs),
		optString(u.Group), optString(u.DeviceID), u.AdminDevices, optTime(u.From), optTime(u.Expires),
		u.Modification, optTime(u.LastLogin), u.PasswordHash, string(u.Role), optTime(u.DeletedAt),
		u.Version, optInt64(u.DailyQuota),
		e.At, e.Actor, e.Action, e.Address, string(patch),
		notifyChannel, s.instance+":"+u.ID)
	if err != nil {
		return false, saveErr(err)
	}
	defer rows.Close()
	var (
		id      sql.NullInt64
		notices int64
	)
	if rows.Next() {
		if err := rows.Scan(&id, &notices); err != nil {
			return false, err
		}
	}
	if err := rows.Err(); err != nil {
		return false, saveErr(err)
	}
	if err := rows.Close(); err != nil {
		return false, saveErr(err)
	}
	if !id.Valid {
		return false, nil
	}
	e.ID = id.Int64
	return true, nil
}

func optString(v *string) any {
	if v == nil {
		return nil
	}
	return *v
}

func optTime(v *time.Time) any {
	if v == nil {
		return nil
	}
	return *v
}

func optInt64(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}
