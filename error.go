package usersvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Error codes. Every failure the service reports carries exactly one of these.
// Codes are part of the public API: REST maps them to an HTTP status and
// GraphQL puts them in extensions.code, both through one table in
// internal/apicode (the domain knows nothing of HTTP).
const (
	ENotFound           = "not_found"
	EInvalid            = "invalid"
	EUnauthenticated    = "unauthenticated"
	EForbidden          = "forbidden"
	EConflict           = "conflict"
	EPreconditionFailed = "precondition_failed"
	// EUnprocessable: well-formed, but it contradicts what the key it
	// names already stands for (an Idempotency-Key reused with another
	// request).
	EUnprocessable    = "unprocessable"
	ERateLimited      = "rate_limited"
	ETooLarge         = "too_large"
	EUnsupportedMedia = "unsupported_media_type"
	ETimeout          = "timeout"
	// ECanceled: the caller went away (the request's context was
	// cancelled) before the answer; nobody reads it, nothing is logged.
	ECanceled    = "canceled"
	EUnavailable = "unavailable"
	EInternal    = "internal"
)

// Reasons refine a code where a protocol must say more than the code
// does (SCIM's scimType, chosen in internal/apicode). Most errors have
// none.
const (
	// RUnique: a value that must be unique is taken (EConflict).
	RUnique = "unique"
	// RFilter: a filter that cannot be read or run (EInvalid).
	RFilter = "filter"
	// RPath: a path that cannot be read or names nothing writable (EInvalid).
	RPath = "path"
	// RNoTarget: a path whose filter matched nothing to change (EInvalid).
	RNoTarget = "no_target"
	// RSyntax: a request that is not what its format requires (EInvalid).
	RSyntax = "syntax"
	// RReadOnly: a change to what may not be changed (EInvalid, EForbidden).
	RReadOnly = "read_only"
	// RTooMany: more results than may be answered at once (EInvalid).
	RTooMany = "too_many"
	// RValue: a value of the wrong type or out of its rules (EInvalid;
	// what invalid input is when it says nothing finer).
	RValue = "value"
)

// Error is the one error type of the service. Message is an English,
// user-facing sentence from the message catalog (see messages.go); Args fill
// its verbs. Field names the input field at fault, when there is one.
type Error struct {
	Code    string
	Message string
	Args    []any
	Field   string
	// Detail is extra machine-made context (for example which patch
	// operation failed and why). It is appended to the message, untranslated.
	Detail string
	// Reason refines Code (the R* constants); "" for none.
	Reason string
	// RetryAfter, in seconds, tells a rate-limited client when to come back.
	RetryAfter int64
	// Err is the underlying cause of an internal error; it is logged, never shown.
	Err error
	// NotApplied, on an unavailable error, says the database certainly
	// applied nothing of the call that failed: storage knows the request
	// never reached the server, or the server refused it, or the
	// transaction failed before its commit was sent. Running the write
	// again cannot apply it twice (write.go waits for a new primary).
	NotApplied bool
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Internal wraps any error that is not already an *Error as an internal one,
// so that transports never show storage or driver text.
func Internal(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: ETimeout, Message: "The request took too long.", RetryAfter: RetryAfterUnavailable, Err: err}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Code: ECanceled, Message: "The request was cancelled.", Err: err}
	}
	return &Error{Code: EInternal, Message: "Internal server error.", Err: err}
}

// RetryAfterUnavailable is the Retry-After, in seconds, of answers that say
// the database is unavailable or the request ran out of time.
const RetryAfterUnavailable = 5

// Unavailable wraps err, which says the database cannot be reached or
// cannot serve now, as an unavailable error (503 with Retry-After).
func Unavailable(err error) error {
	return &Error{Code: EUnavailable, Message: "The database is unavailable; try again shortly.", RetryAfter: RetryAfterUnavailable, Err: err}
}

// UnavailableNotApplied is Unavailable for a failure after which the
// database certainly applied nothing (see Error.NotApplied).
func UnavailableNotApplied(err error) error {
	e := Unavailable(err).(*Error)
	e.NotApplied = true
	return e
}

// notApplied reports an unavailable error after which nothing was applied.
func notApplied(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == EUnavailable && e.NotApplied
}

// LogValue makes a logged *Error show its cause (driver text, the whole
// wrapped chain) after its message; answers never carry the cause.
func (e *Error) LogValue() slog.Value {
	msg := e.Localize("en")
	if e.Err != nil {
		msg += " cause: " + e.Err.Error()
	}
	return slog.StringValue(msg)
}

// LogFailure logs a failed request's error with its cause and the request
// id: internal errors as errors, an unavailable database or a request out
// of time as warnings; failures the client caused are not logged.
func LogFailure(ctx context.Context, logger *slog.Logger, err error) {
	if logger == nil {
		return
	}
	switch ErrorCode(err) {
	case EInternal:
		logger.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "err", err)
	case EUnavailable, ETimeout:
		logger.WarnContext(ctx, "database unavailable or request out of time", "request_id", RequestID(ctx), "err", err)
	}
}

// outcomeUnknown reports an error after which a transaction may or may
// not have committed: the database failed or stopped answering. Every
// other error is a decision made before anything was written, and so is
// an unavailable error storage marks NotApplied.
func outcomeUnknown(err error) bool {
	if notApplied(err) {
		return false
	}
	switch ErrorCode(err) {
	case EInternal, EUnavailable, ETimeout, ECanceled:
		return true
	}
	return false
}

// Errorf returns an *Error. format must be a catalog entry so that it can be
// translated; args are formatted into it.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: format, Args: args}
}

// FieldErrorf is Errorf naming the input field at fault.
func FieldErrorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Message: format, Args: args, Field: field}
}

func (e *Error) Error() string { return e.Localize("en") }

// Localize renders the message in lang ("en" or "es"; anything else is English).
func (e *Error) Localize(lang string) string {
	format := e.Message
	if lang == "es" {
		if t, ok := spanish[format]; ok {
			format = t
		}
	}
	msg := format
	if len(e.Args) > 0 {
		msg = fmt.Sprintf(format, e.Args...)
	}
	if e.Detail != "" {
		msg += " " + e.Detail
	}
	return msg
}

// ErrorCode returns the code of err, EInternal for anything that is not an *Error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the user-facing message of err in lang. Errors that are
// not *Error are internal: their text is never shown, since it may hold SQL
// or driver detail.
func ErrorMessage(err error, lang string) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EInternal {
		return e.Localize(lang)
	}
	return Errorf(EInternal, "Internal server error.").Localize(lang)
}
