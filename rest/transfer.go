package rest

import (
	"net/http"
	"strings"
)

// IsTransfer reports whether r is one of the long transfers: the export
// (GET /api/users/export), an import's upload (POST /api/users/import)
// and an import's failed lines (GET /api/users/import/{jobId}/errors).
// Their size has no useful bound in time, so the server runs them under
// an idle timeout instead of the request deadline (server.serveTransfer).
func IsTransfer(r *http.Request) bool {
	p := r.URL.Path
	switch r.Method {
	case http.MethodPost:
		return p == "/api/users/import"
	case http.MethodGet, http.MethodHead:
		if p == "/api/users/export" {
			return true
		}
		job, ok := strings.CutPrefix(p, "/api/users/import/")
		if !ok {
			return false
		}
		job, ok = strings.CutSuffix(job, "/errors")
		return ok && job != "" && !strings.Contains(job, "/")
	}
	return false
}
