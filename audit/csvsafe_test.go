package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"
)

// TestDefuseFormula: every way a cell, or a part of it a spreadsheet may split off, can start
// a formula gets a single quote in front; everything else is left as it is.
func TestDefuseFormula(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Plain values pass unchanged.
		{"", ""},
		{"Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (X11; Linux x86_64)"},
		{"customer_id=CU00000003 reason=prelogin_missing", "customer_id=CU00000003 reason=prelogin_missing"},
		{"a=b", "a=b"},
		{"email,phone", "email,phone"},
		{"2026-05-01T09:00:00.000Z", "2026-05-01T09:00:00.000Z"},
		{"x-y@z", "x-y@z"},
		// A formula character first.
		{"=HYPERLINK(\"http://evil.test\")", "'=HYPERLINK(\"http://evil.test\")"},
		{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\tab", "'\tab"},
		{"\rnew row", "'\rnew row"},
		// Behind leading whitespace, visible or not.
		{" =1+1", "' =1+1"},
		{"   @x", "'   @x"},
		{"\u00a0=1", "'\u00a0=1"},
		{"\u3000+1", "'\u3000+1"},
		{"\u200b=1", "'\u200b=1"},
		{"\ufeff-1", "'\ufeff-1"},
		{"\n=1", "'\n'=1"},
		// Fullwidth forms.
		{"＝1+1", "'＝1+1"},
		{"＋1", "'＋1"},
		{"－1", "'－1"},
		{"＠A1", "'＠A1"},
		{" ＝1", "' ＝1"},
		// After a separator inside the cell.
		{"Ada;=cmd()", "Ada;'=cmd()"},
		{"Ada, =cmd()", "Ada,' =cmd()"},
		{"Ada|@x", "Ada|'@x"},
		{"Ada\t+1", "Ada\t'+1"},
		{"Ada\r\n-1", "Ada\r\n'-1"},
		{"Ada；＝1", "Ada；'＝1"},
		{"a;b;=c;d;+e", "a;b;'=c;d;'+e"},
		{"=a;=b", "'=a;'=b"},
		{"\t=x", "'\t'=x"},
	} {
		if got := defuseFormula(tc.in); got != tc.want {
			t.Errorf("defuseFormula(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestExportCSVDefusesEveryField: hostile values in every free field of an event come out of
// the export defused, whichever column they are in.
func TestExportCSVDefusesEveryField(t *testing.T) {
	db := mustSQLite(t)
	tr := seedQuery(t, db, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	e := sampleEvent(99)
	e.CustomerID = "＝cmd()"
	e.Actor.Name = " =HYPERLINK(\"http://evil.test\")"
	e.Actor.Issuer = "@issuer"
	e.UserAgent = "Mozilla;-2+3"
	e.RequestID = "+req"
	if err := tr.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := tr.ExportCSV(context.Background(), &buf, Filter{CustomerID: "＝cmd()"}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("export: %d rows, %v", len(rows), err)
	}
	for col, want := range map[int]string{
		2: "'@issuer", 4: "' =HYPERLINK(\"http://evil.test\")", 8: "'＝cmd()", 11: "Mozilla;'-2+3", 12: "'+req",
	} {
		if got := rows[1][col]; got != want {
			t.Errorf("%s = %q, want %q", CSVHeader[col], got, want)
		}
	}
}
