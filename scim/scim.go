// Package scim is the SCIM 2.0 adapter (RFC 7643, RFC 7644): a service
// provider at /scim/v2 over the usersvc domain, for identity providers
// (Okta, Microsoft Entra ID) that provision users and groups. Handlers
// read the SCIM request, call the service and write the SCIM answer; the
// rules (who may act, validation, the one write path, the sign-in key)
// are the domain's. docs/scim.md says how SCIM maps onto users.
package scim

import (
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
)

// Prefix is where the service provider is mounted.
const Prefix = "/scim/v2"

// MediaType is SCIM's media type (RFC 7644 §3.1); application/json is
// accepted in requests too.
const MediaType = "application/scim+json"

// Handler serves /scim/v2. Requests must already be authenticated on the
// SCIM surface (the server package does it: usersvc.SurfaceSCIM).
type Handler struct {
	svc    *usersvc.Service
	logger *slog.Logger
	mux    *http.ServeMux
}

// NewHandler returns the SCIM handler.
func NewHandler(svc *usersvc.Service, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &Handler{svc: svc, logger: logger, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET "+Prefix+"/Users", h.listUsers)
	h.mux.HandleFunc("GET "+Prefix+"/Users/{$}", h.listUsers)
	h.mux.HandleFunc("POST "+Prefix+"/Users", h.createUser)
	h.mux.HandleFunc("GET "+Prefix+"/Users/{id}", h.getUser)
	h.mux.HandleFunc("PUT "+Prefix+"/Users/{id}", h.replaceUser)
	h.mux.HandleFunc("PATCH "+Prefix+"/Users/{id}", h.patchUser)
	h.mux.HandleFunc("DELETE "+Prefix+"/Users/{id}", h.deleteUser)
	h.mux.HandleFunc("GET "+Prefix+"/ServiceProviderConfig", h.serviceProviderConfig)
	h.mux.HandleFunc("GET "+Prefix+"/ResourceTypes", h.resourceTypes)
	h.mux.HandleFunc("GET "+Prefix+"/ResourceTypes/{name}", h.resourceType)
	h.mux.HandleFunc("GET "+Prefix+"/Schemas", h.schemas)
	h.mux.HandleFunc("GET "+Prefix+"/Schemas/{urn}", h.schema)
	h.routeGroups()
	h.mux.HandleFunc("/", h.notFound)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, canonical(r)) }

// endpoints are the service provider's endpoints, matched in any case
// (clients send /users as well as /Users).
var endpoints = []string{"Users", "Groups", "Schemas", "ResourceTypes", "ServiceProviderConfig"}

// canonical is r with its endpoint spelled as routed.
func canonical(r *http.Request) *http.Request {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix+"/")
	if !ok {
		return r
	}
	seg, _, _ := strings.Cut(rest, "/")
	for _, e := range endpoints {
		if seg != e && strings.EqualFold(seg, e) {
			r2 := r.Clone(r.Context())
			r2.URL.Path = Prefix + "/" + e + strings.TrimPrefix(rest, seg)
			r2.URL.RawPath = ""
			return r2
		}
	}
	return r
}

// Pattern names the route r matches (for metrics), "/" when none does.
func (h *Handler) Pattern(r *http.Request) string {
	_, p := h.mux.Handler(canonical(r))
	return p
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, usersvc.Errorf(usersvc.ENotFound, "Not found."))
}

// errorf is an invalid-input error with a reason (SCIM's scimType).
func errorf(reason, format string, args ...any) *usersvc.Error {
	e := usersvc.Errorf(usersvc.EInvalid, format, args...)
	e.Reason = reason
	return e
}

var errNotFound = usersvc.Errorf(usersvc.ENotFound, "User not found.")

// writeJSON writes a SCIM answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", MediaType+"; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteError writes err as SCIM's error (RFC 7644 §3.12): the status from
// the one code table, scimType from the error's reason. Internal errors
// are logged and masked.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	usersvc.LogFailure(r.Context(), logger, err)
	code, reason := usersvc.ErrorCode(err), ""
	var de *usersvc.Error
	if errors.As(err, &de) {
		reason = de.Reason
		if de.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(de.RetryAfter, 10))
		}
	}
	status := apicode.HTTPStatus(code)
	body := map[string]any{
		"schemas": []string{URNError},
		"status":  strconv.Itoa(status),
		"detail":  usersvc.ErrorMessage(err, usersvc.LangFrom(r.Context())),
	}
	if t := apicode.SCIMType(code, reason); t != "" {
		body["scimType"] = t
	}
	writeJSON(w, status, body)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, h.logger, err)
}

// readBody reads a request's JSON body (application/scim+json or
// application/json): invalid JSON is invalidSyntax.
func readBody(r *http.Request) (any, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != MediaType && mt != "application/json" {
			return nil, usersvc.Errorf(usersvc.EUnsupportedMedia, "Unsupported Content-Type %q; use application/scim+json.", ct)
		}
	}
	b, err := httpbody.ReadRequest(r)
	if err != nil {
		return nil, err
	}
	v, err := jsonpatch.Parse(b)
	if err != nil {
		e := errorf(usersvc.RSyntax, "The body is not valid JSON.")
		var de *usersvc.Error
		if errors.As(usersvc.JSONError(err), &de) {
			e.Detail = de.Localize("en")
		}
		return nil, e
	}
	return v, nil
}

// ifMatch reads If-Match: no header or "*" is no precondition; an ETag
// of ours (W/"5" or "5") is that version; anything else cannot match.
func ifMatch(r *http.Request) (*int64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return nil, nil
	}
	v = strings.TrimPrefix(v, "W/")
	s, ok := strings.CutPrefix(v, `"`)
	if ok {
		s, ok = strings.CutSuffix(s, `"`)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || n < 1 {
		return nil, usersvc.Errorf(usersvc.EPreconditionFailed, "Precondition Failed")
	}
	return &n, nil
}

// base is the absolute URL of the service provider, for meta.location
// and Location.
func base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}

// selections reads attributes and excludedAttributes.
func selections(r *http.Request) (keep, drop selection, err error) {
	q := r.URL.Query()
	if keep, err = readSelection(q.Get("attributes")); err != nil {
		return nil, nil, err
	}
	drop, err = readSelection(q.Get("excludedAttributes"))
	return keep, drop, err
}

// asksRepresentation says whether a PATCH must answer with the resource
// (200) rather than 204: it named attributes to return (RFC 7644 §3.5.2).
func asksRepresentation(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("attributes") || q.Has("excludedAttributes")
}
