package store

import (
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"usersvc"
	"usersvc/ent/predicate"
	"usersvc/ent/user"
)

// A condition (usersvc.Cond, checked by the service) becomes one SQL
// expression of the list's WHERE: columns compare directly (a userName
// through the sign-in key's unique index), paths in the scim object
// through the database's JSON functions (PostgreSQL's jsonb operators,
// SQLite's json_extract and json_each), an array's elements in an EXISTS
// over them. Under a not, every comparison is COALESCEd to false, so that
// not(...) of a missing value holds, as SCIM's filters mean it; elsewhere
// a NULL already excludes the row, and a bare comparison keeps its index
// (userName eq is one lookup in the sign-in key's unique index).

// condPredicate is c as a predicate on the users table.
func condPredicate(d string, c *usersvc.Cond) predicate.User {
	return func(s *entsql.Selector) {
		s.Where(entsql.P(func(b *entsql.Builder) { writeCond(b, d, s.C, c, "", false) }))
	}
}

// writeCond writes c; col qualifies a column of users, elem, when not "",
// is the SQL of the array element a CondAny ranges over, and negated says
// c is under a not.
func writeCond(b *entsql.Builder, d string, col func(string) string, c *usersvc.Cond, elem string, negated bool) {
	switch c.Op {
	case usersvc.CondAnd, usersvc.CondOr:
		op := " AND "
		if c.Op == usersvc.CondOr {
			op = " OR "
		}
		b.WriteString("(")
		for i, s := range c.Sub {
			if i > 0 {
				b.WriteString(op)
			}
			writeCond(b, d, col, s, elem, negated)
		}
		b.WriteString(")")
	case usersvc.CondNot:
		b.WriteString("(NOT ")
		writeCond(b, d, col, c.Sub[0], elem, true)
		b.WriteString(")")
	case usersvc.CondAny:
		if d == dialect.Postgres {
			b.WriteString("EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(")
			writeJSON(b, d, col("scim"), c.Attr.Path)
			b.WriteString(") = 'array' THEN ")
			writeJSON(b, d, col("scim"), c.Attr.Path)
			b.WriteString(" ELSE '[]'::jsonb END) AS scim_elem(v) WHERE ")
			writeCond(b, d, col, c.Sub[0], "scim_elem.v", false)
		} else {
			b.WriteString("EXISTS (SELECT 1 FROM json_each(" + col("scim") + ", ")
			b.Arg(sqlitePath(c.Attr.Path))
			b.WriteString(") AS scim_elem WHERE json_type(" + col("scim") + ", ")
			b.Arg(sqlitePath(c.Attr.Path))
			b.WriteString(") = 'array' AND ")
			writeCond(b, d, col, c.Sub[0], "scim_elem.value", false)
		}
		b.WriteString(")")
	case usersvc.CondCompare:
		if negated {
			b.WriteString("COALESCE(")
		} else {
			b.WriteString("(")
		}
		if c.Attr.Field != "" {
			writeColumnCompare(b, col, c)
		} else {
			base := col("scim")
			if elem != "" {
				base = elem
			}
			writeJSONCompare(b, d, base, c)
		}
		if negated {
			b.WriteString(", FALSE)")
		} else {
			b.WriteString(")")
		}
	}
}

// filterColumns are the columns of the filterable fields; a userName is
// compared through its sign-in key (the lower-cased userName, indexed).
var filterColumns = map[string]string{
	"id": user.FieldID, "userName": user.FieldEmailKey, "name": user.FieldName, "email": user.FieldEmail,
	"disabled": user.FieldDisabled, "creation": user.FieldCreation, "modification": user.FieldModification,
}

func writeColumnCompare(b *entsql.Builder, col func(string) string, c *usersvc.Cond) {
	column := col(filterColumns[c.Attr.Field])
	if c.Attr.Field == "userName" {
		b.WriteString(col(user.FieldUserName) + " IS NOT NULL AND ")
	}
	if c.Cmp == usersvc.CmpPresent {
		switch c.Attr.Field {
		case "email":
			b.WriteString(column + " <> ''")
		default:
			b.WriteString(column + " IS NOT NULL")
		}
		return
	}
	switch v := c.Value.(type) {
	case bool:
		writeOp(b, column, c.Cmp, v)
	case time.Time:
		writeOp(b, column, c.Cmp, v)
	case string:
		switch c.Attr.Field {
		case "id":
			writeText(b, column, c.Cmp, v, false)
		case "userName":
			writeText(b, column, c.Cmp, usersvc.EmailKey(v), false) // the key is lower-cased already
		default:
			writeText(b, column, c.Cmp, v, true)
		}
	}
}

