package d1

// This file is the one mapping layer between D1's wire format and the package's types. Every
// path suffix and JSON field name lives here. Only "clickToPayProfiles" (the top-level array)
// and the token endpoint are confirmed by the D1 documentation; every name inside a profile is
// provisional (see docs/d1-api.md). When the real specification arrives, edit this
// file only: the client, the sandbox and the tests all go through it.

// Paths, relative to the configured base URLs.
const (
	// TokenPath is appended to the authz base URL (…/authz/v1).
	TokenPath = "/oauth2/token"
	// ProfilesPathSuffix is the last segment of the get-profiles path
	// {banking}/issuers/{issuerId}/consumers/{consumerId}/{ProfilesPathSuffix}.
	ProfilesPathSuffix = "clickToPayProfiles"
)

// ProfilesPath returns the get-profiles path for an issuer and consumer, relative to the
// banking base URL. Both ids are validated before this is called, so no escaping is needed.
func ProfilesPath(issuerID, consumerID string) string {
	return "/issuers/" + issuerID + "/consumers/" + consumerID + "/" + ProfilesPathSuffix
}

// Headers and form values of the wire protocol.
const (
	HeaderCorrelationID = "x-correlation-id"
	GrantTypeJWTBearer  = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// wireProfiles is the body of a 200 from get-profiles.
type wireProfiles struct {
	Profiles []wireProfile `json:"clickToPayProfiles"`
}

// wireProfile is one directory's profile.
type wireProfile struct {
	Scheme   wireString   `json:"scheme"`
	Consumer wireConsumer `json:"consumerInfo"`
	Cards    []wireCard   `json:"cards"`
}

// wireConsumer is the person part of a profile. Email and phone accept one value or an array.
type wireConsumer struct {
	FirstName  wireString  `json:"firstName"`
	MiddleName wireString  `json:"middleName,omitempty"`
	LastName   wireString  `json:"lastName"`
	Email      wireStrings `json:"email,omitempty"`
	Phone      wirePhones  `json:"mobilePhoneNumber,omitempty"`
	Language   wireString  `json:"language,omitempty"`
}

// wirePhone is a phone number as D1 structures it.
type wirePhone struct {
	CountryCode wireString `json:"countryCode,omitempty"`
	PhoneNumber wireString `json:"phoneNumber"`
}

// wireCard is one card of a profile. PANLastDigits is a wirePAN: a longer number is cut to
// its last four digits while it is decoded.
type wireCard struct {
	CardID         wireString  `json:"cardId"`
	PANLastDigits  wirePAN     `json:"panLastDigits"`
	ExpiryDate     wireString  `json:"expiryDate,omitempty"`
	CardholderName wireString  `json:"cardholderName,omitempty"`
	BillingAddress wireAddress `json:"billingAddress"`
	Status         wireString  `json:"status,omitempty"`
}

// wireAddress is a billing address.
type wireAddress struct {
	Line1       wireString `json:"line1,omitempty"`
	Line2       wireString `json:"line2,omitempty"`
	Line3       wireString `json:"line3,omitempty"`
	City        wireString `json:"city,omitempty"`
	State       wireString `json:"state,omitempty"`
	PostalCode  wireString `json:"postalCode,omitempty"`
	CountryCode wireString `json:"countryCode,omitempty"`
}

// wireToken is the body of a 200 from the token endpoint.
type wireToken struct {
	AccessToken string  `json:"access_token"`
	ExpiresIn   float64 `json:"expires_in"`
	Scope       string  `json:"scope,omitempty"`
	TokenType   string  `json:"token_type,omitempty"`
}

// wireError is a D1 error body: errorCode is often absent (401 sends only error).
type wireError struct {
	ErrorCode string `json:"errorCode,omitempty"`
	Error     string `json:"error,omitempty"`
}

// toProfile maps one wire profile onto the package type.
func (w wireProfile) toProfile() Profile {
	p := Profile{
		Directory: string(w.Scheme),
		Consumer: Consumer{
			FirstName:  redactPANs(string(w.Consumer.FirstName)),
			MiddleName: redactPANs(string(w.Consumer.MiddleName)),
			LastName:   redactPANs(string(w.Consumer.LastName)),
			Language:   string(w.Consumer.Language),
		},
	}
	for _, e := range w.Consumer.Email {
		p.Consumer.Emails = append(p.Consumer.Emails, redactPANs(e))
	}
	for _, ph := range w.Consumer.Phone {
		p.Consumer.Phones = append(p.Consumer.Phones, Phone{CountryCode: string(ph.CountryCode), Number: string(ph.PhoneNumber)})
	}
	p.Cards = make([]Card, 0, len(w.Cards))
	for _, c := range w.Cards {
		p.Cards = append(p.Cards, Card{
			ID:             redactPANs(string(c.CardID)),
			Last4:          string(c.PANLastDigits),
			Expiry:         string(c.ExpiryDate),
			CardholderName: redactPANs(string(c.CardholderName)),
			Status:         string(c.Status),
			BillingAddress: Address{
				Line1:      redactPANs(string(c.BillingAddress.Line1)),
				Line2:      redactPANs(string(c.BillingAddress.Line2)),
				Line3:      redactPANs(string(c.BillingAddress.Line3)),
				City:       redactPANs(string(c.BillingAddress.City)),
				State:      string(c.BillingAddress.State),
				PostalCode: string(c.BillingAddress.PostalCode),
				Country:    string(c.BillingAddress.CountryCode),
			},
		})
	}
	return p
}

// fromProfile maps a package profile onto the wire; the sandbox encodes with it.
func fromProfile(p Profile) wireProfile {
	w := wireProfile{
		Scheme: wireString(p.Directory),
		Consumer: wireConsumer{
			FirstName:  wireString(p.Consumer.FirstName),
			MiddleName: wireString(p.Consumer.MiddleName),
			LastName:   wireString(p.Consumer.LastName),
			Email:      wireStrings(p.Consumer.Emails),
			Language:   wireString(p.Consumer.Language),
		},
		Cards: make([]wireCard, 0, len(p.Cards)),
	}
	for _, ph := range p.Consumer.Phones {
		w.Consumer.Phone = append(w.Consumer.Phone, wirePhone{CountryCode: wireString(ph.CountryCode), PhoneNumber: wireString(ph.Number)})
	}
	for _, c := range p.Cards {
		w.Cards = append(w.Cards, wireCard{
			CardID:         wireString(c.ID),
			PANLastDigits:  wirePAN(c.Last4),
			ExpiryDate:     wireString(c.Expiry),
			CardholderName: wireString(c.CardholderName),
			Status:         wireString(c.Status),
			BillingAddress: wireAddress{
				Line1:       wireString(c.BillingAddress.Line1),
				Line2:       wireString(c.BillingAddress.Line2),
				Line3:       wireString(c.BillingAddress.Line3),
				City:        wireString(c.BillingAddress.City),
				State:       wireString(c.BillingAddress.State),
				PostalCode:  wireString(c.BillingAddress.PostalCode),
				CountryCode: wireString(c.BillingAddress.Country),
			},
		})
	}
	return w
}
