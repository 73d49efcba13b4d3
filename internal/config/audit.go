package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"ctpdesk/audit"
)

// AuditConfig configures the audit trail (package audit).
type AuditConfig struct {
	// HMACKey seals the trail's checkpoints (CTPDESK_AUDIT_HMAC_KEY): at least 32 bytes,
	// written as hex or base64. Required by serve; dev keeps a generated key in its data dir.
	HMACKey Secret
	// Retention is how long events are kept (CTPDESK_AUDIT_RETENTION, default 400 days,
	// written like "400d" or "9600h"). PCI DSS 10.5.1 asks for 12 months, so serve refuses
	// less than 365 days.
	Retention time.Duration
	// CheckpointEvery seals a checkpoint every this many events
	// (CTPDESK_AUDIT_CHECKPOINT_EVERY, default 1000).
	CheckpointEvery int64
	// RecordTimeout is how long a request waits for its audit event to be committed before it
	// answers 503 (CTPDESK_AUDIT_RECORD_TIMEOUT, default 1s): a failing database must be
	// said fast, and the data is never shown without its event.
	RecordTimeout time.Duration
	// Witness is the file that receives a copy of every sealed checkpoint, outside the
	// dashboard database (CTPDESK_AUDIT_WITNESS): an absolute path on separate storage,
	// required by serve. Empty in dev means DevAuditWitnessFile in the data dir; see
	// Config.AuditWitnessFile.
	Witness string
}

// Audit defaults and limits.
const (
	day                     = 24 * time.Hour
	defaultAuditRetention   = 400 * day
	minServeAuditRetention  = 365 * day
	defaultCheckpointEvery  = 1000
	devAuditKeyFile         = "audit-hmac.key"
	maxWitnessPath          = 1024
	auditKeyEnv             = "CTPDESK_AUDIT_HMAC_KEY"
	auditWitnessEnv         = "CTPDESK_AUDIT_WITNESS"
	auditRetentionEnv       = "CTPDESK_AUDIT_RETENTION"
	auditCheckpointEveryEnv = "CTPDESK_AUDIT_CHECKPOINT_EVERY"
)

// DevAuditWitnessFile is the witness file's name in dev's data dir.
const DevAuditWitnessFile = "audit-witness.jsonl"

// AuditWitnessFile is the audit witness: CTPDESK_AUDIT_WITNESS, or in dev the JSON-lines file
// in the data directory.
func (c Config) AuditWitnessFile() string {
	if c.Audit.Witness != "" {
		return c.Audit.Witness
	}
	return filepath.Join(c.DataDir, DevAuditWitnessFile)
}

// auditConfig reads the audit settings for mode.
func (r *envReader) auditConfig(mode Mode) AuditConfig {
	a := AuditConfig{
		Retention:       r.retention(auditRetentionEnv, defaultAuditRetention),
		CheckpointEvery: int64(r.integer(auditCheckpointEveryEnv, defaultCheckpointEvery, 1, 1_000_000)),
		RecordTimeout:   r.duration("CTPDESK_AUDIT_RECORD_TIMEOUT", audit.DefaultRecordTimeout, 100*time.Millisecond, time.Minute),
		Witness:         r.witnessPath(auditWitnessEnv, mode),
	}
	if v, ok := r.raw(auditKeyEnv); ok {
		if _, err := decodeAuditKey(v); err != nil {
			r.fail(auditKeyEnv, "%v", err)
		} else {
			a.HMACKey = Secret(v)
		}
	}
	if mode == ModeServe {
		r.require(auditKeyEnv)
		r.require(auditWitnessEnv)
		if a.Retention < minServeAuditRetention {
			r.fail(auditRetentionEnv, "%s is shorter than the 365 days PCI DSS 10.5.1 requires", FormatDays(a.Retention))
		}
	}
	return a
}

