package handlers

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"ctpdesk/mask"
	"ctpdesk/reconcile"
	"ctpdesk/views"
)

// Display limits for values that come from a directory and may be hostile or just long.
const (
	// shortRunes is how much of a value the grid shows before cutting it.
	shortRunes = 48
	// fullRunes caps the full text shown on focus; beyond it the page says how much is left out.
	fullRunes = 10000
	// labelRunes caps directory names and statuses, which are printed in headers.
	labelRunes = 32
)

// comparisonViewOptions are the viewer-dependent inputs of the comparison view model.
type comparisonViewOptions struct {
	DiffOnly bool
	// Unmasked is true for roles that see contact data whole (fraud analysts).
	Unmasked  bool
	CSRFToken string
	Notice    string
	// Reveal builds the Reveal control of a masked contact value (source is "issuer" or a
	// directory); nil when the viewer may not reveal, and it may itself return nil.
	Reveal revealer
}

// revealer builds the Reveal control of one masked value of a customer's page.
type revealer func(source, field, masked string) *views.RevealForm

// buildComparisonView shapes a comparison for the screen: masked for the viewer, worded by
// the views package, rows grouped by consumer and card, columns without a profile collapsed
// into one explained cell, hostile text made inert and cut to size.
func buildComparisonView(c reconcile.Comparison, o comparisonViewOptions) views.ComparisonPage {
	c = maskComparison(c, o.Unmasked)
	base := "/customers/" + url.PathEscape(c.CustomerID)
	p := views.ComparisonPage{
		CustomerID:  c.CustomerID,
		DiffOnly:    o.DiffOnly,
		CanFilter:   c.Summary.Checked(),
		RefreshURL:  base + "/comparison/refresh",
		CSRFToken:   o.CSRFToken,
		Notice:      o.Notice,
		ToggleLabel: views.ToggleLabel(o.DiffOnly),
	}
	if !o.Unmasked {
		p.MaskedNote = views.MaskedNote()
	}
	if o.DiffOnly {
		p.ToggleURL, p.TogglePageURL = base+"/comparison?show=all", base+"?show=all"
	} else {
		// The fragment URL names the choice outright, so nothing else (a stale page address)
		// can override it.
		p.ToggleURL, p.TogglePageURL = base+"/comparison?show=diff", base
	}
	for _, col := range c.Columns {
		p.Columns = append(p.Columns, columnView(col))
	}
	p.Outcome = comparisonOutcome(c)
	p.Summary = comparisonSummary(c)
	reveal := o.Reveal
	if o.Unmasked {
		reveal = nil
	}
	// Without a profile anywhere there is nothing to filter: every issuer field is shown beside
	// the columns' explanations.
	p.Grid = comparisonGrid(c, p.Columns, o.DiffOnly && p.CanFilter, reveal)
	p.Cards = cardMatrix(c, p.Columns)
	p.Risks, p.Findings = findingLines(c)
	p.RisksTitle, p.FindingsTitle = views.RisksTitle(len(p.Risks)), views.OtherFindingsTitle(len(p.Findings))
	return p
}

// maskComparison returns a copy of c whose email and phone values are masked, unless the viewer
// may see them whole. The HTML and the JSON twin both go through it.
func maskComparison(c reconcile.Comparison, unmasked bool) reconcile.Comparison {
	if unmasked {
		return c
	}
	rows := make([]reconcile.Row, len(c.Rows))
	for i, r := range c.Rows {
		var fn func(string) string
		switch r.Kind {
		case reconcile.FieldEmail:
			fn = mask.MaskEmail
		case reconcile.FieldPhone:
			fn = mask.MaskPhone
		}
		if fn != nil {
			r.Issuer = mapStrings(r.Issuer, fn)
			cells := make([]reconcile.Cell, len(r.Cells))
			for j, cell := range r.Cells {
				cell.Values = mapStrings(cell.Values, fn)
				cells[j] = cell
			}
			r.Cells = cells
		}
		rows[i] = r
	}
	c.Rows = rows
	return c
}

