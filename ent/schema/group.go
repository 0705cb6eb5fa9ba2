package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Group is a named set of users, as identity providers provision them
// (SCIM 2.0); see usersvc.Group for the rules.
type Group struct {
	ent.Schema
}

// Annotations of the Group: its table ("groups" is a keyword of SQL's
// window frames).
func (Group) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "user_groups"}}
}

// Fields of the Group.
func (Group) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxLen(64).NotEmpty().Immutable(),
		field.String("display_name"),
		// display_name_key is usersvc.GroupNameKey(display_name); its
		// unique index makes names unique case-insensitively on every
		// database.
		field.String("display_name_key").Unique(),
		field.String("external_id").Optional().Nillable(),
		// scim holds the group's SCIM attributes with no column of their
		// own (usersvc.Group.SCIM); NULL for none.
		field.JSON("scim", map[string]any{}).Optional(),
		field.Int64("version").Default(1),
		field.Time("created").Immutable(),
		field.Time("modified"),
	}
}

// Edges of the Group.
func (Group) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", GroupMember.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// GroupMember is one user's membership of one group. A deleted user's
// memberships stay (hidden from reads); a group's go with it.
type GroupMember struct {
	ent.Schema
}

// Annotations of the GroupMember: its table.
func (GroupMember) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "group_members"}}
}

// Fields of the GroupMember.
func (GroupMember) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.String("group_id").Immutable(),
		field.String("user_id").Immutable(),
	}
}

// Edges of the GroupMember.
func (GroupMember) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("group", Group.Type).Ref("memberships").Field("group_id").Unique().Required().Immutable(),
		edge.From("user", User.Type).Ref("memberships").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of the GroupMember.
func (GroupMember) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("group_id", "user_id").Unique(),
		index.Fields("user_id"),
	}
}
