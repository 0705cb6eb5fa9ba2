package scim

import (
	"encoding/json"
	"strconv"
	"strings"

	"usersvc"
)

// A SCIM User is the service's user seen through the mapping of
// docs/scim.md: userName, displayName (name), active (not disabled) and
// password are fields of the user; every other attribute the schemas
// define lives in the user's scim object, under its canonical name (the
// enterprise extension's under its URN); attributes no schema defines are
// ignored.

// resource is a SCIM resource as a JSON object, attribute names canonical.
type resource = map[string]any

// badValue is the answer to an attribute value of the wrong type.
func badValue(name string) error {
	e := errorf(usersvc.RValue, "Attribute %q has a value of the wrong type.", name)
	e.Field = name
	return e
}

// readUser reads a request's User: names made canonical, values checked
// against their types (booleans also as "True"/"False", as Entra ID
// sends them), null and unknown attributes dropped, read-only ones (id,
// meta, schemas, groups) ignored.
func readUser(body any) (resource, error) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, errorf(usersvc.RSyntax, "The body must be a JSON object.")
	}
	out := resource{}
	for k, v := range m {
		if err := putAttr(out, k, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// putAttr puts the top-level attribute named k (a core name, externalId,
// an extension's URN, or a URN-qualified name) with value v into r.
func putAttr(r resource, k string, v any) error {
	if isURN(k, URNEnterprise) {
		m, ok := v.(map[string]any)
		if v == nil {
			delete(r, URNEnterprise)
			return nil
		}
		if !ok {
			return badValue(URNEnterprise)
		}
		ext, _ := r[URNEnterprise].(map[string]any)
		ext = clone(ext)
		for ek, ev := range m {
			a := find(enterpriseAttrs, ek)
			if a == nil {
				continue
			}
			nv, err := normalize(a, ev)
			if err != nil {
				return err
			}
			setOrDelete(ext, a.Name, nv)
		}
		setOrDelete(r, URNEnterprise, nonEmpty(ext))
		return nil
	}
	urn, name := cutURN(k)
	switch urn {
	case URNEnterprise:
		return putAttr(r, URNEnterprise, map[string]any{name: v})
	case URNGroup:
		return nil
	}
	a := userAttr(name)
	if a == nil || a.Mutability == "readOnly" {
		return nil // unknown, or read-only (groups): ignored
	}
	nv, err := normalize(a, v)
	if err != nil {
		return err
	}
	setOrDelete(r, a.Name, nv)
	return nil
}

// normalize checks v against a and returns it with canonical sub-attribute
// names; nil for null (and for an empty list or object).
func normalize(a *attr, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.Multi {
		list, ok := v.([]any)
		if !ok {
			list = []any{v} // one value where a list belongs
		}
		out := []any{}
		for _, e := range list {
			if s, ok := e.(string); ok && a.sub("value") != nil {
				e = map[string]any{"value": s} // a bare value: its value sub-attribute
			}
			ne, err := normalizeSingle(a, e)
			if err != nil {
				return nil, err
			}
			if ne != nil {
				out = append(out, ne)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	return normalizeSingle(a, v)
}

func normalizeSingle(a *attr, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case "complex":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, badValue(a.Name)
		}
		out := map[string]any{}
		for k, sv := range m {
			s := a.sub(k)
			if s == nil {
				continue
			}
			ns, err := normalizeSingle(s, sv)
			if err != nil {
				return nil, err
			}
			setOrDelete(out, s.Name, ns)
		}
		return nonEmpty(out), nil
	case "boolean":
		return readBool(a.Name, v)
	default:
		s, ok := v.(string)
		if !ok {
			return nil, badValue(a.Name)
		}
		return s, nil
	}
}

// readBool reads a boolean, or its spelling as a string in any case.
func readBool(name string, v any) (any, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if p, err := strconv.ParseBool(strings.ToLower(b)); err == nil && (strings.EqualFold(b, "true") || strings.EqualFold(b, "false")) {
			return p, nil
		}
	}
	return nil, badValue(name)
}

func setOrDelete(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
		return
	}
	m[k] = v
}

// nonEmpty is m, or nil (as an any) when it has no members.
func nonEmpty(m map[string]any) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Attributes of the resource that are fields of the user, not of its
// scim object.
var userFields = map[string]bool{"userName": true, "displayName": true, "active": true, "password": true}

// toDocument writes resource r over the user document doc: the mapping
// of docs/scim.md. A user without a userName is refused; a SCIM email
// that is not one valid address leaves the user's email empty; the
// country and time zone follow the resource's when it gives valid ones
// (else they stay, or on a create take the service's defaults).
func toDocument(r resource, doc map[string]any) error {
	name, _ := r["userName"].(string)
	if strings.TrimSpace(name) == "" {
		e := errorf(usersvc.RValue, "Attribute %q is required.", "userName")
		e.Field = "userName"
		return e
	}
	doc["userName"] = name
	doc["name"] = displayName(r, name)
	doc["email"] = primaryEmail(r)
	active := true
	if b, ok := r["active"].(bool); ok {
		active = b
	}
	doc["disabled"] = !active
	if pw, ok := r["password"].(string); ok {
		doc["password"] = pw
	}
	obj := map[string]any{}
	for k, v := range r {
		if !userFields[k] {
			obj[k] = v
		}
	}
	doc["scim"] = nonEmpty(obj)
	if tz, ok := r["timezone"].(string); ok && validZone(tz) {
		doc["timeZone"] = tz
	} else if _, ok := doc["timeZone"]; !ok {
		doc["timeZone"] = usersvc.ProvisionedTimeZone
	}
	if c := addressCountry(r); c != "" {
		doc["country"] = c
	} else if _, ok := doc["country"]; !ok {
		doc["country"] = usersvc.ProvisionedCountry
	}
	return nil
}

func validZone(tz string) bool { _, err := usersvc.LoadLocation(tz); return err == nil }

// displayName is the user's name: displayName, else name.formatted, else
// the given and family names, else the userName.
func displayName(r resource, userName string) string {
	if s, ok := r["displayName"].(string); ok && strings.TrimSpace(s) != "" {
		return s
	}
	n, _ := r["name"].(map[string]any)
	if s, ok := n["formatted"].(string); ok && strings.TrimSpace(s) != "" {
		return s
	}
	g, _ := n["givenName"].(string)
	f, _ := n["familyName"].(string)
	if s := strings.TrimSpace(g + " " + f); s != "" {
		return s
	}
	return userName
}

// primary is the element of the multi-valued attribute named that is
// primary, else the first; nil when there is none.
func primary(r resource, name string) map[string]any {
	list, _ := r[name].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["primary"] == true {
			return m
		}
	}
	if len(list) > 0 {
		m, _ := list[0].(map[string]any)
		return m
	}
	return nil
}

