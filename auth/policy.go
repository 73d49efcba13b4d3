package auth

import "slices"

// Access says who may reach one route. The one table of routes and their access lives in
// handlers/routes.go; the application turns each entry into an Access for Guard.For.
type Access struct {
	// Public routes are reachable without signing in: the sign-in pages, health checks and
	// static files.
	Public bool
	// Roles may reach the route; a signed-in user needs at least one of them. Ignored for
	// public routes. An empty list admits nobody: deny by default.
	Roles []Role
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

// RouteKey names a route in logs and audit details: its method and its path as registered
// with echo, such as "GET /customers/:id".
func RouteKey(method, path string) string { return method + " " + path }
