//go:build integration

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hvmigrate/integration/cluster"
)

// sasSignature matches a SAS signature parameter with a value that is not
// redacted.
var sasSignature = regexp.MustCompile(`sig=[A-Za-z0-9%+/=]{8,}`)

// assertNoSecrets fails the test when any log of the cluster holds a SAS
// signature, the storage account key, the registration secret or a
// private key.
func assertNoSecrets(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	secrets := map[string]string{"storage account key": c.Storage.Key.Reveal()}
	if b, err := os.ReadFile(c.KeyFile); err == nil {
		var key map[string]any
		if json.Unmarshal(b, &key) == nil {
			for k, v := range key {
				if s, ok := v.(string); ok && strings.Contains(strings.ToLower(k), "secret") && len(s) >= 16 {
					secrets["registration secret"] = s
				}
			}
		}
	}
	if _, ok := secrets["registration secret"]; !ok {
		t.Fatalf("no registration secret found in the key file %s: the scan would be blind", c.KeyFile)
	}
	logs, err := filepath.Glob(filepath.Join(c.LogDir, "*.log"))
	if err != nil || len(logs) < 4 {
		t.Fatalf("logs to scan: %v %v", logs, err)
	}
	scanned := 0
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		scanned += len(b)
		for what, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s: the %s appears in the log", filepath.Base(path), what)
			}
		}
		if m := sasSignature.FindString(text); m != "" {
			t.Errorf("%s: a SAS signature appears in the log: %.12s…", filepath.Base(path), m)
		}
		if strings.Contains(text, "PRIVATE KEY") {
			t.Errorf("%s: a private key appears in the log", filepath.Base(path))
		}
	}
	t.Logf("no secret in %d logs (%d bytes)", len(logs), scanned)
}
