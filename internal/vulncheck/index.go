package vulncheck

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// Stats says what BuildDB wrote.
type Stats struct {
	Entries  int       // OSV records in the database
	Modules  int       // distinct modules named by them
	Modified time.Time // newest record's modification time (zero in the vulndb module)
}

// The three index documents of govulncheck's v1 database layout
// (https://go.dev/security/vuln/database#api). govulncheck v1.9.0 reads db and modules;
// vulns is written too so the directory is a complete v1 database for any client.
type dbMeta struct {
	Modified time.Time `json:"modified"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type vulnMeta struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

// BuildDB reads every <ID>.json OSV record in src (the data/osv folder of the
// golang.org/x/vulndb module) and writes a v1 file database to dst: index/db.json,
// index/modules.json, index/vulns.json and ID/<ID>.json, each also gzipped as a web server
// would serve it. dst is replaced as a whole, so an interrupted build never leaves a half
// database behind.
func BuildDB(src, dst string) (Stats, error) {
	names, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return Stats{}, fmt.Errorf("vulncheck: list %s: %w", src, err)
	}
	if len(names) == 0 {
		return Stats{}, fmt.Errorf("vulncheck: %s holds no OSV .json files", src)
	}
	sort.Strings(names)

	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return Stats{}, fmt.Errorf("vulncheck: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), filepath.Base(dst)+".tmp-")
	if err != nil {
		return Stats{}, fmt.Errorf("vulncheck: %w", err)
	}
	defer os.RemoveAll(tmp)

	db := dbMeta{}
	modules := map[string]*moduleMeta{}
	vulns := make([]vulnMeta, 0, len(names))
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			return Stats{}, fmt.Errorf("vulncheck: %w", err)
		}
		e, err := parseEntry(raw)
		if err != nil {
			return Stats{}, fmt.Errorf("%w (file %s)", err, filepath.Base(name))
		}
		if filepath.Base(name) != e.ID+".json" {
			return Stats{}, fmt.Errorf("vulncheck: %s holds %s; records must be named <ID>.json", filepath.Base(name), e.ID)
		}
		if err := writeBoth(filepath.Join(tmp, "ID", e.ID), raw); err != nil {
			return Stats{}, err
		}
		if e.Modified.After(db.Modified) {
			db.Modified = e.Modified
		}
		vulns = append(vulns, vulnMeta{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			m := modules[a.Module.Path]
			if m == nil {
				m = &moduleMeta{Path: a.Module.Path, Vulns: []moduleVuln{}}
				modules[a.Module.Path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFix(a.Ranges)})
		}
	}

	list := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.SliceStable(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })

	for _, doc := range []struct {
		name string
		v    any
	}{{"db", db}, {"modules", list}, {"vulns", vulns}} {
		b, err := json.Marshal(doc.v)
		if err != nil {
			return Stats{}, fmt.Errorf("vulncheck: encode index/%s: %w", doc.name, err)
		}
		if err := writeBoth(filepath.Join(tmp, "index", doc.name), b); err != nil {
			return Stats{}, err
		}
	}

	if err := os.RemoveAll(dst); err != nil {
		return Stats{}, fmt.Errorf("vulncheck: replace %s: %w", dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return Stats{}, fmt.Errorf("vulncheck: %w", err)
	}
	return Stats{Entries: len(vulns), Modules: len(list), Modified: db.Modified}, nil
}

// latestFix returns the newest fixed version of the SEMVER ranges unless the vulnerability
// was introduced again after it, in which case no version fixes it (""). This is the
// "fixed" field of the modules index, computed the way govulncheck's own client does.
func latestFix(ranges []osvRange) string {
	latest := ""
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && semverLess(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && semverLess(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// semverLess compares OSV versions, which carry no "v" prefix; "" sorts before any version.
func semverLess(a, b string) bool {
	return semver.Compare("v"+strings.TrimPrefix(a, "v"), "v"+strings.TrimPrefix(b, "v")) < 0
}

// writeBoth writes base.json and base.json.gz.
func writeBoth(base string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return fmt.Errorf("vulncheck: %w", err)
	}
	if err := os.WriteFile(base+".json", b, 0o644); err != nil {
		return fmt.Errorf("vulncheck: %w", err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return fmt.Errorf("vulncheck: gzip %s: %w", base, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("vulncheck: gzip %s: %w", base, err)
	}
	if err := os.WriteFile(base+".json.gz", buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("vulncheck: %w", err)
	}
	return nil
}
