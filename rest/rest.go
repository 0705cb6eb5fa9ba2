// Package rest is the REST adapter: the public /api/users routes over the
// usersvc domain. Handlers parse HTTP, call the service and write the JSON
// envelope; no rule lives here.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"usersvc"
	"usersvc/internal/apicode"
	"usersvc/internal/httpbody"
	"usersvc/jsonpatch"
	"usersvc/moving"
)

// AcceptPatch lists the PATCH body formats.
const AcceptPatch = "application/json-patch+json, application/merge-patch+json"

// Handler serves the REST API. Requests must already be authenticated
// (the server package puts the caller in the context).
type Handler struct {
	svc    *usersvc.Service
	jobs   *moving.Jobs // import jobs (nil: their routes answer 503)
	logger *slog.Logger
	mux    *http.ServeMux
}

// NewHandler returns the REST handler; jobs runs the import jobs it
// starts (nil: their routes answer 503).
func NewHandler(svc *usersvc.Service, jobs *moving.Jobs, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &Handler{svc: svc, jobs: jobs, logger: logger, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /api/users", h.listUsers)
	h.mux.HandleFunc("POST /api/users", h.createUser)
	h.mux.HandleFunc("GET /api/users/countries", h.countries)
	h.mux.HandleFunc("GET /api/users/timeZones", h.timeZones)
	h.mux.HandleFunc("GET /api/users/{userId}", h.getUser)
	h.mux.HandleFunc("PUT /api/users/{userId}", h.putUser)
	h.mux.HandleFunc("PATCH /api/users/{userId}", h.patchUser)
	h.mux.HandleFunc("DELETE /api/users/{userId}", h.deleteUser)
	h.mux.HandleFunc("POST /api/users/{userId}/restore", h.restoreUser)
	h.mux.HandleFunc("GET /api/users/{userId}/history", h.history)
	h.mux.HandleFunc("GET /api/users/{userId}/apiKeys", h.listAPIKeys)
	h.mux.HandleFunc("POST /api/users/{userId}/apiKeys", h.createAPIKey)
	h.mux.HandleFunc("DELETE /api/users/{userId}/apiKeys/{keyId}", h.revokeAPIKey)
	h.mux.HandleFunc("POST /api/Auth/Token", h.signIn)
	h.mux.HandleFunc("GET /api/users/export", h.export)
	h.mux.HandleFunc("POST /api/users/import", h.startImport)
	h.mux.HandleFunc("GET /api/users/{userId}/{sub}", h.importJob)
	h.mux.HandleFunc("DELETE /api/users/{userId}/{sub}", h.cancelImport)
	h.mux.HandleFunc("GET /api/users/{userId}/{sub}/errors", h.importErrors)
	h.mux.HandleFunc("/api/users/{userId}", h.methodNotAllowed)
	h.mux.HandleFunc("/", h.notFound)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Pattern names the route r matches (for metrics), "/" when none does.
func (h *Handler) Pattern(r *http.Request) string {
	_, p := h.mux.Handler(r)
	return p
}

// head starts every REST answer: success, error, and the caller's counters.
type head struct {
	Success       bool   `json:"success"`
	Error         string `json:"error,omitempty"`
	Field         string `json:"field,omitempty"`
	APIUsage      *int64 `json:"apiUsage,omitempty"`
	APIDailyUsage *int64 `json:"apiDailyUsage,omitempty"`
}

// envelope is an answer about one user: its fields flat beside the head.
type envelope struct {
	head
	*usersvc.Document
}

func newHead(r *http.Request) head {
	h := head{Success: true}
	if p := usersvc.PrincipalFrom(r.Context()); p != nil {
		h.APIUsage, h.APIDailyUsage = &p.Usage.Total, &p.Usage.Daily
	}
	return h
}

// ETag is a user's entity tag: its version.
func ETag(u *usersvc.User) string { return `"v` + strconv.FormatInt(u.Version, 10) + `"` }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (h *Handler) writeUser(w http.ResponseWriter, r *http.Request, u *usersvc.User) {
	w.Header().Set("ETag", ETag(u))
	writeEnvelope(w, http.StatusOK, &envelope{head: newHead(r), Document: u.Document()})
}

// WriteError writes the failure envelope with the status from the one code
// table. Internal errors are logged and masked.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := usersvc.ErrorCode(err)
	usersvc.LogFailure(r.Context(), logger, err)
	e := newHead(r)
	e.Success, e.Error = false, usersvc.ErrorMessage(err, usersvc.LangFrom(r.Context()))
	var de *usersvc.Error
	if errors.As(err, &de) {
		e.Field = de.Field
		if de.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(de.RetryAfter, 10))
		}
	}
	if code == usersvc.EUnsupportedMedia {
		w.Header().Set("Accept-Patch", AcceptPatch)
	}
	writeJSON(w, apicode.HTTPStatus(code), e)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, h.logger, err)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, usersvc.Errorf(usersvc.ENotFound, "Not found."))
}

