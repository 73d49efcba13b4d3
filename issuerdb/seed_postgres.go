package issuerdb

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

var (
	pgCustomerColumns = []string{"id", "consumer_id", "first_name", "middle_name", "last_name", "email",
		"email_lower", "phone", "language", "country", "addr_line1", "addr_line2", "addr_line3", "addr_city",
		"addr_region", "addr_postal_code", "addr_country", "status", "created_at", "updated_at",
		"search_name", "sort_name", "name_key", "short_key"}
	pgCardColumns = []string{"id", "customer_id", "position", "scheme", "last4", "expiry_month",
		"expiry_year", "cardholder_name", "bill_line1", "bill_line2", "bill_line3", "bill_city",
		"bill_region", "bill_postal_code", "bill_country", "status", "product"}
)

// seedPostgres loads the portfolio with COPY in one transaction between the table migration
// and the index migration, so a failed load leaves no rows.
func seedPostgres(ctx context.Context, t target, n int, seed int64) error {
	sqldb, err := openSQL(t, false)
	if err != nil {
		return err
	}
	defer sqldb.Close()
	if has, err := hasCustomers(ctx, t); err != nil {
		return err
	} else if has {
		return fmt.Errorf("issuerdb: seed: %w", ErrAlreadySeeded)
	}
	// The schema is complete and empty: step back to the bare tables so the indexes are
	// built once over the loaded rows instead of row by row.
	if err := migrateDownTo(ctx, sqldb, postgresDialect, 1); err != nil {
		return err
	}
	conn, err := sqldb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("issuerdb: seed: %w", err)
	}
	err = conn.Raw(func(dc any) error {
		return copyPortfolio(ctx, dc.(*stdlib.Conn).Conn(), n, seed)
	})
	conn.Close()
	if err != nil {
		return err
	}
	if err := migrate(ctx, sqldb, postgresDialect, 0); err != nil {
		return err
	}
	// VACUUM cannot run inside the migration's transaction. It sets the visibility map, so
	// name searches read name_tokens from its index alone from the first query on.
	if _, err := sqldb.ExecContext(ctx, "VACUUM (ANALYZE) customers, cards, name_tokens"); err != nil {
		return fmt.Errorf("issuerdb: seed: vacuum: %w", err)
	}
	return nil
}

func copyPortfolio(ctx context.Context, pc *pgx.Conn, n int, seed int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tx, err := pc.Begin(ctx)
	if err != nil {
		return fmt.Errorf("issuerdb: seed: %w", err)
	}
	defer tx.Rollback(ctx)
	customerRow := func(r *genRow, emit func([]any)) {
		args := customerArgs(make([]any, 0, customerCols), r)
		args[18], args[19] = r.CreatedAt, r.UpdatedAt // timestamptz, not Unix seconds
		emit(args)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"customers"}, pgCustomerColumns, copySource(ctx, n, seed, customerRow)); err != nil {
		return fmt.Errorf("issuerdb: seed customers: %w", err)
	}
	// The generator is deterministic, so the cards come from a second generation pass rather
	// than from millions of cards held in memory.
	cardRows := func(r *genRow, emit func([]any)) {
		for k := range r.Cards {
			emit(cardArgs(make([]any, 0, cardCols), &r.Cards[k], k))
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cards"}, pgCardColumns, copySource(ctx, n, seed, cardRows)); err != nil {
		return fmt.Errorf("issuerdb: seed cards: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("issuerdb: seed commit: %w", err)
	}
	return nil
}

// copySource turns the generated portfolio into COPY rows, expand giving each customer's rows.
func copySource(ctx context.Context, n int, seed int64, expand func(*genRow, func([]any))) pgx.CopyFromSource {
	batches := generate(ctx, n, seed)
	var pending [][]any
	emit := func(row []any) { pending = append(pending, row) }
	return pgx.CopyFromFunc(func() ([]any, error) {
		for len(pending) == 0 {
			batch, ok := <-batches
			if !ok {
				return nil, ctx.Err()
			}
			for i := range batch {
				expand(&batch[i], emit)
			}
		}
		row := pending[0]
		pending = pending[1:]
		return row, nil
	})
}
