package loadtest

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
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
// of, when it started, the dashboard's request id (the audit events carry it), the fault phase it started in
// and, for comparisons under faults, what the directory columns said.
type Observation struct {
	drive.Sample
	Start     time.Time
	RequestID string
	Phase     int
	Columns   columnSummary
}

// Run is the traffic of one run: who the users are, what they search for, and what each
// of them saw. Each user's slots are touched only by that user's goroutine.
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
}

func NewRun(base string, users []User, customers int, inspect bool, think time.Duration) *Run {
	return &Run{
		base: base, users: users, customers: customers, inspect: inspect, think: think,
		queries: loadQueries(customers, 200),
		pending: make([]string, len(users)),
		obs:     make([][]Observation, len(users)),
	}
}

// mix is the virtual users' behaviour, per action: 60 % searches (as typed, htmx fragment),
// 30 % customer pages each followed at once by the comparison fragment the page loads, 10 %
// other pages (home, the empty search page, /healthz). Before each action the user thinks for
// a uniformly random 0.5 to 1.5 times the mean think time; the pause is not part of the
// request's latency.
func (l *Run) Mix(user int, rng *rand.Rand) drive.Request {
	if id := l.pending[user]; id != "" {
		l.pending[user] = ""
		return l.get(user, kindComparison, "/customers/"+id+"/comparison", l.base+"/customers/"+id, nil)
	}
	req := l.action(user, rng)
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

// action picks a user's next action other than the comparison that follows a customer page.
func (l *Run) action(user int, rng *rand.Rand) drive.Request {
	switch n := rng.IntN(100); {
	case n < 60:
		q := l.queries[rng.IntN(len(l.queries))]
		return l.get(user, q.Kind, "/customers?"+url.Values{"q": {q.Text}}.Encode(), l.base+"/customers", nil)
	case n < 90:
		id := issuerdb.CustomerID(rng.IntN(l.customers))
		return l.get(user, KindCustomer, "/customers/"+id, "", func(o *Observation, _ []byte) {
			l.pending[user] = id
		})
	case n < 94:
		return l.get(user, kindHome, "/", "", nil)
	case n < 97:
		return l.get(user, kindSearchPage, "/customers", "", nil)
	default:
		return l.get(user, kindHealthz, "/healthz", "", nil)
	}
}

// get is a GET of path by user. With hxFrom set it is an htmx request made from that page.
// onOK runs on a 200 answer with its body.
func (l *Run) get(user int, kind, path, hxFrom string, onOK func(o *Observation, body []byte)) drive.Request {
	return drive.Request{Kind: kind, Do: func(ctx context.Context, client *http.Client) (int, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
		defer cancel()
		start := time.Now()
		o := Observation{Sample: drive.Sample{Kind: kind}, Start: start, Phase: int(l.phase.Load())}
		status, reqID, body, err := l.fetch(rctx, client, user, path, hxFrom)
		o.Duration, o.Status, o.RequestID, o.Err = time.Since(start), status, reqID, err
		if err == nil && status == http.StatusOK {
			if kind == kindComparison && l.inspect {
				o.Columns = readColumns(body)
			}
			if onOK != nil {
				onOK(&o, body)
			}
		}
		l.obs[user] = append(l.obs[user], o)
		return status, err
	}}
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

// observations returns every user's observations in one slice.
func (l *Run) Observations() []Observation {
	var all []Observation
	for _, o := range l.obs {
		all = append(all, o...)
	}
	return all
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
