// Package corpus loads the comparison's scenario corpus (reconcile/testdata/corpus): one JSON
// file per scenario, each an issuer record, what D1 answers for it, and the counts a person
// would give. The reconcile, handler and browser tests all check themselves against it, so a
// number on the page means the same thing at every level.
package corpus

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
)

// Scenario is one customer and what the comparison must make of them.
type Scenario struct {
	// Slug is the file name without its extension, e.g. "04-single-email".
	Slug   string            `json:"-"`
	Name   string            `json:"name"`
	About  string            `json:"about"`
	Issuer issuerdb.Customer `json:"issuer"`
	D1     Answer            `json:"d1"`
	Want   Want              `json:"want"`
}

// Answer is what D1 does when asked for the scenario's consumer.
type Answer struct {
	// Status is the HTTP status D1 answers with; Body its JSON body (for 200 the wire format
	// of get-profiles, unknown fields and all).
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
	// Hang is D1 never answering.
	Hang bool `json:"hang"`
	// Stale is D1 failing just now, so that the client serves its answer from AgeSeconds ago.
	Stale      bool  `json:"stale"`
	AgeSeconds int64 `json:"ageSeconds"`
}

// Want is what a person counts on the page: differences, equivalent values and risks over the
// directories that were checked, each directory column's state, and for an outage the error
// class the page names.
type Want struct {
	Differences int               `json:"differences"`
	Equivalents int               `json:"equivalents"`
	Risks       int               `json:"risks"`
	RiskKinds   []string          `json:"riskKinds"`
	Columns     map[string]string `json:"columns"`
	Stale       bool              `json:"stale"`
	Failure     string            `json:"failure"`
}

// Checked reports whether any directory holds a profile to compare with, which is when the
// page shows counts at all.
func (w Want) Checked() bool {
	for _, s := range w.Columns {
		if s == "profile" || s == "no-card" {
			return true
		}
	}
	return false
}

// CorrelationID is the x-correlation-id the scenario's D1 call carries in fakes.
func (s Scenario) CorrelationID() string { return "corr-" + strings.ReplaceAll(s.Slug, "-", "_") }

// Dir is the corpus directory, found from this file's place in the module so that tests of
// any package can load it.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "corpus")
}

// Load reads every scenario of dir, sorted by file name.
func Load(dir string) ([]Scenario, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("corpus: no scenario in %s", dir)
	}
	slices.Sort(files)
	out := make([]Scenario, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var s Scenario
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("corpus: %s: %w", filepath.Base(f), err)
		}
		s.Slug = strings.TrimSuffix(filepath.Base(f), ".json")
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("corpus: %s: %w", s.Slug, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// MustLoad loads the corpus for a test, failing it when the corpus cannot be read.
func MustLoad(tb testing.TB) []Scenario {
	tb.Helper()
	ss, err := Load(Dir())
	if err != nil {
		tb.Fatal(err)
	}
	return ss
}

// check refuses a scenario that cannot mean anything: no expectations, or an answer that is
// neither a status nor a hang.
func (s Scenario) check() error {
	switch {
	case s.Name == "" || s.Issuer.ID == "" || s.Issuer.ConsumerID == "":
		return errors.New("name, issuer id and consumer id are required")
	case len(s.Want.Columns) == 0:
		return errors.New("want.columns is required")
	case s.D1.Hang == (s.D1.Status != 0):
		return errors.New("d1 needs either a status or hang")
	case s.D1.Status == http.StatusOK && len(s.D1.Body) == 0:
		return errors.New("a 200 answer needs a body")
	case s.Want.Risks != len(s.Want.RiskKinds):
		return errors.New("want.risks and want.riskKinds disagree")
	}
	return nil
}

// Fetch is what the D1 client's GetProfiles returns for the scenario at now: the decoded
// profiles, marked stale when the answer is a cached one, or the error the client gives for
// a 404, a 5xx or a hang.
func (s Scenario) Fetch(now time.Time) (d1.Result, error) {
	corr := s.CorrelationID()
	switch {
	case s.D1.Hang:
		return d1.Result{}, d1.NewError(d1.ClassTimeout, 0, corr)
	case s.D1.Status == http.StatusNotFound:
		return d1.Result{}, d1.NewError(d1.ClassNotFound, http.StatusNotFound, corr)
	case s.D1.Status >= 500:
		return d1.Result{}, d1.NewError(d1.ClassUnavailable, s.D1.Status, corr)
	case s.D1.Status != http.StatusOK:
		return d1.Result{}, fmt.Errorf("corpus: %s: no client outcome for status %d", s.Slug, s.D1.Status)
	}
	profiles, err := d1.DecodeProfiles(s.D1.Body)
	if err != nil {
		return d1.Result{}, fmt.Errorf("corpus: %s: %w", s.Slug, err)
	}
	res := d1.Result{Profiles: profiles, FetchedAt: now, CorrelationID: corr}
	if s.D1.Stale {
		res.FetchedAt = now.Add(-time.Duration(s.D1.AgeSeconds) * time.Second)
		res.Cached, res.Stale = true, true
		res.StaleReason = d1.NewError(d1.ClassUnavailable, http.StatusServiceUnavailable, corr)
	}
	return res, nil
}
