package scim

import (
	"net/http"
	"strconv"

	"usersvc"
)

// The /Users routes: a few lines each, from the request to the service
// and its answer back.

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := usersvc.UserFilter{Provisioned: true}
	keep, drop, err := selections(r)
	if err == nil && q.Get("filter") != "" {
		f.Where, err = readFilter(q.Get("filter"))
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
	page, err := h.svc.SearchUsers(r.Context(), f, offset, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list := make([]any, 0, len(page.Users))
	for _, u := range page.Users {
		list = append(list, project(userResource(u, base(r)), keep, drop))
	}
	writeJSON(w, http.StatusOK, listResponse(list, page.TotalCount, offset))
}

// listResponse is a ListResponse of resources from offset on.
func listResponse(list []any, total, offset int) map[string]any {
	return map[string]any{"schemas": []string{URNList}, "totalResults": total,
		"startIndex": offset + 1, "itemsPerPage": len(list), "Resources": list}
}

// pageParams reads startIndex and count (integers, when given).
func pageParams(r *http.Request) (start, count *int64, err error) {
	q := r.URL.Query()
	read := func(name string) (*int64, error) {
		if !q.Has(name) {
			return nil, nil
		}
		n, err := strconv.ParseInt(q.Get(name), 10, 64)
		if err != nil {
			return nil, errorf(usersvc.RValue, "%s must be an integer.", name)
		}
		return &n, nil
	}
	if start, err = read("startIndex"); err == nil {
		count, err = read("count")
	}
	return start, count, err
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	u, err := func() (*usersvc.User, error) {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		res, err := readUser(body)
		if err != nil {
			return nil, err
		}
		doc := map[string]any{}
		if err := toDocument(res, doc); err != nil {
			return nil, err
		}
		return h.svc.CreateUser(r.Context(), doc)
	}()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", base(r)+"/Users/"+u.ID)
	h.writeUser(w, r, http.StatusCreated, u)
}

// writeUser answers with u, its ETag and the selection asked for.
func (h *Handler) writeUser(w http.ResponseWriter, r *http.Request, status int, u *usersvc.User) {
	keep, drop, err := selections(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(u.Version))
	writeJSON(w, status, project(userResource(u, base(r)), keep, drop))
}

// provisioned refuses a user SCIM does not list (no userName, or deleted).
func provisioned(u *usersvc.User) error {
	if !usersvc.Provisioned(u) {
		return errNotFound
	}
	return nil
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.svc.User(r.Context(), r.PathValue("id"))
	if err == nil {
		err = provisioned(u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeUser(w, r, http.StatusOK, u)
}

func (h *Handler) replaceUser(w http.ResponseWriter, r *http.Request) {
	h.revise(w, r, usersvc.ActionReplace, func(body any) (builder, error) {
		res, err := readUser(body)
		return func(*usersvc.User) (resource, error) { return res, nil }, err
	})
}

func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request) {
	h.revise(w, r, usersvc.ActionPatch, func(body any) (builder, error) {
		ops, err := readPatch(body)
		return func(before *usersvc.User) (resource, error) {
			res := patchBase(before)
			return res, applyPatch(res, ops)
		}, err
	})
}

// builder makes the new resource from the stored user.
type builder func(before *usersvc.User) (resource, error)

// revise is PUT and PATCH: read turns the body into a builder, which the
// write runs on the stored user; the resource it makes is written over
// the user.
func (h *Handler) revise(w http.ResponseWriter, r *http.Request, action string, read func(body any) (builder, error)) {
	u, err := func() (*usersvc.User, error) {
		ifVersion, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		build, err := read(body)
		if err != nil {
			return nil, err
		}
		return h.svc.ReviseUser(r.Context(), r.PathValue("id"), ifVersion, action, func(before *usersvc.User, doc map[string]any) error {
			if err := provisioned(before); err != nil {
				return err
			}
			res, err := build(before)
			if err != nil {
				return err
			}
			if err := toDocument(res, doc); err != nil {
				return err
			}
			dropDerivedEmails(before, doc)
			return nil
		})
	}()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if action == usersvc.ActionPatch && !asksRepresentation(r) {
		w.Header().Set("ETag", etag(u.Version))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.writeUser(w, r, http.StatusOK, u)
}

// dropDerivedEmails keeps a user without emails of their own (in scim)
// without them when the write leaves exactly the one userResource shows
// for them, their email as the primary one: Okta's deactivation then
// changes active alone, not the stored scim object as well.
func dropDerivedEmails(before *usersvc.User, doc map[string]any) {
	if _, own := before.SCIM["emails"]; own {
		return
	}
	obj, _ := doc["scim"].(map[string]any)
	list, _ := obj["emails"].([]any)
	if len(list) != 1 || doc["email"] != before.Email {
		return
	}
	if m, _ := list[0].(map[string]any); len(m) == 2 && m["value"] == before.Email && m["primary"] == true {
		delete(obj, "emails")
		doc["scim"] = nonEmpty(obj)
	}
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	ifVersion, err := ifMatch(r)
	if err == nil {
		_, err = h.svc.DeleteUserIf(r.Context(), r.PathValue("id"), ifVersion, provisioned)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// patchBase is the stored user's resource a PATCH applies to: a deep
// copy, without what no PATCH writes (id, meta, schemas).
func patchBase(u *usersvc.User) resource {
	res := userResource(u, "")
	for _, k := range []string{"id", "meta", "schemas"} {
		delete(res, k)
	}
	out, _ := jsonClone(res).(map[string]any)
	return out
}
