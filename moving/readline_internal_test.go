package moving

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"usersvc"
)

// TestReadLine: lines come without their newline, with the bytes each
// consumed; a line longer than usersvc.MaxImportLine is read whole and
// dropped (tooLong), and the next line reads as usual; the last line
// needs no newline.
func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", usersvc.MaxImportLine+1)
	in := "a\n" + long + "\n\nb"
	br := bufio.NewReaderSize(strings.NewReader(in), 64<<10)
	type got struct {
		line    string
		size    int64
		tooLong bool
		eof     bool
	}
	want := []got{{"a", 2, false, false}, {"", int64(len(long)) + 1, true, false}, {"", 1, false, false}, {"b", 1, false, true}}
	for i, w := range want {
		line, size, tooLong, err := readLine(br)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		g := got{string(line), size, tooLong, err == io.EOF}
		if g != w {
			t.Fatalf("line %d: %q %d %t eof=%t, want %+v", i+1, g.line[:min(len(g.line), 10)], g.size, g.tooLong, g.eof, w)
		}
	}
	exact := strings.Repeat("y", usersvc.MaxImportLine)
	if line, _, tooLong, _ := readLine(bufio.NewReader(strings.NewReader(exact + "\n"))); tooLong || len(line) != usersvc.MaxImportLine {
		t.Fatalf("a line of exactly MaxImportLine bytes: %d bytes, tooLong %t", len(line), tooLong)
	}
}
