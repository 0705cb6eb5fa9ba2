package passhash_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"usersvc/passhash"
)

// BenchmarkVerifyAtCaps measures one check (a wrong password: the whole
// work) of the costliest hash each cap admits; docs/import.md has the
// numbers. cpu-ms/op is this process's CPU time per check, which a shared
// machine's load inflates far less than the wall time. Run it alone: go test -run '^$' -bench VerifyAtCaps -benchtime 1x ./passhash/
func BenchmarkVerifyAtCaps(b *testing.B) {
	for _, tc := range []struct{ name, hash, password string }{
		{"bcrypt-cost-15", "$2a$15$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "password"},
		{"argon2id-256MiB-t4-p1", "$argon2id$v=19$m=262144,t=4,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "password"},
		{"scrypt-256MiB-ln18-r8-p1", "$scrypt$ln=18,r=8,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "password"},
		{"pbkdf2-sha512-2M", "$pbkdf2-sha512$2000000$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "password"},
		{"pbkdf2-sha1-2M", "$pbkdf2$2000000$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "password"},
		{"django-pbkdf2-sha256-2M", "pbkdf2_sha256$2000000$seasalt$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6QvchSJ0h8Y+i7c=", "password"},
		{"sha512-crypt-1M", "$6$rounds=1000000$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "password"},
		{"sha512-crypt-1M-511-bytes", "$6$rounds=1000000$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", strings.Repeat("x", 511)},
		{"sha256-crypt-1M", "$5$rounds=1000000$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "password"},
	} {
		h, err := passhash.ParseStored(tc.hash)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			start := cpuTime()
			defer func() {
				b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
			}()
			for b.Loop() {
				if h.Verify(tc.password) {
					b.Fatal("a wrong password verifies")
				}
			}
		})
	}
}

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
