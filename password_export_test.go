package usersvc

import "time"

// SetHashHook tells f of every slow password hash s runs, from the
// goroutine that runs it: op is "compare" or "generate" (bcrypt, with its
// cost) or "verify KIND" (an imported hash; cost 0). nil removes it. Set
// it before the service is used.
func SetHashHook(s *Service, f func(op string, cost int)) { s.hashHook = f }

// SetPadHook replaces the wait that pads a check to a native check's time
// with f, which is told the wait asked for; SetNativeCheckTime sets the
// native check's time the pad aims at (a native check then moves it).
func SetPadHook(s *Service, f func(time.Duration)) { s.pad = f }

func SetNativeCheckTime(s *Service, d time.Duration) { s.native.ns.Store(int64(d)) }
