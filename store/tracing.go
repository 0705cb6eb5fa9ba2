package store

import (
	"context"
	"database/sql"

	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"usersvc/telemetry"
)

// tracedDriver makes a client span of every statement ent's driver runs
// (Options.Tracing) under the caller's span: the statement's text with its
// placeholders, never its arguments. Transactions' statements are spans
// too, under the caller's. A statement run outside any span (start-up's
// migration, an import job, background work that is not traced) makes no
// trace of its own: a trace is a request or a usage flush, never a lone
// statement.
type tracedDriver struct {
	tracedEQ // system is db.system.name: postgresql or sqlite
	drv      dialect.Driver
}

func newTracedDriver(d dialect.Driver) *tracedDriver {
	system := "sqlite"
	if d.Dialect() == dialect.Postgres {
		system = "postgresql"
	}
	return &tracedDriver{tracedEQ: tracedEQ{d, system}, drv: d}
}

// statementSpan starts the span of one statement, or, outside any span or
// under one that is not recording (a request the sampler left out: its
// statements would be dropped too), returns ctx and the API's no-op span.
func statementSpan(ctx context.Context, system, query string) (context.Context, trace.Span) {
	if parent := trace.SpanFromContext(ctx); !parent.SpanContext().IsSampled() {
		return ctx, noop.Span{}
	}
	op, _, _ := cutWord(query)
	return telemetry.Tracer().Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", system), attribute.String("db.query.text", query),
			attribute.String("db.operation.name", op)))
}

// endStatement ends a statement's span, an error (but not "no rows")
// setting its status.
func endStatement(span trace.Span, err error) {
	if err != nil && err != sql.ErrNoRows {
		span.SetStatus(codes.Error, "statement failed")
		span.RecordError(classify(err))
	}
	span.End()
}

// cutWord is a statement's first word (SELECT, INSERT, WITH…), in upper case.
func cutWord(q string) (string, string, bool) {
	i := 0
	for i < len(q) && (q[i] == ' ' || q[i] == '\n' || q[i] == '\t' || q[i] == '(') {
		i++
	}
	j := i
	for j < len(q) && q[j] != ' ' && q[j] != '\n' && q[j] != '\t' {
		j++
	}
	w := []byte(q[i:j])
	for k, c := range w {
		if 'a' <= c && c <= 'z' {
			w[k] = c - 'a' + 'A'
		}
	}
	return string(w), q[j:], j > i
}

// tracedEQ traces the four ways a statement reaches ent's driver or one
// of its transactions: one span each, the same for both.
type tracedEQ struct {
	eq     dialect.ExecQuerier
	system string
}

func (t tracedEQ) run(ctx context.Context, query string, do func(context.Context) error) error {
	ctx, span := statementSpan(ctx, t.system, query)
	err := do(ctx)
	endStatement(span, err)
	return err
}

func (t tracedEQ) Exec(ctx context.Context, query string, args, v any) error {
	return t.run(ctx, query, func(ctx context.Context) error { return t.eq.Exec(ctx, query, args, v) })
}

func (t tracedEQ) Query(ctx context.Context, query string, args, v any) error {
	return t.run(ctx, query, func(ctx context.Context) error { return t.eq.Query(ctx, query, args, v) })
}

func (t tracedEQ) ExecContext(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	err = t.run(ctx, query, func(ctx context.Context) (err error) {
		res, err = t.eq.(interface {
			ExecContext(context.Context, string, ...any) (sql.Result, error)
		}).ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

func (t tracedEQ) QueryContext(ctx context.Context, query string, args ...any) (rows *sql.Rows, err error) {
	err = t.run(ctx, query, func(ctx context.Context) (err error) {
		rows, err = t.eq.(interface {
			QueryContext(context.Context, string, ...any) (*sql.Rows, error)
		}).QueryContext(ctx, query, args...)
		return err
	})
	return rows, err
}

func (d *tracedDriver) Dialect() string { return d.drv.Dialect() }
func (d *tracedDriver) Close() error    { return d.drv.Close() }

func (d *tracedDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.drv.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &tracedTx{tracedEQ{tx, d.system}, tx}, nil
}

func (d *tracedDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.drv.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &tracedTx{tracedEQ{tx, d.system}, tx}, nil
}

// tracedTx is tracedDriver's transaction.
type tracedTx struct {
	tracedEQ
	tx dialect.Tx
}

func (t *tracedTx) Commit() error   { return t.tx.Commit() }
func (t *tracedTx) Rollback() error { return t.tx.Rollback() }
