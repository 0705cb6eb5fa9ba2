package jsonpatch

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Decimal is a number's exact value as digits × 10^Exp: Digits has no
// leading or trailing zeros ("0" for zero, which is never negative). Two
// numbers are equal exactly when their Decimals are. It costs time linear
// in the number's text, whatever its exponent: math/big would build
// 10^exp, which for 1e1000000 takes tens of milliseconds a number, and a
// 1 MiB body can hold thousands of them.
type Decimal struct {
	Neg    bool
	Digits string
	Exp    int
}

// maxExp bounds exponents: beyond it a number is refused as a number
// (no JSON value the service stores comes near it).
const maxExp = 1 << 20

// NumberOf returns the exact value of the number forms JSON decoders
// produce (json.Number, float64, int, int64); false for anything else,
// for infinities and NaN, and for exponents beyond ±2^20.
func NumberOf(v any) (Decimal, bool) {
	switch n := v.(type) {
	case json.Number:
		return parseDecimal(string(n))
	case float64:
		if math.IsInf(n, 0) || math.IsNaN(n) {
			return Decimal{}, false
		}
		return parseDecimal(strconv.FormatFloat(n, 'e', -1, 64))
	case int:
		return parseDecimal(strconv.Itoa(n))
	case int64:
		return parseDecimal(strconv.FormatInt(n, 10))
	}
	return Decimal{}, false
}

// parseDecimal reads a JSON number: -?digits(.digits)?([eE][+-]?digits)?
func parseDecimal(s string) (Decimal, bool) {
	var d Decimal
	if strings.HasPrefix(s, "-") {
		d.Neg, s = true, s[1:]
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	whole, frac, _ := strings.Cut(mant, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) {
		return Decimal{}, false
	}
	if hasExp {
		digits := exp
		if digits != "" && (digits[0] == '+' || digits[0] == '-') {
			digits = digits[1:]
		}
		if digits == "" || !allDigits(digits) {
			return Decimal{}, false
		}
		if strings.Trim(whole+frac, "0") == "" {
			return Decimal{Digits: "0"}, true // zero, whatever its exponent (0E2000000)
		}
		e, err := strconv.Atoi(exp)
		if err != nil || e > maxExp || e < -maxExp {
			return Decimal{}, false
		}
		d.Exp = e
	}
	digits := strings.TrimLeft(whole+frac, "0")
	d.Exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	d.Exp += len(digits) - len(trimmed)
	d.Digits = trimmed
	if d.Digits == "" {
		return Decimal{Digits: "0"}, true
	}
	return d, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Int64 returns d as an int64 when it is an integer in range.
func (d Decimal) Int64() (int64, bool) {
	if d.Digits == "0" {
		return 0, true
	}
	if d.Exp < 0 || len(d.Digits)+d.Exp > 19 {
		return 0, false // a fraction, or more digits than an int64 has
	}
	n, err := strconv.ParseInt(d.Digits+strings.Repeat("0", d.Exp), 10, 64)
	if err != nil {
		return 0, false
	}
	if d.Neg {
		n = -n
	}
	return n, true
}