// writeJSONCompare compares the value at c.Attr.Path in the JSON base.
func writeJSONCompare(b *entsql.Builder, d, base string, c *usersvc.Cond) {
	if c.Cmp == usersvc.CmpPresent {
		writeJSONType(b, d, base, c.Attr.Path)
		b.WriteString(" IS NOT NULL AND ")
		writeJSONType(b, d, base, c.Attr.Path)
		b.WriteString(" <> 'null'")
		return
	}
	switch v := c.Value.(type) {
	case bool:
		cmp := " = "
		if c.Cmp == usersvc.CmpNe {
			cmp = " IS DISTINCT FROM "
		}
		want := "false"
		if v {
			want = "true"
		}
		if d == dialect.Postgres {
			writeJSON(b, d, base, c.Attr.Path)
			b.WriteString(cmp + "'" + want + "'::jsonb")
			return
		}
		writeJSONType(b, d, base, c.Attr.Path)
		b.WriteString(cmp + "'" + want + "'")
	case string:
		b.WriteString("lower(")
		writeJSONText(b, d, base, c.Attr.Path)
		b.WriteString(")")
		writeTextTail(b, c.Cmp, strings.ToLower(v))
	}
}

// writeJSON writes the JSON value at path in base.
func writeJSON(b *entsql.Builder, d, base string, path []string) {
	if d == dialect.Postgres {
		b.WriteString("(" + base)
		for _, k := range path {
			b.WriteString(" -> ")
			b.Arg(k)
			b.WriteString("::text")
		}
		b.WriteString(")")
		return
	}
	b.WriteString("json_extract(" + base + ", ")
	b.Arg(sqlitePath(path))
	b.WriteString(")")
}

// writeJSONText writes the value at path in base as SQL text (a JSON
// string's text; other values in the database's own spelling).
func writeJSONText(b *entsql.Builder, d, base string, path []string) {
	if d == dialect.Postgres {
		b.WriteString("(" + base)
		for i, k := range path {
			if i == len(path)-1 {
				b.WriteString(" ->> ")
			} else {
				b.WriteString(" -> ")
			}
			b.Arg(k)
			b.WriteString("::text")
		}
		b.WriteString(")")
		return
	}
	b.WriteString("CAST(json_extract(" + base + ", ")
	b.Arg(sqlitePath(path))
	b.WriteString(") AS TEXT)")
}

// writeJSONType writes the JSON type of the value at path: PostgreSQL's
// jsonb_typeof, SQLite's json_type (NULL when there is none).
func writeJSONType(b *entsql.Builder, d, base string, path []string) {
	if d == dialect.Postgres {
		b.WriteString("jsonb_typeof(")
		writeJSON(b, d, base, path)
		b.WriteString(")")
		return
	}
	b.WriteString("json_type(" + base + ", ")
	b.Arg(sqlitePath(path))
	b.WriteString(")")
}

// sqlitePath is SQLite's JSON path of keys, each quoted (an extension's
// URN holds dots). The service admits only keys without quotes.
func sqlitePath(path []string) string {
	var sb strings.Builder
	sb.WriteString("$")
	for _, k := range path {
		sb.WriteString(`."` + k + `"`)
	}
	return sb.String()
}

var sqlOps = map[usersvc.Cmp]string{
	usersvc.CmpEq: " = ", usersvc.CmpNe: " <> ", usersvc.CmpGt: " > ", usersvc.CmpGe: " >= ", usersvc.CmpLt: " < ", usersvc.CmpLe: " <= ",
}

// writeOp writes column op v for a value compared as it is.
func writeOp(b *entsql.Builder, column string, op usersvc.Cmp, v any) {
	if op == usersvc.CmpNe {
		b.WriteString("(" + column + " IS NULL OR " + column + " <> ")
		b.Arg(v)
		b.WriteString(")")
		return
	}
	b.WriteString(column + sqlOps[op])
	b.Arg(v)
}

// writeText writes a text comparison of column, lower-cased on both
// sides when fold (the sign-in key is lower-cased already, and ids
// compare exactly).
func writeText(b *entsql.Builder, column string, op usersvc.Cmp, v string, fold bool) {
	if fold {
		b.WriteString("lower(" + column + ")")
		v = strings.ToLower(v)
	} else {
		b.WriteString(column)
	}
	writeTextTail(b, op, v)
}

// writeTextTail writes the operator and value of a text comparison whose
// left side is already written: for co, sw and ew a LIKE pattern with its
// wildcards escaped.
func writeTextTail(b *entsql.Builder, op usersvc.Cmp, v string) {
	switch op {
	case usersvc.CmpCo, usersvc.CmpSw, usersvc.CmpEw:
		p := likeEscaper.Replace(v)
		switch op {
		case usersvc.CmpCo:
			p = "%" + p + "%"
		case usersvc.CmpSw:
			p += "%"
		default:
			p = "%" + p
		}
		b.WriteString(" LIKE ")
		b.Arg(p)
		b.WriteString(` ESCAPE '\'`)
	case usersvc.CmpNe:
		b.WriteString(" IS DISTINCT FROM ")
		b.Arg(v)
	default:
		b.WriteString(sqlOps[op])
		b.Arg(v)
	}
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
