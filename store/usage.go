package store

import (
	"context"

	"usersvc"
	"usersvc/ent/usage"
)

// totalDay is the usage row that holds a user's all-time count.
const totalDay = "total"

// UsageCounts reads a user's stored all-time count and day's count.
func (s *Store) UsageCounts(ctx context.Context, userID, day string) (_ usersvc.Usage, err error) {
	defer internal(&err)
	rows, err := s.c().Usage.Query().Where(usage.UserID(userID), usage.DayIn(totalDay, day)).All(ctx)
	if err != nil {
		return usersvc.Usage{}, err
	}
	var u usersvc.Usage
	for _, r := range rows {
		if r.Day == totalDay {
			u.Total = r.Count
		} else {
			u.Daily = r.Count
		}
	}
	return u, nil
}

// AddUsage adds n requests for userID to the all-time row and to day's
// row, atomically, and returns both counts after.
func (s *Store) AddUsage(ctx context.Context, userID, day string, n int64) (_ usersvc.Usage, err error) {
	defer internal(&err)
	var u usersvc.Usage
	err = s.InTx(ctx, func(txs usersvc.Store) error {
		c := txs.(*Store).c()
		for _, d := range []string{totalDay, day} {
			err := c.Usage.Create().SetUserID(userID).SetDay(d).SetCount(n).
				OnConflictColumns(usage.FieldUserID, usage.FieldDay).AddCount(n).Exec(ctx)
			if err != nil {
				return err
			}
		}
		var err error
		u, err = txs.UsageCounts(ctx, userID, day)
		return err
	})
	return u, err
}
