package store

import (
	"context"
	"database/sql"

	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"usersvc/telemetry"
)

// tracedDriver makes a client span of every statement ent's driver runs
// (Options.Tracing): the statement's text with its placeholders, never its
// arguments. Transactions' statements are spans too, under the caller's.
type tracedDriver struct {
	dialect.Driver
	system string // db.system.name: postgresql or sqlite
}

func newTracedDriver(d dialect.Driver) *tracedDriver {
	system := "sqlite"
	if d.Dialect() == dialect.Postgres {
		system = "postgresql"
	}
	return &tracedDriver{Driver: d, system: system}
}

// statementSpan starts the span of one statement.
func statementSpan(ctx context.Context, system, query string) (context.Context, trace.Span) {
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

func (d *tracedDriver) Exec(ctx context.Context, query string, args, v any) error {
	ctx, span := statementSpan(ctx, d.system, query)
	err := d.Driver.Exec(ctx, query, args, v)
	endStatement(span, err)
	return err
}

func (d *tracedDriver) Query(ctx context.Context, query string, args, v any) error {
	ctx, span := statementSpan(ctx, d.system, query)
	err := d.Driver.Query(ctx, query, args, v)
	endStatement(span, err)
	return err
}

func (d *tracedDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, span := statementSpan(ctx, d.system, query)
	res, err := d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}).ExecContext(ctx, query, args...)
	endStatement(span, err)
	return res, err
}

func (d *tracedDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx, span := statementSpan(ctx, d.system, query)
	rows, err := d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}).QueryContext(ctx, query, args...)
	endStatement(span, err)
	return rows, err
}

func (d *tracedDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &tracedTx{Tx: tx, system: d.system}, nil
}

func (d *tracedDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &tracedTx{Tx: tx, system: d.system}, nil
}

// tracedTx is tracedDriver's transaction.
type tracedTx struct {
	dialect.Tx
	system string
}

func (t *tracedTx) Exec(ctx context.Context, query string, args, v any) error {
	ctx, span := statementSpan(ctx, t.system, query)
	err := t.Tx.Exec(ctx, query, args, v)
	endStatement(span, err)
	return err
}

func (t *tracedTx) Query(ctx context.Context, query string, args, v any) error {
	ctx, span := statementSpan(ctx, t.system, query)
	err := t.Tx.Query(ctx, query, args, v)
	endStatement(span, err)
	return err
}

func (t *tracedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, span := statementSpan(ctx, t.system, query)
	res, err := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}).ExecContext(ctx, query, args...)
	endStatement(span, err)
	return res, err
}

func (t *tracedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx, span := statementSpan(ctx, t.system, query)
	rows, err := t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}).QueryContext(ctx, query, args...)
	endStatement(span, err)
	return rows, err
}
