package store

import "time"

// SetListenerTimeouts shortens the change listener's bounds for a test.
func SetListenerTimeouts(idle, ping time.Duration) func() {
	oldIdle, oldPing := listenerIdle, listenerPing
	listenerIdle, listenerPing = idle, ping
	return func() { listenerIdle, listenerPing = oldIdle, oldPing }
}
