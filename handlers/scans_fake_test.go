package handlers

import (
	"context"

	"ctpdesk/scan"
)

// unscanned stands in for the portfolio scan in tests that do not exercise it: the customer
// page asks every time and hears "not scanned yet"; anything else is an unexpected call.
type unscanned struct{ u unused }

func (s unscanned) StartScan(context.Context, scan.StartRequest) (scan.Run, error) {
	s.u.fail("Scans.StartScan")
	return scan.Run{}, errUnused
}

func (s unscanned) Cancel(context.Context, int64, string) (scan.Run, error) {
	s.u.fail("Scans.Cancel")
	return scan.Run{}, errUnused
}

func (s unscanned) Resume(context.Context, int64) (scan.Run, error) {
	s.u.fail("Scans.Resume")
	return scan.Run{}, errUnused
}

func (s unscanned) Runs(context.Context, int) ([]scan.Progress, error) {
	s.u.fail("Scans.Runs")
	return nil, errUnused
}

func (s unscanned) Worklist(context.Context, scan.WorklistQuery) (scan.WorklistPage, error) {
	s.u.fail("Scans.Worklist")
	return scan.WorklistPage{}, errUnused
}

func (s unscanned) Decide(context.Context, scan.Decision) (scan.Item, error) {
	s.u.fail("Scans.Decide")
	return scan.Item{}, errUnused
}

func (s unscanned) Customer(context.Context, string, scan.Viewer) (scan.CustomerStatus, error) {
	return scan.CustomerStatus{}, nil
}
