package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ctpdesk/auth"
	"ctpdesk/internal/cli"
	"ctpdesk/internal/config"
	"ctpdesk/issuerdb"
	"ctpdesk/store"
)

// crashChildEnv makes the test binary, re-executed by TestAuditSurvivesSIGKILL, run
// `ctpdesk dev` as a real separate process that can be killed.
const crashChildEnv = "CTPDESK_TEST_AUDIT_CRASH_CHILD"

// TestAuditCrashChild is not a test: it is the server process of TestAuditSurvivesSIGKILL
// (the os/exec helper-process pattern). Run normally it skips.
func TestAuditCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		t.Skip("helper process for TestAuditSurvivesSIGKILL")
	}
	err := cli.Run(context.Background(), []string{"ctpdesk", "dev"}, os.Getenv, os.Stdout, os.Stderr)
	t.Fatalf("the server returned although only SIGKILL should stop it: %v", err)
}

// devGroups are the development provider's groups for each role, as `ctpdesk dev` maps them.
var devGroups = map[auth.Role]string{auth.RoleAgent: "cs-agents", auth.RoleFraud: "fraud-analysts", auth.RoleAuditor: "it-audit"}

// mintSession starts a session for a user with role directly in the dashboard database, as
// the sign-in callback would, and returns its cookie. The app finds it there: sessions are
// server-side.
func mintSession(t *testing.T, dataDir string, role auth.Role) *http.Cookie {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dataDir, config.DevDashboardDBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sessions := auth.NewSessionStore(db, auth.SessionConfig{Secure: false, DBTimeout: 30 * time.Second})
	w := httptest.NewRecorder()
	u := auth.User{Issuer: "https://idp.test", Subject: "crash-" + string(role), Name: "Crash " + string(role), Roles: []auth.Role{role}}
	grant := auth.Grant{User: u, Groups: []string{devGroups[role]}}
	if _, err := sessions.Start(w, httptest.NewRequest(http.MethodGet, "/auth/callback", nil), grant); err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == sessions.CookieName() {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// serverProcess is `ctpdesk dev` running as a child process.
type serverProcess struct {
	cmd *exec.Cmd
	url string
}

func startServerProcess(t *testing.T, dataDir string) *serverProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAuditCrashChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1",
		"CTPDESK_DATA_DIR="+dataDir, "CTPDESK_ADDR=127.0.0.1:0", "CTPDESK_SANDBOX_ADDR=127.0.0.1:0",
		"CTPDESK_DEVIDP_ADDR=127.0.0.1:0", "CTPDESK_DEV_CUSTOMERS=200", "CTPDESK_COOKIE_SECURE=false",
		"CTPDESK_LOG_LEVEL=error",
		"CTPDESK_AUDIT_RECORD_TIMEOUT="+underLoad["CTPDESK_AUDIT_RECORD_TIMEOUT"],
		"CTPDESK_SESSION_DB_TIMEOUT="+underLoad["CTPDESK_SESSION_DB_TIMEOUT"])
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case u := <-found:
		return &serverProcess{cmd: cmd, url: u}
	case <-time.After(120 * time.Second):
		t.Fatal("the server process did not start serving")
		return nil
	}
}

