package scim

import (
	"net/http"

	"usersvc"
)

// The /Groups routes.

func (h *Handler) routeGroups() {
	h.mux.HandleFunc(Prefix+"/Groups", h.groupsUnavailable)
	h.mux.HandleFunc(Prefix+"/Groups/", h.groupsUnavailable)
}

func (h *Handler) groupsUnavailable(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, usersvc.Errorf(usersvc.ENotFound, "Not found."))
}
