package main

import (
	"fmt"
	"strings"
)

// SCIM against REST: each SCIM scenario beside the REST scenario closest
// to it, all with the admin's token (user 1), on the 100,000 seeded users
// (every one provisioned: seed.go gives them a userName). -only scim
// selects the seven.
var scimPairs = []struct {
	scim, rest string
	target     float64 // 0: none
}{
	{"SCIM GET filter userName eq (admin, random of all users)", "REST GET another user (admin, random of all users)", 0.7},
	{"SCIM PATCH active false/true (admin, another user)", "REST PATCH disabled true/false (admin, another user)", 0.8},
	{"SCIM page of 100 with totalResults (startIndex=1)", "REST page of 100 (limit=100, first page, no count)", 0.5},
	{"SCIM page of 100 with totalResults (random startIndex)", "REST page of 100 (limit=100, first page, no count)", 0},
}

// inSCIMGroup says whether s is one of scimPairs' scenarios.
func inSCIMGroup(s scenario) bool {
	if s.db != "" {
		return false
	}
	name := strings.TrimSuffix(strings.TrimSuffix(s.name, " (before)"), " (after)")
	for _, p := range scimPairs {
		if name == p.scim || name == p.rest {
			return true
		}
	}
	return false
}

// printSCIM prints each SCIM scenario's throughput over its REST twin's
// in each round (measured side by side, so the machine's drift between
// rounds cancels) and the median of those ratios against the target.
func printSCIM(rounds [][]result) {
	header := false
	for _, suffix := range []string{"", " (before)", " (after)"} {
		for _, p := range scimPairs {
			var ratios, scimRPS, restRPS []float64
			var each []string
			for _, rs := range rounds {
				s, r := findResult(rs, p.scim+suffix), findResult(rs, p.rest+suffix)
				if s == nil || r == nil || r.rps == 0 {
					continue
				}
				ratios, scimRPS, restRPS = append(ratios, s.rps/r.rps), append(scimRPS, s.rps), append(restRPS, r.rps)
				each = append(each, fmt.Sprintf("%.2f", s.rps/r.rps))
			}
			if len(ratios) == 0 {
				continue
			}
			if !header {
				fmt.Printf("\n### SCIM against REST (medians of %d rounds)\n\n", len(rounds))
				fmt.Printf("| scenario | SCIM req/s | REST req/s | ratio (each round) | median ratio | target | met |\n|---|---:|---:|---|---:|---:|---|\n")
				header = true
			}
			m := median(ratios)
			target, met := "-", "-"
			if p.target > 0 {
				target = fmt.Sprintf("%.1fx", p.target)
				met = map[bool]string{true: "yes", false: "no"}[m >= p.target]
			}
			fmt.Printf("| %s%s vs %s | %.0f | %.0f | %s | %.2fx | %s | %s |\n", p.scim, suffix, p.rest, median(scimRPS), median(restRPS),
				strings.Join(each, ", "), m, target, met)
		}
	}
}
