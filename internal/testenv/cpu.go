package testenv

import (
	"syscall"
	"testing"
	"time"
)

// ProcessCPU is the CPU time this process has used, user and system. A
// benchmark reports its difference per operation as cpu-ns/op: the whole
// process's work (background goroutines included), which on a shared
// machine moves less with the other processes' load than ns/op (one
// goroutine's wall time) does.
func ProcessCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
