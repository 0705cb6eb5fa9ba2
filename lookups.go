package usersvc

import (
	_ "embed"
	"strings"
)

// Country is an ISO 3166-1 alpha-2 code and its English short name.
type Country struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

//go:embed countries.txt
var countriesTxt string

//go:embed zones.txt
var zonesTxt string

var (
	countries = parseCountries(countriesTxt)
	zones     = strings.Fields(zonesTxt)
)

func parseCountries(txt string) []Country {
	var out []Country
	for _, line := range strings.Split(strings.TrimSpace(txt), "\n") {
		code, name, _ := strings.Cut(line, "\t")
		out = append(out, Country{Code: code, Name: name})
	}
	return out
}

// Countries lists ISO 3166-1 countries by code, for forms.
func Countries() []Country { return append([]Country(nil), countries...) }

// TimeZones lists the IANA zone names the service accepts, for forms
// (generated from Go's zone database into zones.txt).
func TimeZones() []string { return append([]string(nil), zones...) }
