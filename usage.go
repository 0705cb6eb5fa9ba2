package usersvc

import (
	"context"
	"time"
)

// Usage is a caller's request count: all time and in their local today.
type Usage struct {
	Total int64 `json:"apiUsage"`
	Daily int64 `json:"apiDailyUsage"`
}

// Quota is the caller's daily quota state, as the RateLimit headers say it.
type Quota struct {
	Limit     int64
	Remaining int64
	// Reset is the number of seconds until the caller's local midnight.
	Reset int64
}

// quota computes the caller's quota state after this request.
func (s *Service) quota(u *User, usage Usage, now time.Time) Quota {
	limit := s.DailyQuota
	if u.DailyQuota != nil {
		limit = *u.DailyQuota
	}
	remaining := limit - usage.Daily
	if remaining < 0 {
		remaining = 0
	}
	loc := s.location(u)
	local := now.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc)
	reset := int64(midnight.Sub(now).Seconds() + 0.999)
	return Quota{Limit: limit, Remaining: remaining, Reset: reset}
}

// meter counts one request of u at now against u's daily quota.
func (s *Service) meter(ctx context.Context, u *User, now time.Time) (Usage, Quota, error) {
	usage, err := s.Meter.Count(ctx, u.ID, s.localDay(u, now))
	if err != nil {
		return Usage{}, Quota{}, err
	}
	return usage, s.quota(u, usage, now), nil
}

// CheckQuota refuses a caller who is past their daily quota, until their
// local midnight.
func (s *Service) CheckQuota(p *Principal) error {
	if p.Usage.Daily > p.Quota.Limit {
		e := Errorf(ERateLimited, "Daily request quota exceeded.")
		e.RetryAfter = p.Quota.Reset
		return e
	}
	return nil
}

func (s *Service) location(u *User) *time.Location {
	loc, err := LoadLocation(u.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// localDay is the caller's calendar date at now, in their own time zone.
func (s *Service) localDay(u *User, now time.Time) string {
	return now.In(s.location(u)).Format(time.DateOnly)
}

// Flush writes the metered counts to the store (see Meter).
func (s *Service) Flush(ctx context.Context) error { return s.Meter.Flush(ctx) }
