// Package views holds ctpdesk's templ components and the view models they take. It imports no
// other ctpdesk package: handlers build the view models, views only print them.
package views

// Base is what every full page needs: its title, the signed-in user (nil before login), the
// CSRF token for forms and htmx requests, the asset URLs and the version for the footer.
type Base struct {
	Title     string
	User      *UserView
	CSRFToken string
	Version   string
	Assets    Assets
	RequestID string
	// Nav marks the current section in the header ("search", "audit").
	Nav string
}

// UserView is the signed-in user as the header shows them.
type UserView struct {
	Name  string
	Role  string
	Roles []string
	// IdleTimeoutSeconds drives the idle-timeout warning; 0 disables it.
	IdleTimeoutSeconds int
	// CanSearch and CanAudit decide which navigation links appear.
	CanSearch bool
	CanAudit  bool
	// CanScan shows the scans (fraud analysts); CanSearch also shows the worklist.
	CanScan bool
}

// Assets are the versioned URLs of the front-end files.
type Assets struct {
	PicoCSS string
	AppCSS  string
	HTMX    string
	AppJS   string
	Icon    string
}

// ErrorPage is the view model of an error page.
type ErrorPage struct {
	Status    int
	Title     string
	Message   string
	RequestID string
}

// HomePage is the view model of the landing page, shown to visitors who are not signed in
// (signed-in staff are sent on to the page of their role).
type HomePage struct {
	// SignInURL starts the sign-in at the corporate provider.
	SignInURL string
}
