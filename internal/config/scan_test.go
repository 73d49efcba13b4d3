package config

import (
	"strings"
	"testing"
	"time"
)

func TestScanConfigDefaults(t *testing.T) {
	c, err := Load(envFrom(nil), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	want := ScanConfig{Rate: 5, Schedule: "0 2 * * *", Workers: 4, ChunkSize: 250, JobTimeout: 10 * time.Minute}
	if c.Scan != want {
		t.Errorf("defaults = %+v, want %+v", c.Scan, want)
	}
}

func TestScanConfigReadsEveryVariable(t *testing.T) {
	key := strings.Repeat("ab", 32)
	c, err := Load(envFrom(map[string]string{
		"CTPDESK_SCAN_RATE":            "0.5",
		"CTPDESK_SCAN_SCHEDULE":        "CRON_TZ=Europe/London 30 1 * * 1-5",
		"CTPDESK_SCAN_WORKERS":         "8",
		"CTPDESK_SCAN_CHUNK":           "100",
		"CTPDESK_SCAN_JOB_TIMEOUT":     "2m",
		"CTPDESK_SCAN_FINGERPRINT_KEY": key,
	}), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Scan
	if s.Rate != 0.5 || s.Schedule != "CRON_TZ=Europe/London 30 1 * * 1-5" || s.Workers != 8 || s.ChunkSize != 100 || s.JobTimeout != 2*time.Minute {
		t.Errorf("scan config = %+v", s)
	}
	if got := s.FingerprintKeyBytes(); len(got) != 32 || got[0] != 0xab {
		t.Errorf("fingerprint key = %x", got)
	}
	if strings.Contains(s.FingerprintKey.String(), "ab") {
		t.Error("the fingerprint key prints")
	}
}

func TestScanScheduleOff(t *testing.T) {
	for _, v := range []string{"off", "OFF", " Off "} {
		c, err := Load(envFrom(map[string]string{"CTPDESK_SCAN_SCHEDULE": v}), ModeDev)
		if err != nil || c.Scan.Schedule != "" {
			t.Errorf("%q: schedule %q, %v; want off", v, c.Scan.Schedule, err)
		}
	}
	c, err := Load(envFrom(map[string]string{"CTPDESK_SCAN_RATE": "0"}), ModeDev)
	if err != nil || c.Scan.Rate != 0 {
		t.Errorf("rate 0 (no cap): %v, %v", c.Scan.Rate, err)
	}
}

// Hostile and broken values are refused with an error naming the variable, never a panic
// (the cron library panics on a bare time zone prefix).
func TestScanConfigRefusesHostileValues(t *testing.T) {
	for name, values := range map[string][]string{
		"CTPDESK_SCAN_RATE": {"-1", "NaN", "Inf", "+Inf", "1e400", "five", "10001", "0x10", "5/s"},
		"CTPDESK_SCAN_SCHEDULE": {"TZ=", "CRON_TZ=", "TZ=Europe/London", "CRON_TZ=Nowhere/Land 0 2 * * *",
			"* * * * * *", "60 * * * *", "*/0 * * * *", "0 0 30 2 *", "@every 1s", "@every -1s", "@every",
			"0 2 * * *\n0 3 * * *", "0 2 * * \x00", strings.Repeat("1,", 100) + "1 * * * *",
			"0-59/99999999999999999999 * * * *"},
		"CTPDESK_SCAN_WORKERS":         {"0", "65", "-3", "four"},
		"CTPDESK_SCAN_CHUNK":           {"0", "9", "5001", "1e3"},
		"CTPDESK_SCAN_JOB_TIMEOUT":     {"500ms", "7h", "forever", "-5m"},
		"CTPDESK_SCAN_FINGERPRINT_KEY": {"short", "abcd", "not base64 !!", strings.Repeat("a", 63)},
	} {
		for _, v := range values {
			_, err := Load(envFrom(map[string]string{name: v}), ModeDev)
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: err = %v, want one naming %s", name, v, err, name)
			}
		}
	}
}
