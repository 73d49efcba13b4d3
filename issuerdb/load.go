package issuerdb

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"
)

// genRow is a generated customer with the derived search columns the loader stores.
type genRow struct {
	Customer
	search searchColumns
}

const genBatch = 1000

// generate produces the portfolio in order, in batches of genBatch, generating several
// batches in parallel while the caller writes the previous ones.
func generate(ctx context.Context, n int, seed int64) <-chan []genRow {
	g := NewGenerator(seed)
	futures := make(chan chan []genRow, runtime.GOMAXPROCS(0)+2)
	go func() {
		defer close(futures)
		for start := 0; start < n; start += genBatch {
			f := make(chan []genRow, 1)
			select {
			case futures <- f:
			case <-ctx.Done():
				return
			}
			go func(start int) {
				end := min(start+genBatch, n)
				rows := make([]genRow, 0, end-start)
				for i := start; i < end; i++ {
					c := g.Customer(i)
					rows = append(rows, genRow{Customer: c, search: deriveSearchColumns(&c)})
				}
				f <- rows
			}(start)
		}
	}()
	out := make(chan []genRow, 2)
	go func() {
		defer close(out)
		for f := range futures {
			select {
			case out <- <-f:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Rows per multi-row INSERT: large enough to amortise the statement, within SQLite's limit
// on bound parameters.
const (
	customersPerInsert = 40
	cardsPerInsert     = 80
	customerCols       = 24
	cardCols           = 17
)

func multiInsert(table string, cols, rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return "INSERT INTO " + table + " VALUES " + strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

func customerArgs(args []any, r *genRow) []any {
	c, a := &r.Customer, &r.Address
	return append(args, c.ID, c.ConsumerID, c.FirstName, c.MiddleName, c.LastName, c.Email,
		strings.ToLower(c.Email), c.Phone, c.Language, c.Country, a.Line1, a.Line2, a.Line3, a.City,
		a.Region, a.PostalCode, a.Country, string(c.Status), c.CreatedAt.Unix(), c.UpdatedAt.Unix(),
		r.search.SearchName, r.search.SortName, r.search.NameKey, r.search.ShortKey)
}

func cardArgs(args []any, d *Card, position int) []any {
	b := &d.BillingAddress
	return append(args, d.ID, d.CustomerID, position, d.Scheme, d.Last4, d.ExpiryMonth, d.ExpiryYear,
		d.CardholderName, b.Line1, b.Line2, b.Line3, b.City, b.Region, b.PostalCode, b.Country,
		string(d.Status), d.Product)
}

// insertRows writes the portfolio into SQLite with prepared multi-row INSERTs, committing
// every 50,000 customers.
func insertRows(ctx context.Context, sqldb *sql.DB, n int, seed int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &sqliteWriter{db: sqldb}
	defer w.close()
	for batch := range generate(ctx, n, seed) {
		if err := w.add(ctx, batch); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("issuerdb: seed: %w", err)
	}
	return w.flush(ctx, true)
}

type sqliteWriter struct {
	db                 *sql.DB
	tx                 *sql.Tx
	custStmt, cardStmt *sql.Stmt
	custArgs, cardArgs []any
	custPending, inTx  int
	cardPending        int
}

func (w *sqliteWriter) begin(ctx context.Context) error {
	var err error
	if w.tx, err = w.db.BeginTx(ctx, nil); err != nil {
		return fmt.Errorf("issuerdb: seed: %w", err)
	}
	if w.custStmt, err = w.tx.PrepareContext(ctx, multiInsert("customers", customerCols, customersPerInsert)); err != nil {
		return fmt.Errorf("issuerdb: seed: %w", err)
	}
	if w.cardStmt, err = w.tx.PrepareContext(ctx, multiInsert("cards", cardCols, cardsPerInsert)); err != nil {
		return fmt.Errorf("issuerdb: seed: %w", err)
	}
	return nil
}

func (w *sqliteWriter) add(ctx context.Context, batch []genRow) error {
	for i := range batch {
		if w.tx == nil {
			if err := w.begin(ctx); err != nil {
				return err
			}
		}
		w.custArgs = customerArgs(w.custArgs, &batch[i])
		w.custPending++
		w.inTx++
		if w.custPending == customersPerInsert {
			if _, err := w.custStmt.ExecContext(ctx, w.custArgs...); err != nil {
				return fmt.Errorf("issuerdb: seed customers: %w", err)
			}
			w.custArgs, w.custPending = w.custArgs[:0], 0
		}
		for k := range batch[i].Cards {
			w.cardArgs = cardArgs(w.cardArgs, &batch[i].Cards[k], k)
			w.cardPending++
			if w.cardPending == cardsPerInsert {
				if _, err := w.cardStmt.ExecContext(ctx, w.cardArgs...); err != nil {
					return fmt.Errorf("issuerdb: seed cards: %w", err)
				}
				w.cardArgs, w.cardPending = w.cardArgs[:0], 0
			}
		}
		if w.inTx >= 50_000 {
			if err := w.flush(ctx, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush writes what is pending with single-row statements sized to it and, with commit set,
// ends the transaction.
func (w *sqliteWriter) flush(ctx context.Context, commit bool) error {
	if w.tx == nil {
		return nil
	}
	if w.custPending > 0 {
		if _, err := w.tx.ExecContext(ctx, multiInsert("customers", customerCols, w.custPending), w.custArgs...); err != nil {
			return fmt.Errorf("issuerdb: seed customers: %w", err)
		}
		w.custArgs, w.custPending = w.custArgs[:0], 0
	}
	if w.cardPending > 0 {
		if _, err := w.tx.ExecContext(ctx, multiInsert("cards", cardCols, w.cardPending), w.cardArgs...); err != nil {
			return fmt.Errorf("issuerdb: seed cards: %w", err)
		}
		w.cardArgs, w.cardPending = w.cardArgs[:0], 0
	}
	if !commit {
		return nil
	}
	w.custStmt.Close()
	w.cardStmt.Close()
	err := w.tx.Commit()
	w.tx, w.inTx = nil, 0
	if err != nil {
		return fmt.Errorf("issuerdb: seed commit: %w", err)
	}
	return nil
}

func (w *sqliteWriter) close() {
	if w.tx != nil {
		w.tx.Rollback()
	}
}
