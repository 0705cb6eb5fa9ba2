// Package jsonpatch is the service's generic JSON code: a strict decoder
// (Parse: exact numbers, no duplicate keys, no trailing data, bounded
// depth, valid text only), RFC 6902 JSON Patch (ParsePatch, Apply, with
// RFC 6901 pointers) and RFC 7396 JSON Merge Patch (ApplyMerge), on
// generic JSON values (map[string]any, []any, string, json.Number, bool,
// nil).
//
// It knows nothing of users or of the service's errors: every error is an
// *Error whose Kind the caller maps to its own codes, and whose Message is
// a fixed English sentence the caller may translate.
package jsonpatch
