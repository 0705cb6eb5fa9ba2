package moving

import (
	"bufio"
	"context"
	"encoding/json"
	"io"

	"usersvc"
)

// Export writes every user, deleted ones too, to w as NDJSON in id order,
// one usersvc.ExportedUser a line, page by page through svc.ExportUsers
// (which authorizes the caller, an admin, and records an export with
// hashes in their history). It returns how many were written.
func Export(ctx context.Context, svc *usersvc.Service, w io.Writer, withHashes bool) (int64, error) {
	var n int64
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	after := ""
	for {
		page, err := svc.ExportUsers(ctx, after, usersvc.MaxExportPage, withHashes)
		if err != nil {
			return n, err
		}
		for i := range page {
			if err := enc.Encode(&page[i]); err != nil {
				return n, err
			}
			n++
		}
		if len(page) < usersvc.MaxExportPage {
			return n, bw.Flush()
		}
		after = page[len(page)-1].ID
		if err := bw.Flush(); err != nil {
			return n, err
		}
	}
}
