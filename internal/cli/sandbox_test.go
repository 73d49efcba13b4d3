package cli

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/internal/config"
	"ctpdesk/issuerdb"
)

// TestSandboxCommand runs `ctpdesk sandbox` in-process, reads what it prints, and drives it
// with the real D1 client using the throwaway key it wrote.
func TestSandboxCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"CTPDESK_DATA_DIR": dir, "CTPDESK_DEV_CUSTOMERS": "300", "CTPDESK_DEV_SEED": "7",
		"CTPDESK_SANDBOX_CONSUMER_FAULTS": "slow-consumer=status=503",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"ctpdesk", "sandbox", "--addr", "127.0.0.1:0"}, envFrom(env), &stdout, &stderr)
	}()
	re := regexp.MustCompile(`listening on (http://\S+)\n\s+issuer id:\s+(\S+)\n\s+kid:\s+(\S+)\n\s+public key:\s+(\S+)\n\s+private key:\s+(\S+)`)
	var m []string
	for deadline := time.Now().Add(30 * time.Second); m == nil; {
		m = re.FindStringSubmatch(stdout.String())
		select {
		case err := <-done:
			t.Fatalf("sandbox exited: %v\n%s\n%s", err, stdout.String(), stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox did not start:\n%s", stdout.String())
		}
	}
	url, issuer, kid, privFile := m[1], m[2], m[3], m[5]
	if issuer != config.DevIssuerID {
		t.Errorf("issuer id %q", issuer)
	}
	cfg := d1.Config{AuthzURL: url + "/authz/v1", BankingURL: url + "/banking/v1", IssuerID: issuer, KeyID: kid, SigningKeyFile: privFile}
	hc, err := d1.NewHTTPClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client, err := d1.New(cfg, hc)
	if err != nil {
		t.Fatal(err)
	}
	// The sandbox serves the portfolio `ctpdesk dev` seeds for the same seed.
	known := issuerdb.NewGenerator(7).Customer(12).ConsumerID
	if _, err := client.GetProfiles(ctx, known, d1.FetchOptions{}); err != nil {
		t.Fatalf("generated consumer: %v", err)
	}
	if _, err := client.GetProfiles(ctx, issuerdb.NewGenerator(7).Customer(300).ConsumerID, d1.FetchOptions{}); !errors.Is(err, d1.ErrNotFound) {
		t.Fatalf("consumer beyond the portfolio: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("clean stop returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop")
	}
}

// TestSandboxCommandRejectsBadFlags checks hostile flag values fail with a clear error.
func TestSandboxCommandRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--fault", "explode"},
		{"--consumer-faults", "no-equals"},
		{"--public-key", "/nonexistent.pem", "--kid", "k"},
		{"--public-key", "/nonexistent.pem"},
		{"--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.pem"},
		{"--issuer-id", "SHORT", "--addr", "127.0.0.1:0"},
		{"extra-argument"},
	} {
		var out syncBuffer
		err := Run(context.Background(), append([]string{"ctpdesk", "sandbox"}, args...), envFrom(map[string]string{"CTPDESK_DATA_DIR": t.TempDir(), "CTPDESK_DEV_CUSTOMERS": "10"}), &out, &out)
		if err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
