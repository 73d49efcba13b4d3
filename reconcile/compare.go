package reconcile

import (
	"errors"
	"slices"
	"strings"
	"time"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
)

// Consumer field keys, as printed into data-field.
const (
	FieldFirstName  = "firstName"
	FieldMiddleName = "middleName"
	FieldLastName   = "lastName"
	FieldEmail      = "email"
	FieldPhone      = "phone"
	FieldLanguage   = "language"
)

// unknownDirectory names a profile whose directory D1 left blank, so it still gets a column and
// a non-empty data-directory.
const unknownDirectory = "UNKNOWN"

// Compare sets the issuer record beside the directory profiles D1 returned and decides every
// field's verdict. It never fails: odd input yields differs or missing verdicts, not errors.
func Compare(rec issuerdb.Customer, res d1.Result, opts Options) Comparison {
	profiles := profilesByDirectory(res.Profiles)
	cols := directoryColumns(rec, profiles, opts)
	for i := range cols {
		c := &cols[i]
		p, ok := profiles[c.Directory]
		switch {
		case !ok:
			c.State = StateNotEnrolled
		case len(p.Cards) == 0:
			c.State = StateNoCard
		default:
			c.State = StateProfile
		}
		c.FetchedAt = res.FetchedAt
		c.CorrelationID = res.CorrelationID
		if res.Stale {
			c.Stale = true
			c.AgeSeconds = int64(res.Age(opts.Now) / time.Second)
		}
	}
	return build(rec, cols, profiles)
}

// CompareNotRegistered is the comparison when D1 does not know the consumer at all (it
// answered 404): no directory could be asked, and the issuer values stand alone.
func CompareNotRegistered(rec issuerdb.Customer, correlationID string, at time.Time, opts Options) Comparison {
	cols := directoryColumns(rec, nil, opts)
	for i := range cols {
		cols[i].State = StateNotRegistered
		cols[i].FetchedAt = at
		cols[i].CorrelationID = correlationID
	}
	return build(rec, cols, nil)
}

// CompareUnavailable is the comparison when D1 gave nothing usable: the issuer values stand, and
// every directory column says unavailable with the failure's class, time and correlation id.
func CompareUnavailable(rec issuerdb.Customer, f Failure, opts Options) Comparison {
	cols := directoryColumns(rec, nil, opts)
	for i := range cols {
		cols[i].State = StateUnavailable
		cols[i].ErrorClass = f.Class
		cols[i].ErrorAt = f.At
		cols[i].CorrelationID = f.CorrelationID
	}
	return build(rec, cols, nil)
}

// build fills rows, the card matrix, findings and the summary once the columns are known.
func build(rec issuerdb.Customer, cols []Column, profiles map[string]d1.Profile) Comparison {
	cmp := Comparison{
		CustomerID: rec.ID,
		ConsumerID: rec.ConsumerID,
		Columns:    cols,
	}
	cmp.Rows = consumerRows(rec, cols, profiles)
	cards, cardRows := compareCards(rec, cols, profiles)
	cmp.Cards = cards
	cmp.Rows = append(cmp.Rows, cardRows...)
	cmp.Findings = findings(cmp)
	cmp.Summary = summarize(&cmp)
	return cmp
}

// profilesByDirectory indexes profiles by directory. D1 promises at most one per directory; if
// a broken answer sends two, the first one counts.
func profilesByDirectory(ps []d1.Profile) map[string]d1.Profile {
	m := make(map[string]d1.Profile, len(ps))
	for _, p := range ps {
		dir := directoryKey(p.Directory)
		if _, dup := m[dir]; !dup {
			m[dir] = p
		}
	}
	return m
}

// directoryKey is the column name for a directory string from D1: verbatim apart from
// surrounding space, since unknown directory names are kept as they are.
func directoryKey(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return unknownDirectory
	}
	return s
}

