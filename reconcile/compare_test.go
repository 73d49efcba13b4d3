package reconcile

import (
	"encoding/json"
	"strings"
	"testing"

	"ctpdesk/d1"
	"github.com/google/go-cmp/cmp"
)

func TestCompareAllMatch(t *testing.T) {
	rec := testCustomer()
	got := Compare(rec, mirrorResult(rec), Options{Now: testNow})
	for _, r := range got.Rows {
		for _, c := range r.Cells {
			if c.Verdict != Match && c.State != NotApplicable {
				t.Errorf("%s@%s = %s%s %q, want match", r.Field, c.Directory, c.Verdict, c.State, c.Values)
			}
		}
		if r.Different() {
			t.Errorf("row %s reports a difference", r.Field)
		}
	}
	if len(got.Findings) != 0 {
		t.Errorf("findings = %+v, want none", got.Findings)
	}
	want := Summary{Directories: 2, Reached: 2, Enrolled: 2}
	if diff := cmp.Diff(want, got.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	// A Visa card has no place in the Mastercard directory.
	if c := mustCell(t, got, "card:crd_visa_1:expiry", "MASTERCARD"); c.State != NotApplicable || c.Verdict != "" {
		t.Errorf("Visa card in Mastercard column = %q/%q, want the not-applicable state and no verdict", c.Verdict, c.State)
	}
}

func TestCompareColumnOrder(t *testing.T) {
	rec := testCustomer()
	rec.Cards = append(rec.Cards, rec.Cards[0])
	rec.Cards[2].ID, rec.Cards[2].Scheme = "crd_amex", "AMEX"
	res := d1.Result{Profiles: []d1.Profile{
		{Directory: "DISCOVER"}, {Directory: "MASTERCARD"}, {Directory: " "}, {Directory: "VISA"},
		{Directory: "VISA", Consumer: d1.Consumer{FirstName: "Second profile for one directory is ignored"}},
	}}
	got := Compare(rec, res, Options{Now: testNow})
	var dirs []string
	for _, c := range got.Columns {
		dirs = append(dirs, c.Directory)
	}
	want := []string{"VISA", "MASTERCARD", "AMEX", "DISCOVER", "UNKNOWN"}
	if diff := cmp.Diff(want, dirs); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if c := mustCell(t, got, FieldFirstName, "VISA"); c.Verdict != MissingInDirectory {
		t.Errorf("first VISA profile not used: firstName = %s %q", c.Verdict, c.Values)
	}
	// A directory holding nothing has no verdicts: its column state says why.
	if c := mustCell(t, got, FieldFirstName, "AMEX"); c.State != NotApplicable || c.Verdict != "" {
		t.Errorf("firstName@AMEX (not enrolled) = %q/%q, want the not-applicable state", c.Verdict, c.State)
	}
	capped := Compare(rec, res, Options{Now: testNow, MaxDirectories: 3})
	if len(capped.Columns) != 3 || capped.Columns[2].Directory != "AMEX" {
		t.Errorf("capped columns = %+v, want VISA, MASTERCARD, AMEX", capped.Columns)
	}
	for _, r := range capped.Rows {
		if len(r.Cells) != 3 {
			t.Fatalf("row %s has %d cells with 3 columns", r.Field, len(r.Cells))
		}
	}
}

func TestCompareColumnStates(t *testing.T) {
	rec := testCustomer()
	noCard := mirrorProfile(rec, "MASTERCARD")
	noCard.Cards = nil
	stale := mirrorResult(rec)
	stale.Stale, stale.FetchedAt = true, testNow.Add(-5*60e9)

	tests := []struct {
		name     string
		cmp      Comparison
		want     []Column
		findings []string
	}{
		{
			name: "not enrolled anywhere",
			cmp:  Compare(rec, d1.Result{FetchedAt: testNow, CorrelationID: "c1"}, Options{Now: testNow}),
			want: []Column{
				{Directory: "VISA", State: StateNotEnrolled, FetchedAt: testNow, CorrelationID: "c1"},
				{Directory: "MASTERCARD", State: StateNotEnrolled, FetchedAt: testNow, CorrelationID: "c1"},
			},
		},
		{
			name: "consumer with no card in one directory",
			cmp:  Compare(rec, d1.Result{Profiles: []d1.Profile{mirrorProfile(rec, "VISA"), noCard}, FetchedAt: testNow}, Options{Now: testNow}),
			want: []Column{
				{Directory: "VISA", State: StateProfile, FetchedAt: testNow},
				{Directory: "MASTERCARD", State: StateNoCard, FetchedAt: testNow, Differences: 1},
			},
			// The column says there is no card; the issuer's active card missing there is the
			// one difference.
			findings: []string{"card-not-enrolled@MASTERCARD"},
		},
		{
			name: "stale",
			cmp:  Compare(rec, stale, Options{Now: testNow}),
			want: []Column{
				{Directory: "VISA", State: StateProfile, Stale: true, AgeSeconds: 300, FetchedAt: testNow.Add(-5 * 60e9), CorrelationID: "corr-1"},
				{Directory: "MASTERCARD", State: StateProfile, Stale: true, AgeSeconds: 300, FetchedAt: testNow.Add(-5 * 60e9), CorrelationID: "corr-1"},
			},
		},
		{
			name: "unavailable",
			cmp:  CompareUnavailable(rec, Failure{Class: "timeout", CorrelationID: "c9", At: testNow}, Options{Now: testNow}),
			want: []Column{
				{Directory: "VISA", State: StateUnavailable, ErrorClass: "timeout", ErrorAt: testNow, CorrelationID: "c9"},
				{Directory: "MASTERCARD", State: StateUnavailable, ErrorClass: "timeout", ErrorAt: testNow, CorrelationID: "c9"},
			},
		},
		{
			name: "not registered at D1",
			cmp:  CompareNotRegistered(rec, "c404", testNow, Options{Now: testNow}),
			want: []Column{
				{Directory: "VISA", State: StateNotRegistered, FetchedAt: testNow, CorrelationID: "c404"},
				{Directory: "MASTERCARD", State: StateNotRegistered, FetchedAt: testNow, CorrelationID: "c404"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.cmp.Columns); diff != "" {
				t.Errorf("columns (-want +got):\n%s", diff)
			}
			var got []string
			for _, f := range tc.cmp.Findings {
				got = append(got, f.Kind+"@"+f.Directory)
			}
			if diff := cmp.Diff(tc.findings, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareUnavailableCells(t *testing.T) {
	rec := testCustomer()
	got := CompareUnavailable(rec, Failure{Class: "circuit-open"}, Options{Now: testNow})
	for _, r := range got.Rows {
		for _, c := range r.Cells {
			if c.Verdict != Unavailable {
				t.Errorf("%s@%s = %s, want unavailable", r.Field, c.Directory, c.Verdict)
			}
		}
	}
	if got.Summary.Reached != 0 || got.Summary.Directories != 2 {
		t.Errorf("summary = %+v, want 0 of 2 reached", got.Summary)
	}
	if c := mustCell(t, got, FieldEmail, "VISA"); len(c.Values) != 0 {
		t.Errorf("unavailable cell carries values %q", c.Values)
	}
}

// TestCompareConsumerFields changes one thing in the Visa profile and checks the verdict, the
// reason and the finding it causes.
func TestCompareConsumerFields(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*d1.Consumer)
		field   string
		verdict Verdict
		reason  Reason
		finding string
	}{
		{"email case", func(c *d1.Consumer) { c.Emails = []string{"Amelia.Hartmann@EXAMPLE.com"} }, FieldEmail, Equivalent, ReasonCase, "info:field-equivalent"},
		{"email changed", func(c *d1.Consumer) { c.Emails = []string{"a.h@example.org"} }, FieldEmail, Differs, ReasonNone, "warn:field-differs"},
		{"second email", func(c *d1.Consumer) { c.Emails = append(c.Emails, "work@example.org") }, FieldEmail, Differs, ReasonNone, "warn:field-differs"},
		{"no email", func(c *d1.Consumer) { c.Emails = nil }, FieldEmail, MissingInDirectory, ReasonNone, "warn:field-missing-in-directory"},
		{"phone national format", func(c *d1.Consumer) { c.Phones = []d1.Phone{{Number: "07700 900123"}} }, FieldPhone, Equivalent, ReasonFormat, "info:field-equivalent"},
		{"phone with plus in country code", func(c *d1.Consumer) { c.Phones = []d1.Phone{{CountryCode: "+44", Number: "7700900123"}} }, FieldPhone, Match, ReasonNone, ""},
		{"phone changed", func(c *d1.Consumer) { c.Phones = []d1.Phone{{CountryCode: "44", Number: "7700900999"}} }, FieldPhone, Differs, ReasonNone, "warn:field-differs"},
		{"last name in capitals", func(c *d1.Consumer) { c.LastName = "HARTMANN" }, FieldLastName, Equivalent, ReasonCase, "info:field-equivalent"},
		{"first name with an accent", func(c *d1.Consumer) { c.FirstName = "Amélia" }, FieldFirstName, Equivalent, ReasonDiacritics, "info:field-equivalent"},
		{"language left out", func(c *d1.Consumer) { c.Language = "" }, FieldLanguage, MissingInDirectory, ReasonNone, "warn:field-missing-in-directory"},
		{"language underscore", func(c *d1.Consumer) { c.Language = "en_GB" }, FieldLanguage, Equivalent, ReasonLanguageFormat, "info:field-equivalent"},
		{"language differs", func(c *d1.Consumer) { c.Language = "de-DE" }, FieldLanguage, Differs, ReasonNone, "warn:field-differs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := compareVisaChanged(tc.change)
			c := mustCell(t, got, tc.field, "VISA")
			if c.Verdict != tc.verdict || c.Reason != tc.reason || c.State != "" {
				t.Errorf("%s@VISA = %s/%q, want %s/%q", tc.field, c.Verdict, c.Reason, tc.verdict, tc.reason)
			}
			if other := mustCell(t, got, tc.field, "MASTERCARD"); other.Verdict != Match {
				t.Errorf("%s@MASTERCARD = %s, want match (only Visa changed)", tc.field, other.Verdict)
			}
			var fs []string
			for _, f := range got.Findings {
				fs = append(fs, string(f.Severity)+":"+f.Kind)
				if f.Field != tc.field || f.Directory != "VISA" {
					t.Errorf("finding %+v is not about %s@VISA", f, tc.field)
				}
			}
			var want []string
			if tc.finding != "" {
				want = []string{tc.finding}
			}
			if diff := cmp.Diff(want, fs); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareContactTakeover(t *testing.T) {
	rec := testCustomer()
	res := mirrorResult(rec)
	res.Profiles[1].Consumer.Emails = []string{"new-owner@example.net"}
	res.Profiles[1].Consumer.Phones = []d1.Phone{{CountryCode: "44", Number: "7700900777"}}
	got := Compare(rec, res, Options{Now: testNow})
	if diff := cmp.Diff([]string{"email-and-phone-changed@MASTERCARD"}, findingKinds(got, SeverityRisk)); diff != "" {
		t.Errorf("risks (-want +got):\n%s", diff)
	}
	if got.Findings[0].Severity != SeverityRisk {
		t.Errorf("first finding = %+v, want the risk on top", got.Findings[0])
	}
	if got.Summary.Risks != 1 || got.Summary.Warnings != 2 || got.Summary.Differences != 2 {
		t.Errorf("summary = %+v, want 1 risk, 2 warnings, 2 differences", got.Summary)
	}
	// Email changed alone is a warning, not a risk.
	res = mirrorResult(rec)
	res.Profiles[1].Consumer.Emails = []string{"new-owner@example.net"}
	if risks := findingKinds(Compare(rec, res, Options{Now: testNow}), SeverityRisk); len(risks) != 0 {
		t.Errorf("email alone raised %v", risks)
	}
}

func TestCompareFindingsNeverHoldContactData(t *testing.T) {
	rec := testCustomer()
	res := mirrorResult(rec)
	res.Profiles[0].Consumer.Emails = []string{"leak@example.net"}
	res.Profiles[0].Consumer.Phones = []d1.Phone{{CountryCode: "44", Number: "7700900777"}}
	res.Profiles[0].Consumer.FirstName = "Leaky"
	fs := Compare(rec, res, Options{Now: testNow}).Findings
	if len(fs) < 3 {
		t.Fatalf("findings = %+v, want one per changed field and the takeover", fs)
	}
	raw, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"leak@", "7700900", "Leaky", rec.Email, "Amelia"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("findings %s contain %q", raw, secret)
		}
	}
}

func TestRowDifferent(t *testing.T) {
	for _, c := range []Cell{{Verdict: Match}, {Verdict: Unavailable}, {State: NotApplicable}, {State: NotProvided}} {
		if (Row{Cells: []Cell{c}}).Different() {
			t.Errorf("a %s%s row counts as different", c.Verdict, c.State)
		}
	}
	for _, v := range []Verdict{Equivalent, Differs, MissingAtIssuer, MissingInDirectory} {
		if !(Row{Cells: []Cell{{Verdict: Match}, {Verdict: v}}}).Different() {
			t.Errorf("a %s row does not count as different", v)
		}
	}
}

// compareVisaChanged compares the test customer with mirrored profiles after change has been
// applied to the Visa consumer.
func compareVisaChanged(change func(*d1.Consumer)) Comparison {
	rec := testCustomer()
	res := mirrorResult(rec)
	change(&res.Profiles[0].Consumer)
	return Compare(rec, res, Options{Now: testNow})
}

// TestCompareOptionalFields checks that a field a directory need not hold is "not provided"
// when left out, never a difference, while a required one left out is missing.
func TestCompareOptionalFields(t *testing.T) {
	rec := testCustomer()
	rec.Cards[0].BillingAddress.Line2 = "Flat 2"
	res := mirrorResult(rec)
	res.Profiles[0].Consumer.MiddleName = ""
	v := &res.Profiles[0].Cards[0]
	v.Status, v.BillingAddress.Line2, v.BillingAddress.State = "", "", ""
	m := &res.Profiles[1].Cards[0]
	m.CardholderName = ""
	got := Compare(rec, res, Options{Now: testNow})
	for _, key := range []struct{ field, dir string }{
		{FieldMiddleName, "VISA"},
		{"card:crd_visa_1:status", "VISA"},
		{"card:crd_visa_1:billing.line2", "VISA"},
		{"card:crd_visa_1:billing.region", "VISA"},
		{"card:crd_mc_1:cardholderName", "MASTERCARD"},
	} {
		if c := mustCell(t, got, key.field, key.dir); c.State != NotProvided || c.Verdict != "" {
			t.Errorf("%s@%s = %q/%q, want not-provided", key.field, key.dir, c.Verdict, c.State)
		}
	}
	if got.Summary.Differences != 0 || len(got.Findings) != 0 {
		t.Errorf("optional fields left out: summary %+v, findings %+v; want nothing", got.Summary, got.Findings)
	}
	// Blank on both sides is a match, not "not provided".
	if c := mustCell(t, got, "card:crd_visa_1:billing.line3", "VISA"); c.Verdict != Match {
		t.Errorf("line 3 blank on both sides = %q/%q, want match", c.Verdict, c.State)
	}
	// The cardholder name is optional outside Visa only; a card status still counts when sent.
	res.Profiles[0].Cards[0].CardholderName = ""
	res.Profiles[0].Cards[0].Status = "SUSPENDED"
	got = Compare(rec, res, Options{Now: testNow})
	if c := mustCell(t, got, "card:crd_visa_1:cardholderName", "VISA"); c.Verdict != MissingInDirectory {
		t.Errorf("Visa without the cardholder name = %q/%q, want missing-in-directory", c.Verdict, c.State)
	}
	if got.Summary.Differences != 2 {
		t.Errorf("differences = %d, want 2 (cardholder name, status)", got.Summary.Differences)
	}
}

// TestCompareDiffersIn checks that a differing email or phone says in which part it differs,
// so that two masked values marked "differs" can be told apart.
func TestCompareDiffersIn(t *testing.T) {
	tests := []struct {
		name   string
		change func(*d1.Consumer)
		field  string
		want   []Part
	}{
		{"email local part", func(c *d1.Consumer) { c.Emails = []string{"amelia.h@example.com"} }, FieldEmail, []Part{PartLocal}},
		{"email domain", func(c *d1.Consumer) { c.Emails = []string{"amelia.hartmann@post.example"} }, FieldEmail, []Part{PartDomain}},
		{"email both", func(c *d1.Consumer) { c.Emails = []string{"ah@post.example"} }, FieldEmail, []Part{PartLocal, PartDomain}},
		{"email extra address", func(c *d1.Consumer) { c.Emails = append(c.Emails, "amelia.hartmann@work.example") }, FieldEmail, []Part{PartDomain}},
		{"phone hidden digits", func(c *d1.Consumer) { c.Phones = []d1.Phone{{CountryCode: "44", Number: "7700800123"}} }, FieldPhone, []Part{PartLeadingDigits}},
		{"phone last four", func(c *d1.Consumer) { c.Phones = []d1.Phone{{CountryCode: "44", Number: "7700900999"}} }, FieldPhone, []Part{PartLastFourDigits}},
		{"phone country", func(c *d1.Consumer) { c.Phones = []d1.Phone{{CountryCode: "353", Number: "7700900123"}} }, FieldPhone, []Part{PartCountryCode}},
		{"phone all of it", func(c *d1.Consumer) { c.Phones = []d1.Phone{{CountryCode: "33", Number: "612345678"}} }, FieldPhone, []Part{PartCountryCode, PartLeadingDigits, PartLastFourDigits}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := compareVisaChanged(tc.change)
			c := mustCell(t, got, tc.field, "VISA")
			if c.Verdict != Differs {
				t.Fatalf("%s = %s, want differs", tc.field, c.Verdict)
			}
			if diff := cmp.Diff(tc.want, c.DiffersIn); diff != "" {
				t.Errorf("differs in (-want +got):\n%s", diff)
			}
			if f := got.Findings[0]; f.Kind != KindFieldDiffers || !cmp.Equal(f.DiffersIn, tc.want) {
				t.Errorf("finding %+v does not carry where the value differs", f)
			}
		})
	}
	// Equivalent values locate nothing.
	rec := testCustomer()
	res := mirrorResult(rec)
	res.Profiles[0].Consumer.Emails = []string{"AMELIA.HARTMANN@example.com"}
	if c := mustCell(t, Compare(rec, res, Options{Now: testNow}), FieldEmail, "VISA"); c.DiffersIn != nil {
		t.Errorf("equivalent email differs in %v", c.DiffersIn)
	}
}
