package vulncheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Level is how close a finding is to our code, in govulncheck's terms.
type Level int

// Levels, weakest first. govulncheck itself fails (exit 3) only for LevelSymbol.
const (
	LevelModule  Level = iota + 1 // a required module is at a vulnerable version
	LevelPackage                  // a vulnerable package is imported
	LevelSymbol                   // a vulnerable function is reachable from our code
)

// ParseLevel reads "module", "package" or "symbol".
func ParseLevel(s string) (Level, error) {
	switch s {
	case "module":
		return LevelModule, nil
	case "package":
		return LevelPackage, nil
	case "symbol":
		return LevelSymbol, nil
	}
	return 0, fmt.Errorf("vulncheck: level %q is not module, package or symbol", s)
}

func (l Level) String() string {
	switch l {
	case LevelModule:
		return "module"
	case LevelPackage:
		return "package"
	case LevelSymbol:
		return "symbol"
	}
	return "unknown"
}

// Finding is one advisory that applies to the scanned code, at the closest level seen.
type Finding struct {
	ID      string
	Level   Level
	Module  string // the vulnerable module, e.g. github.com/labstack/echo/v4 or stdlib
	Version string // the version in use
	Fixed   string // the first fixed version, "" when none exists
	Where   string // package or package.Function of the closest frame
	Summary string // the advisory's one-line summary, when the stream carried its OSV record
}

// Scan is a parsed govulncheck -format json run.
type Scan struct {
	DB       string
	Findings []Finding // sorted by ID, one per advisory
}

// The subset of govulncheck's JSON protocol (golang.org/x/vuln/internal/govulncheck) that
// decides pass or fail.
type message struct {
	Config *struct {
		ProtocolVersion string `json:"protocol_version"`
		DB              string `json:"db"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

// ParseScan reads govulncheck's JSON stream. A stream without its config message is an
// error: an empty or truncated output must never read as "no findings".
func ParseScan(r io.Reader) (Scan, error) {
	dec := json.NewDecoder(r)
	var scan Scan
	sawConfig := false
	summaries := map[string]string{}
	byID := map[string]*Finding{}
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Scan{}, fmt.Errorf("vulncheck: read govulncheck output: %w", err)
		}
		switch {
		case m.Config != nil:
			if m.Config.ProtocolVersion == "" {
				return Scan{}, errors.New("vulncheck: govulncheck config message has no protocol_version")
			}
			sawConfig = true
			scan.DB = m.Config.DB
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil:
			f, err := toFinding(m.Finding.OSV, m.Finding.FixedVersion, m.Finding.Trace)
			if err != nil {
				return Scan{}, err
			}
			if old := byID[f.ID]; old == nil || f.Level > old.Level {
				byID[f.ID] = &f
			}
		}
	}
	if !sawConfig {
		return Scan{}, errors.New("vulncheck: govulncheck output has no config message (did govulncheck run?)")
	}
	for _, f := range byID {
		f.Summary = summaries[f.ID]
		scan.Findings = append(scan.Findings, *f)
	}
	sort.Slice(scan.Findings, func(i, j int) bool { return scan.Findings[i].ID < scan.Findings[j].ID })
	return scan, nil
}

func toFinding(id, fixed string, trace []frame) (Finding, error) {
	if !idPattern.MatchString(id) {
		return Finding{}, fmt.Errorf("vulncheck: finding names %q, not a GO-YYYY-NNNN id", id)
	}
	if len(trace) == 0 || trace[0].Module == "" {
		return Finding{}, fmt.Errorf("vulncheck: finding %s has no trace", id)
	}
	// The first frame is the vulnerable code; the rest lead back to ours.
	top := trace[0]
	f := Finding{ID: id, Module: top.Module, Version: top.Version, Fixed: fixed, Level: LevelModule}
	switch {
	case top.Function != "":
		f.Level = LevelSymbol
		name := top.Function
		if top.Receiver != "" {
			name = top.Receiver + "." + name
		}
		f.Where = top.Package + "." + name
	case top.Package != "":
		f.Level = LevelPackage
		f.Where = top.Package
	}
	return f, nil
}