// directoryColumns lists the columns in their stable order: Visa, Mastercard, then any other
// directory D1 named or the issuer issues cards on, alphabetically, up to the cap.
func directoryColumns(rec issuerdb.Customer, profiles map[string]d1.Profile, opts Options) []Column {
	limit := opts.MaxDirectories
	if limit <= 0 {
		limit = DefaultMaxDirectories
	}
	var others []string
	seen := map[string]bool{d1.DirectoryVisa: true, d1.DirectoryMastercard: true}
	addOther := func(d string) {
		if !seen[d] {
			seen[d] = true
			others = append(others, d)
		}
	}
	for d := range profiles {
		addOther(d)
	}
	for _, c := range rec.Cards {
		if s := strings.TrimSpace(c.Scheme); s != "" {
			addOther(s)
		}
	}
	slices.Sort(others)
	names := append([]string{d1.DirectoryVisa, d1.DirectoryMastercard}, others...)
	if len(names) > limit {
		names = names[:max(limit, 2)]
	}
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i] = Column{Directory: n}
	}
	return cols
}

// hasProfile reports whether a column holds a consumer profile to compare with.
func hasProfile(c Column) bool { return c.State.HasProfile() }

// fieldSpec is one consumer field: how to read it on both sides and how to compare it.
type fieldSpec struct {
	field  string
	issuer []string
	dir    func(d1.Consumer) []string
	cmp    comparer
	// parts locates a difference inside a contact value; nil for other fields.
	parts func(issuer, directory string) []Part
}

// consumerRows compares the person part: names, email, phone and language.
func consumerRows(rec issuerdb.Customer, cols []Column, profiles map[string]d1.Profile) []Row {
	region := NormalizeCountry(rec.Country)
	if region == "" {
		region = NormalizeCountry(rec.Address.Country)
	}
	specs := []fieldSpec{
		{field: FieldFirstName, issuer: one(rec.FirstName), dir: func(c d1.Consumer) []string { return one(c.FirstName) }, cmp: compareText},
		{field: FieldMiddleName, issuer: one(rec.MiddleName), dir: func(c d1.Consumer) []string { return one(c.MiddleName) }, cmp: compareText},
		{field: FieldLastName, issuer: one(rec.LastName), dir: func(c d1.Consumer) []string { return one(c.LastName) }, cmp: compareText},
		{field: FieldEmail, issuer: one(rec.Email), dir: func(c d1.Consumer) []string { return c.Emails }, cmp: compareEmail, parts: emailParts},
		{field: FieldPhone, issuer: one(rec.Phone), dir: func(c d1.Consumer) []string { return phoneStrings(c.Phones) }, cmp: phoneComparer(region), parts: phoneParts(region)},
		{field: FieldLanguage, issuer: one(rec.Language), dir: func(c d1.Consumer) []string { return one(c.Language) }, cmp: compareLanguage},
	}
	rows := make([]Row, 0, len(specs))
	for _, s := range specs {
		row := Row{Field: s.field, Kind: s.field, Issuer: nonBlank(s.issuer), Cells: make([]Cell, len(cols))}
		for i, col := range cols {
			cell := Cell{Directory: col.Directory}
			switch {
			case col.State == StateUnavailable:
				cell.Verdict = Unavailable
			case !hasProfile(col):
				cell.State = NotApplicable
			default:
				cell.Values = nonBlank(s.dir(profiles[col.Directory].Consumer))
				judge(&cell, row.Issuer, s.cmp, optionalIn(s.field, col.Directory))
				if cell.Verdict == Differs && s.parts != nil {
					cell.DiffersIn = setParts(row.Issuer, cell.Values, s.cmp, s.parts)
				}
			}
			row.Cells[i] = cell
		}
		rows = append(rows, row)
	}
	return rows
}

