package main

import (
	"fmt"
	"slices"
	"strings"
)

// findResult is the result named name in rs, or nil.
func findResult(rs []result, name string) *result {
	for i := range rs {
		if rs[i].name == name {
			return &rs[i]
		}
	}
	return nil
}

// baseline is the reference scenario r compares with among rs (one
// round): the hand-written PATCH for writes, the hand-written GET for the
// rest; nil for pgbench.
func baseline(r result, rs []result) *result {
	switch {
	case strings.HasPrefix(r.name, "pgbench"):
		return nil
	case strings.HasPrefix(r.name, "PATCH") || strings.HasPrefix(r.name, "PUT") || r.name == "reference PATCH":
		return findResult(rs, "reference PATCH")
	}
	return findResult(rs, "reference GET")
}

// printMedians prints, for each scenario, the median over the rounds of
// each column and of its ratio to its baseline in the same round.
func printMedians(rounds [][]result) {
	fmt.Printf("\n### Median of %d rounds\n\n", len(rounds))
	fmt.Printf("| scenario | req/s | vs reference (each round) | median ratio | p99 ms | CPU µs/req | PostgreSQL CPU µs/req |\n|---|---:|---|---:|---:|---:|---:|\n")
	for _, first := range rounds[0] {
		var rps, p99, cpu, pg, ratios []float64
		var each []string
		for _, rs := range rounds {
			rp := findResult(rs, first.name) // rounds run in alternating order
			if rp == nil {
				continue
			}
			r := *rp
			rps, p99, cpu, pg = append(rps, r.rps), append(p99, r.p99), append(cpu, r.cpuPerReq), append(pg, r.pgCPUPerReq)
			if b := baseline(r, rs); b != nil && b.rps > 0 {
				ratios = append(ratios, r.rps/b.rps)
				each = append(each, fmt.Sprintf("%.2f", r.rps/b.rps))
			}
		}
		ratio := "-"
		if len(ratios) > 0 {
			ratio = fmt.Sprintf("%.2fx", median(ratios))
		}
		fmt.Printf("| %s | %.0f | %s | %s | %.2f | %.0f | %.0f |\n", first.name, median(rps), strings.Join(each, ", "), ratio, median(p99), median(cpu), median(pg))
	}
}

// median is the middle of v (sorted in place), 0 for none.
func median(v []float64) float64 {
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func printTable(rs []result) {
	find := func(name string) *result { return findResult(rs, name) }
	refPatch := find("reference PATCH")
	fmt.Printf("| scenario | req/s | vs reference | p50 ms | p99 ms | CPU µs/req | PostgreSQL CPU µs/req | peak RSS MiB | idle RSS MiB | ready ms | errors |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		base := baseline(r, rs) // writes against the hand-written write
		ratio := "-"
		if base != nil && base.rps > 0 {
			ratio = fmt.Sprintf("%.2fx", r.rps/base.rps)
		}
		fmt.Printf("| %s | %.0f | %s | %.2f | %.2f | %.0f | %.0f | %.1f | %.1f | %.0f | %d |\n", r.name, r.rps, ratio, r.p50, r.p99,
			r.cpuPerReq, r.pgCPUPerReq, float64(r.peakRSS)/1024, float64(r.idleRSS)/1024, float64(r.ready.Microseconds())/1000, r.errors)
	}
	fmt.Printf("\n(pgbench's p50 column is its average latency; PATCH and PUT compare with the reference PATCH.)\n")
	for _, r := range rs {
		if refPatch == nil || refPatch.rps == 0 || !(strings.HasPrefix(r.name, "PATCH") || strings.HasPrefix(r.name, "PUT")) {
			continue
		}
		fmt.Printf("%s: %.2fx the reference PATCH (target 0.8x), p99 %.1f ms (target 40 ms), server CPU %.2fx (target <= 2x), PostgreSQL CPU %.2fx (target <= 1.5x)\n",
			r.name, r.rps/refPatch.rps, r.p99, r.cpuPerReq/refPatch.cpuPerReq, r.pgCPUPerReq/refPatch.pgCPUPerReq)
	}
	printPairCPU(rs)
	if h, p := find("pgbench -M prepared: UPDATE + history INSERT (one CTE)"), find("pgbench -M prepared: the statement one PATCH sends"); h != nil && p != nil && h.rps > 0 {
		fmt.Printf("the statement one PATCH sends: %.2fx pgbench's UPDATE + history INSERT (target 0.7x)\n", p.rps/h.rps)
	}
}
