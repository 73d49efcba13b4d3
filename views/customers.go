package views

// SearchResults is the view model of the customer search: the page around the box and the
// results fragment htmx swaps while the agent types. The JSON twin of /customers is this
// struct as well, so scripts see what the screen shows (masked the same way).
type SearchResults struct {
	Query string `json:"query"`
	// Kind is what the query was understood as ("email", "name", …) and KindLabel how the page
	// says it ("searching by card last 4").
	Kind      string `json:"kind,omitempty"`
	KindLabel string `json:"-"`
	// Message explains why the query cannot be run; it replaces the results.
	Message string      `json:"message,omitempty"`
	Rows    []SearchRow `json:"results"`
	// From and To number the rows of this page (1-based), Total counts every match up to a
	// cap, TotalOver says more match than that and TotalAtLeast that Total is a lower bound;
	// CountText says it in words ("Showing 20 of 228", "Showing 21–40 of over 1,000").
	From         int    `json:"from,omitempty"`
	To           int    `json:"to,omitempty"`
	Total        int    `json:"total"`
	TotalOver    bool   `json:"totalOver,omitempty"`
	TotalAtLeast bool   `json:"totalAtLeast,omitempty"`
	CountText    string `json:"-"`
	// NextURL is the link to the next page, "" on the last one.
	NextURL string `json:"next,omitempty"`
	// Recent is the signed-in user's recently viewed customers, shown while the box is empty;
	// nil with a query.
	Recent *RecentList `json:"recent,omitempty"`
}

// RecentList is the "recently viewed" list of the search page: the customers the signed-in
// user opened last, newest first.
type RecentList struct {
	Items []RecentItem `json:"items"`
	// Unavailable says the list could not be read; the page says so rather than show none.
	Unavailable bool `json:"unavailable,omitempty"`
}

// RecentItem is one recently viewed customer.
type RecentItem struct {
	CustomerID string `json:"customerId"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	URL        string `json:"url"`
	// Viewed is when the user last opened the customer, as the page prints it; ViewedISO the
	// same moment for the <time> element and scripts.
	Viewed    string `json:"-"`
	ViewedISO string `json:"viewedAt"`
}

// SearchRow is one customer in the results table: what tells namesakes apart (where they
// live, their cards) rather than internal ids.
type SearchRow struct {
	CustomerID string `json:"customerId"`
	ConsumerID string `json:"consumerId"`
	Name       string `json:"name"`
	// NameParts is Name cut where the query matched it, for the highlight.
	NameParts []TextPart `json:"-"`
	// Place is the city with the postal code ("Manchester M4 1AB"), Country its ISO code.
	Place   string        `json:"place"`
	Country string        `json:"country"`
	Email   string        `json:"email"`
	Phone   string        `json:"phone"`
	Status  string        `json:"status"`
	Cards   []CardSummary `json:"cards"`
	URL     string        `json:"url"`
}

// TextPart is a piece of displayed text; Mark highlights it as what the search matched.
type TextPart struct {
	Text string
	Mark bool
}

// CardSummary is a card as one line of a results row. Match marks the card whose last 4 the
// query gave.
type CardSummary struct {
	Scheme string `json:"scheme"`
	Last4  string `json:"last4"`
	Status string `json:"status"`
	Match  bool   `json:"-"`
}

// CustomerRecord is the issuer half of the customer page: the record as the issuer holds it.
type CustomerRecord struct {
	CustomerID string `json:"customerId"`
	ConsumerID string `json:"consumerId"`
	Name       string `json:"name"`
	FirstName  string `json:"firstName"`
	MiddleName string `json:"middleName,omitempty"`
	LastName   string `json:"lastName"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	Masked     bool   `json:"masked"`
	// RevealEmail and RevealPhone are the Reveal controls that stand in for the masked email
	// and phone, for viewers who may reveal them (agents); nil shows the value as it is.
	RevealEmail *RevealForm  `json:"-"`
	RevealPhone *RevealForm  `json:"-"`
	Language    string       `json:"language"`
	Country     string       `json:"country"`
	Address     []string     `json:"address"`
	Status      string       `json:"status"`
	Created     string       `json:"created"`
	Updated     string       `json:"updated"`
	Cards       []CardRecord `json:"cards"`
	// ComparisonURL is the fragment the page loads beside the record; it carries the page's
	// "show" choice, so "all fields" survives a reload.
	ComparisonURL string `json:"comparisonUrl"`
	// Scan is what the portfolio scans say about the customer; nil when the page has no scans.
	Scan *CustomerScan `json:"scan,omitempty"`
}

// CardRecord is one card of the issuer record. Only the last four digits of a PAN exist.
type CardRecord struct {
	ID             string   `json:"id"`
	Scheme         string   `json:"scheme"`
	Last4          string   `json:"last4"`
	Expiry         string   `json:"expiry"` // MM/YY, as every screen writes an expiry
	CardholderName string   `json:"cardholderName"`
	Status         string   `json:"status"`
	Product        string   `json:"product"`
	BillingAddress []string `json:"billingAddress"`
}