// optionalIn reports whether a directory may leave a field out: what D1 does not require to
// create a profile. A field it leaves out is "not provided", not a difference. The middle name
// is optional for every directory (d1-api.md §3.4, §5.2); card status is a provisional field
// D1's own example does not send; address lines 2 and 3 and the region are not part of every
// address; the cardholder name is a Visa-only field (d1-api.md §6, §7).
func optionalIn(kind, directory string) bool {
	switch kind {
	case FieldMiddleName, "status", "billing.line2", "billing.line3", "billing.region":
		return true
	case "cardholderName":
		return directory != d1.DirectoryVisa
	}
	return false
}

// judge sets the verdict or state of a compared cell from the issuer's and the directory's
// values: blank against blank is a match, an optional field the directory leaves out is not
// provided, anything else goes to the field's comparer.
func judge(cell *Cell, issuer []string, cmp comparer, optional bool) {
	if len(cell.Values) == 0 && len(issuer) > 0 && optional {
		cell.State = NotProvided
		return
	}
	cell.Verdict, cell.Reason = compareSets(issuer, cell.Values, cmp)
}

// one wraps a single value as a set.
func one(s string) []string { return []string{s} }

// nonBlank drops blank values, so a set never holds an empty string.
func nonBlank(vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if !isBlank(v) {
			out = append(out, v)
		}
	}
	return out
}

// phoneStrings writes directory phone numbers the way people read them: "+44" and the national
// digits joined when the number is plain digits, with a space otherwise.
func phoneStrings(ps []d1.Phone) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		cc := strings.TrimPrefix(strings.TrimSpace(p.CountryCode), "+")
		n := strings.TrimSpace(p.Number)
		switch {
		case cc == "":
			out = append(out, n)
		case n == "":
			out = append(out, "")
		case isDigits(n):
			out = append(out, "+"+cc+n)
		default:
			out = append(out, "+"+cc+" "+n)
		}
	}
	return out
}

// isDigits reports whether s is made of ASCII digits only.
func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// compareSets compares two sets of values (a directory may hold several emails or phones): they
// match when every value on each side has an equal value on the other, and are equivalent when
// every value has at least an equivalent one. Order and repeats do not matter.
func compareSets(issuer, directory []string, cmp comparer) (Verdict, Reason) {
	switch {
	case len(issuer) == 0 && len(directory) == 0:
		return Match, ReasonNone
	case len(issuer) == 0:
		return MissingAtIssuer, ReasonNone
	case len(directory) == 0:
		return MissingInDirectory, ReasonNone
	}
	verdict, reason := Match, ReasonNone
	pair := func(from, to []string, swap bool) bool {
		for _, a := range from {
			best, bestReason := Differs, ReasonNone
			for _, b := range to {
				var v Verdict
				var r Reason
				if swap {
					v, r = cmp(b, a)
				} else {
					v, r = cmp(a, b)
				}
				if v == Match {
					best, bestReason = Match, ReasonNone
					break
				}
				if v == Equivalent && best != Equivalent {
					best, bestReason = Equivalent, r
				}
			}
			if best == Differs {
				return false
			}
			if best == Equivalent && verdict == Match {
				verdict, reason = Equivalent, bestReason
			}
		}
		return true
	}
	if !pair(issuer, directory, false) || !pair(directory, issuer, true) {
		return Differs, ReasonNone
	}
	return verdict, reason
}

// CompareAnswer is the comparison for whatever GetProfiles gave: the profiles, a consumer D1
// does not know (ErrNotFound: not registered), or a failure that makes every directory
// unavailable. opts.Now is taken as the time the comparison gave up waiting, so call it
// after the D1 call has returned.
func CompareAnswer(rec issuerdb.Customer, res d1.Result, err error, opts Options) Comparison {
	if err == nil {
		return Compare(rec, res, opts)
	}
	corr := ""
	var de *d1.Error
	if errors.As(err, &de) {
		corr = de.CorrelationID
	}
	if errors.Is(err, d1.ErrNotFound) {
		return CompareNotRegistered(rec, corr, opts.Now, opts)
	}
	return CompareUnavailable(rec, Failure{Class: d1.ClassOf(err), CorrelationID: corr, At: opts.Now}, opts)
}
