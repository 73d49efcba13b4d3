package views

// LoginPage is the view model of the sign-in page.
type LoginPage struct {
	// StartURL begins the sign-in at the corporate provider, carrying where to return.
	StartURL string
	// Expired says the previous session ended through inactivity or its lifetime.
	Expired bool
	// Ended says the previous session was ended by the re-check at the sign-in service: the
	// person's account or groups changed there.
	Ended bool
	// SignedOut says the user has just signed out.
	SignedOut bool
}

// SignInFailedPage is shown when the provider's answer was refused. Reason is a stable code
// (such as "id_token_invalid") support can look up; it never holds token contents.
type SignInFailedPage struct {
	Status    int
	Reason    string
	RequestID string
}

// NoAccessPage is shown to a person the provider vouched for but who holds no ctpdesk role.
type NoAccessPage struct {
	Name      string
	RequestID string
	// SignedIn says a session exists (it lost its role since sign-in): the page then offers
	// sign-out instead of saying the person was not signed in.
	SignedIn bool
}

// SignInUnavailablePage is shown, with status 503, while the bank's sign-in service cannot be
// reached: nobody can sign in, and people already signed in are not affected.
type SignInUnavailablePage struct {
	// RetryAfterSeconds is when trying again makes sense.
	RetryAfterSeconds int
	RequestID         string
}
