package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/static"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
)

// fakeSignIn is a SignIn made of function fields.
type fakeSignIn struct {
	finish func(approve func(auth.User) error) (auth.User, string, error)
	logout func() (string, auth.User, bool, error)
	// down plays a provider that has not been reached yet.
	down bool
}

func (f *fakeSignIn) Available() bool { return !f.down }

func (f *fakeSignIn) BeginLogin(_ http.ResponseWriter, _ *http.Request, returnTo string) (string, error) {
	if f.down {
		return "", auth.ErrSignInUnavailable
	}
	return "https://idp.test/authorize?next=" + returnTo, nil
}

func (f *fakeSignIn) FinishLogin(_ http.ResponseWriter, _ *http.Request, approve func(auth.User) error) (auth.User, string, error) {
	return f.finish(approve)
}

func (f *fakeSignIn) Logout(http.ResponseWriter, *http.Request) (string, auth.User, bool, error) {
	return f.logout()
}

var ada = auth.User{Issuer: "https://idp.test", Subject: "staff-1", Name: "Ada Agent", Email: "ada.agent@bank.example", Roles: []auth.Role{auth.RoleAgent}}

func newLoginServer(t *testing.T, s *fakeSignIn, a *fakeAuditor) *echo.Echo {
	e, _ := newLoginServerWithDirectory(t, s, a)
	return e
}

// newLoginServerWithDirectory is newLoginServer that also returns the sign-in directory the
// handler notes people in (nil without an auditor).
func newLoginServerWithDirectory(t *testing.T, s *fakeSignIn, a *fakeAuditor) (*echo.Echo, *signInDirectory) {
	t.Helper()
	assets, err := static.Load("/static")
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Assets: assets, Version: "test", SignIn: s}
	var dir *signInDirectory
	if a != nil {
		d.Auditor = a
		dir = &signInDirectory{AuditTrail: unused{tb: t, strict: true}, auditor: a}
		d.AuditTrail = dir
	}
	e := echo.New()
	mustNew(t, d).register(e, nil)
	return e, dir
}

// signInDirectory is the trail's directory of people who signed in, as the login handler
// notes them; it checks that the sign-in event was recorded first.
type signInDirectory struct {
	AuditTrail
	auditor *fakeAuditor
	noted   []audit.Person
	err     error
}

func (d *signInDirectory) NoteSignIn(_ context.Context, p audit.Person) error {
	if len(d.auditor.events) == 0 || d.auditor.events[len(d.auditor.events)-1].Action != audit.ActionLogin {
		return errors.New("noted before the sign-in event was recorded")
	}
	d.noted = append(d.noted, p)
	return d.err
}

func getPage(e *echo.Echo, target string) (*httptest.ResponseRecorder, *goquery.Document) {
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(w.Body.String()))
	return w, doc
}

func TestCallbackRefusedShowsReasonAndAudits(t *testing.T) {
	a := &fakeAuditor{}
	e := newLoginServer(t, &fakeSignIn{finish: func(func(auth.User) error) (auth.User, string, error) {
		return auth.User{}, "", &auth.LoginError{Reason: auth.ReasonIDTokenInvalid, Err: errors.New("oidc: id token issued by a different provider")}
	}}, a)
	w, doc := getPage(e, "/auth/callback?code=x&state=y")
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", w.Code)
	}
	if got := doc.Find(`[data-testid="sign-in-reason"]`).Text(); got != auth.ReasonIDTokenInvalid {
		t.Errorf("reason shown = %q", got)
	}
	if strings.Contains(w.Body.String(), "different provider") {
		t.Error("the page leaks the verifier's error text")
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", w.Header().Get("Cache-Control"))
	}
	if len(a.events) != 1 || a.events[0].Action != audit.ActionLoginFailed || a.events[0].Outcome != audit.Failure ||
		a.events[0].Details["reason"] != auth.ReasonIDTokenInvalid {
		t.Errorf("audit events = %+v", a.events)
	}
}

func TestCallbackNoRoleShowsNoAccess(t *testing.T) {
	a := &fakeAuditor{}
	nobody := auth.User{Issuer: "https://idp.test", Subject: "staff-9", Name: "Noah Nobody"}
	e := newLoginServer(t, &fakeSignIn{finish: func(func(auth.User) error) (auth.User, string, error) {
		return auth.User{}, "", &auth.LoginError{Reason: auth.ReasonNoRole, User: &nobody, Err: errors.New("no group")}
	}}, a)
	w, doc := getPage(e, "/auth/callback?code=x&state=y")
	if w.Code != http.StatusForbidden || doc.Find(`[data-testid="no-access"]`).Length() != 1 {
		t.Fatalf("status %d, no-access page missing:\n%s", w.Code, w.Body)
	}
	if doc.Find(`[data-testid="signed-in-user"]`).Length() != 0 {
		t.Error("no-access page shows a signed-in user")
	}
	if len(a.events) != 1 || a.events[0].Actor.Subject != "staff-9" || a.events[0].Details["reason"] != auth.ReasonNoRole {
		t.Errorf("audit events = %+v", a.events)
	}
}