// mapStrings applies fn to every value, into a new slice.
func mapStrings(vs []string, fn func(string) string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fn(v)
	}
	return out
}

// safeLabel makes a short string from D1 fit for a header or a sentence.
func safeLabel(s string) string { return cut(cleanText(s), labelRunes) }

// directoryName is a directory's short name, safe to print.
func directoryName(dir string) string { return views.DirectoryName(safeLabel(dir)) }

// utcClock writes when an unavailable column gave up, as a time of day for the page.
func utcClock(c reconcile.Column) string {
	if c.ErrorAt.IsZero() {
		return ""
	}
	return c.ErrorAt.UTC().Format("15:04:05 UTC")
}

// columnView is the header of one directory column.
func columnView(col reconcile.Column) views.DirectoryColumn {
	state := string(col.State)
	v := views.DirectoryColumn{
		Directory:  col.Directory,
		Name:       directoryName(col.Directory),
		State:      state,
		StateLabel: views.ColumnStateLabel(state),
		Stale:      col.Stale,
		Collapsed:  !col.State.HasProfile(),
		Explain:    views.ColumnExplain(state, safeLabel(col.Directory)),
	}
	if col.Stale {
		v.StaleText = views.StaleText(col.AgeSeconds)
	}
	if col.State == reconcile.StateUnavailable {
		v.Detail = views.ColumnErrorDetail(safeLabel(col.ErrorClass), utcClock(col))
	}
	if col.State == reconcile.StateUnavailable || col.State == reconcile.StateNotRegistered || col.Stale {
		v.CorrelationID = cut(cleanText(col.CorrelationID), 64)
	}
	return v
}

// comparisonOutcome is what the page says first when directories could not be checked or D1
// does not know the consumer; nil when every directory answered.
func comparisonOutcome(c reconcile.Comparison) *views.ComparisonOutcome {
	var down []string
	var first reconcile.Column
	registered := true
	for _, col := range c.Columns {
		switch col.State {
		case reconcile.StateUnavailable:
			if len(down) == 0 {
				first = col
			}
			down = append(down, safeLabel(col.Directory))
		case reconcile.StateNotRegistered:
			registered, first = false, col
		}
	}
	switch {
	case len(down) > 0:
		o := views.UnavailableOutcome(down, safeLabel(first.ErrorClass), utcClock(first), cut(cleanText(first.CorrelationID), 64), c.Summary.Checked())
		return &o
	case !registered:
		o := views.NotRegisteredOutcome(cut(cleanText(c.ConsumerID), 64), cut(cleanText(first.CorrelationID), 64))
		return &o
	}
	return nil
}

// comparisonSummary is the line of counts: shown only when a directory was compared, with
// notes on the directories that hold nothing and on an answer from the cache.
func comparisonSummary(c reconcile.Comparison) views.ComparisonSummary {
	s := views.ComparisonSummary{
		Counted:     c.Summary.Checked(),
		Differences: c.Summary.Differences,
		Equivalents: c.Summary.Equivalents,
		Risks:       c.Summary.Risks,
	}
	s.DifferencesText, s.EquivalentsText, s.RisksText = views.Counts(s.Differences, s.Equivalents, s.Risks)
	var compared, notEnrolled []string
	stale := -1
	for i, col := range c.Columns {
		switch {
		case col.State.HasProfile():
			compared = append(compared, safeLabel(col.Directory))
		case col.State == reconcile.StateNotEnrolled:
			notEnrolled = append(notEnrolled, safeLabel(col.Directory))
		}
		if col.Stale && stale < 0 {
			stale = i
		}
	}
	s.Scope = views.SummaryScope(compared)
	if len(notEnrolled) > 0 {
		s.Notes = append(s.Notes, views.NotEnrolledNote(notEnrolled, len(compared) > 0))
	}
	if stale >= 0 {
		col := c.Columns[stale]
		s.Notes = append(s.Notes, views.StaleNote(col.AgeSeconds, cut(cleanText(col.CorrelationID), 64)))
	}
	return s
}

