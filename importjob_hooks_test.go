package usersvc

import "time"

// SetImportRecheck sets how often running jobs re-check their admin and
// save their record, for the tests in package usersvc_test; it returns
// a func that puts the old value back.
func SetImportRecheck(d time.Duration) func() {
	old := importRecheck
	importRecheck = d
	return func() { importRecheck = old }
}
