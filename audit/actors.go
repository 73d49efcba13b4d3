package audit

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Person is one entry of the directory of people who signed in: who they are to the trail
// (issuer and subject), their display name and the email address their OpenID Provider gave
// at their latest sign-in.
type Person struct {
	Issuer  string
	Subject string
	Name    string
	Email   string
}

// maxEmail bounds a directory email address (RFC 5321's path limit).
const maxEmail = 254

// NoteSignIn records p in the directory of people who signed in, replacing what an earlier
// sign-in noted. The directory lets the actor filter match an email prefix; it is not part of
// the hash chain, and events keep naming the actor by issuer, subject and name only. An
// address that is not a plain addr-spec is stored as empty: the person is still listed.
func (t *Trail) NoteSignIn(ctx context.Context, p Person) error {
	if p.Subject == "" || len(p.Subject) > maxSubject || len(p.Issuer) > maxIssuer || !utf8.ValidString(p.Subject+p.Issuer) {
		return fmt.Errorf("%w: sign-in directory: bad issuer or subject", ErrInvalidEvent)
	}
	name := clean(p.Name, maxName)
	email := directoryEmail(p.Email)
	_, err := t.db.ExecContext(ctx, t.db.Rebind(`INSERT INTO audit_actors (actor_iss, actor_sub, actor_name, email, last_sign_in_ms)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (actor_iss, actor_sub) DO UPDATE SET actor_name = excluded.actor_name,
			email = excluded.email, last_sign_in_ms = excluded.last_sign_in_ms`),
		p.Issuer, p.Subject, name, email, t.opts.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("audit: sign-in directory: %w: %w", ErrUnavailable, err)
	}
	return nil
}

// directoryEmail is the address the directory keeps for raw: the bare, lower-cased addr-spec,
// or "" for anything else (a display-name form, control characters, an over-long value).
func directoryEmail(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxEmail || !utf8.ValidString(raw) {
		return ""
	}
	a, err := mail.ParseAddress(raw)
	if err != nil || a.Name != "" || a.Address != raw {
		return ""
	}
	return strings.ToLower(a.Address)
}

// emailSubjects lists the subjects whose directory email starts with the filter, ignoring
// case. The directory holds one row per person who ever signed in, a staff-sized table, so it
// is read whole up to maxDistinctActors rows and matched here, as resolveActor does with the
// trail's distinct subjects and names; past that it matches the whole address exactly.
func (t *Trail) emailSubjects(ctx context.Context, filter string) ([]string, error) {
	q := strings.ToLower(strings.TrimSpace(filter))
	if q == "" {
		return nil, nil
	}
	rows, err := t.db.QueryContext(ctx, t.db.Rebind(
		"SELECT actor_sub, email FROM audit_actors WHERE email <> '' ORDER BY actor_sub LIMIT ?"), maxDistinctActors+1)
	if err != nil {
		return nil, fmt.Errorf("audit: actors by email: %w", err)
	}
	defer rows.Close()
	type entry struct{ sub, email string }
	var all []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.sub, &e.email); err != nil {
			return nil, fmt.Errorf("audit: actors by email: %w", err)
		}
		all = append(all, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: actors by email: %w", err)
	}
	exact := len(all) > maxDistinctActors
	var out []string
	for _, e := range all {
		if (exact && e.email == q) || (!exact && strings.HasPrefix(e.email, q)) {
			out = append(out, e.sub)
		}
	}
	return out, nil
}

// emailsOf returns the directory email of each of the given actors that has one, keyed by
// issuer and subject.
func (t *Trail) emailsOf(ctx context.Context, actors []Actor) (map[[2]string]string, error) {
	out := map[[2]string]string{}
	if len(actors) == 0 {
		return out, nil
	}
	var conds []string
	var args []any
	for _, a := range actors {
		conds = append(conds, "(actor_iss = ? AND actor_sub = ?)")
		args = append(args, a.Issuer, a.Subject)
	}
	rows, err := t.db.QueryContext(ctx, t.db.Rebind(
		"SELECT actor_iss, actor_sub, email FROM audit_actors WHERE email <> '' AND ("+strings.Join(conds, " OR ")+")"), args...)
	if err != nil {
		return nil, fmt.Errorf("audit: actor emails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var iss, sub, email string
		if err := rows.Scan(&iss, &sub, &email); err != nil {
			return nil, fmt.Errorf("audit: actor emails: %w", err)
		}
		out[[2]string{iss, sub}] = email
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: actor emails: %w", err)
	}
	return out, nil
}
