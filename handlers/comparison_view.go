package handlers

import (
	"fmt"
	"net/url"
	"strings"
	"time"
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

// buildComparisonView shapes a comparison for the screen: masked for the viewer, rows grouped
// by consumer and card, hostile text made inert and cut to size.
func buildComparisonView(c reconcile.Comparison, o comparisonViewOptions) views.ComparisonPage {
	c = maskComparison(c, o.Unmasked)
	base := "/customers/" + url.PathEscape(c.CustomerID)
	p := views.ComparisonPage{
		CustomerID: c.CustomerID,
		DiffOnly:   o.DiffOnly,
		RefreshURL: base + "/comparison/refresh",
		CSRFToken:  o.CSRFToken,
		Masked:     !o.Unmasked,
		Notice:     o.Notice,
		Summary: views.ComparisonSummary{
			Directories: c.Summary.Directories, Reached: c.Summary.Reached, Enrolled: c.Summary.Enrolled,
			Differences: c.Summary.Differences, Equivalents: c.Summary.Equivalents, Risks: c.Summary.Risks,
		},
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
	reveal := o.Reveal
	if o.Unmasked {
		reveal = nil
	}
	p.Groups, p.HiddenRows = rowGroups(c, o.DiffOnly, reveal)
	p.Cards = cardLines(c)
	for _, f := range c.Findings {
		line := views.FindingLine{Severity: string(f.Severity), Message: cut(cleanText(f.Message), 400), Field: f.Field}
		if f.Severity == reconcile.SeverityRisk {
			p.Risks = append(p.Risks, line)
		} else {
			p.Findings = append(p.Findings, line)
		}
	}
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

// columnView is the header of one directory column.
func columnView(col reconcile.Column) views.DirectoryColumn {
	v := views.DirectoryColumn{
		Directory:     col.Directory,
		Name:          directoryShortName(col.Directory),
		State:         string(col.State),
		Stale:         col.Stale,
		ErrorClass:    cut(cleanText(col.ErrorClass), labelRunes),
		CorrelationID: cut(cleanText(col.CorrelationID), 64),
	}
	switch col.State {
	case reconcile.StateProfile:
		v.StateLabel = "Profile"
	case reconcile.StateNoCard:
		v.StateLabel = "Consumer with no card"
	case reconcile.StateNotEnrolled:
		v.StateLabel = "Not enrolled"
	case reconcile.StateUnavailable:
		v.StateLabel = "Unavailable"
	}
	if col.Stale {
		v.AgeText = ageText(time.Duration(col.AgeSeconds) * time.Second)
	}
	if !col.ErrorAt.IsZero() {
		v.ErrorTime = col.ErrorAt.UTC().Format("15:04:05 UTC")
	}
	if !col.FetchedAt.IsZero() {
		v.FetchedTime = col.FetchedAt.UTC().Format("15:04:05 UTC")
	}
	return v
}

// directoryShortName is a directory's name in a column header.
func directoryShortName(dir string) string {
	switch dir {
	case "VISA":
		return "Visa"
	case "MASTERCARD":
		return "Mastercard"
	}
	return cut(cleanText(dir), labelRunes)
}

// ageText writes how old stale data is.
func ageText(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return fmt.Sprintf("%d seconds old", max(int(d/time.Second), 0))
	case d < 2*time.Hour:
		return fmt.Sprintf("%d minutes old", int(d/time.Minute))
	}
	return fmt.Sprintf("%d hours old", int(d/time.Hour))
}

// rowGroups groups the rows under the consumer and one heading per card, leaving out rows that
// agree everywhere when only differences are wanted. It returns how many rows it left out.
// reveal, when set, gives masked contact values their Reveal control.
func rowGroups(c reconcile.Comparison, diffOnly bool, reveal revealer) ([]views.RowGroup, int) {
	titles := map[string]string{}
	for _, card := range c.Cards {
		titles[card.Key] = cardTitle(card)
	}
	var groups []views.RowGroup
	index := map[string]int{}
	hidden := 0
	enrolled := enrolledDirectories(c.Columns)
	for _, r := range c.Rows {
		if diffOnly && !differsWhereEnrolled(r, enrolled) {
			hidden++
			continue
		}
		gi, ok := index[r.CardKey]
		if !ok {
			g := views.RowGroup{ID: "consumer", Title: "Consumer"}
			if r.CardKey != "" {
				g = views.RowGroup{ID: "card:" + r.CardKey, Title: titles[r.CardKey]}
			}
			groups = append(groups, g)
			gi = len(groups) - 1
			index[r.CardKey] = gi
		}
		row := fieldRow(r, reveal)
		row.Different = differsWhereEnrolled(r, enrolled)
		groups[gi].Rows = append(groups[gi].Rows, row)
	}
	return groups, hidden
}

// enrolledDirectories lists the directories whose column is anything but "not enrolled".
func enrolledDirectories(cols []reconcile.Column) map[string]bool {
	out := make(map[string]bool, len(cols))
	for _, col := range cols {
		if col.State != reconcile.StateNotEnrolled {
			out[col.Directory] = true
		}
	}
	return out
}

// differsWhereEnrolled says whether a row differs in a directory that holds something for the
// customer. A directory the customer is not enrolled in says so in its column header; counting
// each of its empty fields as a difference would bury the real ones under rows of "missing".
func differsWhereEnrolled(r reconcile.Row, enrolled map[string]bool) bool {
	for _, cell := range r.Cells {
		if enrolled[cell.Directory] && cell.Verdict.IsDifference() {
			return true
		}
	}
	return false
}

// cardTitle heads a card's rows: its last 4, scheme and issuer status.
func cardTitle(card reconcile.CardRow) string {
	t := "Card •••• " + cut(cleanText(card.Last4), 4)
	if card.Scheme != "" {
		t += " · " + directoryShortName(card.Scheme)
	}
	if !card.AtIssuer {
		return t + " · not held by the issuer"
	}
	return t + " · " + card.IssuerStatus + " at the issuer"
}

// fieldRow is one row of the grid.
func fieldRow(r reconcile.Row, reveal revealer) views.FieldRow {
	masked := r.Kind == reconcile.FieldEmail || r.Kind == reconcile.FieldPhone
	row := views.FieldRow{
		Field:     r.Field,
		Label:     reconcile.FieldLabel(r.Kind),
		Issuer:    valueView(r.Issuer, masked),
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
	for _, c := range r.Cells {
		icon, label := verdictText(c.Verdict, c.Reason)
		row.Cells = append(row.Cells, views.FieldCell{
			Directory:    c.Directory,
			Verdict:      string(c.Verdict),
			VerdictLabel: label,
			Icon:         icon,
			Value:        valueView(c.Values, masked),
		})
		cell := &row.Cells[len(row.Cells)-1]
		if c.Verdict != reconcile.Unavailable && c.Verdict != reconcile.NotApplicable {
			cell.Value.Reveal = revealControl(reveal, c.Directory, field, cell.Value)
		}
	}
	return row
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

// verdictText is a verdict's icon and words; the colour comes from CSS, so no verdict is told
// by colour alone.
func verdictText(v reconcile.Verdict, r reconcile.Reason) (icon, label string) {
	switch v {
	case reconcile.Match:
		return "✓", "Match"
	case reconcile.Equivalent:
		return "≈", "Equivalent (" + reasonLabel(r) + ")"
	case reconcile.Differs:
		return "≠", "Differs"
	case reconcile.MissingInDirectory:
		return "∅", "Missing in directory"
	case reconcile.MissingAtIssuer:
		return "+", "Missing at issuer"
	case reconcile.Unavailable:
		return "⚠", "Unavailable"
	case reconcile.NotApplicable:
		return "–", "Not applicable"
	}
	return "?", string(v)
}

// reasonLabel is an equivalence reason in a few words.
func reasonLabel(r reconcile.Reason) string {
	switch r {
	case reconcile.ReasonDiacritics:
		return "accents"
	case reconcile.ReasonCountryCode:
		return "country code"
	case reconcile.ReasonLanguageFormat:
		return "language format"
	case reconcile.ReasonPostalFormat:
		return "postal format"
	case reconcile.ReasonNone:
		return "format"
	}
	return string(r)
}

// valueView makes a cell's values safe and short enough to print.
func valueView(vs []string, masked bool) views.Value {
	v := views.Value{Masked: masked}
	for _, s := range vs {
		clean := cleanText(s)
		item := views.ValueItem{Text: clean}
		if utf8.RuneCountInString(clean) > shortRunes {
			item.Text = cut(clean, shortRunes)
			item.Full = cut(clean, fullRunes)
			if n := utf8.RuneCountInString(clean) - fullRunes; n > 0 {
				item.Full += fmt.Sprintf("… (%d more characters)", n)
			}
			item.Truncated = true
		}
		v.Items = append(v.Items, item)
	}
	return v
}

// cardLines is the card matrix.
func cardLines(c reconcile.Comparison) []views.CardLine {
	risky := map[string]bool{}
	for _, f := range c.Findings {
		if f.Severity == reconcile.SeverityRisk && f.CardKey != "" {
			risky[f.CardKey] = true
		}
	}
	lines := make([]views.CardLine, 0, len(c.Cards))
	for _, card := range c.Cards {
		l := views.CardLine{
			Key:      card.Key,
			Label:    "•••• " + cut(cleanText(card.Last4), 4),
			Scheme:   directoryShortName(card.Scheme),
			AtIssuer: card.AtIssuer,
			Risk:     risky[card.Key],
			Issuer:   "Not held by the issuer",
		}
		if card.AtIssuer {
			l.Issuer = statusWord(card.IssuerStatus) + expiryText(card.IssuerExpiry)
		}
		for _, d := range card.Directories {
			l.Cells = append(l.Cells, cardPresence(d))
		}
		lines = append(lines, l)
	}
	return lines
}

// cardPresence is one directory's cell of the card matrix.
func cardPresence(d reconcile.CardCell) views.CardPresence {
	p := views.CardPresence{Directory: d.Directory}
	switch {
	case !d.Available:
		p.Presence, p.Text = "unavailable", "Unavailable"
	case d.Present:
		p.Presence = "present"
		p.Text = "Enrolled"
		if d.Status != "" {
			p.Text += " · " + cut(cleanText(d.Status), labelRunes)
		}
		p.Text += expiryText(cut(cleanText(d.Expiry), 8))
	case d.Relevant:
		p.Presence, p.Text = "absent", "Not enrolled"
	default:
		p.Presence, p.Text = "not-applicable", "Not applicable"
	}
	return p
}

// statusWord capitalises an issuer card status for the matrix.
func statusWord(s string) string {
	if s == "" {
		return "Unknown status"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// expiryText writes an MMYY expiry as " · expires MM/YY"; other forms are shown as sent.
func expiryText(mmyy string) string {
	switch {
	case mmyy == "":
		return ""
	case len(mmyy) == 4:
		return " · expires " + mmyy[:2] + "/" + mmyy[2:]
	}
	return " · expires " + mmyy
}
