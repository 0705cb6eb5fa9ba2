//go:build ignore

// This program writes zones.txt: the IANA zone names of Go's own zone
// database, one a line, for GET /api/users/timeZones. `make generate` runs it.
package main

import (
	"archive/zip"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

func main() {
	r, err := zip.OpenReader(filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	regions := []string{"Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/"}
	var names []string
	for _, f := range r.File {
		for _, p := range regions {
			if strings.HasPrefix(f.Name, p) && !f.FileInfo().IsDir() {
				names = append(names, f.Name)
			}
		}
	}
	names = append(names, "UTC")
	sort.Strings(names)
	if err := os.WriteFile("zones.txt", []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
}
