package scim

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"

	"usersvc"
)

// A filter (RFC 7644 §3.4.2.2) is parsed by github.com/scim2/filter-parser
// and its tree translated into the service's condition on users
// (usersvc.Cond), which the store runs as one SQL WHERE. Attributes map
// as the resource does: userName, displayName (name), active (not
// disabled), id, meta.created and meta.lastModified are the user's
// columns; anything else is a path in the user's scim object, a
// multi-valued attribute (emails...) a condition on any of its elements.

// readFilter parses and translates a filter parameter.
func readFilter(s string) (*usersvc.Cond, error) {
	if len(s) > maxFilterLen {
		return nil, errorf(usersvc.RFilter, "The filter is longer than %d bytes.", maxFilterLen)
	}
	e, err := filter.ParseFilter([]byte(quoteBareValues(s)))
	if err != nil {
		return nil, errorf(usersvc.RFilter, "The filter cannot be read: %s", parseMessage(err))
	}
	return condOf(e, nil)
}

const maxFilterLen = 4096

// parseMessage is the parser's error, without control characters.
func parseMessage(err error) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '\uFFFD' {
			return -1
		}
		return r
	}, err.Error())
}

// condOf translates e; in is the multi-valued attribute e's attributes
// are sub-attributes of (inside a value filter), nil at the top.
func condOf(e filter.Expression, in *attr) (*usersvc.Cond, error) {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		l, err := condOf(x.Left, in)
		if err != nil {
			return nil, err
		}
		r, err := condOf(x.Right, in)
		if err != nil {
			return nil, err
		}
		op := usersvc.CondAnd
		if strings.EqualFold(string(x.Operator), "or") {
			op = usersvc.CondOr
		}
		return &usersvc.Cond{Op: op, Sub: []*usersvc.Cond{l, r}}, nil
	case *filter.NotExpression:
		c, err := condOf(x.Expression, in)
		if err != nil {
			return nil, err
		}
		return &usersvc.Cond{Op: usersvc.CondNot, Sub: []*usersvc.Cond{c}}, nil
	case *filter.ValuePath:
		if in != nil {
			return nil, errorf(usersvc.RFilter, "A value filter cannot hold another.")
		}
		a, path, err := multiValued(x.AttributePath)
		if err != nil {
			return nil, err
		}
		c, err := condOf(x.ValueFilter, a)
		if err != nil {
			return nil, err
		}
		return &usersvc.Cond{Op: usersvc.CondAny, Attr: usersvc.Attr{Path: path}, Sub: []*usersvc.Cond{c}}, nil
	case *filter.AttributeExpression:
		return compareOf(x, in)
	}
	return nil, errorf(usersvc.RFilter, "The filter cannot be read: %s", "unknown expression")
}

// multiValued resolves the attribute of a value filter: a multi-valued
// attribute of the User.
func multiValued(p filter.AttributePath) (*attr, []string, error) {
	if p.SubAttribute != nil || p.URIPrefix != nil && !isURN(p.URI(), URNUser) {
		return nil, nil, unknownAttr(p.String())
	}
	a := userAttr(p.AttributeName)
	if a == nil || !a.Multi || a.Name == "groups" {
		return nil, nil, unknownAttr(p.String())
	}
	return a, []string{a.Name}, nil
}

func unknownAttr(name string) error {
	return errorf(usersvc.RFilter, "The filter names an attribute that cannot be filtered on: %s", name)
}

