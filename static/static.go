// Package static holds ctpdesk's front-end files (CSS, htmx, our own small script), embedded in
// the binary and served with content-hash URLs: every asset URL carries the first bytes of the
// file's SHA-256, so a release never meets a stale cache and browsers may keep assets for a year.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed css js img
var files embed.FS

// Asset is one embedded file with its content hash.
type Asset struct {
	Name        string // path under static/, e.g. "css/app.css"
	Hash        string // hex of the first 8 bytes of SHA-256
	ContentType string
	Body        []byte
}

// Assets indexes the embedded files by name and knows their versioned URLs.
type Assets struct {
	byName map[string]Asset
	prefix string
}

// Load reads every embedded file and hashes it. prefix is where the files are mounted, e.g.
// "/static".
func Load(prefix string) (*Assets, error) {
	a := &Assets{byName: map[string]Asset{}, prefix: strings.TrimSuffix(prefix, "/")}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a.byName[name] = Asset{
			Name:        name,
			Hash:        hex.EncodeToString(sum[:8]),
			ContentType: contentType(name),
			Body:        body,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: load: %w", err)
	}
	return a, nil
}

// Names lists every asset, sorted.
func (a *Assets) Names() []string {
	names := make([]string, 0, len(a.byName))
	for n := range a.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// URL returns the versioned URL of an asset, e.g. "/static/css/app.css?v=1a2b…". It panics on
// an unknown name because that is a programming error caught by any test that renders a page.
func (a *Assets) URL(name string) string {
	as, ok := a.byName[name]
	if !ok {
		panic("static: unknown asset " + name)
	}
	return a.prefix + "/" + name + "?v=" + as.Hash
}

// ServeHTTP serves an asset. A request carrying the current hash gets a year-long immutable
// cache lifetime; any other request (an old hash or none) gets the current content with a
// short lifetime, and every response carries an ETag for revalidation.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.URL.Path, a.prefix)), "/")
	as, ok := a.byName[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	etag := `"` + as.Hash + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Content-Type", as.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("v") == as.Hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300, must-revalidate")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	http.ServeContent(w, r, as.Name, time.Time{}, strings.NewReader(string(as.Body)))
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	default:
		return "text/plain; charset=utf-8"
	}
}
