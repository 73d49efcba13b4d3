package issuerdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// customerColumns is the column list every customer query selects, in scanCustomer's order.
// Timestamps come back as Unix seconds from both dialects.
func (db *DB) customerColumns(alias string) string {
	ts := func(col string) string {
		if db.dialect == postgresDialect {
			return "CAST(extract(epoch FROM " + alias + col + ") AS BIGINT)"
		}
		return alias + col
	}
	cols := []string{"id", "consumer_id", "first_name", "middle_name", "last_name", "email", "phone",
		"language", "country", "addr_line1", "addr_line2", "addr_line3", "addr_city", "addr_region",
		"addr_postal_code", "addr_country", "status"}
	for i, c := range cols {
		cols[i] = alias + c
	}
	return strings.Join(append(cols, ts("created_at"), ts("updated_at")), ", ")
}

// customerColumnCount is how many columns customerColumns lists.
const customerColumnCount = 19

type scanner interface{ Scan(dest ...any) error }

func scanCustomer(s scanner, extra ...any) (Customer, error) {
	var c Customer
	var created, updated int64
	a := &c.Address
	dest := []any{&c.ID, &c.ConsumerID, &c.FirstName, &c.MiddleName, &c.LastName, &c.Email, &c.Phone,
		&c.Language, &c.Country, &a.Line1, &a.Line2, &a.Line3, &a.City, &a.Region, &a.PostalCode,
		&a.Country, &c.Status, &created, &updated}
	if err := s.Scan(append(dest, extra...)...); err != nil {
		return Customer{}, err
	}
	c.CreatedAt, c.UpdatedAt = time.Unix(created, 0).UTC(), time.Unix(updated, 0).UTC()
	return c, nil
}

// Get returns the customer with the issuer customer number id, cards included, or an error
// wrapping ErrNotFound.
func (db *DB) Get(ctx context.Context, id string) (Customer, error) {
	return db.getBy(ctx, "id", id)
}

// CustomerByConsumerID returns the customer whose D1 consumer id is consumerID, cards
// included, or an error wrapping ErrNotFound. It is an indexed lookup.
func (db *DB) CustomerByConsumerID(ctx context.Context, consumerID string) (Customer, error) {
	return db.getBy(ctx, "consumer_id", consumerID)
}

func (db *DB) getBy(ctx context.Context, column, value string) (Customer, error) {
	// No stored id is longer than 64 bytes or invalid UTF-8; PostgreSQL would reject the
	// latter with an error rather than find nothing.
	if len(value) > 64 || !utf8.ValidString(value) {
		return Customer{}, fmt.Errorf("issuerdb: customer by %s: %w", column, ErrNotFound)
	}
	c, err := scanCustomer(db.queryRow(ctx, keep, "SELECT "+db.customerColumns("")+" FROM customers WHERE "+column+" = ?", value))
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, fmt.Errorf("issuerdb: customer by %s: %w", column, ErrNotFound)
	}
	if err != nil {
		return Customer{}, fmt.Errorf("issuerdb: customer by %s: %w", column, err)
	}
	cards, err := db.cardsOf(ctx, []string{c.ID})
	if err != nil {
		return Customer{}, err
	}
	c.Cards = cards[c.ID]
	return c, nil
}

// cardsOf loads the cards of the given customers in one query, grouped by customer id, each
// customer's cards in their stored order. On SQLite the ids travel as one JSON array
// parameter, so the statement has one text however many customers a page holds and is
// prepared once (see oneOf).
func (db *DB) cardsOf(ctx context.Context, ids []string) (map[string][]Card, error) {
	return db.loadCards(ctx, ids, `id, customer_id, scheme, last4, expiry_month, expiry_year, cardholder_name,
		bill_line1, bill_line2, bill_line3, bill_city, bill_region, bill_postal_code, bill_country,
		status, product`, func(rows *sql.Rows, d *Card) error {
		b := &d.BillingAddress
		return rows.Scan(&d.ID, &d.CustomerID, &d.Scheme, &d.Last4, &d.ExpiryMonth, &d.ExpiryYear,
			&d.CardholderName, &b.Line1, &b.Line2, &b.Line3, &b.City, &b.Region, &b.PostalCode,
			&b.Country, &d.Status, &d.Product)
	})
}

// cardSummariesOf is cardsOf with only what a search result shows of a card: its id,
// customer, scheme, last 4 and status. A page of results reads about forty cards, and each
// column read costs a call into SQLite: the summary's five columns instead of sixteen made a
// one-row search a fifth faster on a million customers.
func (db *DB) cardSummariesOf(ctx context.Context, ids []string) (map[string][]Card, error) {
	return db.loadCards(ctx, ids, "id, customer_id, scheme, last4, status", func(rows *sql.Rows, d *Card) error {
		return rows.Scan(&d.ID, &d.CustomerID, &d.Scheme, &d.Last4, &d.Status)
	})
}

// loadCards selects columns of the cards of the given customers and reads each row with
// scan; columns must be a constant text (the statement is prepared and kept).
func (db *DB) loadCards(ctx context.Context, ids []string, columns string, scan func(*sql.Rows, *Card) error) (map[string][]Card, error) {
	out := make(map[string][]Card, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in, list, err := db.oneOf(ids)
	if err != nil {
		return nil, fmt.Errorf("issuerdb: cards: %w", err)
	}
	rows, err := db.queryRows(ctx, keep, "SELECT "+columns+" FROM cards WHERE customer_id "+in+" ORDER BY customer_id, position", list...)
	if err != nil {
		return nil, fmt.Errorf("issuerdb: cards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d Card
		if err := scan(rows, &d); err != nil {
			return nil, fmt.Errorf("issuerdb: cards: %w", err)
		}
		out[d.CustomerID] = append(out[d.CustomerID], d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("issuerdb: cards: %w", err)
	}
	return out, nil
}

// oneOf is a condition that a column holds one of values, and its arguments. On SQLite it has
// a single parameter, "IN (SELECT value FROM json_each(?))" with a JSON array, so the statement
// has one text however many values there are. On PostgreSQL it is "IN (?, ?, …)": pgx keeps
// a prepared statement per text anyway, and an array parameter ("= ANY(?)") measured slower
// there, its plan being made again on every call. Both engines probe an index on the column
// once per value (see TestCardsOfUsesTheCustomerIndex). A single value is "= ?" on both: a
// customer's page, its comparison and a one-row search read one customer's cards, which "= ?"
// does in two thirds of the time the one-element JSON array takes on SQLite.
func (db *DB) oneOf(values []string) (cond string, args []any, err error) {
	if len(values) == 1 {
		return "= ?", []any{values[0]}, nil
	}
	if db.dialect == postgresDialect {
		return "IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ") + ")", anys(values), nil
	}
	b, err := json.Marshal(values)
	if err != nil {
		return "", nil, err
	}
	return "IN (SELECT value FROM json_each(?))", []any{string(b)}, nil
}