// comparisonGrid groups the rows under the consumer and one heading per card, leaving out rows
// that agree everywhere when only differences are wanted, and collapses every column without a
// profile into one explained cell per group. reveal, when set, gives masked contact values
// their Reveal control.
func comparisonGrid(c reconcile.Comparison, cols []views.DirectoryColumn, diffOnly bool, reveal revealer) views.ComparisonGrid {
	g := views.ComparisonGrid{Caption: views.GridCaption()}
	titles := map[string]string{}
	for _, card := range c.Cards {
		titles[card.Key] = views.CardTitle(cut(cleanText(card.Last4), 4), safeLabel(card.Scheme), safeLabel(card.IssuerStatus))
	}
	index := map[string]int{}
	hidden := 0
	for _, r := range c.Rows {
		if diffOnly && !r.Different() {
			hidden++
			continue
		}
		gi, ok := index[r.CardKey]
		if !ok {
			group := views.RowGroup{ID: "consumer", Title: views.ConsumerGroupTitle()}
			if r.CardKey != "" {
				group = views.RowGroup{ID: "card:" + r.CardKey, Title: titles[r.CardKey]}
			}
			g.Groups = append(g.Groups, group)
			gi = len(g.Groups) - 1
			index[r.CardKey] = gi
		}
		g.Groups[gi].Rows = append(g.Groups[gi].Rows, fieldRow(r, cols, reveal))
	}
	for gi := range g.Groups {
		collapseColumns(g.Groups[gi].Rows, cols)
	}
	if diffOnly {
		g.HiddenNote = views.HiddenRowsNote(hidden)
		if len(g.Groups) == 0 {
			partial := false
			for _, col := range c.Columns {
				partial = partial || !col.State.HasProfile()
			}
			g.EmptyText = views.NothingDiffersText(hidden, partial)
		}
	}
	return g
}

// collapseColumns turns the cells of every column without a profile into one cell spanning the
// group's rows, which says why the column has nothing to compare.
func collapseColumns(rows []views.FieldRow, cols []views.DirectoryColumn) {
	for ci, col := range cols {
		if !col.Collapsed {
			continue
		}
		for ri := range rows {
			cell := views.FieldCell{Directory: col.Directory, State: col.State, Covered: ri > 0}
			if ri == 0 {
				cell.RowSpan, cell.Explain = len(rows), col.Explain
			}
			rows[ri].Cells[ci] = cell
		}
	}
}

// cardExpiryKind is the kind of a card's expiry row, whose values are printed as MM/YY.
const cardExpiryKind = "expiry"

// fieldRow is one row of the grid.
func fieldRow(r reconcile.Row, cols []views.DirectoryColumn, reveal revealer) views.FieldRow {
	masked := r.Kind == reconcile.FieldEmail || r.Kind == reconcile.FieldPhone
	display := func(vs []string) []string { return vs }
	if r.Kind == cardExpiryKind {
		display = func(vs []string) []string { return mapStrings(vs, views.Expiry) }
	}
	row := views.FieldRow{
		Field:     r.Field,
		Label:     views.FieldLabel(r.Kind),
		Issuer:    valueView(display(r.Issuer), masked),
		Different: r.Different(),
	}
	field := "email"
	switch {
	case !masked:
		reveal = nil
	case r.Kind == reconcile.FieldPhone:
		field = "phone"
	}
	row.Issuer.Reveal = revealControl(reveal, revealIssuer, field, row.Issuer)
	for i, c := range r.Cells {
		cell := views.FieldCell{Directory: c.Directory, Value: valueView(display(c.Values), masked)}
		if c.State != "" {
			cell.State = string(c.State)
			cell.Icon, cell.Label = views.CellStateText(cell.State)
		} else {
			cell.Verdict = string(c.Verdict)
			cell.Icon, cell.Label = views.VerdictText(cell.Verdict, string(c.Reason))
			cell.Detail = views.DiffersInText(partStrings(c.DiffersIn))
		}
		if i < len(cols) && !cols[i].Collapsed && c.Verdict != reconcile.Unavailable {
			cell.Value.Reveal = revealControl(reveal, c.Directory, field, cell.Value)
		}
		row.Cells = append(row.Cells, cell)
	}
	return row
}

