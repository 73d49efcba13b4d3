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

// ParseRoles turns role names into Roles, refusing names ctpdesk does not know so a typo in
// the route table cannot silently lock a role out.
func ParseRoles(names []string) ([]Role, error) {
	out := make([]Role, 0, len(names))
	for _, n := range names {
		r := Role(n)
		if !slices.Contains(AllRoles, r) {
			return nil, &UnknownRoleError{Name: n}
		}
		out = append(out, r)
	}
	return out, nil
}

// UnknownRoleError names a role that is not agent, fraud or auditor.
type UnknownRoleError struct{ Name string }

func (e *UnknownRoleError) Error() string { return "auth: unknown role " + e.Name }

// RouteKey names a route in logs and audit details: its method and its path as registered
// with echo, such as "GET /customers/:id".
func RouteKey(method, path string) string { return method + " " + path }
