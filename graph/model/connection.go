package model

import "usersvc"

// UserConnection is a page of users. It is written here rather than
// generated so that it can carry History, which reads the page's users'
// histories together (usersvc.HistoryBatch).
type UserConnection struct {
	// The users of this page.
	Edges []UserEdge `json:"edges"`
	// Where this page is in the whole list.
	PageInfo *PageInfo `json:"pageInfo"`
	// How many users match the filter, over all pages.
	TotalCount int64 `json:"totalCount"`
	// History reads the history fields of the page's users.
	History *usersvc.HistoryBatch `json:"-"`
}
