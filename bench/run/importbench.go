package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// importLines is how many users the import scenario moves in.
const importLines = 100_000

// importResult is one import run: lines a second and peak resident memory.
type importResult struct {
	db          string
	lines       int
	seconds     float64
	maxRSSMiB   float64
	summaryLine string
}

// writeImportFile writes importLines NDJSON users, each with a
// passwordHash (sha512-crypt from openssl passwd -6: no hashing work at
// import) and a legacy id.
func writeImportFile(work string) string {
	path := filepath.Join(work, "import.ndjson")
	f, err := os.Create(path)
	must(err)
	w := bufio.NewWriterSize(f, 1<<20)
	const hash = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
	for i := 1; i <= importLines; i++ {
		fmt.Fprintf(w, `{"id":"%d","name":"Moved User %d","email":"moved%d@example.com","country":"ES","timeZone":"Europe/Madrid","tags":{"fleet":"f%d"},"passwordHash":%q,"creation":"2019-01-01T00:00:00Z","lastLogin":"2025-06-01T08:00:00Z"}`+"\n",
			100000+i, i, i, i%50, hash)
	}
	must(w.Flush())
	must(f.Close())
	return path
}

// measureImports runs usersvc import on the file into a fresh PostgreSQL
// database and a fresh SQLite file, timing each run and reading its peak
// resident memory (getrusage's maxrss) when it exits.
func measureImports(work string) []importResult {
	file := writeImportFile(work)
	admin, err := sql.Open("postgres", *pgURL)
	must(err)
	defer admin.Close()
	name := *dbName + "_import"
	_, err = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	must(err)
	_, err = admin.Exec("CREATE DATABASE " + name)
	must(err)
	defer admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	u, err := url.Parse(*pgURL)
	must(err)
	u.Path = "/" + name
	var out []importResult
	for _, target := range []struct{ name, url string }{
		{"PostgreSQL", u.String()},
		{"SQLite", "sqlite:" + filepath.Join(work, "import.db")},
	} {
		bin := filepath.Join(work, "usersvc")
		migrate := exec.Command(bin, "migrate", "-database-url", target.url)
		if b, err := migrate.CombinedOutput(); err != nil {
			must(fmt.Errorf("migrate %s: %v\n%s", target.name, err, b))
		}
		cmd := exec.Command(bin, "import", "-database-url", target.url, file)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		secs := time.Since(start).Seconds()
		if err != nil {
			must(fmt.Errorf("import into %s: %v\n%s%s", target.name, err, stdout.String(), stderr.String()))
		}
		rss := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024 // KiB on Linux
		out = append(out, importResult{db: target.name, lines: importLines, seconds: secs, maxRSSMiB: rss, summaryLine: strings.TrimSpace(stdout.String())})
		fmt.Fprintf(os.Stderr, "import into %s: %d lines in %.1f s (%.0f a second), peak RSS %.0f MiB: %s\n",
			target.name, importLines, secs, importLines/secs, rss, strings.TrimSpace(stdout.String()))
	}
	return out
}

func printImports(rs []importResult) {
	fmt.Println()
	fmt.Println("| import of 100,000 lines with passwordHash | lines/s | peak RSS MiB | summary |")
	fmt.Println("|---|---:|---:|---|")
	for _, r := range rs {
		fmt.Printf("| %s | %.0f | %.0f | %s |\n", r.db, float64(r.lines)/r.seconds, r.maxRSSMiB, r.summaryLine)
	}
}