func TestCallbackSuccessAuditsBeforeTheSession(t *testing.T) {
	a := &fakeAuditor{}
	e, dir := newLoginServerWithDirectory(t, &fakeSignIn{finish: func(approve func(auth.User) error) (auth.User, string, error) {
		if err := approve(ada); err != nil {
			return auth.User{}, "", &auth.LoginError{Reason: auth.ReasonNotRecorded, User: &ada, Err: err}
		}
		return ada, "/customers?q=ada", nil
	}}, a)
	w, _ := getPage(e, "/auth/callback?code=x&state=y")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/customers?q=ada" {
		t.Fatalf("status %d Location %q", w.Code, w.Header().Get("Location"))
	}
	if len(a.events) != 1 || a.events[0].Action != audit.ActionLogin || a.events[0].Actor.Subject != "staff-1" {
		t.Errorf("audit events = %+v", a.events)
	}
	// After the event, the person and their email join the directory the actor filter reads;
	// a directory that cannot be written does not stop the sign-in.
	if len(dir.noted) != 1 || dir.noted[0] != (audit.Person{Issuer: ada.Issuer, Subject: ada.Subject, Name: ada.Name, Email: ada.Email}) {
		t.Errorf("directory noted %+v", dir.noted)
	}
	dir.err = audit.ErrUnavailable
	if w, _ := getPage(e, "/auth/callback?code=x&state=y"); w.Code != http.StatusSeeOther || len(dir.noted) != 2 {
		t.Errorf("sign-in with the directory down: %d, noted %d", w.Code, len(dir.noted))
	}
	a.events = nil
	dir.err = nil

	// The same sign-in with a broken audit trail is not completed.
	a.err = errors.New("disk full")
	w, doc := getPage(e, "/auth/callback?code=x&state=y")
	if w.Code != http.StatusServiceUnavailable || doc.Find(`[data-testid="error"]`).Length() != 1 {
		t.Errorf("sign-in with the audit trail down: %d\n%s", w.Code, w.Body)
	}
}

func TestCallbackWithoutAuditTrailRefuses(t *testing.T) {
	e := newLoginServer(t, &fakeSignIn{finish: func(approve func(auth.User) error) (auth.User, string, error) {
		if err := approve(ada); err != nil {
			return auth.User{}, "", &auth.LoginError{Reason: auth.ReasonNotRecorded, User: &ada, Err: err}
		}
		return ada, "/", nil
	}}, &fakeAuditor{err: audit.ErrUnavailable})
	if w, _ := getPage(e, "/auth/callback"); w.Code != http.StatusServiceUnavailable {
		t.Errorf("sign-in while the audit trail refuses writes: %d, want 503", w.Code)
	}
}

func TestLogoutAuditsAndEndsAtProvider(t *testing.T) {
	a := &fakeAuditor{}
	end := "https://idp.test/end_session?id_token_hint=x"
	s := &fakeSignIn{logout: func() (string, auth.User, bool, error) { return end, ada, true, nil }}
	e := newLoginServer(t, s, a)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/logout", nil))
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(w.Body.String()))
	if href, _ := doc.Find(`[data-testid="end-sso"]`).Attr("href"); w.Code != http.StatusOK || href != end {
		t.Errorf("logout = %d, end-session link %q", w.Code, href)
	}
	if doc.Find(`[data-testid="signed-in-user"]`).Length() != 0 || doc.Find(`form[action="/logout"]`).Length() != 0 {
		t.Error("the signed-out page still shows the user")
	}
	if len(a.events) != 1 || a.events[0].Action != audit.ActionLogout {
		t.Errorf("audit events = %+v", a.events)
	}
	// A provider without end_session_endpoint: back to our sign-in page.
	s.logout = func() (string, auth.User, bool, error) { return "", ada, true, nil }
	w = httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/logout", nil))
	if w.Header().Get("Location") != "/login?signed_out=1" {
		t.Errorf("logout without end session = %q", w.Header().Get("Location"))
	}
}

func TestLoginPage(t *testing.T) {
	e := newLoginServer(t, &fakeSignIn{}, nil)
	cases := []struct {
		target, wantStart, wantFlag string
	}{
		{"/login", "/auth/start", ""},
		{"/login?next=%2Fcustomers%3Fq%3Dada", "/auth/start?next=%2Fcustomers%3Fq%3Dada", ""},
		{"/login?next=%2F%2Fevil.example%2F", "/auth/start", ""},
		{"/login?next=https%3A%2F%2Fevil.example", "/auth/start", ""},
		{"/login?expired=1", "/auth/start", "session-expired"},
		{"/login?signed_out=1", "/auth/start", "signed-out"},
		{"/login?ended=1", "/auth/start", "session-ended"},
	}
	for _, tc := range cases {
		w, doc := getPage(e, tc.target)
		if w.Code != http.StatusOK {
			t.Errorf("%s: %d", tc.target, w.Code)
			continue
		}
		if got, _ := doc.Find(`[data-testid="sign-in"]`).Attr("href"); got != tc.wantStart {
			t.Errorf("%s: sign-in link %q, want %q", tc.target, got, tc.wantStart)
		}
		if tc.wantFlag != "" && doc.Find(`[data-testid="`+tc.wantFlag+`"]`).Length() != 1 {
			t.Errorf("%s: no %s message", tc.target, tc.wantFlag)
		}
	}
	w, _ := getPage(e, "/auth/start?next=%2Fcustomers")
	if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "https://idp.test/authorize") {
		t.Errorf("/auth/start = %d %q", w.Code, w.Header().Get("Location"))
	}
}
