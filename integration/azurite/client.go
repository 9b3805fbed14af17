package azurite

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

// Credential returns the shared-key credential of the development account.
func (s *Server) Credential() (*azblob.SharedKeyCredential, error) {
	cred, err := azblob.NewSharedKeyCredential(s.Account, s.Key.Reveal())
	if err != nil {
		return nil, fmt.Errorf("azurite credential: %w", err)
	}
	return cred, nil
}

// ClientOptions returns SDK options whose transport trusts the emulator and
// whose retries are off, so that test set-up fails fast.
func (s *Server) ClientOptions() *azblob.ClientOptions {
	return &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: s.HTTPClient(),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}
}

// Client returns an account-level client authorised with the account key,
// for test set-up and inspection. Code under test uses SAS URLs instead.
func (s *Server) Client() (*azblob.Client, error) {
	cred, err := s.Credential()
	if err != nil {
		return nil, err
	}
	c, err := azblob.NewClientWithSharedKeyCredential(s.Endpoint+"/", cred, s.ClientOptions())
	if err != nil {
		return nil, fmt.Errorf("azurite client: %w", err)
	}
	return c, nil
}

// CreateContainer creates a container; an existing one is not an error.
func (s *Server) CreateContainer(ctx context.Context, name string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	_, err = c.CreateContainer(ctx, name, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("create container %s: %w", name, err)
	}
	return nil
}

// SASURL signs v with the account key and returns the URL of the container
// (v.BlobName empty) or blob with the SAS query. Protocol defaults to HTTPS
// only and ExpiryTime to one hour from now.
func (s *Server) SASURL(v sas.BlobSignatureValues) (string, error) {
	cred, err := s.Credential()
	if err != nil {
		return "", err
	}
	if v.Protocol == "" {
		v.Protocol = sas.ProtocolHTTPS
	}
	if v.ExpiryTime.IsZero() {
		v.ExpiryTime = time.Now().Add(time.Hour).UTC()
	}
	qp, err := v.SignWithSharedKey(cred)
	if err != nil {
		return "", fmt.Errorf("sign SAS: %w", err)
	}
	u := s.Endpoint + "/" + url.PathEscape(v.ContainerName)
	if v.BlobName != "" {
		u += "/" + (&url.URL{Path: v.BlobName}).EscapedPath()
	}
	return u + "?" + qp.Encode(), nil
}

// ContainerSAS returns a container SAS URL with the given permissions.
func (s *Server) ContainerSAS(container string, perms sas.ContainerPermissions) (string, error) {
	return s.SASURL(sas.BlobSignatureValues{ContainerName: container, Permissions: perms.String()})
}

// BlobSAS returns a SAS URL for one blob with the given permissions.
func (s *Server) BlobSAS(container, blobName string, perms sas.BlobPermissions) (string, error) {
	return s.SASURL(sas.BlobSignatureValues{ContainerName: container, BlobName: blobName, Permissions: perms.String()})
}
