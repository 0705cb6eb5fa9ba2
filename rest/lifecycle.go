package rest

import (
	"net/http"
	"strconv"

	"usersvc"
)

type listAnswer struct {
	head
	Users      []*usersvc.Document `json:"users"`
	NextCursor *string             `json:"nextCursor"`
}

// listUsers: GET /api/users?limit=&cursor=&order=asc|desc&email=&group=&role=&disabled=&deleted=&search=
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f usersvc.UserFilter
	str := func(k string) *string {
		if !q.Has(k) {
			return nil
		}
		v := q.Get(k)
		return &v
	}
	f.Email, f.Group, f.Search = str("email"), str("group"), str("search")
	if v := str("role"); v != nil {
		role := usersvc.Role(*v)
		f.Role = &role
	}
	var err error
	if f.Disabled, err = boolParam(q.Get("disabled"), "disabled"); err != nil {
		h.fail(w, r, err)
		return
	}
	deleted, err := boolParam(q.Get("deleted"), "deleted")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Deleted = deleted != nil && *deleted
	limit, err := intParam(q.Get("limit"), "limit")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	order := q.Get("order")
	if order != "" && order != "asc" && order != "desc" {
		h.fail(w, r, usersvc.FieldErrorf(usersvc.EInvalid, "order", "Field %q must be \"asc\" or \"desc\".", "order"))
		return
	}
	page, err := h.svc.ListUsers(r.Context(), f, limit, str("cursor"), order == "desc", false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ans := &listAnswer{head: newHead(r), Users: []*usersvc.Document{}, NextCursor: page.NextCursor}
	for _, u := range page.Users {
		ans.Users = append(ans.Users, u.Document())
	}
	writeJSON(w, http.StatusOK, ans)
}

func boolParam(v, name string) (*bool, error) {
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, usersvc.FieldErrorf(usersvc.EInvalid, name, "Field %q must be a boolean.", name)
	}
	return &b, nil
}

func intParam(v, name string) (*int64, error) {
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, usersvc.FieldErrorf(usersvc.EInvalid, name, "Field %q must be an integer.", name)
	}
	return &n, nil
}

// createUser: POST /api/users, admins only; 201 with Location.
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	if mt := mediaType(r); mt != "" && mt != "application/json" {
		h.fail(w, r, usersvc.Errorf(usersvc.EUnsupportedMedia, "Unsupported Content-Type %q; use application/json.", mt))
		return
	}
	body, err := readJSON(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.svc.CreateUser(r.Context(), body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/users/"+u.ID)
	w.Header().Set("ETag", ETag(u))
	writeEnvelope(w, http.StatusCreated, &envelope{head: newHead(r), Document: u.Document()})
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	h.answerUser(w, r)(h.svc.DeleteUser(r.Context(), r.PathValue("userId")))
}

func (h *Handler) restoreUser(w http.ResponseWriter, r *http.Request) {
	h.answerUser(w, r)(h.svc.RestoreUser(r.Context(), r.PathValue("userId")))
}

// answerUser writes a user or an error.
func (h *Handler) answerUser(w http.ResponseWriter, r *http.Request) func(*usersvc.User, error) {
	return func(u *usersvc.User, err error) {
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.writeUser(w, r, u)
	}
}

type countriesAnswer struct {
	head
	Countries map[string]string `json:"countries"`
}

func (h *Handler) countries(w http.ResponseWriter, r *http.Request) {
	m := map[string]string{}
	for _, c := range usersvc.Countries() {
		m[c.Code] = c.Name
	}
	writeJSON(w, http.StatusOK, &countriesAnswer{head: newHead(r), Countries: m})
}

type zonesAnswer struct {
	head
	TimeZones []string `json:"timeZones"`
}

func (h *Handler) timeZones(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, &zonesAnswer{head: newHead(r), TimeZones: usersvc.TimeZones()})
}

type historyAnswer struct {
	head
	History    []*usersvc.AuditEntry `json:"history"`
	NextCursor *string               `json:"nextCursor"`
}

// history: GET /api/users/{userId}/history?limit=&cursor=
func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r.URL.Query().Get("limit"), "limit")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var cursor *string
	if c := r.URL.Query().Get("cursor"); c != "" {
		cursor = &c
	}
	page, err := h.svc.History(r.Context(), r.PathValue("userId"), limit, cursor, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, &historyAnswer{head: newHead(r), History: page.Entries, NextCursor: page.NextCursor})
}

type apiKeysAnswer struct {
	head
	APIKeys []usersvc.APIKey `json:"apiKeys"`
}

func (h *Handler) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.svc.APIKeys(r.Context(), r.PathValue("userId"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, &apiKeysAnswer{head: newHead(r), APIKeys: keys})
}

type newKeyAnswer struct {
	head
	Key    string          `json:"key"`
	APIKey *usersvc.APIKey `json:"apiKey"`
}

// createAPIKey: POST /api/users/{userId}/apiKeys {"label": "…"}
func (h *Handler) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var label string
	if err := h.decodeObject(r, map[string]*string{"label": &label}); err != nil {
		h.fail(w, r, err)
		return
	}
	key, rec, err := h.svc.CreateAPIKey(r.Context(), r.PathValue("userId"), label)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, &newKeyAnswer{head: newHead(r), Key: key, APIKey: rec})
}

type keyAnswer struct {
	head
	APIKey *usersvc.APIKey `json:"apiKey"`
}

func (h *Handler) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	rec, err := h.svc.RevokeAPIKey(r.Context(), r.PathValue("userId"), r.PathValue("keyId"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, &keyAnswer{head: newHead(r), APIKey: rec})
}

type tokenAnswer struct {
	head
	Token   string `json:"token"`
	Expires string `json:"expires"`
}

// signIn: POST /api/Auth/Token with {"userName", "password"} or {"userName", "apiKey"}.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	var user, password, key string
	fields := map[string]*string{"userName": &user, "password": &password, "apiKey": &key}
	if err := h.decodeObject(r, fields); err != nil {
		h.fail(w, r, err)
		return
	}
	var s *usersvc.Session
	var err error
	if key != "" {
		s, err = h.svc.LoginWithAPIKey(r.Context(), user, key)
	} else {
		s, err = h.svc.Login(r.Context(), user, password)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, &tokenAnswer{head: head{Success: true}, Token: s.Token, Expires: usersvc.FormatTime(s.Expires)})
}

// decodeObject reads a small JSON object of string fields: unknown keys and
// non-string values are errors naming the field.
func (h *Handler) decodeObject(r *http.Request, fields map[string]*string) error {
	if mt := mediaType(r); mt != "" && mt != "application/json" {
		return usersvc.Errorf(usersvc.EUnsupportedMedia, "Unsupported Content-Type %q; use application/json.", mt)
	}
	body, err := readJSON(r)
	if err != nil {
		return err
	}
	m, ok := body.(map[string]any)
	if !ok {
		return usersvc.Errorf(usersvc.EInvalid, "Malformed JSON body.")
	}
	for k, v := range m {
		dst, known := fields[k]
		if !known {
			return usersvc.FieldErrorf(usersvc.EInvalid, k, "Unknown field %q.", k)
		}
		s, ok := v.(string)
		if !ok && v != nil {
			return usersvc.FieldErrorf(usersvc.EInvalid, k, "Field %q must be a string.", k)
		}
		*dst = s
	}
	return nil
}
