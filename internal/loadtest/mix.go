package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ctpdesk/internal/loadtest/drive"
	"ctpdesk/issuerdb"

	"github.com/PuerkitoBio/goquery"
)

// Request kinds of a load run. Searches are reported per query kind, all starting with
// kindSearchPrefix; the search budget applies to each.
const (
	kindSearchPrefix = "search:"
	KindCustomer     = "customer"
	kindComparison   = "comparison"
	kindHome         = "home"
	kindSearchPage   = "search-page"
	kindHealthz      = "healthz"
)

// requestTimeout bounds one request of a virtual user. The run's own deadline does not cut
// requests short: one the dashboard already recorded in the audit trail must reach the client
// too, or the audit check could not tell a lost event from a lost response.
const requestTimeout = 30 * time.Second

// searchQuery is one thing an agent types into the search box.
type searchQuery struct {
	Kind string
	Text string
}

// loadQueries draws n queries of every kind from customers of the seeded portfolio, rebuilt by
// the issuerdb generator, so every query matches someone. Kinds are weighted the way a service
// desk searches: mostly by name, then by email, phone and card last 4, sometimes by id.
func loadQueries(customers, n int) []searchQuery {
	g := issuerdb.NewGenerator(loadSeed)
	r := rand.New(rand.NewPCG(2, 3))
	weights := []struct {
		kind   string
		weight int
	}{{"name", 35}, {"email", 15}, {"phone", 15}, {"last4", 15}, {"customer-id", 10}, {"consumer-id", 10}}
	var out []searchQuery
	for range n {
		c := g.Customer(r.IntN(customers))
		for _, w := range weights {
			var text string
			switch w.kind {
			case "name":
				first, last := []rune(issuerdb.Fold(c.FirstName)), []rune(issuerdb.Fold(c.LastName))
				text = string(last[:min(3, len(last))]) + " " + string(first[:min(2, len(first))])
			case "email":
				text = c.Email
			case "phone":
				text = c.Phone
			case "last4":
				text = c.Cards[0].Last4
			case "customer-id":
				text = c.ID
			case "consumer-id":
				text = c.ConsumerID
			}
			for range w.weight {
				out = append(out, searchQuery{Kind: kindSearchPrefix + w.kind, Text: text})
			}
		}
	}
	return out
}

// Observation is one finished request as the harness saw it: the sample the report is made
// of, who made it, what it asked for and when, the dashboard's request id (the audit events
// carry it), the fault phase it started in and, for comparisons under faults, what the
// directory columns said.
type Observation struct {
	drive.Sample
	User      int    // the virtual user who made it; probeUser for the harness's own probes
	Path      string // the path asked for, query included
	Start     time.Time
	RequestID string
	Phase     int
	Columns   columnSummary
}

// probeUser marks the observations of the probes the fault sequence makes itself.
const probeUser = -1

// probeCustomers is how many customers at the end of the portfolio the virtual users never
// open: the fault sequence fetches their comparisons itself, so that what D1's cache holds for
// them, and when it was filled, is known rather than left to the timing of the load.
const probeCustomers = 4

// step is one request a virtual user decides to make.
type step struct {
	Kind     string
	Path     string
	HXFrom   string // the path of the page an htmx request is made from; "" for a page load
	Customer string // the customer a customer page shows, whose comparison follows it
}

// Run is the traffic of one run: who the users are, what they search for, and what each
// of them saw. Each user's slots are touched only by that user's goroutine; the probes and
// the per-phase counts are shared with the fault sequence and guarded by mu.
type Run struct {
	base      string
	users     []User
	queries   []searchQuery
	customers int
	inspect   bool          // read the directory columns of every comparison
	think     time.Duration // mean pause of a user before each action; 0: none (closed loop)
	phase     atomic.Int32  // the fault phase now running
	pending   []string      // per user: the customer whose comparison loads next
	obs       [][]Observation

	mu     sync.Mutex
	probes []Observation
	served map[int]phaseServed // by phase: what was answered 200
}

// phaseServed counts the searches and customer pages answered 200 that started in one phase.
type phaseServed struct {
	Searches  int
	Customers int
}

