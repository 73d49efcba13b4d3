package config

// RevealConfig bounds how many reveals one agent (issuer and subject) may make; one reveal shows
// a field everywhere on the customer's page. The limits are counted from the audit trail, so they hold across replicas.
type RevealConfig struct {
	// PerMinute is the most reveals in any minute (CTPDESK_REVEAL_PER_MINUTE, default 5).
	PerMinute int
	// PerDay is the most reveals in any 24 hours (CTPDESK_REVEAL_PER_DAY, default 100).
	PerDay int
}

// Reveal defaults and bounds. A minute's limit above one a second is no limit for a person; a
// day's above 10,000 would let one agent read a portfolio's contact data.
const (
	revealPerMinuteEnv     = "CTPDESK_REVEAL_PER_MINUTE"
	revealPerDayEnv        = "CTPDESK_REVEAL_PER_DAY"
	defaultRevealPerMinute = 5
	defaultRevealPerDay    = 100
	maxRevealPerMinute     = 60
	maxRevealPerDay        = 10_000
)

// revealConfig reads the reveal limits. A day's limit below the minute's would make the
// minute's meaningless, which is a mistake worth saying at start.
func (r *envReader) revealConfig() RevealConfig {
	c := RevealConfig{
		PerMinute: r.integer(revealPerMinuteEnv, defaultRevealPerMinute, 1, maxRevealPerMinute),
		PerDay:    r.integer(revealPerDayEnv, defaultRevealPerDay, 1, maxRevealPerDay),
	}
	if c.PerDay < c.PerMinute && !r.failed(revealPerMinuteEnv) && !r.failed(revealPerDayEnv) {
		r.fail(revealPerDayEnv, "%d is below %s (%d)", c.PerDay, revealPerMinuteEnv, c.PerMinute)
	}
	return c
}
