package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// User is a person (or integration) that signs in to the platform. The
// column set mirrors the public user document; see usersvc.User for rules.
type User struct {
	ent.Schema
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxLen(64).NotEmpty().Immutable(),
		field.String("name"),
		field.String("email"),
		// email_key is the sign-in key (usersvc.SignInKey): the lower-cased
		// userName when the user has one, else the lower-cased email; NULL
		// for a deleted user with a userName. Its unique index makes the
		// identifiers users sign in with unique case-insensitively, across
		// userNames and emails, on every database.
		field.String("email_key").Optional().Nillable().Unique(),
		// user_name is the name a provisioned user signs in with (SCIM's
		// userName); NULL for users never given one.
		field.String("user_name").Optional().Nillable(),
		field.String("country"),
		field.String("time_zone"),
		field.String("description").Optional().Nillable(),
		field.String("message").Optional().Nillable(),
		field.Bool("disabled").Default(false),
		field.String("disabled_message").Optional().Nillable(),
		field.JSON("tags", map[string]string{}),
		field.JSON("privileges", []string{}),
		field.String("group").StorageKey("user_group").Optional().Nillable(),
		field.String("device_id").Optional().Nillable(),
		field.Int("admin_devices").Default(0),
		field.Time("valid_from").Optional().Nillable(),
		field.Time("valid_until").Optional().Nillable(),
		field.Time("creation").Immutable(),
		field.Time("modification"),
		field.Time("last_login").Optional().Nillable(),
		field.String("password_hash").Optional().Sensitive(),
		// password_source is the digest (SHA-256, hex) of the hash the last
		// import gave this user, "" or NULL when no import gave one: a
		// re-import replaces the password only when its line's hash is new
		// (docs/import.md), never undoing an upgrade or a change made here.
		field.String("password_source").Optional().Sensitive(),
		field.Enum("role").Values("user", "admin").Default("user"),
		field.Time("deleted_at").Optional().Nillable(),
		field.Int64("version").Default(1),
		// scim holds the SCIM attributes with no column of their own
		// (usersvc.User.SCIM); NULL for none.
		field.JSON("scim", map[string]any{}).Optional(),
		// daily_quota overrides the service's default daily request quota.
		field.Int64("daily_quota").Optional().Nillable(),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tokens", Token.Type),
		edge.To("memberships", GroupMember.Type),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("creation", "id"),
	}
}

// Token is an API bearer token. Only its SHA-256 hash is stored.
type Token struct {
	ent.Schema
}

// Fields of the Token.
func (Token) Fields() []ent.Field {
	return []ent.Field{
		field.String("hash").Unique().Immutable().Sensitive(),
		field.String("label").Default(""),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("expires_at").Optional().Nillable(),
		field.Time("last_used").Optional().Nillable(),
		field.Bool("revoked").Default(false),
		field.String("user_id").Immutable(),
		// kind: "token" (an API bearer token, from the CLI), "session" (a
		// bearer token from sign-in) or "api_key" (a long-lived secret that
		// is only exchanged for a session at sign-in).
		field.Enum("kind").Values("token", "session", "api_key").Default("token").Immutable(),
		// api_key_id is, for a session, the API key it was exchanged for
		// (null for a password sign-in): revoking the key ends its sessions.
		field.Int("api_key_id").Optional().Nillable().Immutable(),
		// scope limits where a bearer token is accepted: "" everywhere a
		// token is, "scim" only on /scim/v2 (usersvc.TokenScope).
		field.String("scope").Default("").Immutable(),
	}
}

// Indexes of the Token.
func (Token) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "kind")}
}

// Edges of the Token.
func (Token) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("owner", User.Type).Ref("tokens").Field("user_id").Unique().Required().Immutable(),
	}
}

// Usage counts authenticated requests per user and day. The day is the
// caller's local date (YYYY-MM-DD); the row with day "total" is the all-time count.
type Usage struct {
	ent.Schema
}

// Fields of the Usage.
func (Usage) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id"),
		field.String("day"),
		field.Int64("count").Default(0),
	}
}

