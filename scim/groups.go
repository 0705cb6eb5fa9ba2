package scim

import (
	"net/http"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"usersvc"
)

// The /Groups routes, on the domain's groups (group.go): displayName,
// externalId and members are the group's; the display names a client
// gives members are kept in the group's SCIM object and shown back for
// the members that are still in it.

func (h *Handler) routeGroups() {
	h.mux.HandleFunc("GET "+Prefix+"/Groups", h.listGroups)
	h.mux.HandleFunc("GET "+Prefix+"/Groups/{$}", h.listGroups)
	h.mux.HandleFunc("POST "+Prefix+"/Groups", h.createGroup)
	h.mux.HandleFunc("GET "+Prefix+"/Groups/{id}", h.getGroup)
	h.mux.HandleFunc("PUT "+Prefix+"/Groups/{id}", h.replaceGroup)
	h.mux.HandleFunc("PATCH "+Prefix+"/Groups/{id}", h.patchGroup)
	h.mux.HandleFunc("DELETE "+Prefix+"/Groups/{id}", h.deleteGroup)
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request) {
	keep, drop, err := groupSelections(r)
	var gf usersvc.GroupFilter
	if err == nil && r.URL.Query().Get("filter") != "" {
		gf, err = readGroupFilter(r.URL.Query().Get("filter"))
	}
	var start, count *int64
	if err == nil {
		start, count, err = pageParams(r)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	offset, limit := usersvc.OffsetPage(start, count)
	n := int64(limit)
	page, err := h.svc.Groups(r.Context(), usersvc.GroupQuery{Filter: gf, Offset: int64(offset), Count: &n})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list := make([]any, 0, len(page.Groups))
	for _, g := range page.Groups {
		list = append(list, project(groupResource(g, base(r)), keep, drop))
	}
	writeJSON(w, http.StatusOK, listResponse(list, page.Total, offset))
}

func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request) {
	g, err := func() (*usersvc.Group, error) {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		in, err := readGroup(body)
		if err != nil {
			return nil, err
		}
		return h.svc.CreateGroup(r.Context(), in)
	}()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", base(r)+"/Groups/"+g.ID)
	h.writeGroup(w, r, http.StatusCreated, g)
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := h.svc.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeGroup(w, r, http.StatusOK, g)
}

func (h *Handler) replaceGroup(w http.ResponseWriter, r *http.Request) {
	g, err := func() (*usersvc.Group, error) {
		ifVersion, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		in, err := readGroup(body)
		if err != nil {
			return nil, err
		}
		return h.svc.ReplaceGroup(r.Context(), r.PathValue("id"), in, ifVersion)
	}()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeGroup(w, r, http.StatusOK, g)
}

func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request) {
	g, err := func() (*usersvc.Group, error) {
		ifVersion, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		ops, err := readPatch(body)
		if err != nil {
			return nil, err
		}
		before, err := h.svc.Group(r.Context(), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		c, err := groupChange(before, ops)
		if err != nil {
			return nil, err
		}
		return h.svc.ModifyGroup(r.Context(), before.ID, c, ifVersion)
	}()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !asksRepresentation(r) {
		w.Header().Set("ETag", etag(g.Version))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.writeGroup(w, r, http.StatusOK, g)
}

func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request) {
	ifVersion, err := ifMatch(r)
	if err == nil {
		err = h.svc.DeleteGroup(r.Context(), r.PathValue("id"), ifVersion)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) writeGroup(w http.ResponseWriter, r *http.Request, status int, g *usersvc.Group) {
	keep, drop, err := groupSelections(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(g.Version))
	writeJSON(w, status, project(groupResource(g, base(r)), keep, drop))
}

func groupSelections(r *http.Request) (keep, drop selection, err error) {
	q := r.URL.Query()
	if keep, err = readSelectionOf(q.Get("attributes"), groupAttr); err != nil {
		return nil, nil, err
	}
	drop, err = readSelectionOf(q.Get("excludedAttributes"), groupAttr)
	return keep, drop, err
}

// groupAttr finds a Group attribute by name, in any case.
func groupAttr(name string) *attr {
	if strings.EqualFold(name, "externalId") {
		return externalID
	}
	return find(groupAttrs, name)
}

// groupResource renders g as a SCIM Group.
func groupResource(g *usersvc.Group, base string) resource {
	display := memberDisplays(g.SCIM)
	members := []any{}
	for _, id := range g.Members {
		m := map[string]any{"value": id, "$ref": base + "/Users/" + id, "type": "User"}
		if d, ok := display[id]; ok {
			m["display"] = d
		}
		members = append(members, m)
	}
	r := resource{"schemas": []any{URNGroup}, "id": g.ID, "displayName": g.DisplayName, "members": members,
		"meta": map[string]any{"resourceType": "Group", "created": usersvc.FormatTime(g.Created),
			"lastModified": usersvc.FormatTime(g.Modified), "location": base + "/Groups/" + g.ID, "version": etag(g.Version)}}
	if g.ExternalID != nil {
		r["externalId"] = *g.ExternalID
	}
	return r
}

// memberDisplays reads the display names kept in a group's SCIM object:
// {"memberDisplay": {"<user id>": "<display>"}}.
func memberDisplays(m map[string]any) map[string]any {
	d, _ := m["memberDisplay"].(map[string]any)
	return d
}

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
