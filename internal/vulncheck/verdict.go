package vulncheck

import (
	"fmt"
	"io"
	"sort"
)

// Verdict sorts a scan's findings by what they mean for the build.
type Verdict struct {
	Blocking []Finding // at or above the failing level and not allowlisted: the build fails
	Allowed  []Finding // at or above the failing level, waived by the allowlist
	Below    []Finding // under the failing level (required or imported, not reached): reported only
	Unused   []string  // allowlist ids the scan did not find: candidates for removal
}

// OK reports whether the build may pass.
func (v Verdict) OK() bool { return len(v.Blocking) == 0 }

// Judge applies the allowlist to a scan. Findings below failAt are listed but never fail
// the build; an allowlisted id is waived at every level.
func Judge(scan Scan, allow Allowlist, failAt Level) Verdict {
	var v Verdict
	seen := map[string]bool{}
	for _, f := range scan.Findings {
		seen[f.ID] = true
		switch {
		case f.Level < failAt:
			v.Below = append(v.Below, f)
		case allow[f.ID] != "":
			v.Allowed = append(v.Allowed, f)
		default:
			v.Blocking = append(v.Blocking, f)
		}
	}
	for id := range allow {
		if !seen[id] {
			v.Unused = append(v.Unused, id)
		}
	}
	sort.Strings(v.Unused)
	return v
}

// Report writes the verdict for a person reading the lint output.
func (v Verdict) Report(w io.Writer, allow Allowlist) {
	line := func(prefix string, f Finding) {
		fixed := f.Fixed
		if fixed == "" {
			fixed = "none"
		}
		fmt.Fprintf(w, "%s %s [%s] %s@%s fixed in %s", prefix, f.ID, f.Level, f.Module, f.Version, fixed)
		if f.Where != "" {
			fmt.Fprintf(w, " at %s", f.Where)
		}
		if f.Summary != "" {
			fmt.Fprintf(w, ": %s", f.Summary)
		}
		fmt.Fprintln(w)
	}
	for _, f := range v.Blocking {
		line("FAIL   ", f)
	}
	for _, f := range v.Allowed {
		line("ALLOWED", f)
		fmt.Fprintf(w, "        reason: %s\n", allow[f.ID])
	}
	for _, f := range v.Below {
		line("info   ", f)
	}
	for _, id := range v.Unused {
		fmt.Fprintf(w, "note    allowlisted %s was not found by this scan (the database may predate it, or it no longer applies)\n", id)
	}
	fmt.Fprintf(w, "vulncheck: %d blocking, %d allowlisted, %d below the failing level\n", len(v.Blocking), len(v.Allowed), len(v.Below))
}
