package usersvc

import "reflect"

// This file is change detection on the field table: which fields of a
// user differ between two documents (writes, authorization and the
// history's patches all ask it).

// ChangedFields lists the document fields whose values differ between two
// users, in document order. The password is not in the document; callers
// track it on their own.
func ChangedFields(before, after *User) []string {
	return changedFields(before.Document(), after.Document())
}

// changedFields is ChangedFields between two rendered documents.
func changedFields(b, a *Document) []string {
	var changed []string
	for _, f := range fields {
		if !equalValues(f.value(b), f.value(a)) {
			changed = append(changed, f.Name)
		}
	}
	return changed
}

// equalValues is how two values of a field compare: as the document shows
// them (so two instants equal to the microsecond are equal), with
// reflect.DeepEqual's meaning. The document's scalar types are compared
// directly (every write compares every field, twice): the same answer
// as DeepEqual (TestEqualValuesIsDeepEqual), without its reflection.
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case string:
		return same(x, b)
	case *string:
		return samePointee(x, b)
	case bool:
		return same(x, b)
	case int:
		return same(x, b)
	case Role:
		return same(x, b)
	case *int64:
		return samePointee(x, b)
	}
	return reflect.DeepEqual(a, b)
}

// same reports whether b is a T equal to x.
func same[T comparable](x T, b any) bool {
	y, ok := b.(T)
	return ok && x == y
}

// samePointee reports whether b is a *T that, like x, is nil or points to
// an equal value (DeepEqual's meaning for pointers).
func samePointee[T comparable](x *T, b any) bool {
	y, ok := b.(*T)
	return ok && (x == y || x != nil && y != nil && *x == *y)
}
