package usersvc

import (
	"errors"

	"usersvc/jsonpatch"
)

// JSONError maps an error of package jsonpatch (strict decoding, JSON Patch,
// merge patch) to the service's: a failed "test" operation is a conflict
// (409), anything else invalid input (400), with jsonpatch's message (a
// catalog entry, so it translates), field and "(operation N: reason)"
// detail. nil stays nil; any other error passes through unchanged.
func JSONError(err error) error {
	var je *jsonpatch.Error
	if !errors.As(err, &je) {
		return err
	}
	code := EInvalid
	if je.Kind == jsonpatch.TestFailed {
		code = EConflict
	}
	return &Error{Code: code, Message: je.Message, Args: je.Args, Field: je.Field, Detail: je.Detail()}
}
