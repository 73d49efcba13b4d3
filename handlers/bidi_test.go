package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/views"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
)

// TestHeaderNameIsInertAndIsolated checks that a display name with a right-to-left override,
// as an identity provider may send it, is shown with the override as a code point and
// isolated from the header around it, instead of reading "yrollaM".
func TestHeaderNameIsInertAndIsolated(t *testing.T) {
	s := newComparisonServerFor(t, viewCustomer(), func() time.Time { return viewNow }, okProfiles, func(d *Deps) {
		d.BaseUser = func(echo.Context) (*views.UserView, string) {
			return &views.UserView{Name: "\u202eMallory", Role: "agent", CanSearch: true}, "csrf"
		}
	})
	rec := s.do(http.MethodGet, "/customers/C42/comparison", "agent")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	doc, _ := goquery.NewDocumentFromReader(rec.Body)
	name := doc.Find(`[data-testid="user-name"]`)
	if goquery.NodeName(name) != "bdi" || name.Text() != "[U+202E]Mallory" {
		t.Errorf("header name = <%s>%q, want <bdi>[U+202E]Mallory", goquery.NodeName(name), name.Text())
	}
	if strings.Contains(rec.Body.String(), "\u202e") {
		t.Error("the override reached the page")
	}
}

// TestAuditRowsAreInert checks that what the trail recorded from outside is shown with control
// and direction characters as code points.
func TestAuditRowsAreInert(t *testing.T) {
	page := audit.ResultPage{Events: []audit.Event{{
		Seq: 1, Time: viewNow, Action: audit.ActionLogin, Outcome: audit.Success,
		Actor:     audit.Actor{Issuer: "https://idp", Subject: "s\u202e1", Name: "\u202eMallory", Roles: []string{"agent"}},
		UserAgent: "UA\u2066x", RequestID: "r1", Hash: "0123456789abcdef",
	}}}
	row := auditPageView(views.AuditFilterForm{}, audit.Filter{}, page, audit.VerifyReport{}, nil).Rows[0]
	if row.ActorName != "[U+202E]Mallory" || row.ActorSubject != "s[U+202E]1" || row.UserAgent != "UA[U+2066]x" {
		t.Errorf("audit row = %+v, want the direction characters shown as code points", row)
	}
}
