package vulncheck

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Allowlist maps an accepted vulnerability id to the reason it is accepted. Every entry
// needs a reason: an advisory is only ever waived by someone who wrote down why.
type Allowlist map[string]string

// ParseAllowlist reads the allowlist format: one "GO-YYYY-NNNN reason…" per line, blank lines
// and lines starting with # ignored. A malformed or duplicate line is an error rather than a
// silent skip, since a typo here would hide or waive the wrong advisory.
func ParseAllowlist(r io.Reader) (Allowlist, error) {
	allow := Allowlist{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		id, reason, _ := strings.Cut(text, " ")
		id = strings.TrimSpace(id)
		reason = strings.TrimSpace(reason)
		if !idPattern.MatchString(id) {
			return nil, fmt.Errorf("vulncheck: allowlist line %d: %q is not a GO-YYYY-NNNN id", line, id)
		}
		if reason == "" {
			return nil, fmt.Errorf("vulncheck: allowlist line %d: %s has no reason", line, id)
		}
		if _, dup := allow[id]; dup {
			return nil, fmt.Errorf("vulncheck: allowlist line %d: %s is listed twice", line, id)
		}
		allow[id] = reason
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vulncheck: read allowlist: %w", err)
	}
	return allow, nil
}
