package handlers

import (
	"errors"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/views"

	"github.com/google/go-cmp/cmp"
)

func TestAuditPageView(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	form := views.AuditFilterForm{CustomerID: "CU1", Action: "field.reveal"}
	f := audit.Filter{CustomerID: "CU1", Action: audit.ActionReveal, Before: 90}
	page := audit.ResultPage{NextBefore: 41, Events: []audit.Event{{
		Seq: 42, Time: at, Action: audit.ActionReveal, Outcome: audit.Success, CustomerID: "CU1",
		Actor:    audit.Actor{Issuer: "https://idp", Subject: "s1", Name: "Ann", Roles: []string{"agent", "fraud"}},
		Details:  map[string]string{"reason": "dispute", "field": "phone"},
		ClientIP: "192.0.2.1", UserAgent: "UA", RequestID: "r1", Hash: "0123456789abcdef0123",
	}}}
	rep := audit.VerifyReport{Events: 42, LastSeq: 42, CheckedAt: at}
	got := auditPageView(form, f, page, rep, nil)
	want := views.AuditPage{
		Filter: form,
		Chain:  views.ChainStatus{State: "verified", Text: "verified 42 events up to seq 42", CheckedAt: "2026-03-04T05:06:07Z"},
		Rows: []views.AuditRow{{
			Seq: 42, Time: "2026-03-04T05:06:07.890Z", ActorName: "Ann", ActorSubject: "s1", ActorIssuer: "https://idp",
			Roles: "agent, fraud", Action: "field.reveal", Outcome: "success", CustomerID: "CU1",
			Details: "field=phone reason=dispute", ClientIP: "192.0.2.1", UserAgent: "UA", RequestID: "r1",
			Hash: "0123456789abcdef0123", HashShort: "0123456789ab",
		}},
		NextURL:   "/audit?action=field.reveal&before=41&customer=CU1",
		FirstURL:  "/audit?action=field.reveal&customer=CU1",
		ExportURL: "/audit/export?action=field.reveal&customer=CU1",
		History:   "CU1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("auditPageView (-want +got):\n%s", diff)
	}

	broken := audit.VerifyReport{Break: &audit.Break{Seq: 7, Problem: "the event is missing"}}
	if c := auditPageView(form, f, audit.ResultPage{}, broken, nil).Chain; c.State != "broken" || c.Text != "broken at seq 7: the event is missing" {
		t.Errorf("broken chain status = %+v", c)
	}
	if c := auditPageView(form, f, audit.ResultPage{}, audit.VerifyReport{}, audit.ErrStatusPending).Chain; c.State != "unknown" {
		t.Errorf("pending chain status = %+v", c)
	}
	if c := auditPageView(form, f, audit.ResultPage{}, audit.VerifyReport{}, errors.New("db down")).Chain; c.State != "unknown" || c.CheckedAt != "" {
		t.Errorf("failed chain status = %+v", c)
	}
}
