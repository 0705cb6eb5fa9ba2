package scim

import (
	"net/http"
	"strings"

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
