package azure_test

import (
	"testing"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/blobtest"
	"hvmigrate/integration/azurite"
)

func TestStore_conformanceAzurite(t *testing.T) {
	srv := azurite.Start(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return newStore(t, srv, fullPerms, nil)
	}, blobtest.ServerIgnoresChecksums(), blobtest.ServerAllowsWritesPastEnd())
}
