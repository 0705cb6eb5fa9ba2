package passhash

import "strings"

func parseArgon2(s, kind string) (Hash, error) {
	// $argon2id$v=19$m=65536,t=3,p=4$SALT$HASH
	parts := strings.Split(s, "$")
	switch {
	case len(parts) == 5 && strings.HasPrefix(parts[2], "m="):
		return Hash{}, errorf("%s hash without v= is Argon2 version 1.0 (v=16); only v=19 is supported", kind)
	case len(parts) != 6:
		return Hash{}, errorf("malformed %s hash (want $%s$v=19$m=…,t=…,p=…$SALT$HASH)", kind, kind)
	case parts[2] != "v=19":
		return Hash{}, errorf("%s version %q is not supported (v=19 only)", kind, parts[2])
	}
	p, ok := params(parts[3], "m", "t", "p")
	if !ok {
		return Hash{}, errorf("malformed %s parameters %q (want m=…,t=…,p=…)", kind, parts[3])
	}
	m, t, lanes := p["m"], p["t"], p["p"]
	switch {
	case m > MaxArgon2MemoryKiB:
		return Hash{}, errorf("argon2 memory %d KiB is above the %d KiB cap", m, MaxArgon2MemoryKiB)
	case t < 1 || t > MaxArgon2Time:
		return Hash{}, errorf("argon2 time %d is outside 1..%d", t, MaxArgon2Time)
	case lanes < 1 || lanes > MaxArgon2Lanes:
		return Hash{}, errorf("argon2 parallelism %d is outside 1..%d", lanes, MaxArgon2Lanes)
	case m < 8*lanes:
		return Hash{}, errorf("argon2 memory %d KiB is below 8 KiB for each of %d lanes", m, lanes)
	case m*t > MaxArgon2Work:
		return Hash{}, errorf("argon2 work %d KiB × %d passes is above the %d KiB·passes cap (256 MiB × 4)", m, t, MaxArgon2Work)
	}
	salt, ok1 := unb64(parts[4])
	key, ok2 := unb64(parts[5])
	if !ok1 || !ok2 {
		return Hash{}, errorf("malformed %s base64 (want standard base64 without padding)", kind)
	}
	if err := checkKey(kind, key, salt, MinArgon2SaltLen); err != nil {
		return Hash{}, err
	}
	return Hash{kind: kind, raw: s, salt: salt, key: key, memory: uint32(m), time: uint32(t), lanes: uint8(lanes)}, nil
}

func parseScrypt(s string) (Hash, error) {
	// $scrypt$ln=16,r=8,p=1$SALT$HASH (passlib)
	parts := strings.Split(s, "$")
	if len(parts) != 5 {
		return Hash{}, errorf("malformed scrypt hash (want $scrypt$ln=…,r=…,p=…$SALT$HASH)")
	}
	p, ok := params(parts[2], "ln", "r", "p")
	if !ok {
		return Hash{}, errorf("malformed scrypt parameters %q (want ln=…,r=…,p=…)", parts[2])
	}
	ln, r, par := p["ln"], p["r"], p["p"]
	switch {
	case ln < 1 || ln > MaxScryptLogN:
		return Hash{}, errorf("scrypt ln %d is outside 1..%d", ln, MaxScryptLogN)
	case r < 1:
		return Hash{}, errorf("scrypt r %d is below 1", r)
	case par < 1 || par > MaxScryptP:
		return Hash{}, errorf("scrypt p %d is outside 1..%d", par, MaxScryptP)
	case r > MaxScryptMemory>>(7+ln):
		return Hash{}, errorf("scrypt memory 128·N·r with ln=%d, r=%d is above the %d MiB cap", ln, r, MaxScryptMemory>>20)
	case 128<<ln*r*par > MaxScryptWork:
		return Hash{}, errorf("scrypt work 128·N·r·p = %d MiB is above the %d MiB cap", 128<<ln*r*par>>20, MaxScryptWork>>20)
	}
	salt, ok1 := unb64(parts[3])
	key, ok2 := unb64(parts[4])
	if !ok1 || !ok2 {
		return Hash{}, errorf("malformed scrypt base64 (want standard base64 without padding)")
	}
	if err := checkKey("scrypt", key, salt, 0); err != nil {
		return Hash{}, err
	}
	return Hash{kind: "scrypt", raw: s, salt: salt, key: key, logN: ln, r: r, p: par}, nil
}
