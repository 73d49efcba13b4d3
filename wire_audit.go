package main

import (
	"context"
	"fmt"
	"time"
)

// retentionInterval is how often the retention purge runs.
const retentionInterval = 24 * time.Hour

// wireAudit opens the audit trail on the dashboard database and hands it to the handlers:
// the data routes and sign-in events record through it before anything is shown,
// and the auditors' pages read it. It also starts the retention purge. The trail is closed
// (its queue drained) when the app stops, before the database is.
func (a *app) wireAudit(ctx context.Context) error {
	db, err := a.dashboardDB(ctx)
	if err != nil {
		return err
	}
	tr, err := openAuditTrail(a.cfg, db, a.log)
	if err != nil {
		return fmt.Errorf("audit trail: %w", err)
	}
	a.onClose(tr.Close)
	a.deps.Auditor = tr
	a.deps.AuditTrail = tr
	rctx, stop := context.WithCancel(context.Background())
	a.onClose(func() error { stop(); return nil })
	go tr.RunRetention(rctx, a.cfg.Audit.Retention, retentionInterval)
	return nil
}
