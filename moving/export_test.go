package moving

import "time"

// SetRecheck sets how often running jobs re-check their admin and save
// their record, for the tests in package moving_test; it returns a func
// that puts the old value back.
func SetRecheck(d time.Duration) func() {
	old := recheck
	recheck = d
	return func() { recheck = old }
}
