// Package vulncheck runs govulncheck without the network: it turns the OSV files of the
// golang.org/x/vulndb module into the file database govulncheck reads with -db file://…, and
// it judges govulncheck's JSON output against a reviewed allowlist.
package vulncheck

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// idPattern is the shape of a Go vulnerability database identifier (GO-YYYY-NNNN). Only
// these identifiers become file names in the database, so nothing else may reach the disk.
var idPattern = regexp.MustCompile(`^GO-[0-9]{4}-[0-9]{4,}$`)

// entry is the part of an OSV record the indexes need. The record itself is copied byte
// for byte into the database, so fields not named here are kept.
type entry struct {
	ID       string     `json:"id"`
	Modified time.Time  `json:"modified"`
	Aliases  []string   `json:"aliases,omitempty"`
	Affected []affected `json:"affected"`
}

type affected struct {
	Module struct {
		Path string `json:"name"`
	} `json:"package"`
	Ranges []osvRange `json:"ranges,omitempty"`
}

type osvRange struct {
	Type   string       `json:"type"`
	Events []rangeEvent `json:"events"`
}

type rangeEvent struct {
	Introduced string `json:"introduced,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
}

// parseEntry decodes one OSV record and checks what the database layout relies on.
func parseEntry(b []byte) (entry, error) {
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		return entry{}, fmt.Errorf("vulncheck: decode OSV: %w", err)
	}
	if !idPattern.MatchString(e.ID) {
		return entry{}, fmt.Errorf("vulncheck: OSV id %q is not of the form GO-YYYY-NNNN", e.ID)
	}
	for i, a := range e.Affected {
		if a.Module.Path == "" {
			return entry{}, fmt.Errorf("vulncheck: %s: affected[%d] names no module", e.ID, i)
		}
	}
	return e, nil
}
