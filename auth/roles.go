package auth

import (
	"fmt"
	"strings"
)

// RoleMap says which provider groups grant which role. A group may grant several roles, and a
// role may be granted by several groups. Groups that appear nowhere grant nothing: deny by
// default.
type RoleMap map[Role][]string

// ParseGroupList splits a comma-separated list of group names as found in the CTPDESK_ROLE_*
// variables, trimming spaces and refusing empty names and characters no IdP group carries.
func ParseGroupList(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var out []string
	for part := range strings.SplitSeq(raw, ",") {
		g := strings.TrimSpace(part)
		if g == "" {
			return nil, fmt.Errorf("auth: group list %q holds an empty name", raw)
		}
		if strings.ContainsFunc(g, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, fmt.Errorf("auth: group list %q holds a control character", raw)
		}
		out = append(out, g)
	}
	return out, nil
}

// Roles returns the roles granted by a user's groups, in the order of AllRoles and without
// repeats. Group names are compared exactly: IdPs treat them as case-sensitive identifiers.
func (m RoleMap) Roles(groups []string) []Role {
	have := make(map[string]bool, len(groups))
	for _, g := range groups {
		have[g] = true
	}
	var out []Role
	for _, r := range AllRoles {
		for _, g := range m[r] {
			if have[g] {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
