package usersvc

// SetHashHook tells f of every slow password hash s runs, from the
// goroutine that runs it: op is "compare" or "generate" (bcrypt, with its
// cost) or "verify KIND" (an imported hash; cost 0). nil removes it. Set
// it before the service is used.
func SetHashHook(s *Service, f func(op string, cost int)) { s.hashHook = f }
