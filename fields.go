package usersvc

import (
	"reflect"
)

// Access says who may change a field of the user document.
type Access int

// Field access levels (see the table in the README).
const (
	// SelfWritable fields may be changed by the user themselves and by admins.
	SelfWritable Access = iota
	// AdminWritable fields may be changed by admins only.
	AdminWritable
	// AdminUndelete is deletedAt: admins may only set it back to null.
	AdminUndelete
	// ReadOnly fields are never written through the API.
	ReadOnly
)

// FieldAccess is the one table of who may write which field. Fields are
// named as in the public document. password is SelfWritable and handled
// separately, because its stored form is never in the document.
var FieldAccess = map[string]Access{
	"name": SelfWritable, "email": SelfWritable, "country": SelfWritable,
	"timeZone": SelfWritable, "description": SelfWritable, "password": SelfWritable,
	"message": AdminWritable, "tags": AdminWritable, "group": AdminWritable,
	"deviceId": AdminWritable, "adminDevices": AdminWritable, "from": AdminWritable,
	"expires": AdminWritable, "disabled": AdminWritable, "disabledMessage": AdminWritable,
	"privileges": AdminWritable, "role": AdminWritable, "dailyQuota": AdminWritable,
	"deletedAt": AdminUndelete,
	"id":        ReadOnly, "creation": ReadOnly, "modification": ReadOnly, "lastLogin": ReadOnly,
}

// documentFieldOrder is the order fields are checked and reported in.
var documentFieldOrder = []string{
	"id", "name", "email", "country", "timeZone", "description", "message", "disabled",
	"disabledMessage", "tags", "privileges", "group", "deviceId", "adminDevices", "from",
	"expires", "creation", "modification", "lastLogin", "role", "deletedAt", "dailyQuota",
}

// ChangedFields lists the document fields whose values differ between two
// users, in document order. The password is not in the document; callers
// track it on their own.
func ChangedFields(before, after *User) []string {
	b, a := fieldValues(before), fieldValues(after)
	var changed []string
	for _, f := range documentFieldOrder {
		if !reflect.DeepEqual(b[f], a[f]) {
			changed = append(changed, f)
		}
	}
	return changed
}

func fieldValues(u *User) map[string]any {
	d := u.Document()
	return map[string]any{
		"id": d.ID, "name": d.Name, "email": d.Email, "country": d.Country, "timeZone": d.TimeZone,
		"description": d.Description, "message": d.Message, "disabled": d.Disabled,
		"disabledMessage": d.DisabledMessage, "tags": d.Tags, "privileges": d.Privileges,
		"group": d.Group, "deviceId": d.DeviceID, "adminDevices": d.AdminDevices,
		"from": d.From, "expires": d.Expires, "creation": d.Creation,
		"modification": d.Modification, "lastLogin": d.LastLogin, "role": d.Role,
		"deletedAt": d.DeletedAt, "dailyQuota": d.DailyQuota,
	}
}