// TestAuditSurvivesSIGKILL: a burst of customer views is cut short by SIGKILL. Every view
// that got a 200 has its event in the trail, and after a restart the chain verifies.
func TestAuditSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	dir := t.TempDir()
	srv := startServerProcess(t, dir)
	cookie := mintSession(t, dir, auth.RoleAgent)
	client := &http.Client{Timeout: 10 * time.Second}
	view := func(base string, i int) (string, bool) {
		req, _ := http.NewRequest(http.MethodGet, base+"/customers/"+customerID(i)+"/comparison", nil)
		req.Header.Set("HX-Request", "true")
		req.AddCookie(cookie)
		resp, err := client.Do(req)
		if err != nil {
			return "", false
		}
		_, berr := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// A 200 counts only if its whole body arrived: that is a view the agent saw.
		return resp.Header.Get("X-Request-Id"), resp.StatusCode == http.StatusOK && berr == nil
	}

	var (
		mu     sync.Mutex
		served []string
		wg     sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i += 8 {
				select {
				case <-stop:
					return
				default:
				}
				if id, ok := view(srv.url, i); ok {
					mu.Lock()
					served = append(served, id)
					mu.Unlock()
				}
			}
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(served)
		mu.Unlock()
		if n >= 150 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	close(stop)
	wg.Wait()
	if len(served) < 50 {
		t.Fatalf("only %d views were served before the kill; the burst did not run", len(served))
	}

	// Restart: the server comes back on the same data directory and serves again.
	srv2 := startServerProcess(t, dir)
	if _, ok := view(srv2.url, 1); !ok {
		t.Fatal("the restarted server does not serve a view")
	}
	if err := srv2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = srv2.cmd.Wait()

	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, config.DevDashboardDBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recorded := map[string]bool{}
	rows, err := db.Query("SELECT request_id FROM audit_events WHERE action = 'comparison.view'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		recorded[id] = true
	}
	rows.Close()
	missing := 0
	for _, id := range served {
		if !recorded[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d views that got a 200 have no audit event", missing, len(served))
	}
	t.Logf("%d views served before SIGKILL, all recorded; %d comparison events stored", len(served), len(recorded))

	var out, errOut syncBuffer
	err = cli.Run(context.Background(), []string{"ctpdesk", "audit", "verify"},
		envFrom(map[string]string{"CTPDESK_DATA_DIR": dir}), &out, &errOut)
	if err != nil || !strings.HasPrefix(out.String(), "verified ") {
		t.Fatalf("audit verify after the crash: %q, %v\n%s", out.String(), err, errOut.String())
	}
}

func customerID(i int) string { return fmt.Sprintf("CU%08d", i%200+1) }

// failClosedApp is a dev app whose audit store refuses every write after one successful
// comparison, with a signed-in agent and one customer whose data must not leak.
type failClosedApp struct {
	app    *testApp
	cookie *http.Cookie
	csrf   string
	cust   issuerdb.Customer
}

func newFailClosedApp(t *testing.T) *failClosedApp {
	t.Helper()
	a := startApp(t, "dev", map[string]string{"CTPDESK_COOKIE_SECURE": "false"})
	dir := a.Env["CTPDESK_DATA_DIR"]
	f := &failClosedApp{app: a, cookie: mintSession(t, dir, auth.RoleAgent)}
	idb, err := issuerdb.Open(context.Background(), "sqlite:"+filepath.Join(dir, config.DevIssuerDBFile), issuerdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer idb.Close()
	if f.cust, err = idb.Get(context.Background(), "CU00000007"); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, config.DevDashboardDBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if code, _ := f.do(t, http.MethodGet, "/customers/"+f.cust.ID+"/comparison", nil, "HX-Request", "true"); code != http.StatusOK {
		t.Fatalf("comparison with a working trail: %d", code)
	}
	// From here on every append fails, as it would with the audit store down or full.
	if _, err := db.Exec("CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END"); err != nil {
		t.Fatal(err)
	}
	f.csrf = csrfOf(t, db, f.cookie)
	return f
}

func (f *failClosedApp) do(t *testing.T, method, path string, form url.Values, hdr ...string) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, f.app.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	req.AddCookie(f.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// expect503 sends the request and checks it is refused with none of the customer's data.
func (f *failClosedApp) expect503(t *testing.T, name, method, path string, form url.Values, hdr ...string) {
	t.Helper()
	code, body := f.do(t, method, path, form, hdr...)
	if code != http.StatusServiceUnavailable {
		t.Errorf("%s with the audit store refusing writes: %d, want 503", name, code)
	}
	c := f.cust
	for _, secret := range []string{c.Email, c.Phone, c.LastName, c.ConsumerID, c.Address.Line1} {
		if secret != "" && strings.Contains(body, secret) {
			t.Errorf("%s: the 503 answer holds customer data %q", name, secret)
		}
	}
}

// TestAuditFailClosedApp: when the audit store refuses writes, the comparison and a reveal
// answer 503 and their bodies hold none of the customer's data.
func TestAuditFailClosedApp(t *testing.T) {
	f := newFailClosedApp(t)
	page := "/customers/" + f.cust.ID
	f.expect503(t, "comparison fragment", http.MethodGet, page+"/comparison", nil, "HX-Request", "true")
	f.expect503(t, "comparison page", http.MethodGet, page+"/comparison", nil)
	f.expect503(t, "comparison JSON", http.MethodGet, page+"/comparison", nil, "Accept", "application/json")
	reveal := url.Values{"_csrf": {f.csrf}, "field": {"phone"}, "source": {"issuer"}, "reason": {"customer_verified"}}
	f.expect503(t, "reveal", http.MethodPost, page+"/reveal", reveal, "HX-Request", "true")
}

// TestAuditFailClosedCustomerPage: the issuer half of the customer page is customer data too,
// so it must also be recorded first and refused when it cannot be.
func TestAuditFailClosedCustomerPage(t *testing.T) {
	f := newFailClosedApp(t)
	f.expect503(t, "customer page", http.MethodGet, "/customers/"+f.cust.ID, nil)
	f.expect503(t, "customer JSON", http.MethodGet, "/customers/"+f.cust.ID, nil, "Accept", "application/json")
	f.expect503(t, "search", http.MethodGet, "/customers?q="+url.QueryEscape(f.cust.LastName), nil)
}

// csrfOf reads the CSRF token of the session behind cookie through the session store.
func csrfOf(t *testing.T, db *store.DB, cookie *http.Cookie) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(cookie)
	sess, err := auth.NewSessionStore(db, auth.SessionConfig{Secure: false, DBTimeout: 30 * time.Second}).Load(r)
	if err != nil {
		t.Fatal(err)
	}
	return sess.CSRFToken()
}
