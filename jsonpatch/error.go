package jsonpatch

import "fmt"

// Kind sorts errors by what the caller should answer.
type Kind int

const (
	// Invalid: the JSON is malformed, or the patch (or one of its
	// operations) is not well-formed or cannot apply to the document.
	Invalid Kind = iota + 1
	// TestFailed: a "test" operation found a different value.
	TestFailed
)

// Error is the error every function of this package returns.
//
// Message is a fixed English sentence whose fmt verbs Args fill, so that a
// caller can translate it by Message before formatting. Reason, for an
// error about one patch operation, is machine-made English text.
type Error struct {
	Kind Kind
	// Field is the object key at fault when there is one: a duplicated
	// key, or the first key on the way to a string that is not valid text.
	Field string
	// Op is the index of the failing patch operation, -1 when the error
	// is not about one operation.
	Op      int
	Message string
	Args    []any
	// Reason says what is wrong with operation Op ("" when Op is -1).
	Reason string
}

// Detail is the part of the text that names the failing operation,
// "(operation N: reason)", or "" when the error is not about one.
func (e *Error) Detail() string {
	if e.Op < 0 {
		return ""
	}
	return fmt.Sprintf("(operation %d: %s)", e.Op, e.Reason)
}

func (e *Error) Error() string {
	msg := e.Message
	if len(e.Args) > 0 {
		msg = fmt.Sprintf(msg, e.Args...)
	}
	if d := e.Detail(); d != "" {
		msg += " " + d
	}
	return msg
}

// errorf returns an error not about one operation. format is a fixed
// sentence (callers translate by it); args fill its verbs.
func errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: -1, Message: format, Args: args}
}

// fieldErrorf is errorf naming the object key at fault.
func fieldErrorf(kind Kind, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: -1, Message: format, Args: args, Field: field}
}

// opError is the error of operation index: "Invalid patch operation", or
// "Patch test failed" for kind TestFailed, with a reason formatted from
// format and args (never translated).
func opError(kind Kind, index int, format string, args ...any) *Error {
	e := errorf(kind, "Invalid patch operation")
	if kind == TestFailed {
		e = errorf(kind, "Patch test failed")
	}
	e.Op, e.Reason = index, fmt.Sprintf(format, args...)
	return e
}