// NewRun prepares the traffic of users against the dashboard at base, over a portfolio of
// customers. With inspect set, the directory columns of every comparison are read; think is
// the users' mean pause between actions.
func NewRun(base string, users []User, customers int, inspect bool, think time.Duration) *Run {
	return &Run{
		base: base, users: users, customers: customers, inspect: inspect, think: think,
		queries: loadQueries(customers, 200),
		pending: make([]string, len(users)),
		obs:     make([][]Observation, len(users)),
		served:  map[int]phaseServed{},
	}
}

// Mix is the virtual users' behaviour, per action: 60 % searches (as typed, htmx fragment),
// 30 % customer pages each followed at once by the comparison fragment the page loads, 10 %
// other pages (home, the empty search page, /healthz). Before each action the user thinks for
// a uniformly random 0.5 to 1.5 times the mean think time; the pause is not part of the
// request's latency.
func (l *Run) Mix(user int, rng *rand.Rand) drive.Request {
	if id := l.pending[user]; id != "" {
		l.pending[user] = ""
		return l.request(user, comparisonStep(id))
	}
	req := l.request(user, l.pick(rng))
	if l.think <= 0 {
		return req
	}
	pause := l.think/2 + time.Duration(rng.Int64N(int64(l.think)))
	do := req.Do
	req.Do = func(ctx context.Context, client *http.Client) (int, error) {
		t := time.NewTimer(pause)
		defer t.Stop()
		select {
		case <-ctx.Done():
			// The run ended while the user was thinking: no request was made.
			return 0, ctx.Err()
		case <-t.C:
		}
		return do(ctx, client)
	}
	return req
}

// pick draws a user's next action other than the comparison that follows a customer page.
// Customer pages never open the probe customers at the end of the portfolio.
func (l *Run) pick(rng *rand.Rand) step {
	switch n := rng.IntN(100); {
	case n < 60:
		q := l.queries[rng.IntN(len(l.queries))]
		return step{Kind: q.Kind, Path: "/customers?" + url.Values{"q": {q.Text}}.Encode(), HXFrom: "/customers"}
	case n < 90:
		id := issuerdb.CustomerID(rng.IntN(max(1, l.customers-probeCustomers)))
		return step{Kind: KindCustomer, Path: "/customers/" + id, Customer: id}
	case n < 94:
		return step{Kind: kindHome, Path: "/"}
	case n < 97:
		return step{Kind: kindSearchPage, Path: "/customers"}
	default:
		return step{Kind: kindHealthz, Path: "/healthz"}
	}
}

// comparisonStep is the htmx request for a customer's comparison, made from the customer page.
func comparisonStep(id string) step {
	return step{Kind: kindComparison, Path: "/customers/" + id + "/comparison", HXFrom: "/customers/" + id}
}

// probeIDs are the customers the virtual users never open, in the order the fault sequence
// uses them.
func (l *Run) probeIDs() []string {
	var ids []string
	for i := l.customers - 1; i >= max(0, l.customers-probeCustomers); i-- {
		ids = append(ids, issuerdb.CustomerID(i))
	}
	return ids
}

// request is s as one request of user: its observation joins the user's, a customer page
// answered 200 queues its comparison, and an answer counts towards its phase.
func (l *Run) request(user int, s step) drive.Request {
	return drive.Request{Kind: s.Kind, Do: func(ctx context.Context, client *http.Client) (int, error) {
		o := l.observe(ctx, client, user, s, l.inspect)
		if o.Err == nil && o.Status == http.StatusOK && s.Customer != "" {
			l.pending[user] = s.Customer
		}
		l.obs[user] = append(l.obs[user], o)
		l.countServed(o)
		return o.Status, o.Err
	}}
}

// Probe fetches the comparison of customer id as the first user, outside the users' traffic,
// and records it with the run's observations.
func (l *Run) Probe(ctx context.Context, client *http.Client, id string) Observation {
	o := l.observe(ctx, client, 0, comparisonStep(id), true)
	o.User = probeUser
	l.mu.Lock()
	l.probes = append(l.probes, o)
	l.mu.Unlock()
	return o
}

