package config

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// IssuerConfig configures the issuer's records (package issuerdb). The database URL itself is
// Config.IssuerDBURL (CTPDESK_ISSUER_DATABASE_URL).
type IssuerConfig struct {
	// PhoneRegion is the region of phone numbers typed without a country code
	// (CTPDESK_PHONE_REGION, ISO 3166-1 alpha-2, default GB).
	PhoneRegion string
	// DevCustomers is how many synthetic customers `ctpdesk dev` seeds on first start
	// (CTPDESK_DEV_CUSTOMERS, default 20,000); DevSeed the generator seed (CTPDESK_DEV_SEED).
	DevCustomers int
	DevSeed      int64
	// Searches is how many issuer searches run at once, the others waiting for a turn
	// (CTPDESK_ISSUER_SEARCHES; 0, the default, is issuerdb.DefaultSearches: two per CPU).
	Searches int
}

// Issuer defaults.
const (
	phoneRegionEnv      = "CTPDESK_PHONE_REGION"
	devCustomersEnv     = "CTPDESK_DEV_CUSTOMERS"
	devSeedEnv          = "CTPDESK_DEV_SEED"
	searchesEnv         = "CTPDESK_ISSUER_SEARCHES"
	maxSearches         = 1024
	searchesDefault     = "2 per CPU"
	defaultPhoneRegion  = "GB"
	defaultDevCustomers = 20_000
)

// searchesShown is Searches as the start line prints it.
func (c IssuerConfig) searchesShown() string {
	if c.Searches == 0 {
		return searchesDefault
	}
	return strconv.Itoa(c.Searches)
}

// issuerConfig reads the issuer settings.
func (r *envReader) issuerConfig() IssuerConfig {
	c := IssuerConfig{
		PhoneRegion:  defaultPhoneRegion,
		DevCustomers: r.integer(devCustomersEnv, defaultDevCustomers, 1, 10_000_000),
		DevSeed:      int64(r.integer(devSeedEnv, 1, 0, 1<<31-1)),
	}
	// Unset, the number follows the CPUs of the machine ctpdesk runs on; --help says so.
	r.note(searchesEnv, searchesDefault)
	c.Searches = r.integer(searchesEnv, 0, 1, maxSearches)
	if v, ok := r.raw(phoneRegionEnv); ok {
		region := strings.ToUpper(v)
		if !phonenumbers.GetSupportedRegions()[region] {
			r.fail(phoneRegionEnv, "%q is not a region phone numbers can be read for (use an ISO 3166-1 alpha-2 code such as GB)", v)
		} else {
			c.PhoneRegion = region
		}
	}
	return c
}
