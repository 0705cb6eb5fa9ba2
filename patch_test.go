package usersvc_test

import (
	"errors"
	"strings"
	"testing"

	"usersvc"
	"usersvc/jsonpatch"
)

// TestJSONError: what clients see of a jsonpatch error (code, field,
// English and Spanish text) comes through JSONError unchanged.
func TestJSONError(t *testing.T) {
	doc := map[string]any{"a": "x"}
	patch := func(p string) error {
		v, err := jsonpatch.Parse([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		ops, err := jsonpatch.ParsePatch(v)
		if err == nil {
			_, err = jsonpatch.Apply(doc, ops)
		}
		return err
	}
	parse := func(body string) error {
		_, err := jsonpatch.Parse([]byte(body))
		return err
	}
	for _, tc := range []struct {
		name      string
		err       error
		code      string
		field     string
		en, es    string
		hasDetail bool
	}{
		{"duplicate key", parse(`{"a":1,"a":2}`), usersvc.EInvalid, "a",
			`Duplicate key "a" in JSON body.`, `Clave "a" duplicada en el cuerpo JSON.`, false},
		{"invalid text", parse(`{"b":{"c":"` + "\xff" + `"}}`), usersvc.EInvalid, "b",
			`Field "b" must be valid text.`, `El campo "b" debe ser texto válido.`, false},
		{"malformed", parse(`{"a":`), usersvc.EInvalid, "",
			"Malformed JSON body.", "Cuerpo JSON mal formado.", false},
		{"too deep", parse(strings.Repeat("[", 66) + strings.Repeat("]", 66)), usersvc.EInvalid, "",
			"JSON body is nested too deeply.", "El cuerpo JSON está anidado demasiado profundamente.", false},
		{"failed test is a conflict", patch(`[{"op":"test","path":"/a","value":"y"}]`), usersvc.EConflict, "",
			`Patch test failed (operation 0: value at "/a" is not equal to the test value)`,
			`La prueba del parche falló (operation 0: value at "/a" is not equal to the test value)`, true},
		{"missing path", patch(`[{"op":"test","path":"/a","value":"x"},{"op":"remove","path":"/nope"}]`), usersvc.EInvalid, "",
			`Invalid patch operation (operation 1: path "/nope" does not exist)`,
			`Operación de parche inválida (operation 1: path "/nope" does not exist)`, true},
		{"not an array", patch(`{}`), usersvc.EInvalid, "",
			"A JSON Patch must be an array of operations.", "Un JSON Patch debe ser una lista de operaciones.", false},
		{"too many operations", patch(`[` + ops101 + `]`), usersvc.EInvalid, "",
			"A patch may hold at most 100 operations.", "Un parche puede tener como máximo 100 operaciones.", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error to map")
			}
			var e *usersvc.Error
			if !errors.As(usersvc.JSONError(tc.err), &e) {
				t.Fatalf("%T is not mapped to *usersvc.Error", tc.err)
			}
			if e.Code != tc.code || e.Field != tc.field || e.Localize("en") != tc.en || e.Localize("es") != tc.es || (e.Detail != "") != tc.hasDetail {
				t.Fatalf("got %s %q %q / %q (detail %q), want %s %q %q / %q",
					e.Code, e.Field, e.Localize("en"), e.Localize("es"), e.Detail, tc.code, tc.field, tc.en, tc.es)
			}
		})
	}
	if usersvc.JSONError(nil) != nil {
		t.Fatal("nil must stay nil")
	}
	other := errors.New("not from jsonpatch")
	if usersvc.JSONError(other) != other {
		t.Fatal("another error must pass through")
	}
}

// ops101 is 101 test operations, one over the limit.
var ops101 = func() string {
	s := `{"op":"test","path":"","value":{}}`
	for i := 1; i < 101; i++ {
		s += `,{"op":"test","path":"","value":{}}`
	}
	return s
}()
