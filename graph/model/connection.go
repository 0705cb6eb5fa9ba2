package model

import "usersvc"

// UserConnection is a page of users. It is written here rather than
// generated so that it can carry History and Groups, which read the page's users'
// histories and groups together (usersvc.HistoryBatch, usersvc.GroupBatch).
type UserConnection struct {
	// The users of this page.
	Edges []UserEdge `json:"edges"`
	// Where this page is in the whole list.
	PageInfo *PageInfo `json:"pageInfo"`
	// How many users match the filter, over all pages.
	TotalCount int64 `json:"totalCount"`
	// History reads the history fields of the page's users.
	History *usersvc.HistoryBatch `json:"-"`
	// Groups reads the groups fields of the page's users.
	Groups *usersvc.GroupBatch `json:"-"`
}
