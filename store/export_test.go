package store

import "time"

// ApplyDir applies the migrations of dir (tests bring their own directories).
var ApplyDir = (*Store).applyDir

// SetListenerTimeouts shortens the change listener's bounds for a test.
func SetListenerTimeouts(idle, ping time.Duration) func() {
	oldIdle, oldPing := listenerIdle, listenerPing
	listenerIdle, listenerPing = idle, ping
	return func() { listenerIdle, listenerPing = oldIdle, oldPing }
}