// compareOf translates one comparison.
func compareOf(x *filter.AttributeExpression, in *attr) (*usersvc.Cond, error) {
	p := x.AttributePath
	op := usersvc.Cmp(strings.ToLower(string(x.Operator)))
	value, err := filterValue(x.CompareValue)
	if err != nil {
		return nil, err
	}
	cmp := func(a usersvc.Attr, v any) *usersvc.Cond {
		return &usersvc.Cond{Op: usersvc.CondCompare, Attr: a, Cmp: op, Value: v}
	}
	if in != nil { // a sub-attribute of the element
		s := in.sub(p.AttributeName)
		if p.URIPrefix != nil || p.SubAttribute != nil || s == nil {
			return nil, unknownAttr(p.String())
		}
		return nullAware(cmp(usersvc.Attr{Path: []string{s.Name}}, value), value, op)
	}
	if strings.EqualFold(p.AttributeName, "meta") && p.URIPrefix == nil {
		field := map[string]string{"created": "creation", "lastmodified": "modification"}[strings.ToLower(p.SubAttributeName())]
		if field == "" {
			return nil, unknownAttr(p.String())
		}
		if s, ok := value.(string); ok {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, errorf(usersvc.RFilter, "The filter compares %s with %q, which is not an RFC 3339 instant.", p.String(), s)
			}
			value = t
		}
		return nullAware(cmp(usersvc.Attr{Field: field}, value), value, op)
	}
	var a *attr
	path := []string{}
	switch {
	case p.URIPrefix != nil && isURN(p.URI(), URNEnterprise):
		a = find(enterpriseAttrs, p.AttributeName)
		path = append(path, URNEnterprise)
	case p.URIPrefix == nil || isURN(p.URI(), URNUser):
		a = userAttr(p.AttributeName)
	}
	if a == nil || a.Name == "password" || a.Name == "groups" {
		if strings.EqualFold(p.AttributeName, "id") && p.SubAttribute == nil {
			return nullAware(cmp(usersvc.Attr{Field: "id"}, value), value, op)
		}
		return nil, unknownAttr(p.String())
	}
	if field := map[string]string{"userName": "userName", "displayName": "name", "active": "disabled"}[a.Name]; field != "" && len(path) == 0 {
		if p.SubAttribute != nil {
			return nil, unknownAttr(p.String())
		}
		if b, ok := value.(bool); ok && field == "disabled" {
			value = !b // active eq true is disabled eq false
		}
		return nullAware(cmp(usersvc.Attr{Field: field}, value), value, op)
	}
	path = append(path, a.Name)
	if a.Multi { // emails co "x" is emails.value co "x"; emails.type eq "work" any element's type
		sub := "value"
		if p.SubAttribute != nil {
			s := a.sub(*p.SubAttribute)
			if s == nil {
				return nil, unknownAttr(p.String())
			}
			sub = s.Name
		}
		c, err := nullAware(cmp(usersvc.Attr{Path: []string{sub}}, value), value, op)
		if err != nil {
			return nil, err
		}
		return &usersvc.Cond{Op: usersvc.CondAny, Attr: usersvc.Attr{Path: path}, Sub: []*usersvc.Cond{c}}, nil
	}
	if p.SubAttribute != nil {
		s := a.sub(*p.SubAttribute)
		if s == nil {
			return nil, unknownAttr(p.String())
		}
		path = append(path, s.Name)
	}
	return nullAware(cmp(usersvc.Attr{Path: path}, value), value, op)
}

// nullAware turns a comparison with null into presence: eq null holds
// when the value is absent, ne null when it is present.
func nullAware(c *usersvc.Cond, value any, op usersvc.Cmp) (*usersvc.Cond, error) {
	if value != nil || op == usersvc.CmpPresent {
		return c, nil
	}
	c.Cmp = usersvc.CmpPresent
	switch op {
	case usersvc.CmpEq:
		return &usersvc.Cond{Op: usersvc.CondNot, Sub: []*usersvc.Cond{c}}, nil
	case usersvc.CmpNe:
		return c, nil
	}
	return nil, errorf(usersvc.RFilter, "Only eq and ne compare with null.")
}

// filterValue is a parsed value: a string (its escapes read), a boolean,
// or null; numbers compare with no attribute of these schemas.
func filterValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	case string:
		var s string
		if err := json.Unmarshal([]byte(`"`+x+`"`), &s); err != nil {
			return nil, errorf(usersvc.RFilter, "The filter cannot be read: %s", "a bad escape in a string")
		}
		return s, nil
	}
	return nil, errorf(usersvc.RFilter, "No attribute of this service compares with a number.")
}

// quoteBareValues quotes the values of comparisons written without
// quotes (`userName sw O`, `meta.created gt 2015-10-10T14:38:21Z`), as
// some clients send them and Microsoft's reference collection does;
// numbers, true, false and null stay bare. Everything else passes as it
// is: the parser judges it.
func quoteBareValues(s string) string {
	var out strings.Builder
	tokens := 0 // tokens since the last (, [ or logical operator
	prevOp := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			out.WriteByte(c)
			i++
			continue
		case c == '(' || c == ')' || c == '[' || c == ']':
			out.WriteByte(c)
			i++
			tokens, prevOp = 0, false
			continue
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(s))
			out.WriteString(s[i:j])
			i = j
			tokens, prevOp = tokens+1, false
			continue
		}
		j := i
		for j < len(s) && !strings.ContainsRune(" \t()[]\"", rune(s[j])) {
			j++
		}
		word := s[i:j]
		if prevOp && !bareLiteral.MatchString(word) {
			out.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(word) + `"`)
		} else {
			out.WriteString(word)
		}
		lw := strings.ToLower(word)
		switch {
		case lw == "and" || lw == "or" || lw == "not":
			tokens, prevOp = 0, false
		case tokens == 1 && compareOps[lw]:
			tokens, prevOp = 2, true
		default:
			tokens, prevOp = tokens+1, false
		}
		i = j
	}
	return out.String()
}

var compareOps = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "ge": true, "lt": true, "le": true}

// bareLiteral is what a comparison's value may be unquoted: true, false,
// null, or a JSON number.
var bareLiteral = regexp.MustCompile(`^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)$`)