// witnessPath reads the witness file's path. It must name a file (not a directory, not a URL);
// serve also wants it absolute, since a path relative to the working directory would land
// wherever the process happens to start, most likely beside the database.
func (r *envReader) witnessPath(name string, mode Mode) string {
	if mode == ModeDev {
		r.note(name, filepath.Join("CTPDESK_DATA_DIR", DevAuditWitnessFile))
	}
	v := r.str(name, "")
	switch {
	case v == "" || r.failed(name):
		return ""
	case len(v) > maxWitnessPath:
		r.fail(name, "is longer than %d bytes", maxWitnessPath)
	case strings.Contains(v, "://") || strings.HasPrefix(v, "file:"):
		r.fail(name, "must be a file path, not a URL")
	case strings.HasSuffix(v, "/") || filepath.Clean(v) == "/" || filepath.Base(filepath.Clean(v)) == "." || filepath.Base(filepath.Clean(v)) == "..":
		r.fail(name, "must name a file, not a directory")
	case mode == ModeServe && !filepath.IsAbs(v):
		r.fail(name, "must be an absolute path (a file on storage apart from the database)")
	default:
		return filepath.Clean(v)
	}
	return ""
}

// witnessApartFromDatabase refuses a witness that is the dashboard's SQLite database itself
// (or one of its journal files): the witness exists to outlive that file.
func (r *envReader) witnessApartFromDatabase(c Config) {
	path, ok := strings.CutPrefix(c.DashboardDatabaseURL(), "sqlite:")
	if !ok || c.Audit.Witness == "" {
		return
	}
	db := filepath.Clean(strings.TrimPrefix(path, "//"))
	for _, f := range []string{db, db + "-wal", db + "-shm", db + "-journal"} {
		if c.Audit.Witness == f {
			r.fail(auditWitnessEnv, "is the dashboard database's own file; the witness must live apart from it")
			return
		}
	}
}

// retention reads a duration that may also be written in whole days ("400d").
func (r *envReader) retention(name string, def time.Duration) time.Duration {
	r.note(name, FormatDays(def))
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	var d time.Duration
	if n, found := strings.CutSuffix(v, "d"); found {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*366 {
			r.fail(name, "%q is not a number of days such as 400d", v)
			return def
		}
		d = time.Duration(days) * day
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			r.fail(name, "%q is not a duration such as 400d or 9600h", v)
			return def
		}
	}
	if d < day {
		r.fail(name, "%s is shorter than one day", v)
		return def
	}
	return d
}

func FormatDays(d time.Duration) string { return strconv.Itoa(int(d/day)) + "d" }

// decodeAuditKey accepts a key written as hex or as standard or URL-safe base64, and refuses
// anything shorter than audit.MinKeyLen bytes.
func decodeAuditKey(s string) ([]byte, error) {
	var key []byte
	if isHex(s) {
		// Only hex digits: it is meant as hex, even if a typo made it valid base64 too.
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, errors.New("looks like hex but has an odd number of digits")
		}
		key = b
	} else {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				key = b
				break
			}
		}
	}
	if key == nil {
		return nil, errors.New("is neither hex nor base64")
	}
	if len(key) < audit.MinKeyLen {
		return nil, fmt.Errorf("holds %d bytes; at least %d are required (generate one with: openssl rand -hex 32)", len(key), audit.MinKeyLen)
	}
	return key, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// auditKey returns the HMAC key: the configured one, or in dev the key kept in the data dir,
// which is generated on first use when create is true. The file is what keeps a dev trail
// verifiable across restarts.
func (a AuditConfig) AuditKey(mode Mode, dataDir string, create bool) ([]byte, error) {
	if a.HMACKey != "" {
		key, err := decodeAuditKey(a.HMACKey.Reveal())
		if err != nil {
			return nil, fmt.Errorf("%s %w", auditKeyEnv, err)
		}
		return key, nil
	}
	if mode != ModeDev {
		return nil, fmt.Errorf("%s is required", auditKeyEnv)
	}
	path := filepath.Join(dataDir, devAuditKeyFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return createDevAuditKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit key: %w (set %s)", err, auditKeyEnv)
	}
	key, err := decodeAuditKey(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("audit key file %s %w", path, err)
	}
	return key, nil
}

// createDevAuditKey writes a fresh random key to a temporary file and links it into place,
// which fails if the file exists: two dev processes starting together cannot end up with
// different keys, and nobody ever reads a half-written key. The loser reads the winner's.
func createDevAuditKey(path string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), devAuditKeyFile+".*")
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(hex.EncodeToString(key) + "\n")
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return nil, fmt.Errorf("audit key: write: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		raw, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, fmt.Errorf("audit key: %w", rerr)
		}
		return decodeAuditKey(strings.TrimSpace(string(raw)))
	} else if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return key, nil
}
