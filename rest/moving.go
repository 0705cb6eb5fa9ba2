package rest

import (
	"bufio"
	"encoding/json"
	"net/http"

	"usersvc"
	"usersvc/moving"
)

// Moving users in and out over HTTP (docs/import.md): an import is a job
// (POST starts it; GET, GET …/errors and DELETE follow it), an export is
// one streamed answer. The job routes are "import" in the user id's place
// under patterns that cannot clash with a user's (a user cannot be named
// "import": usersvc.importableID). The jobs are package moving's
// (Handler.jobs); a handler built without them answers their routes 503.

var errNoJobs = usersvc.Errorf(usersvc.EUnavailable, "Import jobs do not run in this server; use usersvc import.")

// runsJobs reports whether this handler runs import jobs; when it does
// not, it answers 503.
func (h *Handler) runsJobs(w http.ResponseWriter, r *http.Request) bool {
	if h.jobs == nil {
		h.fail(w, r, errNoJobs)
	}
	return h.jobs != nil
}

type jobAnswer struct {
	head
	*usersvc.ImportJob
}

// startImport: POST /api/users/import?mode=create|upsert&dryRun=true with
// an NDJSON body and an optional Idempotency-Key: 202 and Location.
func (h *Handler) startImport(w http.ResponseWriter, r *http.Request) {
	if mt := mediaType(r); mt != "application/x-ndjson" {
		h.fail(w, r, usersvc.Errorf(usersvc.EUnsupportedMedia, "Unsupported Content-Type %q; use application/x-ndjson.", mt))
		return
	}
	q := r.URL.Query()
	dry, err := boolParam(q.Get("dryRun"), "dryRun")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !h.runsJobs(w, r) {
		return
	}
	job, _, err := h.jobs.Start(r.Context(), r.Body, usersvc.ImportOptions{Mode: q.Get("mode"), DryRun: dry != nil && *dry}, r.Header.Get("Idempotency-Key"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/users/import/"+job.ID)
	writeJSON(w, http.StatusAccepted, &jobAnswer{head: newHead(r), ImportJob: job})
}

// importJob: GET /api/users/import/{jobId} (the pattern's userId is "import").
func (h *Handler) importJob(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("userId") != "import" {
		h.notFound(w, r)
		return
	}
	if !h.runsJobs(w, r) {
		return
	}
	job, err := h.jobs.Job(r.Context(), r.PathValue("sub"))
	h.answerJob(w, r, job, err)
}

// cancelImport: DELETE /api/users/import/{jobId}.
func (h *Handler) cancelImport(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("userId") != "import" {
		h.notFound(w, r)
		return
	}
	if !h.runsJobs(w, r) {
		return
	}
	job, err := h.jobs.Cancel(r.Context(), r.PathValue("sub"))
	h.answerJob(w, r, job, err)
}

func (h *Handler) answerJob(w http.ResponseWriter, r *http.Request, job *usersvc.ImportJob, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, &jobAnswer{head: newHead(r), ImportJob: job})
}

// importErrors: GET /api/users/import/{jobId}/errors, NDJSON.
func (h *Handler) importErrors(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("userId") != "import" {
		h.notFound(w, r)
		return
	}
	if !h.runsJobs(w, r) {
		return
	}
	s := newStream(w)
	enc := json.NewEncoder(s.bw)
	h.endStream(w, r, s, h.jobs.Failures(r.Context(), r.PathValue("sub"), func(f usersvc.ImportFailure) error { return enc.Encode(f) }))
}

// export: GET /api/users/export?withPasswordHashes=true, NDJSON.
func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	hashes, err := boolParam(r.URL.Query().Get("withPasswordHashes"), "withPasswordHashes")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s := newStream(w)
	_, err = moving.Export(r.Context(), h.svc, s.bw, hashes != nil && *hashes)
	h.endStream(w, r, s, err)
}

// stream is an NDJSON answer written as it is made.
type stream struct {
	bw    *bufio.Writer
	wrote bool // some of it reached the client: the status is sent
}

func newStream(w http.ResponseWriter) *stream {
	s := &stream{}
	s.bw = bufio.NewWriterSize(writerFunc(func(p []byte) (int, error) {
		if !s.wrote {
			w.Header().Set("Content-Type", "application/x-ndjson")
			s.wrote = true
		}
		return w.Write(p)
	}), 32<<10)
	return s
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// endStream ends a streamed answer: an error before anything was sent is
// answered as any error. After, the status is gone, so the answer is cut:
// logged, then http.ErrAbortHandler makes net/http close the connection
// without the chunked body's last chunk, and the client sees an error (curl
// exits 18, Go reads io.ErrUnexpectedEOF) instead of a clean end; a body
// that ends cleanly is complete (docs/api.md, Long transfers). An empty
// answer is sent as an empty NDJSON body.
func (h *Handler) endStream(w http.ResponseWriter, r *http.Request, s *stream, err error) {
	if err != nil && !s.wrote {
		h.fail(w, r, err)
		return
	}
	if err == nil {
		if !s.wrote && s.bw.Buffered() == 0 {
			w.Header().Set("Content-Type", "application/x-ndjson")
		}
		err = s.bw.Flush()
	}
	if err != nil {
		usersvc.LogFailure(r.Context(), h.logger, err)
		if s.wrote {
			panic(http.ErrAbortHandler)
		}
	}
}
