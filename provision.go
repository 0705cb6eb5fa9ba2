package usersvc

import (
	"bytes"
	"encoding/json"
	"strings"
)

// This file is the rules of users an identity provider provisions (SCIM,
// docs/scim.md): the userName they sign in with, the one sign-in key
// that keeps sign-in unambiguous, and the object of SCIM attributes that
// have no field of their own.

// Limits of provisioned users.
const (
	// MaxUserNameLen is the longest userName, in characters.
	MaxUserNameLen = 254
	// MaxSCIMBytes is the largest scim object, encoded as JSON.
	MaxSCIMBytes = 32 << 10
)

// Provisioned reports whether u is one of the users an identity provider
// manages: a live user with a userName (SCIM's /Users collection; the
// list's UserFilter.Provisioned is the same set).
func Provisioned(u *User) bool { return u.UserName != nil && u.DeletedAt == nil }

// What a provisioned user gets for the fields an identity provider does
// not send (SCIM has no required country or time zone).
const (
	// ProvisionedCountry is "ZZ", the code for an unknown region.
	ProvisionedCountry = "ZZ"
	// ProvisionedTimeZone is UTC.
	ProvisionedTimeZone = "UTC"
)

// SignInKey is the one key a user signs in with, unique among users
// (the store keeps it in a unique column): the userName's EmailKey when
// the user has one, else the email's. So no two users can ever sign in
// with the same identifier: a userName that spells another user's email
// (or userName), in any case, is a conflict, and users without a userName
// keep their emails unique among themselves as before. A deleted user
// who has a userName gives the key up ("" : none), so an identity
// provider may provision the same userName again after a deprovision;
// restoring them takes it back, or fails with a conflict if another user
// holds it meanwhile. A deleted user without a userName keeps their
// email's key, as always.
func SignInKey(u *User) string {
	if u.UserName == nil {
		return EmailKey(u.Email)
	}
	if u.DeletedAt != nil {
		return ""
	}
	return EmailKey(*u.UserName)
}

// errSignInTaken is the answer to a write whose sign-in key another user
// holds; the store gives it (it is the unique column that knows).
var errSignInTaken = &Error{Code: EConflict, Reason: RUnique, Field: "email", Message: "Email or userName already in use."}

// ErrSignInTaken is the store's answer to a save whose sign-in key
// (SignInKey) another user holds.
func ErrSignInTaken() error { e := *errSignInTaken; return &e }

// checkUserName: not blank, text every database stores, at most
// MaxUserNameLen characters, and nothing invisible (it is signed in
// with, like an email).
func checkUserName(u *User) error {
	if u.UserName == nil {
		return nil
	}
	s := *u.UserName
	if strings.TrimSpace(s) == "" {
		return FieldErrorf(EInvalid, "userName", "Field %q must not be empty.", "userName")
	}
	if err := checkText("userName", s, MaxUserNameLen); err != nil {
		return err
	}
	return checkVisible("email", s) // the email's rule: nothing invisible at all
}

// decodeSCIM reads the scim field's value: a JSON object, kept in the
// form the store reads it back in (numbers as json.Number), so that two
// equal objects compare equal however they arrived.
func decodeSCIM(v any) (map[string]any, error) {
	if _, ok := v.(map[string]any); !ok {
		return nil, mustBe("scim", "an object")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, mustBe("scim", "an object")
	}
	m, err := DecodeSCIM(b)
	if err != nil {
		return nil, mustBe("scim", "an object")
	}
	if len(m) == 0 {
		return nil, nil // an empty object is none
	}
	return m, nil
}

// DecodeSCIM reads a JSON object with its numbers as json.Number: a
// stored scim object (the store's reads use it), or a rendered document.
func DecodeSCIM(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkSCIM: at most MaxSCIMBytes encoded, and every key and string text
// every database stores (PostgreSQL's jsonb refuses a NUL).
func checkSCIM(u *User) error { return checkSCIMObject(u.SCIM) }

// checkSCIMObject is checkSCIM of a user's or a group's object.
func checkSCIMObject(m map[string]any) error {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return mustBe("scim", "an object")
	}
	if len(b) > MaxSCIMBytes {
		return FieldErrorf(EInvalid, "scim", "Field %q is too large (at most %d bytes as JSON).", "scim", MaxSCIMBytes)
	}
	if !validJSONText(m) {
		return FieldErrorf(EInvalid, "scim", "Field %q must be valid text.", "scim")
	}
	return nil
}

// validJSONText reports whether every key and string in v is validText.
func validJSONText(v any) bool {
	switch t := v.(type) {
	case string:
		return validText(t)
	case map[string]any:
		for k, e := range t {
			if !validText(k) || !validJSONText(e) {
				return false
			}
		}
	case []any:
		for _, e := range t {
			if !validJSONText(e) {
				return false
			}
		}
	}
	return true
}