// countServed adds a search or customer page answered 200 to the count of its phase.
func (l *Run) countServed(o Observation) {
	if o.Err != nil || o.Status != http.StatusOK {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.served[o.Phase]
	switch {
	case strings.HasPrefix(o.Kind, kindSearchPrefix):
		s.Searches++
	case o.Kind == KindCustomer:
		s.Customers++
	default:
		return
	}
	l.served[o.Phase] = s
}

// Served returns the searches and customer pages answered 200 that started in phase.
func (l *Run) Served(phase int) phaseServed {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.served[phase]
}

// observe makes the request of s as user and returns what came back. The run's own deadline
// does not cut it short (see requestTimeout).
func (l *Run) observe(ctx context.Context, client *http.Client, user int, s step, inspect bool) Observation {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
	defer cancel()
	start := time.Now()
	o := Observation{Sample: drive.Sample{Kind: s.Kind}, User: user, Path: s.Path, Start: start, Phase: int(l.phase.Load())}
	hxFrom := ""
	if s.HXFrom != "" {
		hxFrom = l.base + s.HXFrom
	}
	status, reqID, body, err := l.fetch(rctx, client, user, s.Path, hxFrom)
	o.Duration, o.Status, o.RequestID, o.Err = time.Since(start), status, reqID, err
	if err == nil && status == http.StatusOK && s.Kind == kindComparison && inspect {
		o.Columns = readColumns(body)
	}
	return o
}

func (l *Run) fetch(ctx context.Context, client *http.Client, user int, path, hxFrom string) (int, string, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base+path, nil)
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Cookie", l.users[user].Cookie)
	req.Header.Set("User-Agent", "ctpdesk-loadtest")
	if hxFrom != "" {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Current-URL", hxFrom)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, resp.Header.Get("X-Request-Id"), body, err
}

// Observations returns every user's observations, user by user in the order each made them,
// then the harness's probes.
func (l *Run) Observations() []Observation {
	var all []Observation
	for _, o := range l.obs {
		all = append(all, o...)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append(all, l.probes...)
}

// unfollowedPages returns the customer pages answered 200 that the same user did not follow at
// once with that customer's comparison. A user's last request may be a customer page: the run
// ended before its comparison could start.
func unfollowedPages(obs []Observation) []string {
	var out []string
	for i, o := range obs {
		if o.User == probeUser || o.Kind != KindCustomer || o.Err != nil || o.Status != http.StatusOK {
			continue
		}
		if i+1 < len(obs) && obs[i+1].User == o.User && obs[i+1].Kind == kindComparison && obs[i+1].Path == o.Path+"/comparison" {
			continue
		}
		last := i+1 == len(obs) || obs[i+1].User != o.User
		if !last {
			out = append(out, fmt.Sprintf("user %d: %s followed by %s %s", o.User, o.Path, obs[i+1].Kind, obs[i+1].Path))
		}
	}
	return out
}

// columnSummary is what the directory columns of one comparison said.
type columnSummary struct {
	Columns     int
	Unavailable int
	Stale       int
	// Unexplained counts columns that do not say what happened: an unknown state, an
	// unavailable column without its error class or correlation id, a stale one without its age.
	Unexplained int
	Problem     string // the first unexplained column, for the report
}

// readColumns reads the header cell of every directory column of a comparison fragment.
func readColumns(body []byte) columnSummary {
	var s columnSummary
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return columnSummary{Unexplained: 1, Problem: "unparseable comparison: " + err.Error()}
	}
	doc.Find("th[data-directory][data-state]").Each(func(_ int, th *goquery.Selection) {
		s.Columns++
		dir, _ := th.Attr("data-directory")
		state, _ := th.Attr("data-state")
		stale, _ := th.Attr("data-stale")
		problem := ""
		switch state {
		case "profile", "no-card", "not-enrolled", "not-registered":
		case "unavailable":
			s.Unavailable++
			class := strings.TrimSpace(th.Find(".dir-detail").First().Text())
			corr := strings.TrimSpace(th.Find("code.corr-id").Text())
			if class == "" || corr == "" {
				problem = dir + " is unavailable without its error class or correlation id"
			}
		default:
			problem = dir + " has the unknown state " + state
		}
		if stale == "true" {
			s.Stale++
			if strings.TrimSpace(th.Find(`[data-testid="stale"]`).Text()) == "" {
				problem = dir + " is stale without saying how old it is"
			}
		}
		if problem != "" {
			s.Unexplained++
			if s.Problem == "" {
				s.Problem = problem
			}
		}
	})
	if s.Columns == 0 {
		s.Unexplained, s.Problem = 1, "a comparison without any directory column"
	}
	return s
}
