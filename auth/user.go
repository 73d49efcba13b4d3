// Package auth signs staff in through the bank's OpenID Provider and keeps them signed in:
// the relying party (authorization code flow with PKCE, state and nonce), a server-side session
// store behind gorilla/sessions, the mapping of provider groups to ctpdesk roles, and the echo
// middleware that enforces sessions, role-based access and CSRF tokens on every route.
package auth

import (
	"context"
	"slices"
)

// Role is what a signed-in user may do in ctpdesk. Roles come only from the provider's group
// claim through the configured RoleMap; nothing else grants one.
type Role string

// The roles ctpdesk knows. Their string values appear in the audit trail and the page header.
const (
	RoleAgent   Role = "agent"
	RoleFraud   Role = "fraud"
	RoleAuditor Role = "auditor"
)

// AllRoles lists every role in the order the interface shows them.
var AllRoles = []Role{RoleAgent, RoleFraud, RoleAuditor}

// User is the signed-in member of staff: who the provider says they are, plus the roles
// ctpdesk derived from the provider's groups at sign-in.
type User struct {
	// Issuer and Subject together identify the person; names and emails can change.
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Roles   []Role `json:"roles"`
}

// Has reports whether the user holds role r.
func (u User) Has(r Role) bool { return slices.Contains(u.Roles, r) }

// RoleNames returns the roles as plain strings, for the audit trail and the views, which do
// not import this package.
func (u User) RoleNames() []string {
	out := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		out[i] = string(r)
	}
	return out
}

type userKey struct{}

type csrfKey struct{}

// WithUser returns a context that carries the signed-in user.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the signed-in user of a request context, if any.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// WithCSRFToken returns a context that carries the session's CSRF token, so handlers can put
// it into forms and the layout's meta tag.
func WithCSRFToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, csrfKey{}, token)
}

// CSRFTokenFrom returns the CSRF token of the request's session, or "" without a session.
func CSRFTokenFrom(ctx context.Context) string {
	t, _ := ctx.Value(csrfKey{}).(string)
	return t
}
