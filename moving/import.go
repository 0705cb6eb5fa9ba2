// Package moving moves users in and out of the service (docs/import.md):
// it reads NDJSON files in batches, runs import jobs started over HTTP
// (their spooled bodies, their goroutines, heartbeats and records), and
// writes the NDJSON export. It holds no rule: what a line may hold, who
// may import and export, and how an imported user is decided and saved
// are the domain's, reached through *usersvc.Service's exported entry
// points (ParseImportLine, ImportUsers, ExportUsers, MayImport,
// MayStillImport).
package moving

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"

	"usersvc"
)

// batchSize is how many lines are checked and written together: one read
// of the stored users and one insert a batch, and a crash loses at most
// the batch in flight.
const batchSize = 500

// Options says how to import and whom to tell.
type Options struct {
	usersvc.ImportOptions
	// Progress, when set, is called after each batch with the counts so far.
	Progress func(usersvc.ImportCounts)
	// Failed, when set, is called for each failed line, in line order.
	Failed func(usersvc.ImportFailure)
	// BeforeBatch, when set, is called before each batch is written; an
	// error stops the import with it (a job whose admin lost the right).
	BeforeBatch func(context.Context) error
}

// Import reads NDJSON users from r and imports them as ctx's caller (an
// admin), in batches of batchSize lines through svc.ImportUsers. It
// returns the counts, and an error only when the import could not go on
// (the input unreadable, the database failing, ctx ended); failed lines
// are counted and reported through opts.Failed.
func Import(ctx context.Context, svc *usersvc.Service, r io.Reader, opts Options) (usersvc.ImportCounts, error) {
	var counts usersvc.ImportCounts
	plan := opts.ImportOptions
	if _, err := svc.ImportUsers(ctx, nil, &plan); err != nil { // the caller and the mode, before reading
		return counts, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	batch := make([]*usersvc.ImportUser, 0, batchSize)
	var fails []usersvc.ImportFailure
	flush := func() error {
		if opts.BeforeBatch != nil && len(batch) > 0 {
			if err := opts.BeforeBatch(ctx); err != nil {
				return err
			}
		}
		var err error
		if len(batch) > 0 {
			var res usersvc.ImportResult
			res, err = svc.ImportUsers(ctx, batch, &plan)
			counts.Created += res.Created
			counts.Updated += res.Updated
			counts.Unchanged += res.Unchanged
			fails = append(fails, res.Failures...)
		}
		slices.SortFunc(fails, func(a, b usersvc.ImportFailure) int { return int(a.Line - b.Line) })
		for _, f := range fails {
			counts.Failed++
			if opts.Failed != nil {
				opts.Failed(f)
			}
		}
		batch, fails = batch[:0], fails[:0]
		if err == nil && opts.Progress != nil {
			opts.Progress(counts)
		}
		return err
	}
	for n := int64(1); ; n++ {
		line, size, tooLong, readErr := readLine(br)
		counts.Bytes += size
		if readErr != nil && readErr != io.EOF {
			return counts, usersvc.Errorf(usersvc.EInvalid, "Reading the input: %s", readErr.Error())
		}
		if err := ctx.Err(); err != nil {
			return counts, err
		}
		switch blank := len(bytes.TrimSpace(line)) == 0 && !tooLong; {
		case blank:
		case tooLong:
			counts.Lines++
			fails = append(fails, usersvc.ImportFailure{Line: n, Code: usersvc.EInvalid, Message: fmt.Sprintf("The line is longer than %d bytes.", usersvc.MaxImportLine)})
		default:
			counts.Lines++
			if u, err := svc.ParseImportLine(line, n); err != nil {
				fails = append(fails, usersvc.NewImportFailure(n, err))
			} else {
				batch = append(batch, u)
			}
		}
		if len(batch)+len(fails) >= batchSize || readErr == io.EOF {
			if err := flush(); err != nil {
				return counts, err
			}
		}
		if readErr == io.EOF {
			return counts, nil
		}
	}
}

// readLine reads one line (without its newline) of at most
// usersvc.MaxImportLine bytes; of a longer one it reads and drops the
// rest. size is the bytes consumed.
func readLine(br *bufio.Reader) (line []byte, size int64, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		size += int64(len(chunk))
		if !tooLong {
			if len(line)+len(chunk) > usersvc.MaxImportLine+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimSuffix(line, []byte("\n")), size, tooLong, err
	}
}