// partStrings lists parts as strings, for the views package.
func partStrings(ps []reconcile.Part) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// revealControl is the Reveal control of one masked cell, or nil when the viewer may not
// reveal or the cell holds nothing. A cell with several values (a directory may hold several
// emails) gets one control that reveals them all.
func revealControl(reveal revealer, source, field string, v views.Value) *views.RevealForm {
	if reveal == nil || len(v.Items) == 0 || (source != revealIssuer && !directoryPattern.MatchString(source)) {
		return nil
	}
	texts := make([]string, len(v.Items))
	for i, it := range v.Items {
		texts[i] = it.Text
	}
	return reveal(source, field, strings.Join(texts, ", "))
}

// valueView makes a cell's values safe and short enough to print.
func valueView(vs []string, masked bool) views.Value {
	v := views.Value{Masked: masked, EmptyText: views.NoValueText()}
	for _, s := range vs {
		clean := cleanText(s)
		item := views.ValueItem{Text: clean}
		if utf8.RuneCountInString(clean) > shortRunes {
			item.Text = cut(clean, shortRunes)
			item.Full = cut(clean, fullRunes)
			if n := utf8.RuneCountInString(clean) - fullRunes; n > 0 {
				item.Full += views.CutValueText(n)
			}
			item.Truncated = true
		}
		v.Items = append(v.Items, item)
	}
	return v
}

// cardMatrix is the card matrix: every card at the issuer or in a directory, what each
// directory holds of it, and each card held on one side only marked as one difference.
func cardMatrix(c reconcile.Comparison, cols []views.DirectoryColumn) views.CardMatrix {
	m := views.CardMatrix{Caption: views.CardsCaption(), Columns: cols}
	risky := map[string]bool{}
	for _, f := range c.Findings {
		if f.Severity == reconcile.SeverityRisk && f.CardKey != "" {
			risky[f.CardKey] = true
		}
	}
	for li, card := range c.Cards {
		l := views.CardLine{
			Key:    card.Key,
			Label:  "•••• " + cut(cleanText(card.Last4), 4),
			Scheme: directoryName(card.Scheme),
			Risk:   risky[card.Key],
			Issuer: views.CardIssuerText(card.AtIssuer, safeLabel(card.IssuerStatus), card.IssuerExpiry),
		}
		for ci, d := range card.Directories {
			p := cardPresence(card, d)
			if ci < len(cols) && cols[ci].Collapsed {
				presence := "no-profile"
				if cols[ci].State == string(reconcile.StateUnavailable) {
					presence = "unavailable"
				}
				p = views.CardPresence{Directory: d.Directory, Presence: presence, Covered: li > 0}
				p.Icon, p.Text = views.CardPresenceText(presence, "", "", "")
				if li == 0 {
					p.RowSpan = len(c.Cards)
				}
			}
			l.Difference = l.Difference || p.DifferenceText != ""
			l.Cells = append(l.Cells, p)
		}
		m.Lines = append(m.Lines, l)
	}
	return m
}

