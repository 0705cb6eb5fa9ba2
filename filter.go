package usersvc

import (
	"regexp"
	"time"
)

// This file is the conditions a list of users may be filtered by beyond
// UserFilter's fixed ones: a tree of and, or, not and comparisons on the
// user's columns and on paths in its scim object, which the store turns
// into one SQL WHERE (SCIM's filter parameter is read into one by the
// scim package). checkCond refuses what the store cannot run.

// CondOp is a node of a condition.
type CondOp int

// Condition nodes.
const (
	CondAnd     CondOp = iota // every Sub holds (two or more)
	CondOr                    // some Sub holds (two or more)
	CondNot                   // Sub[0] does not hold
	CondCompare               // Attr Cmp Value
	// CondAny: some element of the array at Attr (a path in scim) makes
	// Sub[0] hold, its Attrs read in the element (Field "", Path in it).
	CondAny
)

// Cmp is a comparison (SCIM's attribute operators).
type Cmp string

// Comparisons. Text compares case-insensitively (lower-cased), except the
// id; Present holds when the value is there (not null; for email, not "").
const (
	CmpEq      Cmp = "eq"
	CmpNe      Cmp = "ne"
	CmpCo      Cmp = "co"
	CmpSw      Cmp = "sw"
	CmpEw      Cmp = "ew"
	CmpGt      Cmp = "gt"
	CmpGe      Cmp = "ge"
	CmpLt      Cmp = "lt"
	CmpLe      Cmp = "le"
	CmpPresent Cmp = "pr"
)

// Cond is a condition on users.
type Cond struct {
	Op  CondOp
	Sub []*Cond
	// Attr is what a comparison reads, or the array CondAny ranges over.
	Attr Attr
	Cmp  Cmp
	// Value is a string, a bool or a time.Time (creation, modification);
	// nil for CmpPresent.
	Value any
}

// Attr names a value of a user: a column field, or a path of keys in the
// user's scim object (in an array's element, under CondAny).
type Attr struct {
	// Field is one of the filterable fields (filterFields), or "" for
	// Path.
	Field string
	Path  []string
}

// Filterable fields and the type of value each compares with.
var filterFields = map[string]string{
	"id": "text", "userName": "text", "name": "text", "email": "text",
	"disabled": "bool", "creation": "time", "modification": "time",
}

// Bounds of a condition.
const (
	// MaxCondNodes bounds a condition's nodes (each one a piece of SQL).
	MaxCondNodes = 64
	// maxCondText bounds a compared text, in bytes.
	maxCondText = 1024
)

// pathKey is a key a path may hold: a schema's attribute name or URN.
var pathKey = regexp.MustCompile(`^[A-Za-z$][A-Za-z0-9$_.:-]{0,99}$`)

// errFilter is the answer to a condition the store cannot run.
func errFilter(format string, args ...any) error {
	return &Error{Code: EInvalid, Reason: RFilter, Field: "filter", Message: format, Args: args}
}

// checkCond refuses a condition the store cannot run: an unknown field or
// key, a value of the wrong type, an operator its value has no meaning
// for, an array inside an array, or more than MaxCondNodes nodes.
func checkCond(c *Cond) error {
	n := 0
	return c.check(false, &n)
}

func (c *Cond) check(inAny bool, n *int) error {
	if c == nil {
		return errFilter("The filter is empty.")
	}
	if *n++; *n > MaxCondNodes {
		return errFilter("The filter has more than %d terms.", MaxCondNodes)
	}
	switch c.Op {
	case CondAnd, CondOr:
		if len(c.Sub) < 2 {
			return errFilter("The filter is empty.")
		}
	case CondNot:
		if len(c.Sub) != 1 {
			return errFilter("The filter is empty.")
		}
	case CondAny:
		if inAny || len(c.Sub) != 1 || c.Attr.Field != "" || !validPath(c.Attr.Path) {
			return errFilter("The filter cannot be run on this attribute.")
		}
		return c.Sub[0].check(true, n)
	case CondCompare:
		return c.checkCompare(inAny)
	default:
		return errFilter("The filter is empty.")
	}
	for _, s := range c.Sub {
		if err := s.check(inAny, n); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cond) checkCompare(inAny bool) error {
	kind := "json"
	if c.Attr.Field != "" {
		if inAny {
			return errFilter("The filter cannot be run on this attribute.")
		}
		kind = filterFields[c.Attr.Field]
		if kind == "" {
			return errFilter("The filter cannot be run on this attribute.")
		}
	} else if !validPath(c.Attr.Path) {
		return errFilter("The filter cannot be run on this attribute.")
	}
	if c.Cmp == CmpPresent {
		if c.Value != nil {
			return errFilter("The filter's value does not fit its attribute.")
		}
		return nil
	}
	switch v := c.Value.(type) {
	case string:
		if kind != "text" && kind != "json" || len(v) > maxCondText || !validText(v) {
			return errFilter("The filter's value does not fit its attribute.")
		}
	case bool:
		if kind != "bool" && kind != "json" || c.Cmp != CmpEq && c.Cmp != CmpNe {
			return errFilter("The filter's value does not fit its attribute.")
		}
	case time.Time:
		if kind != "time" || c.Cmp == CmpCo || c.Cmp == CmpSw || c.Cmp == CmpEw {
			return errFilter("The filter's value does not fit its attribute.")
		}
	default:
		return errFilter("The filter's value does not fit its attribute.")
	}
	switch c.Cmp {
	case CmpEq, CmpNe, CmpCo, CmpSw, CmpEw, CmpGt, CmpGe, CmpLt, CmpLe:
		return nil
	}
	return errFilter("Unknown filter operator %q.", string(c.Cmp))
}

func validPath(p []string) bool {
	if len(p) == 0 || len(p) > 3 {
		return false
	}
	for _, k := range p {
		if !pathKey.MatchString(k) {
			return false
		}
	}
	return true
}
