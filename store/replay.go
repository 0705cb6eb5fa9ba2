package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// How far a standby has replayed the primary's WAL, and which server a
// connection reached (standby.go).

// serverQuery names the server process a connection reached: its own
// address and port (not a proxy's), its start time and its cluster.
const serverQuery = "SELECT coalesce(host(inet_server_addr()), '') || ':' || coalesce(inet_server_port()::text, '') || ' ' || pg_postmaster_start_time()::text || ' ' || (SELECT system_identifier FROM pg_control_system())::text"

// identify asks a new connection serverQuery and keeps the answer as its
// server; a connection that cannot say is closed.
func identify(ctx context.Context, c *boundedConn) (driver.Conn, error) {
	if err := c.identify(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func (c *boundedConn) identify(ctx context.Context) error {
	defer func() { _ = c.nc.SetDeadline(time.Time{}) }() // as Connect leaves it
	rows, err := c.QueryContext(ctx, serverQuery, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return err
	}
	switch s := v[0].(type) {
	case string:
		c.server = s
	case []byte:
		c.server = string(s)
	default:
		return fmt.Errorf("server identity: unexpected %T", v[0])
	}
	return nil
}

// caughtUp waits until the server s's connection reached has replayed
// the WAL up to at, or is not in recovery (a primary has every commit of
// its own; prefer-standby falls back to one), for at most wait; errBehind
// after that. It polls every millisecond at first, then less often, and
// returns the last position it saw replayed (allReplayed for a server not
// in recovery).
func (s *Store) caughtUp(ctx context.Context, at uint64, wait time.Duration) (uint64, error) {
	deadline := time.Now().Add(wait)
	pause := time.Millisecond
	for {
		replayed, err := s.replayed(ctx)
		if err != nil || replayed >= at {
			return replayed, err
		}
		if time.Now().Add(pause).After(deadline) {
			return replayed, errBehind
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return replayed, ctx.Err()
		}
		pause = min(2*pause, 16*time.Millisecond)
	}
}

// allReplayed is what a server not in recovery has replayed.
const allReplayed = ^uint64(0)

// replayed reads how far the server has replayed the WAL: one statement,
// without arguments (one exchange).
func (s *Store) replayed(ctx context.Context) (uint64, error) {
	rows, err := s.c().QueryContext(ctx, "SELECT CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_replay_lsn()::text, '0/0') ELSE '' END")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var lsn string
	if !rows.Next() {
		return 0, errors.Join(errors.New("no answer to the replay position"), rows.Err())
	}
	if err := rows.Scan(&lsn); err != nil {
		return 0, err
	}
	if lsn == "" {
		return allReplayed, rows.Close()
	}
	n, err := parseLSN(lsn)
	if err != nil {
		return 0, err
	}
	return n, rows.Close()
}

// parseLSN reads a pg_lsn's text (X/Y, two hexadecimal halves).
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%q is not a WAL position", s)
	}
	return h<<32 | l, nil
}
