package store_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"usersvc"
)

// fullUser has every field of usersvc.User set to a non-zero value
// (TestFullUserSamples checks that), so a field the store forgets to save
// or to read back fails TestUserRoundTrip.
func fullUser() *usersvc.User {
	return &usersvc.User{
		ID:              "usr-roundtrip",
		Name:            "Round Trip",
		Email:           "Round.Trip@example.com",
		UserName:        ptr("Round.Trip"),
		SCIM:            map[string]any{"title": "Eng", "emails": []any{map[string]any{"value": "x", "primary": true}}, "n": json.Number("3")},
		Country:         "ES",
		TimeZone:        "Europe/Madrid",
		Description:     ptr("first description"),
		Message:         ptr("first message"),
		Disabled:        true,
		DisabledMessage: ptr("first disabled message"),
		Tags:            map[string]string{"team": "blue", "zona": "España ☀"},
		Privileges:      []string{"read", "write"},
		Group:           ptr("first-group"),
		DeviceID:        ptr("device-1"),
		AdminDevices:    3,
		From:            ptr(time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)),
		Expires:         ptr(time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)),
		Creation:        time.Date(2025, 5, 6, 7, 8, 9, 654321000, time.UTC),
		Modification:    time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC),
		LastLogin:       ptr(time.Date(2025, 7, 8, 9, 10, 11, 1000, time.UTC)),
		Role:            usersvc.RoleAdmin,
		DeletedAt:       ptr(time.Date(2025, 8, 9, 10, 11, 12, 0, time.UTC)),
		DailyQuota:      ptr(int64(5000)),
		Version:         7,
		PasswordHash:    "$2a$12$firsthashfirsthashfirsthashfirsthashfirsthashfirsthas",
		PasswordSource:  "4f2c3b1a00000000000000000000000000000000000000000000000000000001",
	}
}

// changedUser is fullUser with every field changed to another non-zero
// value, except ID and Creation, which never change.
func changedUser() *usersvc.User {
	return &usersvc.User{
		ID:              "usr-roundtrip",
		Name:            "Trip Round",
		Email:           "trip.round@example.org",
		UserName:        ptr("trip.round"),
		SCIM:            map[string]any{"title": "Ops"},
		Country:         "FR",
		TimeZone:        "America/New_York",
		Description:     ptr("second description"),
		Message:         ptr("second message"),
		Disabled:        false,
		DisabledMessage: ptr("second disabled message"),
		Tags:            map[string]string{"team": "red"},
		Privileges:      []string{"admin"},
		Group:           ptr("second-group"),
		DeviceID:        ptr("device-2"),
		AdminDevices:    9,
		From:            ptr(time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)),
		Expires:         ptr(time.Date(2028, 2, 3, 4, 5, 6, 999999000, time.UTC)),
		Creation:        time.Date(2025, 5, 6, 7, 8, 9, 654321000, time.UTC),
		Modification:    time.Date(2026, 6, 7, 8, 9, 10, 500000000, time.UTC),
		LastLogin:       ptr(time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)),
		Role:            usersvc.RoleUser,
		DeletedAt:       ptr(time.Date(2026, 8, 9, 10, 11, 12, 0, time.UTC)),
		DailyQuota:      ptr(int64(12)),
		Version:         8,
		PasswordHash:    "$2a$12$secondhashsecondhashsecondhashsecondhashsecondhashse",
		PasswordSource:  "9e8d7c6b00000000000000000000000000000000000000000000000000000002",
	}
}

// TestFullUserSamples keeps the round trip honest: a new field of
// usersvc.User that the samples leave at its zero value (or equal in both)
// fails here until it is added to them, and then the round trip checks it.
func TestFullUserSamples(t *testing.T) {
	first, second := reflect.ValueOf(*fullUser()), reflect.ValueOf(*changedUser())
	typ := first.Type()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		a, b := first.Field(i), second.Field(i)
		// Disabled is a bool: one of the two samples must be false.
		if name != "Disabled" {
			for _, v := range []reflect.Value{a, b} {
				if deepZero(v) {
					t.Errorf("a sample leaves User.%s at its zero value", name)
				}
			}
		}
		same := name == "ID" || name == "Creation" // immutable
		if reflect.DeepEqual(a.Interface(), b.Interface()) != same {
			t.Errorf("User.%s: samples equal = %v, want %v", name, !same, same)
		}
	}
}

// deepZero reports whether v is zero, or a pointer to zero, or empty.
func deepZero(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer:
		return v.IsNil() || deepZero(v.Elem())
	case reflect.Map, reflect.Slice:
		return v.Len() == 0
	}
	return v.IsZero()
}
