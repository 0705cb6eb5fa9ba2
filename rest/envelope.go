package rest

import (
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"
)

// writeEnvelope writes an answer about one user byte for byte as
// writeJSON (encoding/json, HTML escaping off) writes it, without
// reflection: it is the body of every read and write of a user, and
// encoding/json's walk over the envelope was the largest single piece of
// a PATCH's own CPU. TestEnvelopeMatchesEncodingJSON compares the two on
// documents with every field set and unset and hostile strings; a field
// added to Document and not here fails it.
func writeEnvelope(w http.ResponseWriter, status int, e *envelope) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(appendEnvelope(make([]byte, 0, 1024), e))
}

func appendEnvelope(b []byte, e *envelope) []byte {
	h, d := &e.head, e.Document
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
	b = appendJSONString(append(b, `,"id":`...), d.ID)
	b = appendJSONString(append(b, `,"name":`...), d.Name)
	b = appendJSONString(append(b, `,"email":`...), d.Email)
	b = appendJSONString(append(b, `,"country":`...), d.Country)
	b = appendJSONString(append(b, `,"timeZone":`...), d.TimeZone)
	b = appendOptString(append(b, `,"description":`...), d.Description)
	b = appendOptString(append(b, `,"message":`...), d.Message)
	b = strconv.AppendBool(append(b, `,"disabled":`...), d.Disabled)
	b = appendOptString(append(b, `,"disabledMessage":`...), d.DisabledMessage)
	b = append(b, `,"tags":`...)
	if d.Tags == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		keys := make([]string, 0, len(d.Tags))
		for k := range d.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(append(appendJSONString(b, k), ':'), d.Tags[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"privileges":`...)
	if d.Privileges == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range d.Privileges {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p)
		}
		b = append(b, ']')
	}
	b = appendOptString(append(b, `,"group":`...), d.Group)
	b = appendOptString(append(b, `,"deviceId":`...), d.DeviceID)
	b = strconv.AppendInt(append(b, `,"adminDevices":`...), int64(d.AdminDevices), 10)
	b = appendOptString(append(b, `,"from":`...), d.From)
	b = appendOptString(append(b, `,"expires":`...), d.Expires)
	b = appendOptString(append(b, `,"password":`...), d.Password)
	b = appendJSONString(append(b, `,"creation":`...), d.Creation)
	b = appendJSONString(append(b, `,"modification":`...), d.Modification)
	b = appendOptString(append(b, `,"lastLogin":`...), d.LastLogin)
	b = appendJSONString(append(b, `,"role":`...), string(d.Role))
	b = appendOptString(append(b, `,"deletedAt":`...), d.DeletedAt)
	b = append(b, `,"dailyQuota":`...)
	if d.DailyQuota == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *d.DailyQuota, 10)
	}
	return append(b, "}\n"...)
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