func (h *Handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, PUT, PATCH, DELETE")
	e := newHead(r)
	e.Success, e.Error = false, usersvc.ErrorMessage(usersvc.Errorf(usersvc.EInvalid, "Method not allowed."), usersvc.LangFrom(r.Context()))
	writeJSON(w, http.StatusMethodNotAllowed, e)
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.svc.User(r.Context(), r.PathValue("userId"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagListMatches(inm, ETag(u)) {
		w.Header().Set("ETag", ETag(u))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.writeUser(w, r, u)
}

// writeFunc is one of the service's write operations.
type writeFunc func(ctx context.Context, id string, body any, ifVersion *int64) (*usersvc.User, error)

func (h *Handler) putUser(w http.ResponseWriter, r *http.Request) {
	h.write(w, r, func(mt string) (writeFunc, error) {
		if mt != "" && mt != "application/json" {
			return nil, usersvc.Errorf(usersvc.EUnsupportedMedia, "Unsupported Content-Type %q; use application/json.", mt)
		}
		return h.svc.ReplaceUser, nil
	})
}

func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request) {
	h.write(w, r, func(mt string) (writeFunc, error) {
		switch mt {
		case "application/json-patch+json", "application/json":
			return h.svc.PatchUser, nil
		case "application/merge-patch+json":
			return h.svc.MergePatchUser, nil
		}
		return nil, usersvc.Errorf(usersvc.EUnsupportedMedia, "Unsupported Content-Type %q; use application/json-patch+json or application/merge-patch+json.", mt)
	})
}

// write is the shape of every user write: precondition, media type, body,
// the service call chosen by the media type, the answer.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, choose func(mediaType string) (writeFunc, error)) {
	u, err := func() (*usersvc.User, error) {
		ifVersion, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		op, err := choose(mediaType(r))
		if err != nil {
			return nil, err
		}
		body, err := readJSON(r)
		if err != nil {
			return nil, err
		}
		ctx := r.Context()
		if pw, ok := r.Header["X-Current-Password"]; ok && len(pw) > 0 {
			ctx = usersvc.WithCurrentPassword(ctx, pw[0]) // changing one's own password needs it
		}
		return op(ctx, r.PathValue("userId"), body, ifVersion)
	}()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeUser(w, r, u)
}

func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

func readJSON(r *http.Request) (any, error) {
	b, err := httpbody.ReadRequest(r)
	if err != nil {
		return nil, err
	}
	v, err := jsonpatch.Parse(b)
	return v, usersvc.JSONError(err)
}

// ifMatch turns an If-Match header into the version a write must find.
// "*" (or no header) is no precondition; one of our ETags is that version;
// anything else cannot match and fails the precondition.
func ifMatch(r *http.Request) (*int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil, nil
	}
	v, ok := strings.CutPrefix(h, `"v`)
	if ok {
		v, ok = strings.CutSuffix(v, `"`)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil || n < 1 {
		return nil, usersvc.Errorf(usersvc.EPreconditionFailed, "Precondition Failed")
	}
	return &n, nil
}

// etagListMatches is the weak comparison If-None-Match uses.
func etagListMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
