package main

// After the events: read everything back, print the numbers, decide.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

func report(l *load, pr *probe, sub *subscriber, events []event, missedMarks int, subErr error, revokeTimes []time.Duration, revokeErr error) error {
	var problems []string
	// Every acknowledged tag, read back through the balancer.
	acked, lost := 0, 0
	for _, u := range l.users {
		a := l.cl.do("GET", "/api/users/"+u.id, l.admin, "", "")
		if a.err != nil || a.status != 200 {
			return fmt.Errorf("reading %s back: %d %v %.200s", u.id, a.status, a.err, a.body)
		}
		stored, _ := a.json["tags"].(map[string]any)
		for _, k := range u.tags {
			acked++
			if stored[k] != "v" {
				lost++
			}
		}
	}
	if lost > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d acknowledged writes are lost", lost, acked))
	}
	if l.full > 0 {
		// A writer that finds its user full sends nothing: the gaps would
		// measure that, not an outage.
		problems = append(problems, fmt.Sprintf("%d writes were not sent: their users had all their tags (raise -users)", l.full))
	}
	if l.badCount > 0 {
		problems = append(problems, fmt.Sprintf("%d failed requests were not our 503 envelope with Retry-After, e.g. %s", l.badCount, strings.Join(l.bad, "; ")))
	}
	// Usage: each reader's apiUsage against the requests a replica
	// answered with its token (the read below counts too).
	wrongUsage := 0
	for _, u := range l.meters {
		a := l.cl.do("GET", "/api/users/"+u.id, u.token, "", "")
		n, err := number(a)
		if err != nil {
			return fmt.Errorf("reading %s's usage: %w", u.id, err)
		}
		if want, most := u.counted+1, u.counted+u.unknown+1; n < want || n > most {
			wrongUsage++
			problems = append(problems, fmt.Sprintf("%s: apiUsage %d, want %d to %d", u.id, n, want, most))
		}
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "event\tdatabase outage\tservice outage\texcess\tfailed writes\tfailed reads\t")
	acks, oks := l.ackTimes(), pr.successes()
	slices.SortFunc(oks, func(a, b time.Time) int { return a.Compare(b) })
	for _, e := range events {
		db := longestGap(oks, e.from, e.to)
		svc := longestGap(acks, e.from, e.to)
		fmt.Fprintf(w, "%s\t%.1f s\t%.1f s\t%+.1f s\t%d\t%d\t\n", e.name, db.Seconds(), svc.Seconds(), (svc - db).Seconds(),
			l.failuresWithin("PATCH", e.from, e.to), l.failuresWithin("GET", e.from, e.to))
		if svc-db > *maxExcess {
			problems = append(problems, fmt.Sprintf("%s: the service's outage (%.1f s) exceeds the database's (%.1f s) by more than %s", e.name, svc.Seconds(), db.Seconds(), *maxExcess))
		}
	}
	_ = w.Flush()
	sub.mu.Lock()
	inits, closes := sub.inits, sub.closes
	sub.mu.Unlock()
	var revoked []string
	for _, d := range revokeTimes {
		revoked = append(revoked, fmt.Sprintf("%d ms", d.Milliseconds()))
		if d > time.Second {
			problems = append(problems, fmt.Sprintf("a revoked session was taken for %s after the revocation", d))
		}
	}
	fmt.Printf("writes: %d sent, %d acknowledged, %d lost, %d failed, %d of them by HAProxy (503 envelope with Retry-After: %d of %d failures)\n",
		l.writes, acked, lost, l.failedW, l.proxyW, l.failed-l.badCount, l.failed)
	fmt.Printf("reads: %d; failures by status: %v, %d answered by a replica, %d by HAProxy (no replica ready or live); probe: %d writes straight to the primary\n",
		l.reads, l.endedWith, l.byReplica, l.failed-l.byReplica, pr.runs)
	fmt.Printf("revoked session refused by the replicas after: %s\n", strings.Join(revoked, ", "))
	fmt.Printf("subscription: %d connections (ends: %q), %d of 5 changes after the events missed\n", inits, closes, missedMarks)
	fmt.Printf("usage: %d of %d readers exact\n", len(l.meters)-wrongUsage, len(l.meters))
	if subErr != nil {
		problems = append(problems, "subscription: "+subErr.Error())
	} else if missedMarks > 0 {
		problems = append(problems, fmt.Sprintf("the subscription missed %d of 5 changes made after it reconnected", missedMarks))
	}
	if revokeErr != nil {
		problems = append(problems, "revocation: "+revokeErr.Error())
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n  "))
	}
	fmt.Printf("failover: 1 passed, 0 failed (%d events, %d acknowledged writes, 0 lost)\n", len(events), acked)
	return nil
}

func number(a answer) (int64, error) {
	if a.err != nil || a.status != 200 {
		return 0, fmt.Errorf("%d %v %.200s", a.status, a.err, a.body)
	}
	n, ok := a.json["apiUsage"].(json.Number)
	if !ok {
		return 0, fmt.Errorf("no apiUsage: %.200s", a.body)
	}
	return n.Int64()
}
