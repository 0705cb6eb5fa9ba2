package scim

import "strings"

// The schemas this service provider speaks (RFC 7643 §4 and §8.7.1): the
// core User, the enterprise User extension and the core Group, as
// attribute definitions. They drive reading bodies (attribute names in
// any case, values of the right type, unknown attributes ignored),
// filters, PATCH paths and the /Schemas answer.

// URNs of the schemas and messages.
const (
	URNUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	URNEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	URNGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	URNList       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	URNPatchOp    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	URNError      = "urn:ietf:params:scim:api:messages:2.0:Error"
	URNSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	URNConfig     = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	URNType       = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
)

// attr is one attribute definition (RFC 7643 §7).
type attr struct {
	Name        string
	Type        string // string, boolean, complex, dateTime, reference, integer, decimal, binary
	Multi       bool
	Required    bool
	CaseExact   bool
	Mutability  string // readWrite, readOnly, immutable, writeOnly
	Returned    string // always, never, default, request
	Uniqueness  string // none, server, global
	Description string
	Sub         []*attr
}

// sub finds a sub-attribute by name, in any case.
func (a *attr) sub(name string) *attr { return find(a.Sub, name) }

func find(list []*attr, name string) *attr {
	for _, a := range list {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

func text(name, desc string) *attr {
	return &attr{Name: name, Type: "string", Mutability: "readWrite", Returned: "default", Uniqueness: "none", Description: desc}
}

func boolean(name, desc string) *attr {
	a := text(name, desc)
	a.Type = "boolean"
	return a
}

func complexAttr(name, desc string, sub ...*attr) *attr {
	a := text(name, desc)
	a.Type, a.Sub = "complex", sub
	return a
}

// multi is a multi-valued complex attribute with the usual sub-attributes
// (value, display, type, primary) and any others.
func multi(name, desc string, extra ...*attr) *attr {
	sub := []*attr{text("value", "The value."), text("display", "A human-readable name."),
		text("type", "A label for the value's function."), boolean("primary", "Whether this is the preferred value.")}
	a := complexAttr(name, desc, append(sub, extra...)...)
	a.Multi = true
	return a
}

// userAttrs is the core User schema (RFC 7643 §4.1) without id and meta.
var userAttrs = []*attr{
	func() *attr {
		a := text("userName", "The name the user signs in with; unique, case-insensitively.")
		a.Required, a.Uniqueness = true, "server"
		return a
	}(),
	complexAttr("name", "The components of the user's real name.",
		text("formatted", "The full name."), text("familyName", "The family name."), text("givenName", "The given name."),
		text("middleName", "The middle name."), text("honorificPrefix", "The honorific prefix."), text("honorificSuffix", "The honorific suffix.")),
	text("displayName", "The name shown for the user (the user's name in every API)."),
	text("nickName", "The casual name."),
	text("profileUrl", "A URL of the user's profile."),
	text("title", "The user's title."),
	text("userType", "The relation to the organization."),
	text("preferredLanguage", "The preferred language."),
	text("locale", "The default location, for localizing."),
	text("timezone", "The time zone (IANA name); sets the user's timeZone when valid."),
	boolean("active", "Whether the user may sign in and use the API (false disables the user)."),
	func() *attr {
		a := text("password", "The password; written, never returned.")
		a.Mutability, a.Returned = "writeOnly", "never"
		return a
	}(),
	multi("emails", "Email addresses; the primary (else first) one, when a valid address, is the user's email."),
	multi("phoneNumbers", "Phone numbers."),
	multi("ims", "Instant messaging addresses."),
	multi("photos", "URLs of photos."),
	func() *attr {
		a := complexAttr("addresses", "Physical addresses; the primary (else first) one's country sets the user's country.",
			text("formatted", "The full address."), text("streetAddress", "The street."), text("locality", "The city."),
			text("region", "The state or region."), text("postalCode", "The postal code."), text("country", "The country."),
			text("type", "A label for the address."), boolean("primary", "Whether this is the preferred address."))
		a.Multi = true
		return a
	}(),
	func() *attr {
		a := multi("groups", "The groups the user belongs to (read-only: written through /Groups).")
		a.Mutability = "readOnly"
		for _, s := range a.Sub {
			s.Mutability = "readOnly"
		}
		return a
	}(),
	multi("entitlements", "Entitlements."),
	multi("roles", "Roles (the IdP's; not the user's role in this service)."),
	multi("x509Certificates", "Certificates."),
}

// enterpriseAttrs is the enterprise User extension (RFC 7643 §4.3).
var enterpriseAttrs = []*attr{
	text("employeeNumber", "The employee number."),
	text("costCenter", "The cost center."),
	text("organization", "The organization."),
	text("division", "The division."),
	text("department", "The department."),
	complexAttr("manager", "The user's manager.",
		text("value", "The manager's id."), text("$ref", "The manager's URI."), text("displayName", "The manager's name.")),
}

// externalID is the common attribute externalId (RFC 7643 §3.1).
var externalID = func() *attr {
	a := text("externalId", "The provisioning client's id of the resource.")
	a.CaseExact = true
	return a
}()

// groupAttrs is the core Group schema (RFC 7643 §4.2) without id and meta.
var groupAttrs = []*attr{
	func() *attr {
		a := text("displayName", "The group's name.")
		a.Required = true
		return a
	}(),
	func() *attr {
		a := complexAttr("members", "The group's members (users, by id).",
			text("value", "The member's id."), text("$ref", "The member's URI."), text("display", "The member's name."),
			text("type", "User."))
		a.Multi = true
		return a
	}(),
}

// resourceAttr finds a top-level attribute of the User resource: a core
// one (or externalId) by name, in any case; an extension's names its URN.
func userAttr(name string) *attr {
	if strings.EqualFold(name, "externalId") {
		return externalID
	}
	return find(userAttrs, name)
}

// isURN reports whether s names the schema urn, in any case.
func isURN(s, urn string) bool { return strings.EqualFold(s, urn) }

// cutURN cuts a schema URN prefix ("urn:...:User:") off an attribute
// name: the URN it had (canonical), and the rest.
func cutURN(name string) (urn, rest string) {
	for _, u := range []string{URNEnterprise, URNUser, URNGroup} {
		if len(name) > len(u) && strings.EqualFold(name[:len(u)], u) && name[len(u)] == ':' {
			return u, name[len(u)+1:]
		}
	}
	return "", name
}
