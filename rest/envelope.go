package rest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"usersvc"
)

// writeEnvelope writes an answer about one user byte for byte as
// writeJSON (encoding/json, HTML escaping off) writes it, without
// reflection: it is the body of every read and write of a user, and
// encoding/json's walk over the envelope was the largest single piece of
// a PATCH's own CPU. The user's fields come from the domain's field table
// (usersvc.FieldTable, each row's Value), in its order, so no field is
// named here. TestEnvelopeMatchesEncodingJSON compares the output with
// encoding/json's on documents with every field set and unset and
// hostile strings.
func writeEnvelope(w http.ResponseWriter, status int, e *envelope) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(appendEnvelope(make([]byte, 0, 1024), e))
}

// documentField is a row of the field table with its key as the envelope
// writes it after the value before: `,"name":`.
type documentField struct {
	key   string
	field usersvc.Field
}

var documentFields = func() []documentField {
	table := usersvc.FieldTable()
	out := make([]documentField, len(table))
	for i, f := range table {
		out[i] = documentField{key: string(appendJSONString([]byte(","), f.Name)) + ":", field: f}
	}
	return out
}()

func appendEnvelope(b []byte, e *envelope) []byte {
	h := &e.head
	b = append(b, `{"success":`...)
	b = strconv.AppendBool(b, h.Success)
	if h.Error != "" {
		b = appendJSONString(append(b, `,"error":`...), h.Error)
	}
	if h.Field != "" {
		b = appendJSONString(append(b, `,"field":`...), h.Field)
	}
	if h.APIUsage != nil {
		b = strconv.AppendInt(append(b, `,"apiUsage":`...), *h.APIUsage, 10)
	}
	if h.APIDailyUsage != nil {
		b = strconv.AppendInt(append(b, `,"apiDailyUsage":`...), *h.APIDailyUsage, 10)
	}
	for i := range documentFields {
		f := &documentFields[i]
		b = appendValue(append(b, f.key...), f.field.Value(e.Document))
	}
	return append(b, "}\n"...)
}

// appendValue appends a document value as encoding/json writes it: the
// document's types directly, anything else through encoding/json itself
// (none today; a field of a new type is right before it is fast).
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, v)
	case *string:
		return appendOptString(b, v)
	case usersvc.Role:
		return appendJSONString(b, string(v))
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case *int64:
		if v == nil {
			return append(b, "null"...)
		}
		return strconv.AppendInt(b, *v, 10)
	case map[string]string:
		if v == nil {
			return append(b, "null"...)
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(append(appendJSONString(b, k), ':'), v[k])
		}
		return append(b, '}')
	case []string:
		if v == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return append(b, "null"...) // a document's values always encode
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// appendJSONString appends s quoted as encoding/json quotes it with HTML
// escaping off: '"', '\\' and control characters escaped, invalid UTF-8
// as \ufffd, U+2028 and U+2029 as escapes.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}
