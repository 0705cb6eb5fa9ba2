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

// plainPatch is a JSON Patch applied without rendering the user's whole
// document, when every operation is an "add" or "replace" of a top-level
// plain field (one whose value is a JSON scalar: not tags or privileges,
// not a read-only field). It returns nil for any other patch, which then
// takes the general path.
//
// The result is the draft the general path builds: there, every field of
// the rendered document decodes back to its stored value and each patched
// field to the last value an operation gave it ("add" of an existing
// member replaces it, and every field is a member of the document, null
// or not), decoded in sorted key order so that the first error reported
// is the same.
func plainPatch(ops []jsonpatch.Operation, before *User) *draft {
	set := make(map[string]any, len(ops))
	for _, op := range ops {
		if op.Op != "add" && op.Op != "replace" || !op.HasValue || len(op.Path) < 2 || op.Path[0] != '/' {
			return nil
		}
		name := op.Path[1:]
		f := fieldNamed(name)
		if f == nil || f.Access == ReadOnly || !f.scalar() {
			return nil // also any path with '/' or '~' in it: no field is named so
		}
		set[name] = op.Value
	}
	d := &draft{u: before.Clone(), errs: map[string]error{}}
	for _, k := range sortedKeys(set) {
		d.decodeField(fieldNamed(k), set[k])
	}
	return d
}
