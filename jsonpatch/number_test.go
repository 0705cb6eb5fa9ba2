package jsonpatch

import (
	"encoding/json"
	"testing"
)

func TestNumberEquality(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		equal bool
	}{
		{"1", "1.0", true},
		{"1", "1e0", true},
		{"1", "10e-1", true},
		{"100", "1e2", true},
		{"100", "1E+2", true},
		{"0", "-0", true},
		{"0", "0e99", true},
		{"0.000", "0", true},
		{"-1.5", "-15e-1", true},
		{"9007199254740993", "9007199254740992", false}, // 2^53+1 and 2^53
		{"1e1000000", "1e1000000", true},                // no 10^1000000 is built
		{"1e1000000", "1e999999", false},
		{"1", "-1", false},
		{"0.1", "1e-1", true},
		{"12345678901234567890123", "12345678901234567890123.0", true},
	} {
		da, oka := NumberOf(json.Number(tc.a))
		db, okb := NumberOf(json.Number(tc.b))
		if !oka || !okb {
			t.Fatalf("%s, %s: not numbers", tc.a, tc.b)
		}
		if (da == db) != tc.equal {
			t.Errorf("%s == %s: %v, want %v (%+v, %+v)", tc.a, tc.b, da == db, tc.equal, da, db)
		}
	}
	if d, ok := NumberOf(2.5); !ok || d != (Decimal{Digits: "25", Exp: -1}) {
		t.Errorf("2.5 as float64: %+v %v", d, ok)
	}
	if _, ok := NumberOf(json.Number("1e99999999")); ok {
		t.Error("an exponent beyond 2^20 was taken as a number")
	}
}

func TestDecimalInt64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"-0", 0, true}, {"42", 42, true}, {"-42", -42, true},
		{"4.2e1", 42, true}, {"4200e-2", 42, true}, {"1.5", 0, false},
		{"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775808", 0, false},
		{"1e18", 1e18, true}, {"1e19", 0, false},
		{"1e1000000", 0, false}, {"1e-1000000", 0, false},
	} {
		d, ok := NumberOf(json.Number(tc.in))
		if !ok {
			t.Fatalf("%s: not a number", tc.in)
		}
		got, ok := d.Int64()
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
