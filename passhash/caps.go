package passhash

import "golang.org/x/crypto/bcrypt"

// # Caps
//
// A sign-in must not be made to burn a core for minutes or a gigabyte by
// an imported line, so every cost parameter is checked before anything is
// stored, at what real deployments use, and so that one check of the
// costliest hash admitted takes about a second on this project's machine
// (2 cores; BenchmarkVerifyAtCaps measures each; docs/import.md has the
// numbers):
//
//	bcrypt cost        4..15 (each step doubles the time: 10 to 12 is the usual range, 14
//	                   takes 1 s, 15 2 s; the library's own ceiling, 31, would take days)
//	argon2             memory ≤ 262,144 KiB (256 MiB); time 1..10; lanes 1..16 and memory
//	                   ≥ 8 KiB a lane (the reference's minimum); memory × time ≤ 1,048,576
//	                   KiB·passes (256 MiB × 4); salt ≥ 8 bytes (the reference's minimum)
//	scrypt             ln 1..21 (N = 2^ln); r ≥ 1; p 1..16; memory 128·N·r ≤ 256 MiB;
//	                   128·N·r·p ≤ 256 MiB (p runs one after another: it is time)
//	PBKDF2             1..2,000,000 rounds (passlib's, Django's and Traccar's alike; Django
//	                   6.0 writes 1,200,000)
//	SHA-crypt          rounds 1,000..1,000,000 (the specification allows 999,999,999;
//	                   passlib writes 535,000 and 656,000)
//	crypt(3) family    Verify considers passwords of at most 511 bytes (libxcrypt's limit, which
//	                   Debian's and Fedora's crypt(3) enforce): SHA-crypt's work grows with the
//	                   password's length
//	derived keys       4..1,024 bytes; salts at most 1,024 bytes; a hash at most 4,096 characters
//
// ParseStored applies the same caps as Parse, so a hash stored before the
// caps were lowered (imported under the older, wider ones) and now above
// them no longer parses: it matches no password (the account needs a new
// password, set by an admin or by a reset), and checking it costs nothing
// but the service's usual floor. It is never verified at its stored cost.

// The caps (see above).
const (
	MinBcryptCost = bcrypt.MinCost // 4
	MaxBcryptCost = 15

	MaxArgon2MemoryKiB = 256 << 10 // 256 MiB
	MaxArgon2Time      = 10
	MaxArgon2Lanes     = 16
	MaxArgon2Work      = 1 << 20 // memory (KiB) × time: 256 MiB × 4
	MinArgon2SaltLen   = 8

	MaxScryptLogN   = 21 // 128·2^21 bytes is 256 MiB at r = 1
	MaxScryptP      = 16
	MaxScryptMemory = 256 << 20 // bytes: 128·N·r
	MaxScryptWork   = 256 << 20 // bytes: 128·N·r·p

	// MaxPBKDF2Rounds bounds rounds × blocks of the derived key (see
	// withinWork).
	MaxPBKDF2Rounds = 2_000_000

	MinCryptRounds      = 1_000
	MaxCryptRounds      = 1_000_000
	MaxCryptPasswordLen = 511

	MinKeyLen  = 4
	MaxKeyLen  = 1024
	MaxSaltLen = 1024
	MaxHashLen = 4096
)

// Traccar's legacy form: PBKDF2-HMAC-SHA1 at 1,000 iterations, 24 bytes.
const (
	traccarLegacyRounds = 1000
	traccarLegacyKeyLen = 24
)

// SlotMemory is the memory one slot of a bound on checks at once stands
// for (see Weight).
const SlotMemory = 64 << 20

// Weight is how many slots of a bound on the checks running at once one
// Verify of h takes: the cores it keeps busy (argon2 computes its lanes in
// parallel, every other kind runs on one), or its memory in SlotMemory
// units (argon2's m, scrypt's 128·N·r), whichever is more. So a bound of
// n slots holds at most n cores and, but for one check larger than n
// slots (which the caller runs alone), n × 64 MiB of hash memory: a
// 256 MiB argon2 check weighs 4, on any number of cores.
func (h Hash) Weight() int {
	units := func(bytes uint64) int { return int((bytes + SlotMemory - 1) / SlotMemory) }
	switch h.kind {
	case "argon2id", "argon2i":
		return max(int(h.lanes), units(uint64(h.memory)<<10))
	case "scrypt":
		return max(1, units(128*uint64(h.r)<<h.logN))
	}
	return 1
}