// cardPresence is one directory's cell of the card matrix.
func cardPresence(card reconcile.CardRow, d reconcile.CardCell) views.CardPresence {
	p := views.CardPresence{Directory: d.Directory}
	switch {
	case !d.Available:
		p.Presence = "unavailable"
	case d.Present:
		p.Presence = "present"
	case d.Relevant:
		p.Presence = "absent"
	default:
		p.Presence = "not-applicable"
	}
	issuerStatus := ""
	if card.AtIssuer {
		issuerStatus = safeLabel(card.IssuerStatus)
	}
	p.Icon, p.Text = views.CardPresenceText(p.Presence, safeLabel(d.Status), cut(cleanText(d.Expiry), 8), issuerStatus)
	p.DifferenceText = views.CardDifferenceText(d.Difference)
	if len(d.Fields) > 0 {
		p.FieldsTitle = views.CardFieldsTitle(safeLabel(d.Directory))
		for _, f := range d.Fields {
			texts := make([]string, len(f.Values))
			for i, v := range f.Values {
				texts[i] = cut(cleanText(v), shortRunes)
			}
			p.Fields = append(p.Fields, views.LabeledValue{Label: views.FieldLabel(f.Kind), Value: strings.Join(texts, ", ")})
		}
	}
	return p
}

// findingLines words the findings: risks with their next step and a case summary, then the
// others.
func findingLines(c reconcile.Comparison) (risks, others []views.FindingLine) {
	corr := map[string]string{}
	for _, col := range c.Columns {
		corr[col.Directory] = cut(cleanText(col.CorrelationID), 64)
	}
	for _, f := range c.Findings {
		dir := safeLabel(f.Directory)
		facts := views.FindingFacts{
			Kind: f.Kind, Directory: dir, FieldKind: f.FieldKind, CardField: f.CardKey != "" && f.FieldKind != "",
			Last4: cut(cleanText(f.Last4), 4), IssuerStatus: safeLabel(f.IssuerStatus), Reason: string(f.Reason),
			DiffersIn: partStrings(f.DiffersIn),
		}
		line := views.FindingLine{
			Severity:      string(f.Severity),
			SeverityLabel: views.SeverityLabel(string(f.Severity)),
			Message:       views.FindingSentence(facts),
			Field:         f.Field,
		}
		if f.Severity != reconcile.SeverityRisk {
			others = append(others, line)
			continue
		}
		line.NextStep = views.NextStep(f.Kind, dir)
		line.CaseID = "case-" + strconv.Itoa(len(risks)+1)
		line.CaseTitle = views.CaseSummaryTitle()
		line.CopyLabel, line.CopiedLabel = views.CopyCaseLabel()
		line.CaseText = views.CaseSummary(views.CaseFacts{
			CustomerID: cut(cleanText(c.CustomerID), 64), ConsumerID: cut(cleanText(c.ConsumerID), 64),
			Directory: dir, CardKey: cut(cleanText(f.CardKey), 64), Last4: facts.Last4,
			Kind: f.Kind, Severity: string(f.Severity), Finding: line.Message, NextStep: line.NextStep,
			CorrelationID: corr[f.Directory],
		})
		risks = append(risks, line)
	}
	return risks, others
}

// comparisonFindingJSON is a finding in the JSON twin: reconcile's kinds and keys, and the
// same sentence and next step the page shows.
type comparisonFindingJSON struct {
	reconcile.Finding
	Message  string `json:"message"`
	NextStep string `json:"nextStep,omitempty"`
}

// comparisonJSONView is the JSON twin of the comparison: reconcile's comparison with its
// findings worded. Cells carry a verdict or a state, never both, as on the page.
type comparisonJSONView struct {
	reconcile.Comparison
	Findings []comparisonFindingJSON `json:"findings"`
}

// comparisonJSON words the findings of an (already masked) comparison for the JSON twin.
func comparisonJSON(c reconcile.Comparison) comparisonJSONView {
	v := comparisonJSONView{Comparison: c, Findings: make([]comparisonFindingJSON, 0, len(c.Findings))}
	risks, others := findingLines(c)
	ri, oi := 0, 0
	for _, f := range c.Findings {
		var line views.FindingLine
		if f.Severity == reconcile.SeverityRisk {
			line, ri = risks[ri], ri+1
		} else {
			line, oi = others[oi], oi+1
		}
		v.Findings = append(v.Findings, comparisonFindingJSON{Finding: f, Message: line.Message, NextStep: line.NextStep})
	}
	return v
}