// Indexes of the Usage.
func (Usage) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "day").Unique(),
	}
}

// UsageFlush is one usage flush already applied (store.AddUsages): its id
// is written in the same transaction as the flush's counts, so a flush
// retried with the same id (its commit's answer was lost) adds nothing
// again. Rows older than a day are deleted by later flushes.
type UsageFlush struct {
	ent.Schema
}

// Fields of the UsageFlush.
func (UsageFlush) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable(),
		// at is when the flush was applied, in Unix seconds.
		field.Int64("at").Immutable(),
	}
}

// Indexes of the UsageFlush.
func (UsageFlush) Indexes() []ent.Index {
	return []ent.Index{index.Fields("at")}
}

// Audit is one entry of a user's history. Entries are only ever appended.
type Audit struct {
	ent.Schema
}

// Fields of the Audit.
func (Audit) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.String("user_id").Immutable(),
		field.Time("at").Immutable(),
		field.String("actor").Immutable(),
		field.String("action").Immutable(),
		field.String("address").Immutable(),
		// patch is the RFC 6902 patch from the old user document to the new one.
		field.JSON("patch", []map[string]any{}).Immutable(),
	}
}

// Indexes of the Audit.
func (Audit) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "id")}
}

// SigninFailure is one failed (or still running) sign-in attempt under
// one throttle key (usersvc.Throttle): shared by every process on the
// database, kept for the throttle's window.
type SigninFailure struct {
	ent.Schema
}

// Fields of the SigninFailure.
func (SigninFailure) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		// key is "pair:<account>\x1f<address>", "addr:<address>" or "acct:<account>".
		field.String("key").Immutable(),
		// at is Unix microseconds (compared as a number on both databases).
		field.Int64("at").Immutable(),
	}
}

// Indexes of the SigninFailure.
func (SigninFailure) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("key", "at"),
		index.Fields("at"),
	}
}

// ImportJob is one import started over HTTP (POST /api/users/import): a
// record of what it did, which outlives the process that ran it.
type ImportJob struct {
	ent.Schema
}

// Fields of the ImportJob.
func (ImportJob) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxLen(64).NotEmpty().Immutable(),
		field.String("admin_id").Immutable(),
		// idempotency_key is the client's Idempotency-Key: the same key from
		// the same admin returns the same job.
		field.String("idempotency_key").Optional().Nillable().Immutable(),
		field.String("mode").Immutable(),
		field.Bool("dry_run").Immutable(),
		field.Enum("status").Values("running", "completed", "failed", "cancelled"),
		field.Bool("cancel_requested").Default(false),
		field.String("reason").Default(""),
		field.Int64("lines").Default(0),
		field.Int64("created").Default(0),
		field.Int64("updated").Default(0),
		field.Int64("unchanged").Default(0),
		field.Int64("failed").Default(0),
		// bytes is how much of the body the job has read.
		field.Int64("bytes").Default(0),
		// request_digest is the SHA-256 (hex) of the body, mode and dryRun:
		// the same idempotency key with another request is refused.
		field.String("request_digest").Default("").Immutable(),
		field.Time("started_at").Immutable(),
		// heartbeat moves while a process runs the job; a running job whose
		// heartbeat stopped was interrupted.
		field.Time("heartbeat"),
		field.Time("finished_at").Optional().Nillable(),
	}
}

// Indexes of the ImportJob.
func (ImportJob) Indexes() []ent.Index {
	return []ent.Index{index.Fields("admin_id", "idempotency_key").Unique(), index.Fields("finished_at")}
}

// ImportError is one failed line of an import job.
type ImportError struct {
	ent.Schema
}

// Fields of the ImportError.
func (ImportError) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.String("job_id").Immutable(),
		field.Int64("line").Immutable(),
		field.String("field").Immutable(),
		field.String("code").Immutable(),
		field.String("message").Immutable(),
	}
}

// Indexes of the ImportError.
func (ImportError) Indexes() []ent.Index {
	return []ent.Index{index.Fields("job_id", "line")}
}
