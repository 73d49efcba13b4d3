package auth

import "slices"

// Access says who may reach one route.
type Access struct {
	// Public routes are reachable without signing in: the sign-in pages, health checks and
	// static files.
	Public bool
	// Roles may reach the route; a signed-in user needs at least one of them. Ignored for
	// public routes.
	Roles []Role
	// SkipCSRF exempts a state-changing public route from the CSRF check. Only POST /login uses
	// it: no session exists yet to hold a token, and the attempt it starts is bound to the
	// browser by the pre-login cookie and state, so forcing it achieves nothing.
	SkipCSRF bool
}

// Allows reports whether a user with roles may reach the route.
func (a Access) Allows(roles []Role) bool {
	if a.Public {
		return true
	}
	for _, r := range roles {
		if slices.Contains(a.Roles, r) {
			return true
		}
	}
	return false
}

// Policy is the one table of who reaches which route, keyed by RouteKey. A route missing from
// it is reachable by nobody.
type Policy map[string]Access

// RouteKey is the Policy key of a route: its method and its path as registered with echo,
// such as "GET /customers/:id".
func RouteKey(method, path string) string { return method + " " + path }
