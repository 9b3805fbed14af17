package sas

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

// Containers creates containers and deletes blobs with the account key:
// the two account operations the hub's storage.Store does not offer yet.
type Containers struct {
	svc *service.Client
}

// NewContainers returns a Containers for the issuer's account. roots, when
// set, replaces the system roots (emulator tests).
func (i *Issuer) NewContainers(roots *x509.CertPool) (*Containers, error) {
	cred, err := service.NewSharedKeyCredential(i.cfg.Account, i.cfg.Key.Reveal())
	if err != nil {
		return nil, fmt.Errorf("%w: malformed account name or key", ErrConfig)
	}
	hc := &http.Client{
		Timeout:       2 * time.Minute,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	svc, err := service.NewClientWithSharedKeyCredential(i.cfg.Endpoint+"/", cred, &service.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: hc, Retry: policy.RetryOptions{MaxRetries: 3}}})
	if err != nil {
		return nil, fmt.Errorf("storage client: %w", err)
	}
	return &Containers{svc: svc}, nil
}

// Ensure creates a container unless it exists.
func (c *Containers) Ensure(ctx context.Context, name string) error {
	if err := checkName(name, "x"); err != nil {
		return err
	}
	_, err := c.svc.NewContainerClient(name).Create(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("create container %s: %s", name, redactErr(err))
	}
	return nil
}

// Delete deletes a blob and its snapshots; a missing blob is success.
func (c *Containers) Delete(ctx context.Context, container, blob string) error {
	if err := checkName(container, blob); err != nil {
		return err
	}
	_, err := c.svc.NewContainerClient(container).NewBlobClient(blob).Delete(ctx, deleteOptions())
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return fmt.Errorf("delete %s/%s: %s", container, blob, redactErr(err))
	}
	return nil
}

// redactErr returns an error's text without URL queries.
func redactErr(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("status %d %s", re.StatusCode, re.ErrorCode)
	}
	return errors.New("request failed before an answer arrived")
}
