package scim

import (
	"net/http"

	"usersvc"
)

// Discovery (RFC 7644 §4): what this service provider supports, its
// resource types and their schemas, all made from the schema definitions
// (schema.go).

func (h *Handler) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{URNConfig},
		"documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": usersvc.MaxPageSize},
		"changePassword":   map[string]any{"supported": true},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "An administrator's token, or a provisioning key (usersvc token create --scope scim), as Authorization: Bearer <token>.",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base(r) + "/ServiceProviderConfig"},
	})
}

// resourceTypeDocs are the resource types, by name.
func resourceTypeDocs(r *http.Request) []map[string]any {
	doc := func(name, endpoint, schema, desc string, ext ...string) map[string]any {
		d := map[string]any{"schemas": []string{URNType}, "id": name, "name": name, "endpoint": endpoint,
			"description": desc, "schema": schema,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base(r) + "/ResourceTypes/" + name}}
		var exts []any
		for _, e := range ext {
			exts = append(exts, map[string]any{"schema": e, "required": false})
		}
		if exts != nil {
			d["schemaExtensions"] = exts
		}
		return d
	}
	return []map[string]any{
		doc("User", "/Users", URNUser, "User Account", URNEnterprise),
		doc("Group", "/Groups", URNGroup, "Group"),
	}
}

func (h *Handler) resourceTypes(w http.ResponseWriter, r *http.Request) {
	var list []any
	for _, d := range resourceTypeDocs(r) {
		list = append(list, d)
	}
	writeJSON(w, http.StatusOK, listResponse(list, len(list), 0))
}

func (h *Handler) resourceType(w http.ResponseWriter, r *http.Request) {
	for _, d := range resourceTypeDocs(r) {
		if d["name"] == r.PathValue("name") {
			writeJSON(w, http.StatusOK, d)
			return
		}
	}
	h.notFound(w, r)
}

// schemaDocs are the schemas, in /Schemas' order.
func schemaDocs(r *http.Request) []map[string]any {
	doc := func(id, name, desc string, attrs []*attr) map[string]any {
		list := []any{}
		for _, a := range attrs {
			list = append(list, attrDoc(a))
		}
		return map[string]any{"schemas": []string{URNSchema}, "id": id, "name": name, "description": desc, "attributes": list,
			"meta": map[string]any{"resourceType": "Schema", "location": base(r) + "/Schemas/" + id}}
	}
	return []map[string]any{
		doc(URNUser, "User", "User Account", append([]*attr{externalID}, userAttrs...)),
		doc(URNEnterprise, "EnterpriseUser", "Enterprise User", enterpriseAttrs),
		doc(URNGroup, "Group", "Group", append([]*attr{externalID}, groupAttrs...)),
	}
}

// attrDoc is an attribute's definition as /Schemas spells it.
func attrDoc(a *attr) map[string]any {
	d := map[string]any{"name": a.Name, "type": a.Type, "multiValued": a.Multi, "description": a.Description,
		"required": a.Required, "caseExact": a.CaseExact, "mutability": a.Mutability, "returned": a.Returned,
		"uniqueness": a.Uniqueness}
	if len(a.Sub) > 0 {
		var sub []any
		for _, s := range a.Sub {
			sub = append(sub, attrDoc(s))
		}
		d["subAttributes"] = sub
	}
	return d
}

func (h *Handler) schemas(w http.ResponseWriter, r *http.Request) {
	var list []any
	for _, d := range schemaDocs(r) {
		list = append(list, d)
	}
	writeJSON(w, http.StatusOK, listResponse(list, len(list), 0))
}

func (h *Handler) schema(w http.ResponseWriter, r *http.Request) {
	for _, d := range schemaDocs(r) {
		if isURN(d["id"].(string), r.PathValue("urn")) {
			writeJSON(w, http.StatusOK, d)
			return
		}
	}
	h.notFound(w, r)
}