// primaryEmail is the primary (else first) email when it is one valid
// address, else "".
func primaryEmail(r resource) string {
	if s, ok := primary(r, "emails")["value"].(string); ok && usersvc.ValidateEmail(s) == nil {
		return s
	}
	return ""
}

// addressCountry is the primary (else first) address's country, "" when
// none or too long for a country.
func addressCountry(r resource) string {
	c, _ := primary(r, "addresses")["country"].(string)
	if strings.TrimSpace(c) == "" || len([]rune(c)) > usersvc.MaxCountryLen {
		return ""
	}
	return c
}

// userResource renders u as a SCIM User (meta with base, the service's
// URL prefix of /Users).
func userResource(u *usersvc.User, base string) resource {
	r := resource{}
	for k, v := range u.SCIM {
		r[k] = v
	}
	schemas := []any{URNUser}
	if _, ok := r[URNEnterprise]; ok {
		schemas = append(schemas, URNEnterprise)
	}
	r["schemas"] = schemas
	r["id"] = u.ID
	if u.UserName != nil {
		r["userName"] = *u.UserName
	}
	r["displayName"] = u.Name
	r["active"] = !u.Disabled
	if _, ok := r["emails"]; !ok && u.Email != "" {
		r["emails"] = []any{map[string]any{"value": u.Email, "primary": true}}
	}
	r["meta"] = map[string]any{
		"resourceType": "User",
		"created":      usersvc.FormatTime(u.Creation),
		"lastModified": usersvc.FormatTime(u.Modification),
		"location":     base + "/Users/" + u.ID,
		"version":      etag(u.Version),
	}
	return r
}

// etag is a version as SCIM's meta.version and the ETag header.
func etag(v int64) string { return `W/"` + strconv.FormatInt(v, 10) + `"` }

// jsonClone deep-copies a JSON value (a PATCH works on a copy).
func jsonClone(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	_ = d.Decode(&out)
	return out
}
