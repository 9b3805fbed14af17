package hubclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpccreds "google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"hvmigrate/provider/internal/hubclient"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
	"hvmigrate/shared/identity"
)

var errFailed = errors.New("handler failed on purpose")

func TestRegister_success_filesPrivate(t *testing.T) {
	e := newHub(t)
	keyPath := e.key("alpha", "1h")
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	kf := readKeyFile(t, keyPath)
	id, dir := register(t, keyPath)
	if id.HostID == "" || id.ProjectID != kf.ProjectID || id.Hub != e.provider || !identity.FingerprintsEqual(id.CAFingerprint, kf.CAFingerprint) {
		t.Fatalf("identity = %+v", id)
	}
	for _, f := range []string{"host-key.pem", "host-cert.pem", "hub-ca.pem", "identity.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", f, fi.Mode(), err)
		}
	}
	if loaded, err := hubclient.LoadIdentity(dir); err != nil || loaded.HostID != id.HostID {
		t.Fatalf("LoadIdentity = %+v, %v", loaded, err)
	}
}

func TestRegister_refusals(t *testing.T) {
	e := newHub(t)
	tests := []struct {
		name string
		key  func(t *testing.T) string
		want error
	}{
		{"expired", func(t *testing.T) string {
			p := e.key("alpha", "1s")
			time.Sleep(1100 * time.Millisecond)
			return p
		}, hubclient.ErrKeyExpired},
		{"revoked", func(t *testing.T) string {
			p := e.key("alpha", "1h")
			e.mustCtl("key", "revoke", readKeyFile(t, p).KeyID)
			return p
		}, hubclient.ErrKeyRevoked},
		{"unknown to this hub", func(t *testing.T) string {
			kf := readKeyFile(t, e.key("alpha", "1h"))
			kf.Secret, _ = identity.NewSecret()
			return writeKeyFile(t, kf)
		}, hubclient.ErrKeyUnknown},
		{"wrong CA fingerprint", func(t *testing.T) string {
			kf := readKeyFile(t, e.key("alpha", "1h"))
			kf.CAFingerprint = "sha256:" + strings.Repeat("ab", 32)
			return writeKeyFile(t, kf)
		}, identity.ErrPinMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hubclient.Register(context.Background(), tt.key(t), filepath.Join(t.TempDir(), "p"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
	if out := e.mustCtl("host", "list", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("refused registrations made hosts: %s", out)
	}
	if !strings.Contains(e.out.String(), "registration refused") {
		t.Fatal("refusals are not audited in the hub log")
	}
	for _, out := range []string{e.out.String(), e.ctlOut.String()} {
		if strings.Contains(out, "PRIVATE KEY") {
			t.Fatal("a private key reached the output")
		}
	}
}

func TestRegister_expiredKeySaysWhatToDo(t *testing.T) {
	e := newHub(t)
	p := e.key("alpha", "1s")
	time.Sleep(1100 * time.Millisecond)
	_, err := hubclient.Register(context.Background(), p, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "hvmctl key create --project") || !strings.Contains(err.Error(), "expired at 20") {
		t.Fatalf("err = %v; want the expiry time and the next step", err)
	}
}

func TestRegister_reuse_samePublicKeySameHost_otherKeyRefusedAsTheft(t *testing.T) {
	e := newHub(t)
	keyPath := e.key("alpha", "1h")
	first, dir := register(t, keyPath)
	// A lost response: the host retries with the key it already generated.
	os.Remove(filepath.Join(dir, "identity.json"))
	again, err := hubclient.Register(context.Background(), keyPath, dir)
	if err != nil || again.HostID != first.HostID {
		t.Fatalf("retry = %+v, %v; want host %s", again, err, first.HostID)
	}
	_, err = hubclient.Register(context.Background(), keyPath, filepath.Join(t.TempDir(), "thief"))
	if !errors.Is(err, hubclient.ErrKeyUsed) {
		t.Fatalf("other public key: err = %v, want ErrKeyUsed", err)
	}
	kf := readKeyFile(t, keyPath)
	waitOutput(t, e.out, "probable theft", 1)
	for _, line := range strings.Split(e.out.String(), "\n") {
		if strings.Contains(line, "probable theft") && (!strings.Contains(line, "[WARN]") || !strings.Contains(line, "key_id="+kf.KeyID)) {
			t.Fatalf("theft line lacks WARN or key id: %s", line)
		}
	}
	hosts := decodeJSON[[]map[string]any](t, e.mustCtl("host", "list", "-o", "json"))
	if len(hosts) != 1 {
		t.Fatalf("hosts = %v, want 1", hosts)
	}
	assertNoSecrets(t, keyPath, e.out.String(), e.ctlOut.String())
}

func TestRegister_hundredConcurrentRedemptionsOneHost(t *testing.T) {
	e := newHub(t)
	keyPath := e.key("alpha", "1h")
	const n = 100
	var wg sync.WaitGroup
	errs := make([]error, n)
	base := t.TempDir()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = hubclient.Register(context.Background(), keyPath, filepath.Join(base, "p", string(rune('a'+i%26)), string(rune('a'+i/26))))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, hubclient.ErrKeyUsed):
			t.Errorf("unexpected: %v", err)
		}
	}
	hosts := decodeJSON[[]map[string]any](t, e.mustCtl("host", "list", "-o", "json"))
	if ok != 1 || len(hosts) != 1 {
		t.Fatalf("successes = %d, hosts = %d; want 1 and 1", ok, len(hosts))
	}
}

// foreignCSR carries pub's key but is signed by signer.
func foreignCSR(t *testing.T, pub, signer *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := identity.NewCSR(pub)
	if err != nil {
		t.Fatal(err)
	}
	var csr struct {
		Raw       asn1.RawContent
		Info      asn1.RawValue
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &csr); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(csr.Info.FullBytes)
	sig, err := ecdsa.SignASN1(rand.Reader, signer, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	csr.Raw, csr.Signature = nil, asn1.BitString{Bytes: sig, BitLength: len(sig) * 8}
	out, err := asn1.Marshal(csr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawConn dials the provider listener pinned like a provider, with cert.
func rawConn(t *testing.T, e *hubEnv, kf identity.KeyFile, cert *tls.Certificate) *grpc.ClientConn {
	t.Helper()
	cfg, err := identity.PinnedClientConfig(identity.Pin{Fingerprint: kf.CAFingerprint}, e.provider, cert)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(e.provider, grpc.WithTransportCredentials(grpccreds.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func TestRegister_csrWithForeignSignatureRefused(t *testing.T) {
	e := newHub(t)
	kf := readKeyFile(t, e.key("alpha", "1h"))
	a, _ := identity.GenerateKey()
	b, _ := identity.GenerateKey()
	_, err := hubv1.NewRegistrationServiceClient(rawConn(t, e, kf, nil)).Register(context.Background(), &hubv1.RegisterRequest{
		KeyId: kf.KeyID, Secret: kf.Secret.Reveal(), ProjectId: kf.ProjectID, CsrDer: foreignCSR(t, a, b), Protocol: hubclient.Protocol})
	if status.Code(err) != codes.InvalidArgument || reasonOf(err) != hubv1.ErrorReason_ERROR_REASON_CSR_INVALID.String() {
		t.Fatalf("err = %v (reason %q), want InvalidArgument CSR_INVALID", err, reasonOf(err))
	}
	// The key is still unused: a proper CSR redeems it.
	if _, err := hubclient.Register(context.Background(), writeKeyFile(t, kf), t.TempDir()); err != nil {
		t.Fatalf("register after a refused CSR: %v", err)
	}
}

func TestTLS_tls12ClientRefused(t *testing.T) {
	e := newHub(t)
	for _, addr := range []string{e.provider, e.admin} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
		if err == nil {
			conn.Close()
			t.Fatalf("%s: a TLS 1.2-only client completed a handshake", addr)
		}
		t.Logf("%s: %v", addr, err)
	}
}

func TestTLS_streamWithoutCertificateRefused(t *testing.T) {
	e := newHub(t)
	kf := readKeyFile(t, e.key("alpha", "1h"))
	st, err := hubv1.NewProviderServiceClient(rawConn(t, e, kf, nil)).Connect(context.Background())
	if err == nil {
		st.Send(&hubv1.ConnectRequest{Msg: &hubv1.ConnectRequest_Hello{Hello: &hubv1.Hello{Protocol: hubclient.Protocol}}})
		_, err = st.Recv() // TLS 1.3 and gRPC refusals show on the first read
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("err = %v, want Unauthenticated", err)
	}
	_, err = hubv1.NewProviderServiceClient(rawConn(t, e, kf, nil)).RenewCertificate(context.Background(), &hubv1.RenewCertificateRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("renew without certificate: err = %v, want Unauthenticated", err)
	}
}

func TestTLS_adminListenerRefusesMissingAndHostCertificates(t *testing.T) {
	e := newHub(t)
	// No certificate: the TLS 1.3 refusal shows on the first read.
	conn, err := tls.Dial("tcp", e.admin, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	if err == nil {
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Fatalf("admin without certificate: %v, want certificate required", err)
	}
	// A host certificate is from the wrong CA for the admin listener.
	_, dir := register(t, e.key("alpha", "1h"))
	key, _ := os.ReadFile(filepath.Join(dir, "host-key.pem"))
	cert, _ := os.ReadFile(filepath.Join(dir, "host-cert.pem"))
	hostCert, err := tls.X509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	conn, err = tls.Dial("tcp", e.admin, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{hostCert}})
	if err == nil {
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Fatal("the admin listener accepted a host certificate")
	}
	t.Logf("host certificate on the admin listener: %v", err)
}
