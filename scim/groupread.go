package scim

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"usersvc"
)

// Reading a Group request into the domain's group input or change: the
// body of a POST or PUT, a PATCH's operations, a list's filter.

// readGroup reads a POST's or PUT's Group.
func readGroup(body any) (usersvc.GroupInput, error) {
	m, ok := body.(map[string]any)
	if !ok {
		return usersvc.GroupInput{}, errorf(usersvc.RSyntax, "The body must be a JSON object.")
	}
	var in usersvc.GroupInput
	display := map[string]any{}
	for k, v := range m {
		switch a := groupAttr(k); {
		case a == nil:
		case a.Name == "displayName":
			s, ok := v.(string)
			if !ok {
				return in, badValue("displayName")
			}
			in.DisplayName = s
		case a.Name == "externalId":
			if s, ok := v.(string); ok && s != "" {
				in.ExternalID = &s
			} else if v != nil {
				return in, badValue("externalId")
			}
		case a.Name == "members":
			ids, err := readMembers(v, display)
			if err != nil {
				return in, err
			}
			in.Members = ids
		}
	}
	in.SCIM = displayObject(display)
	return in, nil
}

func displayObject(display map[string]any) map[string]any {
	if len(display) == 0 {
		return nil
	}
	return map[string]any{"memberDisplay": display}
}

// readMembers reads members' values (user ids) and their display names
// into display. A member that is not an object naming a value is
// ignored (Microsoft's reference collection sends bare strings).
func readMembers(v any, display map[string]any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		if v == nil {
			return nil, nil
		}
		list = []any{v}
	}
	var ids []string
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		var id, name string
		for k, sv := range m {
			s, _ := sv.(string)
			switch strings.ToLower(k) {
			case "value":
				id = s
			case "display", "displayname":
				name = s
			}
		}
		if id == "" {
			return nil, badValue("members")
		}
		ids = append(ids, id)
		if name != "" {
			display[id] = name
		}
	}
	return ids, nil
}

// groupChange turns a Group PATCH into the domain's change: members
// added and removed (by a filter on value, or all), displayName and
// externalId replaced.
func groupChange(before *usersvc.Group, ops []patchOp) (usersvc.GroupChange, error) {
	var c usersvc.GroupChange
	display := map[string]any{}
	for k, v := range memberDisplays(before.SCIM) {
		display[k] = v
	}
	for _, o := range ops {
		if !o.hasPath {
			m, ok := o.value.(map[string]any)
			if !ok || o.op == "remove" {
				return c, errorf(usersvc.RNoTarget, "An operation without a path needs an object as its value.")
			}
			for k, v := range m {
				if err := groupOp(&c, display, o.op, k, v); err != nil {
					return c, err
				}
			}
			continue
		}
		if err := groupOp(&c, display, o.op, o.path, o.value); err != nil {
			return c, err
		}
	}
	c.SetSCIM, c.SCIM = true, displayObject(display)
	return c, nil
}

// groupOp adds one operation to c.
func groupOp(c *usersvc.GroupChange, display map[string]any, op, path string, value any) error {
	p, err := filter.ParsePath([]byte(path))
	if err != nil {
		if p, err = filter.ParsePath([]byte(quoteBareValues(path))); err != nil {
			return errorf(usersvc.RPath, "The path %q cannot be read.", path)
		}
	}
	a := groupAttr(p.AttributePath.AttributeName)
	if a == nil || p.AttributePath.URIPrefix != nil && !isURN(p.AttributePath.URI(), URNGroup) {
		return errorf(usersvc.RPath, "The path %q names no attribute of the Group.", path)
	}
	switch {
	case a.Name == "members" && op == "remove" && p.ValueExpression != nil:
		ids, ok := equalities(p.ValueExpression, a)
		id, _ := ids["value"].(string)
		if !ok || len(ids) != 1 || id == "" {
			return errorf(usersvc.RFilter, "Members are removed by a filter on value: members[value eq \"<id>\"].")
		}
		c.RemoveMembers = append(c.RemoveMembers, id)
		delete(display, id)
	case a.Name == "members" && op == "remove":
		if list, ok := value.([]any); ok { // Entra ID names the members to remove in the value
			ids, err := readMembers(list, map[string]any{})
			if err != nil {
				return err
			}
			c.RemoveMembers = append(c.RemoveMembers, ids...)
			return nil
		}
		c.RemoveAllMembers, c.AddMembers = true, nil
		clear(display)
	case a.Name == "members":
		if p.ValueExpression != nil || p.SubAttribute != nil {
			return errorf(usersvc.RPath, "The path %q cannot be written; add or remove members instead.", path)
		}
		if op == "replace" {
			c.RemoveAllMembers, c.AddMembers = true, nil
			clear(display)
		}
		ids, err := readMembers(value, display)
		if err != nil {
			return err
		}
		c.AddMembers = append(c.AddMembers, ids...)
	case a.Name == "displayName" && op != "remove":
		s, ok := value.(string)
		if !ok {
			return badValue("displayName")
		}
		c.DisplayName = &s
	case a.Name == "externalId":
		s, ok := value.(string)
		if op == "remove" || value == nil {
			s, ok = "", true
		}
		if !ok {
			return badValue("externalId")
		}
		c.ExternalID = &s
	default:
		return errorf(usersvc.RReadOnly, "The path %q cannot be removed.", path)
	}
	return nil
}

// readGroupFilter reads the filters a group list runs: displayName,
// externalId or id eq a value (joined by and).
func readGroupFilter(s string) (usersvc.GroupFilter, error) {
	var f usersvc.GroupFilter
	e, err := filter.ParseFilter([]byte(quoteBareValues(s)))
	if err != nil {
		return f, errorf(usersvc.RFilter, "The filter cannot be read: %s", parseMessage(err))
	}
	eq, ok := equalities(e, &attr{Sub: []*attr{groupAttr("displayName"), externalID, text("id", "")}})
	if !ok {
		return f, errorf(usersvc.RFilter, "Groups are filtered by displayName, externalId or id eq a value.")
	}
	for k, v := range eq {
		s, _ := v.(string)
		switch k {
		case "displayName":
			f.DisplayName = &s
		case "externalId":
			f.ExternalID = &s
		case "id":
			f.ID = &s
		}
	}
	return f, nil
}
